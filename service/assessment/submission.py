"""Submitting an evidence bundle: assess it, decide, and record it all in one transaction.

The assessor may take seconds (an LLM judge certainly does), so it runs *before* anything is
written: on SQLite the first write takes the database's write lock until commit, and nobody else
should wait on a model. Then, in the write phase, the bundle is locked (the first write), the
state is checked again under that lock (the bundle's items are still the ones assessed, and no
other submission of it got there first), and the assessment, its first event, the audit rows and,
when the policy decides ``auto_issue``, the credential (with its status entries and audit rows)
are written. The caller's session commits all of it, or none of it.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

from service.accounts.models import Account
from service.achievements.models import Achievement
from service.achievements.result_descriptions import rubric_of
from service.achievements.service import get_version
from service.assessment.engine.decision import DecisionOutcome, decide, explain
from service.assessment.engine.result import Assessment as AssessorResult
from service.assessment.engine.result import Assessor
from service.assessment.engine.rubric import Rubric
from service.assessment.errors import InvalidAssessmentRequest
from service.assessment.issuance import bundle_items, issue_for_assessment, renewable_credential
from service.assessment.models import Assessment, AssessmentEvent, AssessmentState, EventKind
from service.audit.service import record
from service.core.config import Settings
from service.core.errors import Conflict, Forbidden, NotFound
from service.core.keystore import Keystore
from service.evidence import service as evidence
from service.evidence.models import EvidenceBundleRecord

NO_SUCH_BUNDLE = "No such evidence bundle"
_random = secrets.SystemRandom()


def submit_assessment(
    session: Session,
    keystore: Keystore,
    settings: Settings,
    *,
    earner: Account,
    bundle_id: str,
    assessor: Assessor,
    renews: str | None = None,
) -> tuple[Assessment, AssessmentEvent]:
    """Assess the earner's bundle against its achievement's current rubric and record the result.

    Returns the assessment and its first event (whose ``state`` is ``issued``, ``pending_review``
    or ``rejected``). Raises :class:`NotFound` (not the earner's bundle, or credential to renew),
    :class:`Conflict` (``already_submitted``, ``evidence_bundle_empty``, ``bundle_changed``, a
    revoked or suspended credential to renew) or :class:`InvalidAssessmentRequest` (``no_rubric``,
    ``renews_other_achievement``)."""
    bundle = session.get(EvidenceBundleRecord, bundle_id)
    if bundle is None or bundle.owner_id != earner.id:
        raise NotFound(NO_SUCH_BUNDLE)
    if not earner.email_verified:  # the credential would name an address the earner may not own
        raise Forbidden(
            "Verify your email address (POST /v1/auth/verify-email) before submitting evidence for assessment",
            code="email_unverified",
        )
    _ensure_not_submitted(session, bundle)
    if not bundle_items(session, bundle.id):
        raise Conflict("An empty bundle cannot be submitted: add evidence first", code="evidence_bundle_empty")
    achievement = session.get(Achievement, bundle.achievement_id)
    if achievement is None:
        raise NotFound("No such achievement")
    version = get_version(session, achievement.id, achievement.current_version)
    rubric = _rubric(version)
    if renews is not None:
        renewable_credential(session, earner, renews, achievement.id)

    with evidence.open_bundle(session, evidence.get_blob_store(settings), bundle.id) as evidence_bundle:
        result = assessor.assess(evidence_bundle, rubric)
        digests = dict(evidence_bundle.digests)
    outcome, sampled = _decide(result, rubric)
    decision = outcome.decision

    # --- the write phase: lock, check again, record ---------------------------------------------
    evidence.lock_bundle(session, bundle.id, actor=earner)
    _ensure_not_submitted(session, bundle, locked=True)
    if _current_digests(session, bundle.id) != digests:
        raise Conflict("The bundle changed while it was being assessed; submit it again", code="bundle_changed")
    now = datetime.now(UTC)
    assessment = _assessment_row(
        earner, bundle, achievement.id, version.version, rubric, result, digests, outcome, sampled, renews, now
    )
    session.add(assessment)
    session.flush()
    credential_id = None
    if decision == "auto_issue":
        credential = issue_for_assessment(
            session,
            keystore,
            settings,
            assessment,
            rubric,
            result.levels(),
            human_reviewed=False,
            decided_at=now,
            authorised_by=None,
        )
        credential_id = credential.id
    state = {"auto_issue": AssessmentState.issued, "reject": AssessmentState.rejected}.get(
        decision, AssessmentState.pending_review
    )
    event = AssessmentEvent(
        assessment_id=assessment.id,
        seq=1,
        kind=EventKind.submitted,
        state=state,
        actor_id=earner.id,
        actor_role=str(earner.role),
        at=now,
        levels=result.levels(),
        total=result.total,
        passed=result.passed,
        credential_id=credential_id,
    )
    session.add(event)
    session.flush()
    record(
        session,
        action="assessment.submit",
        object_type="assessment",
        object_id=assessment.id,
        actor=earner,
        issuer_id=assessment.issuer_id,
        after={
            "bundle_id": bundle.id,
            "achievement_id": achievement.id,
            "decision": decision,
            "state": str(state),
            "sampled": sampled,
            "flags": list(result.flags),
            "assessor": f"{assessment.assessor_kind} {assessment.assessor_version}",
            "rubric": f"{rubric.id} {rubric.version} {rubric.hash}",
            "total": result.total,
            "credential_id": credential_id,
            "renews": renews,
        },
    )
    return assessment, event


def _rubric(version: Any) -> Rubric:
    rubric = rubric_of(version)
    if rubric is None:
        raise InvalidAssessmentRequest(
            "The achievement has no rubric, so its evidence cannot be assessed; its issuer must add one first",
            code="no_rubric",
        )
    return rubric


def _decide(result: AssessorResult, rubric: Rubric) -> tuple[DecisionOutcome, bool]:
    """The policy's decision with its reasons (sampling drawn from the system's CSPRNG), and
    whether the draw is what sent it to review."""
    outcome = explain(result, rubric, sample=_random.random())
    unsampled = decide(result, rubric, sample=None)
    return outcome, outcome.decision == "review" and unsampled != "review"


def _ensure_not_submitted(session: Session, bundle: EvidenceBundleRecord, *, locked: bool = False) -> None:
    existing = session.exec(select(Assessment.id).where(Assessment.bundle_id == bundle.id)).first()
    if existing is not None or bundle.credential_id is not None:
        raise Conflict(
            "This bundle was already submitted; put new evidence in a new bundle to submit again",
            code="already_submitted",
        )
    if not locked and str(bundle.state) != "open":
        raise Conflict("This bundle is locked (submitted); put new evidence in a new bundle", code="already_submitted")


def _current_digests(session: Session, bundle_id: str) -> dict[str, str]:
    return {item.id: item.sha256 for item in bundle_items(session, bundle_id)}


def _json(value: Any) -> Any:
    """Plain JSON (an assessor's signals may hold tuples or other non-JSON values)."""
    return json.loads(json.dumps(value, default=str))


def _assessment_row(
    earner: Account,
    bundle: EvidenceBundleRecord,
    achievement_id: str,
    version: int,
    rubric: Rubric,
    result: AssessorResult,
    digests: dict[str, str],
    outcome: DecisionOutcome,
    sampled: bool,
    renews: str | None,
    now: datetime,
) -> Assessment:
    info = dict(result.assessor)
    kind, assessor_version = str(info.pop("kind", "unknown")), str(info.pop("version", "unknown"))
    model, host, prompt = info.pop("model", None), info.pop("endpoint_host", None), info.pop("prompt_version", None)
    criteria = [
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
    return Assessment(
        earner_id=earner.id,
        bundle_id=bundle.id,
        achievement_id=achievement_id,
        achievement_version=version,
        issuer_id=bundle.issuer_id,
        renews_credential_id=renews,
        evidence_digests=digests,
        rubric=_json(dict(rubric.source)),
        rubric_id=rubric.id,
        rubric_version=rubric.version,
        rubric_name=rubric.name,
        rubric_hash=rubric.hash,
        assessor_kind=kind[:32],
        assessor_version=assessor_version[:64],
        model=None if model is None else str(model)[:200],
        endpoint_host=None if host is None else str(host)[:255],
        prompt_version=None if prompt is None else str(prompt)[:64],
        assessor=_json(info),
        criteria=criteria,
        total=result.total,
        passed=result.passed,
        flags=list(result.flags),
        findings=[_json(dataclasses.asdict(finding)) for finding in getattr(result, "findings", ())],
        notes=[str(note) for note in getattr(result, "notes", ())],
        decision=outcome.decision,
        decision_reasons=list(outcome.reasons),
        sampled=sampled,
        assessed_at=now,
    )
