"""Discovery results -> the response earners see (the one place: the API and the portal both use it)."""

from __future__ import annotations

from service.assessment.engine.discovery import Discovery
from service.assessment.engine.result import FLAG_HIDDEN_TEXT, FLAG_PROMPT_INJECTION
from service.discovery.schemas import AchievementSuggestion, PassageOut, SkillSuggestion, Suggestions

SET_ASIDE_FLAGS = frozenset({FLAG_PROMPT_INJECTION, FLAG_HIDDEN_TEXT})
"""The screens an earner is told of (as "some evidence was set aside"), never by name."""


def suggestions_view(bundle_id: str, found: Discovery) -> Suggestions:
    """The suggestions for ``bundle_id``: achievements and ESCO skills with the passages that
    support them, scores rounded; which screen set evidence aside is never named."""
    return Suggestions(
        bundle_id=bundle_id,
        achievements=[
            AchievementSuggestion(
                id=s.id,
                name=s.name,
                issuer=s.issuer,
                score=round(s.score, 2),
                passages=[PassageOut(item_id=p.item_id, excerpt=p.excerpt) for p in s.passages],
            )
            for s in found.achievements
        ],
        skills=[
            SkillSuggestion(
                uri=s.id,
                label=s.name,
                score=round(s.score, 2),
                passages=[PassageOut(item_id=p.item_id, excerpt=p.excerpt) for p in s.passages],
            )
            for s in found.skills
        ],
        screened_out=bool(set(found.flags) & SET_ASIDE_FLAGS),
        similarity=found.embeddings,
    )
