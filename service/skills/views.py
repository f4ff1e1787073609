"""Skills as API responses: the one place a bundled ESCO :class:`Skill` becomes a ``SkillOut``."""

from __future__ import annotations

from collections.abc import Iterable

from service.skills.esco import Skill
from service.skills.schemas import SkillOut, SkillSearchResult


def skill_view(skill: Skill) -> SkillOut:
    """One ESCO skill as the API shows it."""
    return SkillOut(
        uri=skill.uri,
        label=skill.label,
        alt_labels=list(skill.alt_labels),
        type=skill.type,
        code=skill.code,
        description=skill.description,
    )


def search_result_view(query: str, skills: Iterable[Skill]) -> SkillSearchResult:
    """The skills found for ``query``, best first."""
    return SkillSearchResult(query=query, items=[skill_view(skill) for skill in skills])
