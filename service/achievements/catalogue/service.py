"""Reading the catalogue of open achievements. No FastAPI here and no writes.

Open for applications: the achievement's current version has a rubric that loads (evidence for an
achievement without one is refused, ``no_rubric``; a rubric stored before a schema change that no
longer loads keeps the achievement closed until its issuer fixes it). This is the notion skill
discovery uses too (:func:`service.discovery.service.open_achievements`); achievements have no
separate published or archived flag.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import String, and_, cast
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from service.achievements.models import Achievement, AchievementVersion
from service.achievements.result_descriptions import rubric_of
from service.achievements.service import NO_SUCH_ACHIEVEMENT, get_achievement
from service.assessment.engine.rubric import Rubric, RubricError
from service.core.errors import NotFound
from service.core.paging import PageParams, paginate
from service.issuers.models import Issuer

MAX_SEARCH_LENGTH = 200


@dataclass(frozen=True)
class CatalogueEntry:
    """One achievement as the catalogue shows it: the achievement, one of its versions (the
    current one unless asked otherwise), its issuer and that version's rubric (None: none, or
    one that no longer loads)."""

    achievement: Achievement
    content: AchievementVersion
    issuer: Issuer
    rubric: Rubric | None

    @property
    def is_current(self) -> bool:
        """Whether the version held is the achievement's current one."""
        return self.content.version == self.achievement.current_version

    @property
    def is_open(self) -> bool:
        """Whether evidence may be submitted for it now: its current version has a rubric."""
        return self.is_current and self.rubric is not None


def _loaded_rubric(content: AchievementVersion) -> Rubric | None:
    try:
        return rubric_of(content)
    except RubricError:
        return None


def _open_statement() -> Select[Achievement, AchievementVersion, Issuer]:
    """Achievements at their current version with a stored rubric (SQL NULL and JSON null both
    count as none), with their issuer."""
    return (
        select(Achievement, AchievementVersion, Issuer)
        .join(
            AchievementVersion,
            and_(
                col(AchievementVersion.achievement_id) == col(Achievement.id),
                col(AchievementVersion.version) == col(Achievement.current_version),
            ),
        )
        .join(Issuer, col(Issuer.id) == col(Achievement.issuer_id))
        .where(col(AchievementVersion.rubric).is_not(None))
        .where(cast(AchievementVersion.rubric, String) != "null")
    )


def list_open(
    session: Session, page: PageParams, *, issuer_id: str | None = None, search: str | None = None
) -> tuple[list[CatalogueEntry], int]:
    """Open achievements, newest first, paged: (one page, total). ``issuer_id`` keeps one
    issuer's (an unknown issuer: none); ``search`` keeps those whose name contains it (case
    ignored; ``%`` and ``_`` are literal characters, not wildcards)."""
    statement = _open_statement().order_by(col(Achievement.created_at).desc(), col(Achievement.id).desc())
    if issuer_id is not None:
        statement = statement.where(Achievement.issuer_id == issuer_id)
    if search is not None and search.strip():
        needle = search.strip()[:MAX_SEARCH_LENGTH]
        statement = statement.where(col(AchievementVersion.name).icontains(needle, autoescape=True))
    rows, total = paginate(session, statement, page)
    entries = [CatalogueEntry(a, v, i, _loaded_rubric(v)) for a, v, i in rows]
    # a rubric that no longer loads is rare (a schema change): closed, so left out of the page
    return [entry for entry in entries if entry.is_open], total


def get_open(session: Session, achievement_id: str) -> CatalogueEntry:
    """The open achievement ``achievement_id``; :class:`NotFound` for an unknown one and, in the
    same words, for one that is not open for applications."""
    entry = get_entry(session, achievement_id)
    if not entry.is_open:
        raise NotFound(NO_SUCH_ACHIEVEMENT)
    return entry


def get_entry(session: Session, achievement_id: str, version: int | None = None) -> CatalogueEntry:
    """Any achievement (at ``version``, its current one when None) with its issuer and rubric,
    open or not: the achievement page shows closed ones too, saying so. :class:`NotFound` for an
    unknown achievement or version. Only the current version can be open."""
    found = get_achievement(session, achievement_id, version)
    issuer = session.get(Issuer, found.achievement.issuer_id)
    if issuer is None:  # the foreign key makes this impossible; keep the answer honest anyway
        raise NotFound(NO_SUCH_ACHIEVEMENT)
    return CatalogueEntry(found.achievement, found.content, issuer, _loaded_rubric(found.content))
