"""The achievement form of the issuer pages: its fields as a draft, the draft as the API's
``AchievementCreate`` body, and a stored version as a draft to edit. No FastAPI here.

The form works without JavaScript: adding or removing a criterion or a skill is a submit button
(``action``) that shows the form again with the change and stores nothing; only ``save`` stores.
A criterion's levels are one text area, a line per level (``Name | points | description``), and
its key ideas a line each, so a rubric of :data:`MAX_EDITOR_CRITERIA` criteria stays within the
portal's bound on form fields (:data:`service.api.page_auth.MAX_FORM_FIELDS`).

Ids are kept stable without hidden fields: on an edit, a criterion (or a level of it) keeps the id
of the criterion (level) of the current version with the same name; a new one gets a slug of its
name. Result descriptions and rubric levels in credentials are named by these ids.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from service.achievements.result_descriptions import RUBRIC_MARKER
from service.achievements.schemas import AchievementCreate
from service.achievements.service import AchievementAtVersion
from service.skills.esco import ESCO_TARGET_TYPE, get_skill
from service.skills.search import normalize

MAX_EDITOR_CRITERIA = 5
"""Criteria the page's editor holds (larger rubrics: through the API)."""
POLICIES = {
    "review": "A reviewer decides every application",
    "auto": "Decided automatically when every criterion is judged confidently enough",
    "auto_with_sampling": "Decided automatically, with a share of the decisions sent to a reviewer",
}
MAX_SKILL_URIS = 50
Fields = Callable[[str], str]
"""A form's text field by name ("" when absent)."""


@dataclass
class CriterionDraft:
    """One criterion as the form holds it (text, as typed)."""

    name: str = ""
    description: str = ""
    weight: str = "1"
    required: bool = False
    key_ideas: str = ""
    levels: str = ""

    def is_blank(self) -> bool:
        return not any((self.name.strip(), self.description.strip(), self.key_ideas.strip(), self.levels.strip()))


@dataclass
class AchievementDraft:
    """The whole form, as typed: what the page shows again after an action or an error."""

    name: str = ""
    description: str = ""
    criteria_narrative: str = ""
    tags: str = ""
    validity_days: str = ""
    allow_multiple_active: bool = False
    esco_skills: list[str] = field(default_factory=list)
    skill_query: str = ""
    rubric_name: str = ""
    policy: str = "review"
    min_total: str = ""
    min_confidence: str = ""
    sampling_rate: str = ""
    criteria: list[CriterionDraft] = field(default_factory=list)


def blank_draft() -> AchievementDraft:
    """A new achievement's form: one empty criterion with two levels to fill in."""
    return AchievementDraft(criteria=[CriterionDraft(levels="Not shown | 0 | ...\nShown | 1 | ...")])


def read_draft(get: Fields) -> AchievementDraft:
    """The draft a POSTed form holds."""
    try:
        count = min(max(int(get("criteria_count") or 0), 0), MAX_EDITOR_CRITERIA)
    except ValueError:
        count = 0
    criteria = [
        CriterionDraft(
            name=get(f"c{i}_name"),
            description=get(f"c{i}_description"),
            weight=get(f"c{i}_weight"),
            required=get(f"c{i}_required") == "on",
            key_ideas=get(f"c{i}_key_ideas"),
            levels=get(f"c{i}_levels"),
        )
        for i in range(count)
    ]
    skills = list(dict.fromkeys(get("esco_skills").split()))[:MAX_SKILL_URIS]
    return AchievementDraft(
        name=get("name"),
        description=get("description"),
        criteria_narrative=get("criteria_narrative"),
        tags=get("tags"),
        validity_days=get("validity_days"),
        allow_multiple_active=get("allow_multiple_active") == "on",
        esco_skills=skills,
        skill_query=get("skill_query").strip()[:200],
        rubric_name=get("rubric_name"),
        policy=get("policy") if get("policy") in POLICIES else "review",
        min_total=get("min_total"),
        min_confidence=get("min_confidence"),
        sampling_rate=get("sampling_rate"),
        criteria=criteria,
    )


def apply_action(draft: AchievementDraft, action: str) -> str | None:
    """Change the draft as a non-saving button asks (add or remove a criterion or a skill); returns
    a message for the page, or None when ``action`` is not one of them."""
    verb, _, argument = action.partition(":")
    if verb == "add_criterion":
        if len(draft.criteria) >= MAX_EDITOR_CRITERIA:
            return f"This editor holds {MAX_EDITOR_CRITERIA} criteria; define larger rubrics through the API."
        draft.criteria.append(CriterionDraft(levels="Not shown | 0 | ...\nShown | 1 | ..."))
        return "A criterion was added: fill it in, then save."
    if verb == "remove_criterion" and argument.isdigit() and int(argument) < len(draft.criteria):
        removed = draft.criteria.pop(int(argument))
        return f"Criterion “{removed.name or int(argument) + 1}” was removed from the form (save to keep the change)."
    if verb == "add_skill":
        skill = get_skill(argument)
        if skill is None:
            return "That is not a skill of the bundled ESCO data."
        if skill.uri not in draft.esco_skills and len(draft.esco_skills) < MAX_SKILL_URIS:
            draft.esco_skills.append(skill.uri)
        return f"Skill “{skill.label}” added (save to keep it)."
    if verb == "remove_skill" and argument.isdigit() and int(argument) < len(draft.esco_skills):
        draft.esco_skills.pop(int(argument))
        return "Skill removed (save to keep the change)."
    if verb == "search_skills":
        return None if draft.skill_query else "Type some words of a skill to search for."
    return None


# --- a stored version as a draft -----------------------------------------------------------------


def _number(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else str(number)


def draft_of(found: AchievementAtVersion) -> AchievementDraft:
    """The form for editing ``found`` (its current version): every field as stored."""
    content = found.content
    rubric = content.rubric or {}
    pass_rule = rubric.get("pass_rule", {})
    criteria = [
        CriterionDraft(
            name=c.get("name", c["id"]),
            description=c.get("description", ""),
            weight=_number(c.get("weight", 1)),
            required=bool(c.get("required", False)),
            key_ideas="\n".join(c.get("key_ideas", [])),
            levels="\n".join(f"{lv['name']} | {_number(lv['points'])} | {lv['description']}" for lv in c["levels"]),
        )
        for c in rubric.get("criteria", [])
    ]
    skills = [a["target_url"] for a in content.alignments if a.get("target_type") == ESCO_TARGET_TYPE]
    return AchievementDraft(
        name=content.name,
        description=content.description,
        criteria_narrative=content.criteria_narrative or "",
        tags=", ".join(content.tags),
        validity_days="" if content.validity_days is None else str(content.validity_days),
        allow_multiple_active=found.achievement.allow_multiple_active,
        esco_skills=skills,
        rubric_name=rubric.get("name", ""),
        policy=rubric.get("policy", "review"),
        min_total=_number(pass_rule["min_total"]) if "min_total" in pass_rule else "",
        min_confidence=_number(pass_rule["min_confidence"]) if "min_confidence" in pass_rule else "",
        sampling_rate=_number(rubric["sampling_rate"]) if "sampling_rate" in rubric else "",
        criteria=criteria,
    )


# --- the draft as the API's body -----------------------------------------------------------------


def slug(text: str, fallback: str) -> str:
    """An id the rubric schema accepts (``^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$``) made from ``text``."""
    made = re.sub(r"[^a-z0-9]+", "-", normalize(text)).strip("-")[:60].strip("-")
    return made or fallback


def _unique(wanted: str, taken: set[str]) -> str:
    candidate, suffix = wanted, 1
    while candidate in taken:
        suffix += 1
        candidate = f"{wanted[:58]}-{suffix}"
    taken.add(candidate)
    return candidate


def _key(name: str) -> str:
    return " ".join(name.casefold().split())


class DraftErrors(Exception):
    """The draft cannot become a body: ``errors`` by field id (``form`` for the form as a whole)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def _parse_number(text: str, where: str, errors: dict[str, str], *, what: str) -> float | None:
    try:
        number = float(text.strip())
    except ValueError:
        errors[where] = f"{what} must be a number."
        return None
    if not math.isfinite(number):
        errors[where] = f"{what} must be a number."
        return None
    return int(number) if number.is_integer() else number


def _levels(
    text: str, where: str, errors: dict[str, str], previous: dict[str, str], taken_fallback: str
) -> list[dict[str, Any]]:
    levels: list[dict[str, Any]] = []
    taken: set[str] = set()
    for number, line in enumerate([line for line in text.splitlines() if line.strip()], start=1):
        parts = [part.strip() for part in line.split("|", 2)]
        if len(parts) != 3 or not parts[0] or not parts[2]:
            errors[where] = f"Level line {number}: write it as “Name | points | description”."
            return []
        points = _parse_number(parts[1], where, errors, what=f"Level line {number}: the points")
        if points is None:
            return []
        wanted = previous.get(_key(parts[0])) or slug(parts[0], f"{taken_fallback}{number}")
        levels.append({"id": _unique(wanted, taken), "name": parts[0], "description": parts[2], "points": points})
    return levels


def _rubric(draft: AchievementDraft, previous: dict[str, Any] | None, version: int, errors: dict[str, str]) -> Any:
    """The rubric dict the draft describes (None: no criteria), ids kept from ``previous`` by name."""
    criteria = [c for c in draft.criteria if not c.is_blank()]
    if not criteria:
        return None
    previous = previous or {}
    old = {_key(c.get("name", c["id"])): c for c in previous.get("criteria", [])}
    written = []
    taken: set[str] = set()
    for index, criterion in enumerate(draft.criteria):
        if criterion.is_blank():
            continue
        before = old.get(_key(criterion.name), {})
        old_levels = {_key(lv["name"]): lv["id"] for lv in before.get("levels", [])}
        item: dict[str, Any] = {
            "id": _unique(before.get("id") or slug(criterion.name, f"criterion-{index + 1}"), taken),
            "name": criterion.name.strip(),
            "description": criterion.description.strip(),
            "weight": _parse_number(criterion.weight or "1", f"c{index}_weight", errors, what="The weight"),
            "levels": _levels(criterion.levels, f"c{index}_levels", errors, old_levels, "level-"),
        }
        if criterion.required:
            item["required"] = True
            level_ids = {lv["id"] for lv in item["levels"]}
            if before.get("min_level") in level_ids:
                item["min_level"] = before["min_level"]
        ideas = [line.strip() for line in criterion.key_ideas.splitlines() if line.strip()]
        if ideas:
            item["key_ideas"] = ideas
        written.append(item)
    pass_rule: dict[str, Any] = {}
    min_total = _parse_number(draft.min_total or "0", "min_total", errors, what="The minimum total")
    pass_rule["min_total"] = min_total
    if draft.min_confidence.strip():
        pass_rule["min_confidence"] = _parse_number(
            draft.min_confidence, "min_confidence", errors, what="The minimum confidence"
        )
    rubric: dict[str, Any] = {
        "id": previous.get("id") or slug(draft.name, "rubric"),
        "version": str(version),
        "name": draft.rubric_name.strip() or f"{draft.name.strip()} rubric",
        "criteria": written,
        "pass_rule": pass_rule,
        "policy": draft.policy,
    }
    if "description" in previous:
        rubric["description"] = previous["description"]
    if draft.policy == "auto_with_sampling" and draft.sampling_rate.strip():
        rubric["sampling_rate"] = _parse_number(draft.sampling_rate, "sampling_rate", errors, what="The sampling rate")
    return rubric


FIELD_OF = {"name": "name", "description": "description", "criteria": "criteria_narrative", "tags": "tags"}


def _schema_errors(error: ValidationError) -> dict[str, str]:
    found: dict[str, str] = {}
    for problem in error.errors():
        loc = [str(part) for part in problem["loc"]]
        where = FIELD_OF.get(loc[0], loc[0]) if loc else "form"
        if where in ("validity_days",):
            found.setdefault(where, "A whole number of days from 1 to 3650, or empty for no expiry.")
        elif where in ("name", "description", "criteria_narrative", "tags"):
            found.setdefault(where, str(problem["msg"]).removeprefix("Value error, "))
        else:
            found.setdefault("form", f"{'.'.join(loc) or 'The form'}: {problem['msg']}")
    return found


def body_of(draft: AchievementDraft, *, current: AchievementAtVersion | None) -> AchievementCreate:
    """The draft as the API's ``AchievementCreate`` (create, or the next version of ``current``).

    What the form does not show is carried over from ``current``: the image, the achievement type,
    hand-written alignments and result descriptions. Raises :class:`DraftErrors`."""
    errors: dict[str, str] = {}
    version = 1 if current is None else current.achievement.current_version + 1
    rubric = _rubric(draft, current.content.rubric if current else None, version, errors)
    validity: int | str | None = draft.validity_days.strip() or None
    if isinstance(validity, str) and validity.isdigit():
        validity = int(validity)
    body: dict[str, Any] = {
        "name": draft.name,
        "description": draft.description,
        "criteria": {"narrative": draft.criteria_narrative or None},
        "tags": [tag.strip() for tag in draft.tags.split(",") if tag.strip()],
        "validity_days": validity,
        "allow_multiple_active": draft.allow_multiple_active,
        "esco_skills": draft.esco_skills,
        "rubric": rubric,
    }
    if current is not None:
        content = current.content
        body["criteria"]["id"] = content.criteria_id
        body["image"] = content.image
        body["achievement_type"] = content.achievement_type
        body["alignments"] = [a for a in content.alignments if a.get("target_type") != ESCO_TARGET_TYPE]
        body["result_descriptions"] = [r for r in content.result_descriptions if RUBRIC_MARKER not in r]
    if errors:
        raise DraftErrors(errors)
    try:
        return AchievementCreate.model_validate(body)
    except ValidationError as error:
        raise DraftErrors(_schema_errors(error)) from None


def rubric_problems(detail: str) -> str:
    """The rubric checker's message in the form's words (``criteria/0/levels`` -> criterion 1, levels)."""

    def criterion(match: re.Match[str]) -> str:
        return f"criterion {int(match.group(1)) + 1}"

    def level(match: re.Match[str]) -> str:
        return f"level {int(match.group(1)) + 1}"

    text = re.sub(r"criteria/(\d+)", criterion, detail.removeprefix("rubric: "))
    return re.sub(r"levels/(\d+)", level, text)
