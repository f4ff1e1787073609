"""Catalogue entries as API responses and as the words pages show (the one place a catalogue
entry becomes output)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.achievements.catalogue.schemas import (
    CatalogueAchievement,
    CatalogueAchievementDetail,
    CatalogueAssessment,
    CatalogueCriterion,
    CatalogueIssuer,
    CatalogueLevel,
    CatalogueRubric,
    CatalogueSkill,
)
from service.achievements.catalogue.service import CatalogueEntry
from service.achievements.service import achievement_url
from service.assessment.engine.rubric import Criterion, Rubric
from service.core.config import Settings

ASSESSORS = {
    "llm": "An AI language model reads your evidence against the rubric and proposes a level for each criterion",
    "offline": (
        "SkillCred's automatic assessor (rule-based, it runs on this server) reads your evidence against the "
        "rubric and proposes a level for each criterion"
    ),
}
DECISIONS = {
    "review": "; a person at the issuer reviews every application and decides.",
    "auto": (
        "; a confident, unflagged result that meets the pass rule is decided automatically, and anything in "
        "doubt or flagged goes to a person at the issuer, who decides."
    ),
    "auto_with_sampling": (
        "; a confident, unflagged result is decided automatically, anything in doubt or flagged goes to a "
        "person at the issuer, and people also re-check a random share of the automatic decisions."
    ),
}


def assessment_summary(assessor: str, policy: str) -> str:
    """How an application is judged, in one sentence: who reads the evidence and who decides."""
    return ASSESSORS.get(assessor, ASSESSORS["offline"]) + DECISIONS[policy]


def apply_path(achievement_id: str) -> str:
    """The portal page where an earner applies for the achievement."""
    return f"/portal/apply/{achievement_id}"


def skills_of(alignments: Any) -> list[CatalogueSkill]:
    """The stored alignments as skills (entries without a name or URL are left out)."""
    skills = []
    for alignment in alignments or ():
        if not isinstance(alignment, Mapping):
            continue
        name, url = alignment.get("target_name"), alignment.get("target_url")
        if isinstance(name, str) and isinstance(url, str):
            framework = alignment.get("target_framework")
            skills.append(
                CatalogueSkill(name=name, url=url, framework=framework if isinstance(framework, str) else None)
            )
    return skills


def minimum_level(criterion: Criterion) -> str | None:
    """For a required criterion, the id of its lowest passing level (its ``min_level``, else the
    level above the lowest: the rubric's own rule); None for an optional one."""
    if not criterion.required:
        return None
    return criterion.min_level if criterion.min_level is not None else criterion.levels[1].id


def rubric_out(rubric: Rubric) -> CatalogueRubric:
    """The rubric without the assessor's hints (``key_ideas``) or its decision thresholds."""
    return CatalogueRubric(
        name=rubric.name,
        description=rubric.description,
        version=str(rubric.version),
        criteria=[
            CatalogueCriterion(
                id=c.id,
                name=c.name,
                description=c.description,
                weight=c.weight,
                required=c.required,
                minimum_level=minimum_level(c),
                levels=[
                    CatalogueLevel(id=lv.id, name=lv.name, description=lv.description, points=lv.points)
                    for lv in c.levels
                ],
            )
            for c in rubric.criteria
        ],
        min_total=rubric.min_total,
        max_total=rubric.max_total,
    )


def assessment_out(settings: Settings, rubric: Rubric) -> CatalogueAssessment:
    """How applications are judged (the rubric's policy) and the resubmission limits."""
    return CatalogueAssessment(
        policy=rubric.policy,
        assessor=settings.assessor,
        summary=assessment_summary(settings.assessor, rubric.policy),
        max_attempts=settings.assessment_max_attempts,
        attempt_window_days=settings.assessment_attempt_window_days,
        cooldown_hours=settings.assessment_cooldown_hours,
    )


def catalogue_achievement(settings: Settings, entry: CatalogueEntry) -> CatalogueAchievement:
    """The listing's view of an entry."""
    return CatalogueAchievement(**_common(settings, entry))


def catalogue_detail(settings: Settings, entry: CatalogueEntry) -> CatalogueAchievementDetail:
    """The full view of an open entry (its rubric must be loaded)."""
    assert entry.rubric is not None, "get_open returns open achievements only"
    return CatalogueAchievementDetail(
        **_common(settings, entry),
        criteria=entry.content.criteria_narrative,
        validity_days=entry.content.validity_days,
        rubric=rubric_out(entry.rubric),
        assessment=assessment_out(settings, entry.rubric),
    )


def _common(settings: Settings, entry: CatalogueEntry) -> dict[str, Any]:
    achievement, content, issuer = entry.achievement, entry.content, entry.issuer
    return {
        "id": achievement.id,
        "url": achievement_url(settings, achievement.id),
        "apply_url": settings.public_url + apply_path(achievement.id),
        "name": content.name,
        "description": content.description,
        "achievement_type": content.achievement_type,
        "tags": [tag for tag in content.tags or () if isinstance(tag, str)],
        "version": content.version,
        "issuer": CatalogueIssuer(id=issuer.id, name=issuer.name, url=issuer.url, did=issuer.did),
        "skills": skills_of(content.alignments),
    }
