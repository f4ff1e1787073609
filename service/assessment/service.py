"""Assessments: reading, listing and the review queue. No FastAPI, no commits.

Submitting (lock and queue) is in :mod:`service.assessment.submission`, the assessor's run (the
job ``assessment:run``) in :mod:`service.assessment.jobs` and :mod:`service.assessment.running`,
review decisions and appeals in :mod:`service.assessment.review`, issuing in
:mod:`service.assessment.issuance`; submitting and reviewing are re-exported here. The API
views of what these return are in :mod:`service.assessment.views`.

Who sees what: an earner sees their own assessments (outcome, levels, rationale, reasons); the
reviewers and issuer admins of an assessment's issuer see it with its evidence and who decided;
admins see all. Anyone else gets 404, never 403, so nobody learns that an assessment exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from service.accounts.models import Account, Role
from service.assessment.issuance import bundle_items
from service.assessment.models import Assessment, AssessmentEvent
from service.assessment.review import NO_SUCH_ASSESSMENT, appeal, approve, override_levels, reject
from service.assessment.state import REVIEWABLE
from service.assessment.submission import AttemptLimits, submit_assessment
from service.core.errors import NotFound
from service.core.paging import PageParams, paginate
from service.evidence.models import EvidenceItemRecord

__all__ = [
    "AssessmentRecord",
    "AttemptLimits",
    "appeal",
    "approve",
    "get_assessment",
    "is_staff",
    "list_assessments",
    "override_levels",
    "read_assessment",
    "reject",
    "review_queue",
    "submit_assessment",
]

STAFF_ROLES = frozenset({Role.admin, Role.issuer_admin, Role.reviewer})


def is_staff(viewer: Account) -> bool:
    """Whether ``viewer`` reads assessments as issuer staff (evidence, who decided) or as an earner."""
    return viewer.role in STAFF_ROLES


@dataclass(frozen=True)
class AssessmentRecord:
    """An assessment as one viewer may read it: its events, oldest first, and the evidence items
    of its bundle when the viewer is issuer staff (empty for the earner)."""

    assessment: Assessment
    events: list[AssessmentEvent]
    evidence: list[EvidenceItemRecord] = field(default_factory=list)


def _latest_events() -> Any:
    """Each assessment joined with its latest event (the current state)."""
    newest = (
        select(AssessmentEvent.assessment_id, func.max(AssessmentEvent.seq).label("seq"))
        .group_by(AssessmentEvent.assessment_id)
        .subquery()
    )
    return (
        select(Assessment, AssessmentEvent)
        .join(newest, col(newest.c.assessment_id) == col(Assessment.id))
        .join(
            AssessmentEvent,
            and_(col(AssessmentEvent.assessment_id) == col(Assessment.id), col(AssessmentEvent.seq) == newest.c.seq),
        )
    )


def _visible(statement: Any, viewer: Account, platform_issuer: str | None = None) -> Any:
    if platform_issuer is not None:  # a platform of that issuer acting for an earner: that issuer's only
        statement = statement.where(Assessment.issuer_id == platform_issuer)
    if viewer.role == Role.admin:
        return statement
    if is_staff(viewer):
        return statement.where(Assessment.issuer_id == viewer.issuer_id)
    return statement.where(Assessment.earner_id == viewer.id)


def get_assessment(
    session: Session, assessment_id: str, *, viewer: Account, platform_issuer: str | None = None
) -> tuple[Assessment, list[AssessmentEvent]]:
    """The assessment and its events, if ``viewer`` may see it (else :class:`NotFound`).
    ``platform_issuer``: a platform of that issuer acts for ``viewer``, and sees that issuer's only.

    Row and events come from one statement, so from one snapshot: on PostgreSQL (read committed,
    a snapshot per statement) two reads could straddle the job's commit and show a decided state
    over a row still ``pending``."""
    statement = (
        _visible(select(Assessment, AssessmentEvent), viewer, platform_issuer)
        .join(AssessmentEvent, col(AssessmentEvent.assessment_id) == col(Assessment.id))
        .where(Assessment.id == assessment_id)
        .order_by(col(AssessmentEvent.seq))
        .execution_options(populate_existing=True)
    )
    rows = list(session.exec(statement))
    if not rows:
        raise NotFound(NO_SUCH_ASSESSMENT)
    return rows[0][0], [event for _, event in rows]


def read_assessment(
    session: Session, assessment_id: str, *, viewer: Account, platform_issuer: str | None = None
) -> AssessmentRecord:
    """The assessment with its events and, for issuer staff, its evidence items, if ``viewer`` may
    see it (else :class:`NotFound`; ``platform_issuer`` as :func:`get_assessment`)."""
    assessment, events = get_assessment(session, assessment_id, viewer=viewer, platform_issuer=platform_issuer)
    evidence = bundle_items(session, assessment.bundle_id) if is_staff(viewer) else []
    return AssessmentRecord(assessment, events, evidence)


def list_assessments(
    session: Session,
    params: PageParams,
    *,
    viewer: Account,
    state: str | None = None,
    achievement_id: str | None = None,
    platform_issuer: str | None = None,
) -> tuple[list[tuple[Assessment, AssessmentEvent]], int]:
    """One page of the assessments ``viewer`` may see, newest first, with their latest events
    (``platform_issuer`` as :func:`get_assessment`)."""
    statement = _visible(_latest_events(), viewer, platform_issuer)
    statement = statement.order_by(col(Assessment.assessed_at).desc(), col(Assessment.id))
    if state is not None:
        statement = statement.where(AssessmentEvent.state == state)
    if achievement_id is not None:
        statement = statement.where(Assessment.achievement_id == achievement_id)
    rows, total = paginate(session, statement, params)
    return [(row[0], row[1]) for row in rows], total


def review_queue(
    session: Session,
    params: PageParams,
    *,
    viewer: Account,
    achievement_id: str | None = None,
    issuer_id: str | None = None,
) -> tuple[list[tuple[Assessment, AssessmentEvent]], int]:
    """Assessments waiting for a reviewer (``pending_review`` and ``appealed``) of the issuers
    ``viewer`` reviews for, oldest first."""
    statement = (
        _visible(_latest_events(), viewer)
        .where(col(AssessmentEvent.state).in_([str(s) for s in REVIEWABLE]))
        .order_by(col(Assessment.assessed_at), col(Assessment.id))
    )
    if achievement_id is not None:
        statement = statement.where(Assessment.achievement_id == achievement_id)
    if issuer_id is not None:
        statement = statement.where(Assessment.issuer_id == issuer_id)
    rows, total = paginate(session, statement, params)
    return [(row[0], row[1]) for row in rows], total
