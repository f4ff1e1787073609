"""Skill discovery API shapes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from service.assessment.engine.discovery import DEFAULT_LIMIT, MAX_LIMIT


class SuggestionRequest(BaseModel):
    """How many suggestions of each kind to return (best first)."""

    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="At most this many of each kind")


class PassageOut(BaseModel):
    """A passage of the earner's own evidence that supports a suggestion: the item and a verbatim
    excerpt of its text (at most 200 characters, after screening)."""

    item_id: str
    excerpt: str


class AchievementSuggestion(BaseModel):
    """An achievement the evidence matches, open for applications (its current version has a
    rubric). ``score`` 0..1: how well the evidence matches it (for ordering, not a level)."""

    id: str
    name: str
    issuer: str
    score: float
    passages: list[PassageOut]


class SkillSuggestion(BaseModel):
    """An ESCO skill the evidence demonstrates. ``score`` 0..1, for ordering."""

    uri: str
    label: str
    score: float
    passages: list[PassageOut]


class Suggestions(BaseModel):
    """Achievements and ESCO skills the bundle's evidence shows, best first. ``screened_out``: some
    of the evidence was set aside because it held instructions or hidden text (which never steer
    the suggestions); which screen caught it is not said, as an assessment does not say it to an
    earner. ``similarity``: whether the embedding model took part."""

    bundle_id: str
    achievements: list[AchievementSuggestion]
    skills: list[SkillSuggestion]
    screened_out: bool
    similarity: bool
