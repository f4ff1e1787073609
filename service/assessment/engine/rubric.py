"""Rubrics: weighted criteria with ordered levels, a pass rule and a decision policy.

A rubric is JSON that follows ``schemas/rubric.schema.json`` (published with the package).
:func:`load_rubric` validates it (schema, then the rules a schema cannot say: unique ids, levels
whose points never decrease, a ``min_level`` that names a level) and returns an immutable
:class:`Rubric`. Totals are weighted: ``total = sum(weight * points of the level reached)``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from jsonschema import Draft202012Validator

import service

Policy = Literal["auto", "review", "auto_with_sampling"]
DEFAULT_MIN_CONFIDENCE = 0.6
DEFAULT_SAMPLING_RATE = 0.1


class RubricError(ValueError):
    """The rubric is not valid; ``errors`` lists every problem found (path: message)."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("Invalid rubric: " + "; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Level:
    """One level of a criterion, e.g. ``proficient`` worth 3 points."""

    id: str
    name: str
    description: str
    points: float


@dataclass(frozen=True)
class Criterion:
    """One thing the evidence is judged on; ``levels`` run from lowest to highest."""

    id: str
    name: str
    description: str
    weight: float
    levels: tuple[Level, ...]
    required: bool = False
    min_level: str | None = None
    key_ideas: tuple[str, ...] = ()

    def level(self, level_id: str) -> Level:
        """The level called ``level_id`` (KeyError when the criterion has none)."""
        for level in self.levels:
            if level.id == level_id:
                return level
        raise KeyError(level_id)

    def rank(self, level_id: str) -> int:
        """Position of ``level_id`` in the ordered levels (0 = lowest)."""
        return [level.id for level in self.levels].index(level_id)

    @property
    def max_points(self) -> float:
        return self.levels[-1].points

    def meets_requirement(self, level_id: str) -> bool:
        """For a required criterion: does ``level_id`` reach the minimum? (Always true otherwise.)

        The minimum is ``min_level`` when given, else any level above the lowest."""
        if not self.required:
            return True
        minimum = self.rank(self.min_level) if self.min_level is not None else 1
        return self.rank(level_id) >= minimum


@dataclass(frozen=True)
class Rubric:
    """A validated rubric. ``source`` keeps the JSON it was loaded from (for storage and hashing)."""

    id: str
    version: str
    name: str
    description: str
    criteria: tuple[Criterion, ...]
    min_total: float
    min_confidence: float
    policy: Policy
    sampling_rate: float
    source: Mapping[str, Any]

    @property
    def max_total(self) -> float:
        """The weighted total of the highest level on every criterion."""
        return sum(criterion.weight * criterion.max_points for criterion in self.criteria)

    @property
    def hash(self) -> str:
        """``sha256:<hex>`` of the rubric's canonical JSON (sorted keys, no spaces): what an
        assessment records so a later reader knows exactly which rubric judged it."""
        canonical = json.dumps(self.source, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()

    def criterion(self, criterion_id: str) -> Criterion:
        """The criterion called ``criterion_id`` (KeyError when there is none)."""
        for criterion in self.criteria:
            if criterion.id == criterion_id:
                return criterion
        raise KeyError(criterion_id)

    def total(self, levels: Mapping[str, str]) -> float:
        """Weighted total for ``{criterion id: level id}`` (a missing criterion counts 0)."""
        return sum(
            criterion.weight * criterion.level(levels[criterion.id]).points
            for criterion in self.criteria
            if criterion.id in levels
        )

    def passes(self, levels: Mapping[str, str]) -> bool:
        """The pass rule: every criterion has a level, required ones reach their minimum, and the
        weighted total reaches ``min_total``."""
        if any(criterion.id not in levels for criterion in self.criteria):
            return False
        if not all(criterion.meets_requirement(levels[criterion.id]) for criterion in self.criteria):
            return False
        return self.total(levels) >= self.min_total


@cache
def rubric_schema() -> dict[str, Any]:
    """The published rubric JSON Schema (``schemas/rubric.schema.json``)."""
    package_root = Path(service.__file__).resolve().parent
    for candidate in (
        package_root / "_schemas" / "rubric.schema.json",
        package_root.parent / "schemas" / "rubric.schema.json",
    ):
        if candidate.is_file():
            return json.loads(candidate.read_text(encoding="utf-8"))
    raise FileNotFoundError("schemas/rubric.schema.json is not bundled with the package")


def load_rubric(data: Mapping[str, Any]) -> Rubric:
    """Validate ``data`` against the rubric schema and the rubric rules; return the :class:`Rubric`.

    Raises :class:`RubricError` listing every problem."""
    validator = Draft202012Validator(rubric_schema())
    errors = [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    ]
    if errors:
        raise RubricError(errors)
    errors = _rule_errors(data)
    if errors:
        raise RubricError(errors)
    pass_rule = data["pass_rule"]
    criteria = tuple(
        Criterion(
            id=item["id"],
            name=item.get("name", item["id"]),
            description=item["description"],
            weight=float(item["weight"]),
            required=bool(item.get("required", False)),
            min_level=item.get("min_level"),
            key_ideas=tuple(item.get("key_ideas", ())),
            levels=tuple(
                Level(id=lv["id"], name=lv["name"], description=lv["description"], points=float(lv["points"]))
                for lv in item["levels"]
            ),
        )
        for item in data["criteria"]
    )
    rubric = Rubric(
        id=data["id"],
        version=str(data["version"]),
        name=data["name"],
        description=data.get("description", ""),
        criteria=criteria,
        min_total=float(pass_rule["min_total"]),
        min_confidence=float(pass_rule.get("min_confidence", DEFAULT_MIN_CONFIDENCE)),
        policy=data["policy"],
        sampling_rate=float(data.get("sampling_rate", DEFAULT_SAMPLING_RATE)),
        source=json.loads(json.dumps(data)),
    )
    if rubric.min_total > rubric.max_total:
        raise RubricError(
            [f"pass_rule/min_total: {rubric.min_total:g} is more than the highest possible total {rubric.max_total:g}"]
        )
    return rubric


def _rule_errors(data: Mapping[str, Any]) -> list[str]:
    errors: list[str] = []
    criterion_ids = [item["id"] for item in data["criteria"]]
    if len(set(criterion_ids)) != len(criterion_ids):
        errors.append("criteria: criterion ids must be unique")
    for index, item in enumerate(data["criteria"]):
        level_ids = [level["id"] for level in item["levels"]]
        if len(set(level_ids)) != len(level_ids):
            errors.append(f"criteria/{index}/levels: level ids must be unique")
        points = [level["points"] for level in item["levels"]]
        if any(later < earlier for earlier, later in itertools.pairwise(points)):
            errors.append(f"criteria/{index}/levels: levels run from lowest to highest; points must not decrease")
        if item.get("min_level") is not None and item["min_level"] not in level_ids:
            errors.append(f"criteria/{index}/min_level: {item['min_level']!r} is not one of its levels")
    return errors
