"""Submitting an evidence bundle: lock it and queue its assessment, in one short transaction.

The assessor may take seconds (an LLM judge certainly does), so it does not run here: the bundle
is locked (the first write; its items cannot change after it), the state is checked again under
that lock (no other submission of it got there first), and the assessment (decision ``pending``,
with the digests of the bundle's items and the rubric that will judge them), its first event
(state ``queued``), the audit row and the job ``assessment:run`` are written. The caller's session
commits all of it, or none of it; the job (:mod:`service.assessment.running`) does the rest.

Resubmissions are limited (:class:`AttemptLimits`): an earner submits for one achievement at most
``max_attempts`` times in a sliding ``window``, and at least ``cooldown`` apart; past that the
submission is refused (429 ``resubmission_limited`` with ``Retry-After``) and nothing it wrote is
kept (the transaction rolls back). Every submission is an attempt, renewals included, and every
attempt is already recorded where nothing can remove it: the assessment row and its ``submitted``
event (append-only tables, the event's ``at`` is when it was submitted) and the
``assessment.submit`` audit event (which says which attempt in the window it was). An appeal is not
a submission. The attempts are counted with the earner's account row locked (PostgreSQL) or SQLite's
write lock held, so two submissions at once cannot both take the last attempt.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

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
from service.core.config import Settings
from service.core.errors import Conflict, Forbidden, NotFound, TooManyRequests
from service.evidence import service as evidence
from service.evidence.models import EvidenceBundleRecord

NO_SUCH_BUNDLE = "No such evidence bundle"
RESUBMISSION_LIMITED = "resubmission_limited"


@dataclass(frozen=True)
class AttemptLimits:
    """How often an earner may submit for one achievement: at most ``max_attempts`` within any
    ``window``, and at least ``cooldown`` after the previous submission."""

    max_attempts: int
    window: timedelta
    cooldown: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> AttemptLimits:
        return cls(
            max_attempts=settings.assessment_max_attempts,
            window=timedelta(days=settings.assessment_attempt_window_days),
            cooldown=timedelta(hours=settings.assessment_cooldown_hours),
        )

    def next_allowed(self, attempts: list[datetime], now: datetime) -> datetime | None:
        """When the next attempt is allowed, given the earlier ``attempts`` (when each was
        submitted); None when it is allowed ``now``."""
        in_window = sorted(at for at in attempts if at > now - self.window)
        waits = []
        if len(in_window) >= self.max_attempts:  # the oldest that must leave the window first
            waits.append(in_window[len(in_window) - self.max_attempts] + self.window)
        if attempts and self.cooldown:
            waits.append(max(attempts) + self.cooldown)
        later = max(waits, default=now)
        return later if later > now else None


def submit_assessment(
    session: Session,
    *,
    earner: Account,
    bundle_id: str,
    renews: str | None = None,
    platform_issuer: str | None = None,
    now: datetime | None = None,
    limits: AttemptLimits | None = None,
) -> tuple[Assessment, AssessmentEvent]:
    """Lock the earner's bundle and queue its assessment against its achievement's current rubric.

    Returns the assessment (decision ``pending``) and its first event (state ``queued``); the job
    ``assessment:run``, deferred in this transaction, runs the assessor and decides. Raises
    :class:`NotFound` (not the earner's bundle, or credential to renew), :class:`Conflict`
    (``already_submitted``, ``evidence_bundle_empty``, ``credential_exists``, a revoked or
    suspended credential to renew), :class:`InvalidAssessmentRequest` (``no_rubric``,
    ``renews_other_achievement``) or :class:`TooManyRequests` (``resubmission_limited``: past
    ``limits``, with ``Retry-After``; None: no limit). ``now`` is the service's clock (when the
    submission happened; the machine's clock when not given).

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
    now = now or datetime.now(UTC)
    ensure_slot_free(session, earner, achievement, renewing, now)

    _serialise_earner(session, earner)
    evidence.lock_bundle(session, bundle.id, actor=earner)  # the first write: nothing changes it now
    _ensure_not_submitted(session, bundle, locked=True)
    attempt = _ensure_may_attempt(session, earner, achievement.id, limits, now)  # refused: all rolls back
    evidence.ensure_items_ready(session, bundle.id)  # under the lock: no item can be added meanwhile
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
            "attempt": attempt,
        },
    )
    defer_run(session, assessment.id)
    return assessment, event


def submission_times(session: Session, earner_id: str, achievement_id: str, since: datetime) -> list[datetime]:
    """When the earner submitted for the achievement after ``since`` (each assessment's
    ``submitted`` event), oldest first."""
    return list(
        session.exec(
            select(AssessmentEvent.at)
            .join(Assessment, col(Assessment.id) == col(AssessmentEvent.assessment_id))
            .where(
                Assessment.earner_id == earner_id,
                Assessment.achievement_id == achievement_id,
                AssessmentEvent.kind == EventKind.submitted,
                col(AssessmentEvent.at) > since,
            )
            .order_by(col(AssessmentEvent.at))
        )
    )


def _ensure_may_attempt(
    session: Session, earner: Account, achievement_id: str, limits: AttemptLimits | None, now: datetime
) -> int:
    """Which attempt in the window this one is (1 for the first), or :class:`TooManyRequests`
    ``resubmission_limited`` past ``limits`` (the caller's transaction, which holds
    :func:`_serialise_earner`'s lock, then writes nothing)."""
    if limits is None:
        return 1
    attempts = submission_times(session, earner.id, achievement_id, now - max(limits.window, limits.cooldown))
    allowed = limits.next_allowed(attempts, now)
    if allowed is not None:
        retry = max(1, math.ceil((allowed - now).total_seconds()))
        raise TooManyRequests(
            f"Evidence for this achievement may be submitted {limits.max_attempts} times in "
            f"{limits.window.days} days, at least {_hours(limits.cooldown)} apart; "
            f"you may submit again at {allowed.isoformat(timespec='seconds')} (in {retry} s). "
            "An appeal of a rejection is not limited by this",
            code=RESUBMISSION_LIMITED,
            headers={"Retry-After": str(retry)},
        )
    return 1 + sum(1 for at in attempts if at > now - limits.window)


def _serialise_earner(session: Session, earner: Account) -> None:
    """Make this transaction the only submission of ``earner``'s until it ends, so two submissions
    at once cannot both take the last attempt. PostgreSQL: the account row is locked ``FOR NO KEY
    UPDATE`` (as the evidence quotas lock it; rows referring to the account do not wait for it).
    SQLite ignores that; there the bundle's lock, written before the attempts are counted, takes
    SQLite's single database-wide write lock. Lock order: the account, then the bundle."""
    session.exec(select(Account.id).where(Account.id == earner.id).with_for_update(key_share=True)).first()


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} hour" + ("" if hours == 1 else "s")


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
