"""Achievement logic: create, version, read, list, and render as an Open Badges 3.0 Achievement.

No FastAPI here and no commits (the request's session commits). An achievement's content lives in
immutable versions: an update writes version n+1 and moves ``current_version``; a credential keeps
the version it was issued with (``get_version``), so what it says never changes under it.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, and_, cast
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from service.achievements.models import Achievement, AchievementVersion
from service.achievements.result_descriptions import (
    InvalidAchievement,
    checked_rubric,
    merge_result_descriptions,
    stable_urn,
)
from service.achievements.schemas import AchievementCreate, AlignmentIn, ResultDescriptionIn
from service.audit.service import record
from service.core.config import Settings
from service.core.errors import Conflict, NotFound
from service.core.models import utcnow
from service.core.paging import PageParams, paginate
from service.issuers.models import Issuer
from service.skills.esco import esco_alignment, get_skill
from service.vc import openbadges as ob

NO_SUCH_ACHIEVEMENT = "No such achievement"  # the same words ensure_issuer_scope uses: nothing leaks


@dataclass(frozen=True)
class AchievementAtVersion:
    """An achievement with one of its versions: what the reading and writing functions return
    (:mod:`service.achievements.views` turns it into the API's ``AchievementView``)."""

    achievement: Achievement
    content: AchievementVersion

    @property
    def id(self) -> str:
        """The achievement's id."""
        return self.achievement.id

    @property
    def version(self) -> int:
        """The number of the version held."""
        return self.content.version


# --- reading ----------------------------------------------------------------------------------


def find_achievement(session: Session, achievement_id: str, *, for_update: bool = False) -> Achievement:
    """The achievement row, or :class:`NotFound`. ``for_update`` locks it (PostgreSQL)."""
    achievement = session.get(Achievement, achievement_id, with_for_update=True if for_update else None)
    if achievement is None:
        raise NotFound(NO_SUCH_ACHIEVEMENT)
    return achievement


_VERSIONS = "skillcred.achievement_versions"


def get_version(session: Session, achievement_id: str, version: int) -> AchievementVersion:
    """One stored version of an achievement (what a credential issued with it says), or NotFound.

    A version never changes once stored, so the session keeps the rows it has read (a bulk
    batch issues many credentials of one version with one read)."""
    read: dict[tuple[str, int], AchievementVersion] = session.info.setdefault(_VERSIONS, {})
    row = read.get((achievement_id, version))
    if row is not None:
        return row
    row = session.exec(
        select(AchievementVersion).where(
            AchievementVersion.achievement_id == achievement_id, AchievementVersion.version == version
        )
    ).first()
    if row is None:
        find_achievement(session, achievement_id)  # an unknown achievement says so first
        raise NotFound(f"The achievement has no version {version}", code="version_not_found")
    read[(achievement_id, version)] = row
    return row


def get_achievement(session: Session, achievement_id: str, version: int | None = None) -> AchievementAtVersion:
    """The achievement at ``version`` (its current version when None), or :class:`NotFound`."""
    achievement = find_achievement(session, achievement_id)
    content = get_version(session, achievement_id, achievement.current_version if version is None else version)
    return AchievementAtVersion(achievement, content)


def list_achievements(
    session: Session, issuer_id: str, page: PageParams, *, tag: str | None = None
) -> tuple[list[AchievementAtVersion], int]:
    """An issuer's achievements at their current versions, newest first; ``tag`` filters
    (case-insensitive, whole tag). Returns (one page, total)."""
    _ensure_issuer(session, issuer_id)
    statement = (
        select(Achievement, AchievementVersion)
        .join(
            AchievementVersion,
            and_(
                col(AchievementVersion.achievement_id) == col(Achievement.id),
                col(AchievementVersion.version) == col(Achievement.current_version),
            ),
        )
        .where(Achievement.issuer_id == issuer_id)
        .order_by(col(Achievement.created_at).desc(), col(Achievement.id).desc())
    )
    if tag is not None and tag.strip():
        # Tags are a JSON list; both databases store it as json.dumps text, so the quoted tag is a
        # whole-element match on SQLite and PostgreSQL alike (no dialect-specific JSON operators).
        needle = json.dumps(tag.strip())
        statement = statement.where(cast(AchievementVersion.tags, String).icontains(needle, autoescape=True))
    rows, total = paginate(session, statement, page)
    return [AchievementAtVersion(achievement, content) for achievement, content in rows], total


def list_versions(session: Session, achievement_id: str, page: PageParams) -> tuple[list[AchievementAtVersion], int]:
    """Every version of an achievement, newest first. Returns (one page, total)."""
    achievement = find_achievement(session, achievement_id)
    statement = (
        select(AchievementVersion)
        .where(AchievementVersion.achievement_id == achievement_id)
        .order_by(col(AchievementVersion.version).desc())
    )
    rows, total = paginate(session, statement, page)
    return [AchievementAtVersion(achievement, content) for content in rows], total


# --- writing ----------------------------------------------------------------------------------


def create_achievement(
    session: Session, issuer_id: str, data: AchievementCreate, *, actor: Any = None
) -> AchievementAtVersion:
    """A new achievement of ``issuer_id`` with ``data`` as version 1."""
    _ensure_issuer(session, issuer_id)
    achievement = Achievement(issuer_id=issuer_id, current_version=1, allow_multiple_active=data.allow_multiple_active)
    content = _version_row(achievement.id, 1, data)
    session.add(achievement)
    session.flush()  # the achievement row first: the version's foreign key points at it
    session.add(content)
    session.flush()
    record(
        session,
        action="achievement.create",
        object_type="achievement",
        object_id=achievement.id,
        actor=actor,
        issuer_id=issuer_id,
        after={"version": 1, "name": content.name},
    )
    return AchievementAtVersion(achievement, content)


def update_achievement(
    session: Session, achievement_id: str, data: AchievementCreate, *, actor: Any = None
) -> AchievementAtVersion:
    """Replace the achievement's content: writes version n+1 and makes it current.

    Earlier versions stay as they were. Two updates at once: one waits for the other (row lock
    on PostgreSQL); should both still claim the same number, the loser gets 409 and nothing.
    """
    achievement = find_achievement(session, achievement_id, for_update=True)
    before = get_version(session, achievement_id, achievement.current_version)
    number = achievement.current_version + 1
    content = _version_row(achievement.id, number, data)
    session.add(content)
    achievement.current_version = number
    achievement.allow_multiple_active = data.allow_multiple_active
    achievement.updated_at = utcnow()
    session.add(achievement)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(
            "The achievement was changed at the same time; read it again and retry", code="version_conflict"
        ) from None
    record(
        session,
        action="achievement.update",
        object_type="achievement",
        object_id=achievement.id,
        actor=actor,
        issuer_id=achievement.issuer_id,
        before={"version": before.version, "name": before.name},
        after={"version": number, "name": content.name},
    )
    return AchievementAtVersion(achievement, content)


def _ensure_issuer(session: Session, issuer_id: str) -> None:
    if session.get(Issuer, issuer_id) is None:
        raise NotFound("No such issuer")


def _version_row(achievement_id: str, number: int, data: AchievementCreate) -> AchievementVersion:
    """The version as stored; raises :class:`InvalidAchievement` (nothing written yet) for a bad
    rubric, a result description that clashes with it, or an unknown ESCO skill."""
    rubric = checked_rubric(data.rubric)
    return AchievementVersion(
        achievement_id=achievement_id,
        version=number,
        name=data.name,
        description=data.description,
        criteria_narrative=data.criteria.narrative,
        criteria_id=data.criteria.id,
        image=data.image,
        achievement_type=data.achievement_type,
        alignments=_alignments(data.alignments, data.esco_skills),
        result_descriptions=merge_result_descriptions(
            achievement_id, _with_ids(achievement_id, data.result_descriptions), rubric
        ),
        tags=list(data.tags),
        validity_days=data.validity_days,
        rubric=None if rubric is None else dict(rubric.source),
    )


def _alignments(written: list[AlignmentIn], esco_skills: list[str]) -> list[dict[str, Any]]:
    """Hand-written alignments, then one per ESCO skill; one per ``target_url`` (the first wins,
    so a hand-written alignment can restate an ESCO skill in its own words)."""
    skills = [(uri, get_skill(uri)) for uri in esco_skills]
    unknown = [uri for uri, skill in skills if skill is None]
    if unknown:
        raise InvalidAchievement(
            f"esco_skills: not a skill in the bundled ESCO data: {', '.join(repr(u) for u in unknown[:10])} "
            "(search them with GET /v1/skills)",
            code="unknown_esco_skill",
        )
    merged: dict[str, dict[str, Any]] = {}
    for alignment in [a.model_dump(exclude_none=True) for a in written] + [
        esco_alignment(skill) for _, skill in skills if skill is not None
    ]:
        merged.setdefault(alignment["target_url"], alignment)
    return list(merged.values())


# --- stable ids for result descriptions and rubric levels --------------------------------------


def _unique_keys(names: list[str]) -> list[str]:
    """A key per name (case and spacing ignored); a repeated name gets ``#2``, ``#3``..."""
    seen: set[str] = set()
    keys = []
    for name in names:
        base = key = " ".join(name.casefold().split())
        suffix = 1
        while key in seen:
            suffix += 1
            key = f"{base}#{suffix}"
        seen.add(key)
        keys.append(key)
    return keys


_stable_urn = stable_urn  # the same name in the next version gets the same id


def _with_ids(achievement_id: str, descriptions: list[ResultDescriptionIn]) -> list[dict[str, Any]]:
    """Result descriptions as stored: every one and every rubric level has an id (given or a
    stable URN), and ``required_level`` holds the level's id."""
    stored = []
    for description, key in zip(descriptions, _unique_keys([d.name for d in descriptions]), strict=True):
        item = description.model_dump(exclude_none=True, exclude={"rubric_criterion_levels"})
        item["id"] = description.id or _stable_urn(achievement_id, f"results/{key}")
        levels = []
        level_keys = _unique_keys([lv.name for lv in description.rubric_criterion_levels])
        for level, level_key in zip(description.rubric_criterion_levels, level_keys, strict=True):
            level_item = level.model_dump(exclude_none=True)
            level_item["id"] = level.id or _stable_urn(achievement_id, f"results/{key}/levels/{level_key}")
            levels.append(level_item)
        if description.required_level is not None:
            by_id = [lv["id"] for lv in levels if lv["id"] == description.required_level]
            by_name = [lv["id"] for lv in levels if lv["name"] == description.required_level]
            item["required_level"] = (by_id or by_name)[0]  # the schema checked that one matches
        if levels:
            item["rubric_criterion_levels"] = levels
        stored.append(item)
    return stored


# --- rubrics and Open Badges 3.0 ---------------------------------------------------------------


def get_rubric_version(session: Session, achievement_id: str, version: int | None = None) -> AchievementAtVersion:
    """The achievement at ``version`` (its current version when None) when that version has a
    rubric; :class:`NotFound` (code ``no_rubric``) when it has none."""
    found = get_achievement(session, achievement_id, version)
    if found.content.rubric is None:
        raise NotFound(f"Version {found.version} of the achievement has no rubric", code="no_rubric")
    return found


def achievement_url(settings: Settings, achievement_id: str) -> str:
    """The achievement's public URL, which is also its OB 3.0 ``id``."""
    return f"{settings.public_url}/achievements/{achievement_id}"


def _known(cls: type, stored: dict[str, Any], *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The stored keys ``cls`` (a builder dataclass) takes: later additions to the stored JSON
    (say, a rubric weight) do not break rendering old or new versions."""
    names = {f.name for f in dataclasses.fields(cls)} - set(skip)
    return {key: value for key, value in stored.items() if key in names}


def _ob_alignment(stored: dict[str, Any]) -> ob.Alignment:
    return ob.Alignment(**_known(ob.Alignment, stored))


def _ob_result_description(stored: dict[str, Any]) -> ob.ResultDescription:
    levels = tuple(
        ob.RubricCriterionLevel(**_known(ob.RubricCriterionLevel, level, skip=("alignments",)))
        for level in stored.get("rubric_criterion_levels", ())
    )
    return ob.ResultDescription(
        **_known(ob.ResultDescription, stored, skip=("allowed_values", "rubric_criterion_levels", "alignments")),
        allowed_values=tuple(stored.get("allowed_values", ())),
        rubric_criterion_levels=levels,
    )


def ob_achievement(settings: Settings, achievement: Achievement, version: AchievementVersion) -> ob.Achievement:
    """The Open Badges 3.0 Achievement that credentials issued with ``version`` embed.

    Its ``id`` is the public URL (:func:`achievement_url`), ``version`` the version number as a
    string; no ``creator`` (the issuer is implied)."""
    return ob.Achievement(
        id=achievement_url(settings, achievement.id),
        name=version.name,
        description=version.description,
        criteria_narrative=version.criteria_narrative,
        criteria_id=version.criteria_id,
        image=version.image,
        achievement_type=version.achievement_type,
        version=str(version.version),
        alignments=tuple(_ob_alignment(a) for a in version.alignments),
        result_descriptions=tuple(_ob_result_description(r) for r in version.result_descriptions),
        tags=tuple(version.tags),
    )
