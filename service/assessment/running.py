"""Running a queued assessment (the job ``assessment:run``): never with a transaction open while
the assessor works.

1. :func:`start` (a short transaction): the assessment is ``queued`` -> ``running`` (event
   ``started``), and what the assessor needs is read: the stored rubric and the bundle's items.
   The caller commits, then the assessor (the offline assessor or the LLM judge) runs, for as long
   as it takes within the job's time budget.
2. :func:`record_result` (a new short transaction): the assessment is locked (PostgreSQL) and
   checked to be still ``running``; the policy decides; the assessor's result fills in the
   assessment row (once: the database refuses any later change), the decision event is
   appended and, when the policy auto-issues, the credential is issued, all with their audit
   rows and the ``assessment.completed`` (and ``assessment.needs_review``) events. A second run
   of the same job (after a crash) finds the assessment decided and writes nothing: the next
   event number is unique, so at most one decision, and one credential, is ever recorded.
3. :func:`record_failure`: after the job's last retry, the assessment goes to human review with
   the reason the automatic assessment failed, never left ``running``.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from service.assessment.engine.decision import DecisionOutcome, decide, explain
from service.assessment.engine.result import Assessment as AssessorResult
from service.assessment.engine.rubric import Rubric
from service.assessment.issuance import issue_for_assessment
from service.assessment.models import PENDING, Assessment, AssessmentEvent, AssessmentState, EventKind
from service.assessment.state import events_of, latest, rubric_of_assessment
from service.audit.service import record
from service.core.config import Settings
from service.core.keystore import Keystore
from service.events.service import emit

UNFINISHED = (AssessmentState.queued, AssessmentState.running)
_random = secrets.SystemRandom()


class AlreadyDecided(Exception):
    """Another run of the job recorded this assessment's decision first (nothing was written)."""


@dataclass(frozen=True)
class Run:
    """What the assessor needs, read in :func:`start`'s transaction."""

    assessment_id: str
    bundle_id: str
    rubric: Rubric
    digests: dict[str, str]


def start(session: Session, assessment_id: str, *, now: datetime | None = None) -> Run | None:
    """Mark the assessment ``running`` (if ``queued``) and return what the assessor needs; None
    when there is nothing to run (unknown, or decided already)."""
    assessment = session.get(Assessment, assessment_id, with_for_update=True)
    if assessment is None:
        return None
    events = events_of(session, assessment.id)
    current = latest(events)
    if current.state not in UNFINISHED:
        return None
    if current.state == AssessmentState.queued:
        _append(session, current, EventKind.started, AssessmentState.running, at=now or datetime.now(UTC))
    return Run(assessment.id, assessment.bundle_id, rubric_of_assessment(assessment), dict(assessment.evidence_digests))


def record_result(
    session: Session,
    keystore: Keystore,
    settings: Settings,
    assessment_id: str,
    result: AssessorResult,
    digests: dict[str, str],
) -> AssessmentEvent:
    """Record the assessor's ``result`` and the policy's decision (issuing the credential when it
    auto-issues). Raises :class:`AlreadyDecided` when the assessment is no longer ``running``."""
    assessment, current = _running(session, assessment_id)
    rubric = rubric_of_assessment(assessment)
    if digests != assessment.evidence_digests:  # the bundle is locked: only a damaged store gets here
        raise RuntimeError("the evidence read does not match the digests recorded at submission")
    outcome, sampled = _decide(result, rubric)
    now = datetime.now(UTC)
    state = {"auto_issue": AssessmentState.issued, "reject": AssessmentState.rejected}.get(
        outcome.decision, AssessmentState.pending_review
    )
    _fill_in(assessment, result, outcome, sampled, now)
    session.add(assessment)
    session.flush()  # the row's one change; refused if another run filled it in first
    credential_id = None
    if outcome.decision == "auto_issue":
        credential_id = issue_for_assessment(
            session,
            keystore,
            settings,
            assessment,
            rubric,
            result.levels(),
            human_reviewed=False,
            decided_at=now,
            authorised_by=None,
        ).id
    event = _append(
        session,
        current,
        EventKind.assessed,
        state,
        at=now,
        levels=result.levels(),
        total=result.total,
        passed=result.passed,
        credential_id=credential_id,
    )
    record(
        session,
        action="assessment.assess",
        object_type="assessment",
        object_id=assessment.id,
        actor=None,
        issuer_id=assessment.issuer_id,
        before={"state": str(current.state)},
        after={
            "decision": outcome.decision,
            "state": str(state),
            "sampled": sampled,
            "flags": list(result.flags),
            "assessor": f"{assessment.assessor_kind} {assessment.assessor_version}",
            "rubric": f"{rubric.id} {rubric.version} {rubric.hash}",
            "total": result.total,
            "credential_id": event.credential_id,
        },
    )
    _emit(session, assessment, event)
    return event


def record_failure(session: Session, assessment_id: str, reason: str) -> AssessmentEvent | None:
    """Send an assessment whose automatic assessment failed (for good) to human review, saying
    why. None when it is not unfinished (decided meanwhile)."""
    try:
        assessment, current = _running(session, assessment_id, states=UNFINISHED)
    except AlreadyDecided:
        return None
    explanation = f"The automatic assessment failed ({reason}); a reviewer decides"[:4000]
    now = datetime.now(UTC)
    event = _append(session, current, EventKind.failed, AssessmentState.pending_review, at=now, reason=explanation)
    assessment.assessor_kind, assessment.decision = "none", "review"
    assessment.decision_reasons = [explanation[:1000]]
    assessment.assessed_at = now
    session.add(assessment)
    session.flush()
    record(
        session,
        action="assessment.fail",
        object_type="assessment",
        object_id=assessment.id,
        actor=None,
        issuer_id=assessment.issuer_id,
        before={"state": str(current.state)},
        after={"state": str(AssessmentState.pending_review), "reason": explanation},
    )
    _emit(session, assessment, event)
    return event


def _running(
    session: Session, assessment_id: str, *, states: tuple[AssessmentState, ...] = (AssessmentState.running,)
) -> tuple[Assessment, AssessmentEvent]:
    """The assessment (locked on PostgreSQL) and its latest event, if in one of ``states``."""
    assessment = session.get(Assessment, assessment_id, with_for_update=True)
    if assessment is None:
        raise AlreadyDecided(assessment_id)
    current = latest(events_of(session, assessment.id))
    if current.state not in states or assessment.decision != PENDING:
        raise AlreadyDecided(assessment_id)
    return assessment, current


def _append(
    session: Session,
    previous: AssessmentEvent,
    kind: EventKind,
    state: AssessmentState,
    *,
    at: datetime,
    levels: dict[str, str] | None = None,
    total: float = 0.0,
    passed: bool = False,
    reason: str | None = None,
    credential_id: str | None = None,
) -> AssessmentEvent:
    """The next event, by the service itself; :class:`AlreadyDecided` if another run wrote it."""
    event = AssessmentEvent(
        assessment_id=previous.assessment_id,
        seq=previous.seq + 1,
        kind=kind,
        state=state,
        actor_id=None,
        actor_role=None,
        at=at,
        reason=reason,
        levels=dict(levels or {}),
        total=total,
        passed=passed,
        credential_id=credential_id,
    )
    session.add(event)
    try:
        session.flush()
    except IntegrityError:
        raise AlreadyDecided(previous.assessment_id) from None
    return event


def _emit(session: Session, assessment: Assessment, event: AssessmentEvent) -> None:
    data = {
        "assessment_id": assessment.id,
        "achievement_id": assessment.achievement_id,
        "earner_id": assessment.earner_id,
        "state": str(event.state),
        "decision": assessment.decision,
        "credential_id": event.credential_id,
    }
    emit(session, issuer_id=assessment.issuer_id, type="assessment.completed", data=data)
    if event.state == AssessmentState.pending_review:
        emit(session, issuer_id=assessment.issuer_id, type="assessment.needs_review", data=data)


def _decide(result: AssessorResult, rubric: Rubric) -> tuple[DecisionOutcome, bool]:
    """The policy's decision with its reasons (sampling drawn from the system's CSPRNG), and
    whether the draw is what sent it to review."""
    outcome = explain(result, rubric, sample=_random.random())
    unsampled = decide(result, rubric, sample=None)
    return outcome, outcome.decision == "review" and unsampled != "review"


def _json(value: Any) -> Any:
    """Plain JSON (an assessor's signals may hold tuples or other non-JSON values)."""
    return json.loads(json.dumps(value, default=str))


def _fill_in(
    assessment: Assessment, result: AssessorResult, outcome: DecisionOutcome, sampled: bool, now: datetime
) -> None:
    """The assessor's result and the policy's decision, into the (still ``pending``) row."""
    info = dict(result.assessor)
    kind, version = str(info.pop("kind", "unknown")), str(info.pop("version", "unknown"))
    model, host, prompt = info.pop("model", None), info.pop("endpoint_host", None), info.pop("prompt_version", None)
    assessment.assessor_kind, assessment.assessor_version = kind[:32], version[:64]
    assessment.model = None if model is None else str(model)[:200]
    assessment.endpoint_host = None if host is None else str(host)[:255]
    assessment.prompt_version = None if prompt is None else str(prompt)[:64]
    assessment.assessor = _json(info)
    assessment.criteria = [
        {
            "criterion_id": c.criterion_id,
            "level": c.level,
            "score": c.score,
            "confidence": c.confidence,
            "spread": c.spread,
            "rationale": c.rationale,
            "evidence": [{"item_id": p.item_id, "locator": p.locator} for p in c.evidence],
            "signals": _json(dict(c.signals)),
        }
        for c in result.criteria
    ]
    assessment.total, assessment.passed = result.total, result.passed
    assessment.flags = list(result.flags)
    assessment.findings = [_json(dataclasses.asdict(finding)) for finding in getattr(result, "findings", ())]
    assessment.notes = [str(note) for note in getattr(result, "notes", ())]
    assessment.decision, assessment.decision_reasons = outcome.decision, list(outcome.reasons)
    assessment.sampled = sampled
    assessment.assessed_at = now
