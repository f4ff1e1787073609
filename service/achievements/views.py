"""Achievement rows as API responses: the one place an achievement version becomes an
``AchievementView``, a ``RubricView`` or the public Open Badges 3.0 Achievement document."""

from __future__ import annotations

from typing import Any

from service.achievements.result_descriptions import earner_view, rubric_of
from service.achievements.schemas import AchievementView, RubricView
from service.achievements.service import AchievementAtVersion, ob_achievement
from service.core.config import Settings
from service.vc.constants import OB_V3P0_CONTEXT
from service.vc.openbadges import build_achievement


def achievement_view(found: AchievementAtVersion) -> AchievementView:
    """The API view of one version of an achievement."""
    achievement, content = found.achievement, found.content
    return AchievementView(
        id=achievement.id,
        issuer_id=achievement.issuer_id,
        version=content.version,
        current_version=achievement.current_version,
        name=content.name,
        description=content.description,
        criteria={"narrative": content.criteria_narrative, "id": content.criteria_id},
        image=content.image,
        achievement_type=content.achievement_type,
        alignments=content.alignments,
        result_descriptions=content.result_descriptions,
        tags=content.tags,
        validity_days=content.validity_days,
        allow_multiple_active=achievement.allow_multiple_active,
        rubric=content.rubric,
        created_at=achievement.created_at,
        version_created_at=content.created_at,
    )


def rubric_view(found: AchievementAtVersion, *, complete: bool) -> RubricView:
    """The rubric of a version that has one; without the assessor's hints unless ``complete``."""
    content = found.content
    stored = content.rubric
    rubric = rubric_of(content)
    assert stored is not None and rubric is not None, "get_rubric_version returns versions with a rubric"
    return RubricView(
        achievement_id=found.achievement.id,
        version=content.version,
        rubric=dict(stored) if complete else earner_view(stored),
        hash=rubric.hash,
        max_total=rubric.max_total,
        complete=complete,
    )


def public_achievement_document(settings: Settings, found: AchievementAtVersion) -> dict[str, Any]:
    """The Achievement as a standalone JSON-LD document: exactly the object credentials embed,
    plus the OB 3.0 ``@context`` (which defines every term in it)."""
    return {
        "@context": [OB_V3P0_CONTEXT],
        **build_achievement(ob_achievement(settings, found.achievement, found.content)),
    }
