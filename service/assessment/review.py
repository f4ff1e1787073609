"""Human review: override levels, approve (and issue), reject; the earner's one appeal.

Every action appends an event (never changes one) whose ``seq`` is the next number for the
assessment; ``(assessment_id, seq)`` is unique. Two reviewers deciding at once therefore cannot
both win: on PostgreSQL the assessment row is locked (``FOR UPDATE``) so the second waits and then
sees the first decision; on SQLite, where reads take no lock, the unique number is the guard: the
second insert of the same ``seq`` fails. The loser gets 409 ``not_pending`` and nothing of theirs
is written (an approval's credential included: it is in the same transaction).

Who may: reviewers and issuer admins of the assessment's issuer, and admins (anyone else: 404);
an appeal only by the earner, once, and it is decided by someone other than the reviewer who
rejected it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from service.accounts.models import Account, Role
from service.assessment.errors import InvalidAssessmentRequest
from service.assessment.issuance import issue_for_assessment
from service.assessment.models import Assessment, AssessmentEvent, AssessmentState, EventKind
from service.assessment.schemas import LevelOverride
from service.assessment.state import (
    Levels,
    apply_overrides,
    can_appeal,
    ensure_may_decide_appeal,
    ensure_reviewable,
    events_of,
    latest,
    rubric_of_assessment,
)
from service.audit.service import record
from service.core.config import Settings
from service.core.errors import Conflict, Forbidden, NotFound
from service.core.keystore import Keystore

NO_SUCH_ASSESSMENT = "No such assessment"
REVIEWING_ROLES = frozenset({Role.admin, Role.issuer_admin, Role.reviewer})
AUDIT_ACTIONS = {
    EventKind.overridden: "assessment.override",
    EventKind.approved: "assessment.approve",
    EventKind.rejected: "assessment.reject",
    EventKind.appealed: "assessment.appeal",
}


class BelowPassRule(Conflict):
    """Approving levels that do not meet the rubric's pass rule needs an explicit flag."""

    code = "below_pass_rule"


def reviewable_assessment(
    session: Session, assessment_id: str, reviewer: Account, *, for_update: bool = False
) -> Assessment:
    """The assessment, if ``reviewer`` may review it (else 404, so nothing leaks)."""
    if reviewer.role not in REVIEWING_ROLES:
        raise Forbidden("Your role may not review assessments")
    assessment = session.get(Assessment, assessment_id, with_for_update=True if for_update else None)
    if assessment is None or (reviewer.role != Role.admin and reviewer.issuer_id != assessment.issuer_id):
        raise NotFound(NO_SUCH_ASSESSMENT)
    return assessment


def override_levels(
    session: Session, assessment_id: str, overrides: Sequence[LevelOverride], *, reviewer: Account
) -> AssessmentEvent:
    """Change levels (each with a reason); the assessment stays in the queue."""
    assessment, events = _start_decision(session, assessment_id, reviewer)
    levels = apply_overrides(rubric_of_assessment(assessment), latest(events).levels, overrides)
    return _append(
        session, assessment, events, reviewer, EventKind.overridden, latest(events).state, levels, reason=None
    )


def approve(
    session: Session,
    keystore: Keystore,
    settings: Settings,
    assessment_id: str,
    *,
    reviewer: Account,
    reason: str | None = None,
    overrides: Sequence[LevelOverride] = (),
    approve_below_pass_rule: bool = False,
) -> AssessmentEvent:
    """Approve with the levels in force (after ``overrides``) and issue the credential, all in the
    caller's transaction. Levels below the pass rule: 409 ``below_pass_rule`` unless
    ``approve_below_pass_rule``."""
    assessment, events = _start_decision(session, assessment_id, reviewer)
    rubric = rubric_of_assessment(assessment)
    levels = apply_overrides(rubric, latest(events).levels, overrides)
    if not levels.passed and not approve_below_pass_rule:
        raise BelowPassRule(
            f"These levels do not meet the rubric's pass rule (total {levels.total:g}, at least "
            f"{rubric.min_total:g} and every required criterion at its minimum); to issue anyway, "
            "approve with approve_below_pass_rule: true",
            code="below_pass_rule",
        )
    now = datetime.now(UTC)
    credential = issue_for_assessment(
        session,
        keystore,
        settings,
        assessment,
        rubric,
        levels.levels,
        human_reviewed=True,
        decided_at=now,
        authorised_by=reviewer,
    )
    return _append(
        session,
        assessment,
        events,
        reviewer,
        EventKind.approved,
        AssessmentState.issued,
        levels,
        reason=reason,
        credential_id=credential.id,
        at=now,
    )


def reject(
    session: Session, assessment_id: str, *, reviewer: Account, reason: str, overrides: Sequence[LevelOverride] = ()
) -> AssessmentEvent:
    """Reject, with a reason the earner will see (after recording ``overrides``)."""
    assessment, events = _start_decision(session, assessment_id, reviewer)
    levels = apply_overrides(rubric_of_assessment(assessment), latest(events).levels, overrides)
    return _append(
        session, assessment, events, reviewer, EventKind.rejected, AssessmentState.rejected, levels, reason=reason
    )


def appeal(session: Session, assessment_id: str, *, earner: Account, reason: str) -> AssessmentEvent:
    """The earner appeals a rejection, once: the assessment goes back to the queue, for a
    different reviewer. 409 ``not_rejected`` or ``already_appealed`` otherwise."""
    assessment = session.get(Assessment, assessment_id, with_for_update=True)
    if assessment is None or assessment.earner_id != earner.id:
        raise NotFound(NO_SUCH_ASSESSMENT)
    events = events_of(session, assessment.id)
    current = latest(events)
    if not can_appeal(events):
        if current.state != AssessmentState.rejected:
            raise Conflict(
                f"Only a rejected assessment can be appealed (this one is {current.state})", code="not_rejected"
            )
        raise Conflict("This assessment was appealed already; an assessment is appealed once", code="already_appealed")
    levels = Levels(levels=dict(current.levels), total=current.total, passed=current.passed, overrides=[])
    return _append(
        session, assessment, events, earner, EventKind.appealed, AssessmentState.appealed, levels, reason=reason
    )


def _start_decision(
    session: Session, assessment_id: str, reviewer: Account
) -> tuple[Assessment, list[AssessmentEvent]]:
    """The assessment (locked on PostgreSQL: a concurrent decider waits here, then sees this
    decision) and its events, checked to be waiting for this reviewer."""
    assessment = reviewable_assessment(session, assessment_id, reviewer, for_update=True)
    events = events_of(session, assessment.id)
    current = latest(events)
    ensure_reviewable(current)
    if current.state == AssessmentState.appealed:
        ensure_may_decide_appeal(events, reviewer.id)
    return assessment, events


def _append(
    session: Session,
    assessment: Assessment,
    events: list[AssessmentEvent],
    actor: Account,
    kind: EventKind,
    state: AssessmentState | str,
    levels: Levels,
    *,
    reason: str | None,
    credential_id: str | None = None,
    at: datetime | None = None,
) -> AssessmentEvent:
    previous = latest(events)
    if kind == EventKind.overridden and not levels.overrides:
        raise InvalidAssessmentRequest("overrides: give at least one", code="invalid_override")
    event = AssessmentEvent(
        assessment_id=assessment.id,
        seq=previous.seq + 1,
        kind=kind,
        state=state,
        actor_id=actor.id,
        actor_role=str(actor.role),
        at=at or datetime.now(UTC),
        reason=reason,
        levels=levels.levels,
        overrides=levels.overrides,
        total=levels.total,
        passed=levels.passed,
        credential_id=credential_id,
    )
    session.add(event)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("Another decision on this assessment was recorded first", code="not_pending") from None
    record(
        session,
        action=AUDIT_ACTIONS[kind],
        object_type="assessment",
        object_id=assessment.id,
        actor=actor,
        issuer_id=assessment.issuer_id,
        before={"state": str(previous.state), "levels": previous.levels},
        after={
            "state": str(state),
            "seq": event.seq,
            "levels": levels.levels,
            "total": levels.total,
            "passed": levels.passed,
            "overrides": levels.overrides,
            "reason": reason,
            "credential_id": credential_id,
        },
    )
    return event
