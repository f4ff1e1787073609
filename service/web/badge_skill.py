"""The skill section of the badge page, read from the signed credential: the achievement's
description and criteria, each rubric criterion with the level reached on its scale
("Proficient, 3 of 4"), the skills it aligns to (ESCO and others, linked when the target is an
http(s) URL), and how the skill was assessed in plain words (never who reviewed it). No FastAPI here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from service.vc.skillcred import read_assessment
from service.web.markdown import render_markdown
from service.web.report_view import assessment_sentence


@dataclass(frozen=True)
class ResultView:
    """One result: the criterion's name and what was reached, in words."""

    name: str
    reached: str
    """ "Proficient, 3 of 4", "85 (of 0 to 100)", "Completed"..."""
    description: str
    """The reached level's description, when the rubric gives one."""
    required: str
    """ "Needed: Competent" when the criterion sets a passing level, else ""."""
    position: int | None
    scale: int | None


@dataclass(frozen=True)
class SkillView:
    """An aligned skill or standard."""

    name: str
    framework: str
    url: str | None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _objects(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def link(value: Any) -> str | None:
    """Only http(s) URLs become links (a ``javascript:`` URL stays text)."""
    return value if isinstance(value, str) and value.startswith(("https://", "http://")) else None


def subject_of(document: dict[str, Any]) -> dict[str, Any]:
    """The credential's (first) subject."""
    subject = document.get("credentialSubject")
    if isinstance(subject, list):
        subject = next((s for s in subject if isinstance(s, dict)), {})
    return _object(subject)


def achievement_of(document: dict[str, Any]) -> dict[str, Any]:
    """The achievement the credential's subject holds."""
    return _object(subject_of(document).get("achievement"))


def result_views(document: dict[str, Any]) -> list[ResultView]:
    """Each result, with the level reached placed on its criterion's scale (levels are listed
    lowest first, so the level's position is its rank)."""
    achievement = achievement_of(document)
    descriptions = {d.get("id"): d for d in _objects(achievement.get("resultDescription"))}
    views = []
    for result in _objects(subject_of(document).get("result")):
        described = _object(descriptions.get(result.get("resultDescription")))
        levels = _objects(described.get("rubricCriterionLevel"))
        level_ids = [level.get("id") for level in levels]
        achieved = result.get("achievedLevel")
        position = level_ids.index(achieved) + 1 if achieved in level_ids else None
        level = levels[position - 1] if position else {}
        reached = _text(level.get("name"))
        if position:
            reached = f"{reached or 'Level'}, {position} of {len(levels)}"
        elif _text(result.get("value")):
            low, high = _text(described.get("valueMin")), _text(described.get("valueMax"))
            reached = _text(result.get("value")) + (f" (on a scale of {low} to {high})" if low and high else "")
        elif _text(result.get("status")):
            reached = _text(result.get("status"))
        required_id = described.get("requiredLevel")
        required = next((_text(lv.get("name")) for lv in levels if lv.get("id") == required_id), "")
        views.append(
            ResultView(
                name=_text(described.get("name")) or "Result",
                reached=reached or "not stated",
                description=_text(level.get("description")),
                required=f"Needed to pass: {required}" if required else "",
                position=position,
                scale=len(levels) if position else None,
            )
        )
    return views


def skill_views(document: dict[str, Any]) -> list[SkillView]:
    """The skills and standards the achievement aligns to (an ESCO skill, say)."""
    return [
        SkillView(
            name=_text(a.get("targetName")) or _text(a.get("targetUrl")) or "Skill",
            framework=_text(a.get("targetFramework")),
            url=link(a.get("targetUrl")),
        )
        for a in _objects(achievement_of(document).get("alignment"))
    ]


def criteria_html(document: dict[str, Any]) -> Markup | None:
    """The achievement's criteria narrative (Markdown, as OB 3.0 allows), rendered safely."""
    narrative = _text(_object(achievement_of(document).get("criteria")).get("narrative"))
    return render_markdown(narrative) if narrative else None


def assessment_text(document: dict[str, Any]) -> str | None:
    """How the skill was assessed, in plain words, when the credential says so."""
    statement = read_assessment(document)
    return None if statement is None else assessment_sentence(statement)
