"""Submitting an evidence bundle: lock it and queue its assessment, in one short transaction.

The assessor may take seconds (an LLM judge certainly does), so it does not run here: the bundle
is locked (the first write; its items cannot change after it), the state is checked again under
that lock (no other submission of it got there first), and the assessment (decision ``pending``,
with the digests of the bundle's items and the rubric that will judge them), its first event
(state ``queued``), the audit row and the job ``assessment:run`` are written. The caller's session
commits all of it, or none of it; the job (:mod:`service.assessment.running`) does the rest.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

from service.accounts.models import Account
from service.achievements.models import Achievement
from service.achievements.result_descriptions import rubric_of
from service.achievements.service import get_version
from service.assessment.engine.rubric import Rubric
from service.assessment.errors import InvalidAssessmentRequest
from service.assessment.issuance import bundle_items, ensure_slot_free, renewable_credential
from service.assessment.jobs import defer_run
from service.assessment.models import PENDING, Assessment, AssessmentEvent, AssessmentState, EventKind
from service.audit.service import record
from service.core.errors import Conflict, Forbidden, NotFound
from service.evidence import service as evidence
from service.evidence.models import EvidenceBundleRecord

NO_SUCH_BUNDLE = "No such evidence bundle"


def submit_assessment(
    session: Session,
    *,
    earner: Account,
    bundle_id: str,
    renews: str | None = None,
    platform_issuer: str | None = None,
) -> tuple[Assessment, AssessmentEvent]:
    """Lock the earner's bundle and queue its assessment against its achievement's current rubric.

    Returns the assessment (decision ``pending``) and its first event (state ``queued``); the job
    ``assessment:run``, deferred in this transaction, runs the assessor and decides. Raises
    :class:`NotFound` (not the earner's bundle, or credential to renew), :class:`Conflict`
    (``already_submitted``, ``evidence_bundle_empty``, ``credential_exists``, a revoked or
    suspended credential to renew) or :class:`InvalidAssessmentRequest` (``no_rubric``,
    ``renews_other_achievement``).

    ``platform_issuer``: a platform of that issuer acts for the earner it provisioned. Only bundles
    for that issuer's achievements are found, and the platform vouches for the earner's address
    there (the credential names the address it provisioned), so it need not be verified yet."""
    bundle = session.get(EvidenceBundleRecord, bundle_id)
    if bundle is None or bundle.owner_id != earner.id:
        raise NotFound(NO_SUCH_BUNDLE)
    if platform_issuer is not None and bundle.issuer_id != platform_issuer:
        raise NotFound(NO_SUCH_BUNDLE)
    # the credential would name an address the earner may not own (unless their platform vouches)
    if platform_issuer is None and not earner.email_verified:
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
    renewing = None if renews is None else renewable_credential(session, earner, renews, achievement.id)
    ensure_slot_free(session, earner, achievement, renewing, datetime.now(UTC))

    evidence.lock_bundle(session, bundle.id, actor=earner)  # the first write: nothing changes it now
    _ensure_not_submitted(session, bundle, locked=True)
    evidence.ensure_items_ready(session, bundle.id)  # under the lock: no item can be added meanwhile
    now = datetime.now(UTC)
    assessment = _queued_row(earner, bundle, achievement.id, version.version, rubric, renews, now)
    assessment.evidence_digests = _current_digests(session, bundle.id)
    session.add(assessment)
    session.flush()
    event = AssessmentEvent(
        assessment_id=assessment.id,
        seq=1,
        kind=EventKind.submitted,
        state=AssessmentState.queued,
        actor_id=earner.id,
        actor_role=str(earner.role),
        at=now,
        levels={},
        total=0.0,
        passed=False,
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
            "state": str(AssessmentState.queued),
            "rubric": f"{rubric.id} {rubric.version} {rubric.hash}",
            "renews": renews,
        },
    )
    defer_run(session, assessment.id)
    return assessment, event


def _rubric(version: Any) -> Rubric:
    rubric = rubric_of(version)
    if rubric is None:
        raise InvalidAssessmentRequest(
            "The achievement has no rubric, so its evidence cannot be assessed; its issuer must add one first",
            code="no_rubric",
        )
    return rubric


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


def _queued_row(
    earner: Account,
    bundle: EvidenceBundleRecord,
    achievement_id: str,
    version: int,
    rubric: Rubric,
    renews: str | None,
    now: datetime,
) -> Assessment:
    """The assessment as submitted: what is judged and by which rubric; no result yet."""
    return Assessment(
        earner_id=earner.id,
        bundle_id=bundle.id,
        achievement_id=achievement_id,
        achievement_version=version,
        issuer_id=bundle.issuer_id,
        renews_credential_id=renews,
        rubric=json.loads(json.dumps(dict(rubric.source), default=str)),
        rubric_id=rubric.id,
        rubric_version=rubric.version,
        rubric_name=rubric.name,
        rubric_hash=rubric.hash,
        assessor_kind=PENDING,
        assessor_version="",
        total=0.0,
        passed=False,
        decision=PENDING,
        assessed_at=now,
    )
