"""Skill search API shapes."""

from __future__ import annotations

from pydantic import BaseModel


class SkillOut(BaseModel):
    """One ESCO skill. ``code`` is the UUID that ends its URI (ESCO gives skills no other code);
    ``type`` is ``skill/competence`` or ``knowledge``, or null where the bundled data does not say."""

    uri: str
    label: str
    alt_labels: list[str]
    type: str | None = None
    code: str
    description: str


class SkillSearchResult(BaseModel):
    """The best matches for a query, best first (at most ``limit``)."""

    query: str
    items: list[SkillOut]
