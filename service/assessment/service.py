"""Assessments: reading, listing, the review queue, and the API views. No FastAPI, no commits.

Submitting is in :mod:`service.assessment.submission`, review decisions and appeals in
:mod:`service.assessment.review`, issuing in :mod:`service.assessment.issuance`; they are
re-exported here.

Who sees what: an earner sees their own assessments (outcome, levels, rationale, reasons); the
reviewers and issuer admins of an assessment's issuer see it with its evidence and who decided;
admins see all. Anyone else gets 404, never 403, so nobody learns that an assessment exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from service.accounts.models import Account, Role
from service.assessment.issuance import bundle_items
from service.assessment.models import Assessment, AssessmentEvent
from service.assessment.review import NO_SUCH_ASSESSMENT, appeal, approve, override_levels, reject
from service.assessment.schemas import (
    AssessmentOut,
    AssessmentSummary,
    AssessorOut,
    CriterionOut,
    EventOut,
    EvidenceItemOut,
    EvidencePointerOut,
    RubricOut,
)
from service.assessment.state import REVIEWABLE, can_appeal, events_of, latest, rubric_of_assessment
from service.assessment.submission import submit_assessment
from service.core.config import Settings
from service.core.errors import NotFound
from service.core.paging import PageParams, paginate

__all__ = [
    "appeal",
    "approve",
    "detail",
    "get_assessment",
    "list_assessments",
    "override_levels",
    "reject",
    "review_queue",
    "submit_assessment",
    "summary",
]

STAFF_ROLES = frozenset({Role.admin, Role.issuer_admin, Role.reviewer})


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


def _visible(statement: Any, viewer: Account) -> Any:
    if viewer.role == Role.admin:
        return statement
    if viewer.role in STAFF_ROLES:
        return statement.where(Assessment.issuer_id == viewer.issuer_id)
    return statement.where(Assessment.earner_id == viewer.id)


def get_assessment(
    session: Session, assessment_id: str, *, viewer: Account
) -> tuple[Assessment, list[AssessmentEvent]]:
    """The assessment and its events, if ``viewer`` may see it (else :class:`NotFound`)."""
    row = session.exec(_visible(select(Assessment).where(Assessment.id == assessment_id), viewer)).first()
    if row is None:
        raise NotFound(NO_SUCH_ASSESSMENT)
    return row, events_of(session, row.id)


def list_assessments(
    session: Session,
    params: PageParams,
    *,
    viewer: Account,
    state: str | None = None,
    achievement_id: str | None = None,
) -> tuple[list[tuple[Assessment, AssessmentEvent]], int]:
    """One page of the assessments ``viewer`` may see, newest first, with their latest events."""
    statement = _visible(_latest_events(), viewer).order_by(col(Assessment.assessed_at).desc(), col(Assessment.id))
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


# --- views -------------------------------------------------------------------------------------


def _credential_id(events: Sequence[AssessmentEvent]) -> str | None:
    return next((e.credential_id for e in sorted(events, key=lambda e: -e.seq) if e.credential_id), None)


def summary(assessment: Assessment, current: AssessmentEvent, credential_id: str | None = None) -> AssessmentSummary:
    """The list view of an assessment, as of ``current`` (its latest event)."""
    return AssessmentSummary(
        id=assessment.id,
        state=str(current.state),
        achievement_id=assessment.achievement_id,
        achievement_version=assessment.achievement_version,
        issuer_id=assessment.issuer_id,
        earner_id=assessment.earner_id,
        bundle_id=assessment.bundle_id,
        decision=assessment.decision,
        flags=list(assessment.flags),
        total=current.total,
        passed=current.passed,
        assessed_at=assessment.assessed_at,
        updated_at=current.at,
        credential_id=credential_id or current.credential_id,
        renews_credential_id=assessment.renews_credential_id,
    )


def detail(
    session: Session, settings: Settings, assessment: Assessment, events: list[AssessmentEvent], *, viewer: Account
) -> AssessmentOut:
    """The full view. Issuer staff also get the evidence items (with links to their content) and
    who took each decision; the earner gets outcome, levels, rationale and reasons."""
    current = latest(events)
    staff = viewer.role in STAFF_ROLES
    rubric = rubric_of_assessment(assessment)
    criteria = []
    for stored in assessment.criteria:
        criterion_id = stored["criterion_id"]
        level = current.levels.get(criterion_id, stored["level"])
        try:
            criterion = rubric.criterion(criterion_id)
            name, level_name = criterion.name, criterion.level(level).name
        except KeyError:
            name, level_name = criterion_id, level
        criteria.append(
            CriterionOut(
                criterion_id=criterion_id,
                name=name,
                level=level,
                level_name=level_name,
                assessed_level=stored["level"],
                score=stored.get("score", 0.0),
                confidence=stored.get("confidence", 0.0),
                spread=stored.get("spread", 0),
                rationale=stored.get("rationale", ""),
                evidence=[EvidencePointerOut(**pointer) for pointer in stored.get("evidence", [])],
            )
        )
    base = summary(assessment, current, _credential_id(events))
    return AssessmentOut(
        **base.model_dump(),
        rubric=RubricOut(
            id=assessment.rubric_id,
            version=assessment.rubric_version,
            name=assessment.rubric_name,
            hash=assessment.rubric_hash,
        ),
        assessor=AssessorOut(
            kind=assessment.assessor_kind,
            version=assessment.assessor_version,
            model=assessment.model,
            endpoint_host=assessment.endpoint_host,
            prompt_version=assessment.prompt_version,
            details=assessment.assessor,
        ),
        sampled=assessment.sampled,
        decision_reasons=list(assessment.decision_reasons),
        findings=list(assessment.findings),
        notes=list(assessment.notes),
        max_total=rubric.max_total,
        min_total=rubric.min_total,
        criteria=criteria,
        evidence_digests=dict(assessment.evidence_digests),
        evidence=_evidence(session, settings, assessment) if staff else [],
        events=[_event(event, staff) for event in events],
        can_appeal=can_appeal(events) and viewer.id == assessment.earner_id,
    )


def _event(event: AssessmentEvent, staff: bool) -> EventOut:
    return EventOut(
        seq=event.seq,
        kind=str(event.kind),
        state=str(event.state),
        at=event.at,
        actor_id=event.actor_id if staff else None,
        actor_role=event.actor_role if staff else None,
        reason=event.reason,
        overrides=list(event.overrides),
        credential_id=event.credential_id,
    )


def _evidence(session: Session, settings: Settings, assessment: Assessment) -> list[EvidenceItemOut]:
    return [
        EvidenceItemOut(
            id=item.id,
            kind=item.kind,
            name=item.name or item.file_name,
            media_type=item.media_type,
            size=item.size,
            sha256=item.sha256,
            url=item.url,
            commit=item.commit,
            content_url=f"{settings.public_url}/v1/evidence/bundles/{assessment.bundle_id}/items/{item.id}/content",
        )
        for item in bundle_items(session, assessment.bundle_id)
    ]
