"""An achievement's rubric, and how it becomes Open Badges 3.0 result descriptions.

A rubric (``schemas/rubric.schema.json``, validated by :func:`service.assessment.engine.rubric.load_rubric`)
is stored as given on the achievement version. Each criterion also becomes one OB 3.0
``ResultDescription`` of the version, written when the version is (versions never change):

- ``id``: :func:`result_description_id` (a ``urn:uuid:`` made from the achievement and the
  criterion id, so it stays the same across versions while the criterion id does);
- ``name``: the criterion's name; ``resultType``: ``RubricCriterionLevel``;
- ``rubricCriterionLevel``: its levels, lowest first, each with :func:`rubric_level_id`, the
  level's name and description, and ``points`` as a string (OB 3.0 carries numbers as text);
- ``requiredLevel``: for a required criterion, the lowest passing level (its ``min_level``, or
  else the level above the lowest: the rubric's own pass rule).

A credential's ``result`` entries then say which level each criterion reached:
:func:`rubric_results` makes them from ``{criterion id: level id}``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from service.achievements.models import AchievementVersion
from service.assessment.engine.rubric import Criterion, Rubric, RubricError, load_rubric
from service.core.errors import ServiceError
from service.vc import openbadges as ob

RUBRIC_RESULT_TYPE = "RubricCriterionLevel"
RUBRIC_MARKER = "rubric_criterion"
"""The key that marks a stored result description as made from a rubric criterion (its value is
the criterion id); the OB 3.0 rendering leaves it out."""
ASSESSOR_HINTS = ("key_ideas",)
"""Rubric keys left out of what earners see: phrases the offline assessor looks for. Knowing them
would help stuff evidence with words rather than show the skill."""


class InvalidAchievement(ServiceError):
    """The achievement cannot be stored as asked (a bad rubric, an unknown skill...)."""

    status_code, code = 422, "invalid_achievement"


def stable_urn(achievement_id: str, path: str) -> str:
    """``urn:uuid:`` (UUID v5 of the achievement id and ``path``): the same path in the next
    version gets the same id, and the id does not depend on the public URL."""
    return f"urn:uuid:{uuid.uuid5(uuid.UUID(achievement_id), path)}"


def result_description_id(achievement_id: str, criterion_id: str) -> str:
    """The ``id`` of the result description made from rubric criterion ``criterion_id``: what a
    credential's ``result[].resultDescription`` names."""
    return stable_urn(achievement_id, f"rubric/criteria/{criterion_id}")


def rubric_level_id(achievement_id: str, criterion_id: str, level_id: str) -> str:
    """The ``id`` of level ``level_id`` of criterion ``criterion_id`` in its result description:
    what a credential's ``result[].achievedLevel`` names."""
    return stable_urn(achievement_id, f"rubric/criteria/{criterion_id}/levels/{level_id}")


def checked_rubric(data: Mapping[str, Any] | None) -> Rubric | None:
    """``data`` as a :class:`Rubric` (None for None), or :class:`InvalidAchievement`
    (code ``invalid_rubric``) listing every problem."""
    if data is None:
        return None
    try:
        return load_rubric(data)
    except RubricError as err:
        raise InvalidAchievement("rubric: " + "; ".join(err.errors), code="invalid_rubric") from None


def rubric_of(version: AchievementVersion) -> Rubric | None:
    """The rubric of an achievement version (None when it has none)."""
    return None if version.rubric is None else load_rubric(version.rubric)


def points_text(points: float) -> str:
    """Points as OB 3.0 text: ``3`` for 3.0, ``2.5`` for 2.5."""
    return str(int(points)) if float(points).is_integer() else repr(float(points))


def _required_level(criterion: Criterion) -> str | None:
    if not criterion.required:
        return None
    return criterion.min_level if criterion.min_level is not None else criterion.levels[1].id


def rubric_result_descriptions(achievement_id: str, rubric: Rubric) -> list[dict[str, Any]]:
    """One stored result description per criterion (the shape ``result_descriptions`` holds)."""
    stored = []
    for criterion in rubric.criteria:
        levels = [
            {
                "id": rubric_level_id(achievement_id, criterion.id, level.id),
                "name": level.name,
                "description": level.description,
                "points": points_text(level.points),
            }
            for level in criterion.levels
        ]
        item: dict[str, Any] = {
            "id": result_description_id(achievement_id, criterion.id),
            "name": criterion.name,
            "result_type": RUBRIC_RESULT_TYPE,
            "rubric_criterion_levels": levels,
            RUBRIC_MARKER: criterion.id,
        }
        required = _required_level(criterion)
        if required is not None:
            item["required_level"] = rubric_level_id(achievement_id, criterion.id, required)
        stored.append(item)
    return stored


def rubric_results(achievement_id: str, rubric: Rubric, levels: Mapping[str, str]) -> list[ob.Result]:
    """Credential results for ``{criterion id: level id}`` (criteria in rubric order; a criterion
    missing from ``levels`` gets no result). Pass them to ``issue_credential(results=...)``.
    Raises KeyError for a criterion or level the rubric does not have."""
    results = []
    for criterion in rubric.criteria:
        if criterion.id not in levels:
            continue
        level = criterion.level(levels[criterion.id])
        results.append(
            ob.Result(
                result_description=result_description_id(achievement_id, criterion.id),
                achieved_level=rubric_level_id(achievement_id, criterion.id, level.id),
            )
        )
    unknown = set(levels) - {criterion.id for criterion in rubric.criteria}
    if unknown:
        raise KeyError(f"not criteria of the rubric: {', '.join(sorted(unknown))}")
    return results


def earner_view(rubric: Mapping[str, Any]) -> dict[str, Any]:
    """The rubric as earners see it: everything but the assessor's hints (``key_ideas``)."""
    shown = dict(rubric)
    shown["criteria"] = [
        {k: v for k, v in criterion.items() if k not in ASSESSOR_HINTS} for criterion in rubric.get("criteria", [])
    ]
    return shown


def _name_key(name: str) -> str:
    return " ".join(name.casefold().split())


def merge_result_descriptions(
    achievement_id: str, written: list[dict[str, Any]], rubric: Rubric | None
) -> list[dict[str, Any]]:
    """The hand-written result descriptions followed by the rubric's. A hand-written one with a
    criterion's name (case and spacing ignored) or id is :class:`InvalidAchievement`
    (code ``rubric_conflict``): the rubric already makes that result description."""
    if rubric is None:
        return written
    derived = rubric_result_descriptions(achievement_id, rubric)
    by_name = {_name_key(item["name"]): item[RUBRIC_MARKER] for item in derived}
    derived_ids = {item["id"] for item in derived} | {
        level["id"] for item in derived for level in item["rubric_criterion_levels"]
    }
    for item in written:
        criterion = by_name.get(_name_key(item["name"]))
        if criterion is not None:
            raise InvalidAchievement(
                f"result_descriptions: {item['name']!r} is also the name of rubric criterion "
                f"{criterion!r}; the rubric makes that result description itself, so leave it out "
                "or give it another name",
                code="rubric_conflict",
            )
        ids = {item["id"]} | {level["id"] for level in item.get("rubric_criterion_levels", [])}
        if ids & derived_ids:
            raise InvalidAchievement(
                f"result_descriptions: {item['name']!r} reuses an id the rubric makes", code="rubric_conflict"
            )
    return written + derived
