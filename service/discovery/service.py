"""Suggest achievements and ESCO skills for an earner's evidence bundle (any bundle, before it is
submitted): load the achievements open for applications with their rubrics and skills, read the
bundle as assessors do, and rank them with :func:`service.assessment.engine.discovery.discover`.
No FastAPI here and no writes.

Open for applications: the achievement's current version has a rubric (submitting evidence for one
without a rubric is refused, ``no_rubric``). A platform acting for an earner it provisioned sees
only its own issuer's achievements, as with the bundles. At most
:data:`~service.assessment.engine.discovery.MAX_ACHIEVEMENTS` achievements (the newest) are read, and
a bundle's size is already bounded by the evidence limits, so the work per request is bounded
before it starts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, and_, col, select

from service.accounts.models import Account
from service.achievements.models import Achievement, AchievementVersion
from service.achievements.result_descriptions import rubric_of
from service.assessment.engine.discovery import (
    MAX_ACHIEVEMENTS,
    AchievementCandidate,
    Discovery,
    SkillCandidate,
    discover,
)
from service.assessment.engine.embedding import Embedder, default_embedder
from service.assessment.engine.rubric import RubricError
from service.core.config import Settings
from service.core.errors import NotFound
from service.evidence import service as evidence
from service.evidence.blobstore import get_blob_store
from service.evidence.models import EvidenceBundleRecord
from service.issuers.models import Issuer
from service.skills.esco import ESCO_FRAMEWORK, Skill, get_skill
from service.skills.search import search_skills

NO_SUCH_BUNDLE = evidence.NO_SUCH_BUNDLE


def _skill(skill: Skill) -> SkillCandidate:
    return SkillCandidate(skill.uri, skill.label, skill.description)


def _aligned_skills(alignments: Iterable[Any]) -> tuple[SkillCandidate, ...]:
    found = []
    for alignment in alignments or ():
        if isinstance(alignment, dict) and alignment.get("target_framework") == ESCO_FRAMEWORK:
            skill = get_skill(str(alignment.get("target_url", "")))
            if skill is not None:
                found.append(_skill(skill))
    return tuple(found)


def open_achievements(session: Session, *, issuer_id: str | None = None) -> list[AchievementCandidate]:
    """The achievements open for applications (current version with a rubric), newest first, at
    most :data:`MAX_ACHIEVEMENTS`; ``issuer_id`` keeps one issuer's."""
    statement = (
        select(Achievement, AchievementVersion, Issuer.name)
        .join(
            AchievementVersion,
            and_(
                col(AchievementVersion.achievement_id) == col(Achievement.id),
                col(AchievementVersion.version) == col(Achievement.current_version),
            ),
        )
        .join(Issuer, col(Issuer.id) == col(Achievement.issuer_id))
        .where(col(AchievementVersion.rubric).is_not(None))
        .order_by(col(Achievement.created_at).desc(), col(Achievement.id).desc())
        .limit(MAX_ACHIEVEMENTS)
    )
    if issuer_id is not None:
        statement = statement.where(Achievement.issuer_id == issuer_id)
    candidates = []
    for achievement, version, issuer_name in session.exec(statement):
        try:
            rubric = rubric_of(version)
        except RubricError:  # stored before a schema change: not open until the issuer fixes it
            continue
        if rubric is None:  # a JSON null stored as a value
            continue
        candidates.append(
            AchievementCandidate(
                id=achievement.id,
                name=version.name,
                description=version.description,
                criteria=version.criteria_narrative or "",
                issuer=issuer_name,
                rubric=rubric,
                skills=_aligned_skills(version.alignments),
            )
        )
    return candidates


def _lookup(phrase: str, limit: int) -> list[SkillCandidate]:
    return [_skill(skill) for skill in search_skills(phrase, limit)]


def suggest(
    session: Session,
    settings: Settings,
    *,
    earner: Account,
    bundle_id: str,
    limit: int,
    platform_issuer: str | None = None,
    embedder: Embedder | None = None,
) -> Discovery:
    """Suggestions for ``earner``'s bundle (NotFound for anyone else's, in the same words as a
    bundle that does not exist). ``platform_issuer``: a platform of that issuer acts for the
    earner; only that issuer's bundles and achievements are found. ``embedder``: the process-wide
    model when not given (ranked lexically when it is unavailable)."""
    bundle = session.get(EvidenceBundleRecord, bundle_id)
    if bundle is None or bundle.owner_id != earner.id:
        raise NotFound(NO_SUCH_BUNDLE)
    if platform_issuer is not None and bundle.issuer_id != platform_issuer:
        raise NotFound(NO_SUCH_BUNDLE)
    candidates = open_achievements(session, issuer_id=platform_issuer)
    with evidence.open_bundle(session, get_blob_store(settings), bundle.id) as built:
        return discover(
            built,
            candidates,
            embedder=embedder or default_embedder(),
            skill_lookup=_lookup,
            limit=limit,
        )
