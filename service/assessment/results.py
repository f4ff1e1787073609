"""The credential results an assessment's levels make, against the achievement's current version.

The achievement domain (:mod:`service.achievements.result_descriptions`) stores the rubric with each version
and turns each criterion into a result description (``resultType: RubricCriterionLevel``); a
credential's ``result[]`` names that description and the level reached within it.
"""

from __future__ import annotations

from collections.abc import Mapping

from service.achievements.models import AchievementVersion
from service.achievements.result_descriptions import rubric_of, rubric_results
from service.assessment.engine.rubric import Rubric
from service.core.errors import Conflict
from service.vc import openbadges as ob


def criterion_results(version: AchievementVersion, rubric: Rubric, levels: Mapping[str, str]) -> list[ob.Result]:
    """One result per criterion of ``rubric`` (in its order) for ``levels``.

    Raises :class:`Conflict` ``rubric_changed`` when ``version`` (the achievement's current
    version, which the credential will embed) no longer judges with ``rubric``: its results would
    point at another rubric's criteria. The earner submits again."""
    current = rubric_of(version)
    if current is None or current.hash != rubric.hash:
        raise Conflict(
            "The achievement's rubric changed since this assessment; the earner has to "
            "submit the evidence again to be judged by the current rubric",
            code="rubric_changed",
        )
    return rubric_results(version.achievement_id, rubric, levels)
