"""Issuing the credential an assessment earned, inside the caller's transaction.

The credential carries what the assessment found and how:

- ``credentialSubject.result[]``: one result per rubric criterion, its level pointing at the
  achievement's result description for that criterion and the rubric level within it;
- ``evidence[]``: each evidence item's entry (narrative, URL or the service's evidence URL, and a
  ``digestMultibase`` of the stored bytes) from :func:`service.evidence.credential_evidence`;
- ``credentialSubject.assessment``: assessor kind and version, whether a human reviewed it, the
  decision, the rubric (id, version, hash) and the dates (:mod:`service.vc.skillcred`).

The credential is issued for the earner's account email (published only as a salted hash). A
renewal (``renews``) replaces the earner's earlier credential, which stays valid until its own end.
Nothing here commits: the decision, the credential, its status entries and every audit row commit
together or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from sqlmodel import Session

from service.accounts.models import Account
from service.accounts.service import proven_email
from service.achievements.models import Achievement
from service.achievements.service import get_version
from service.assessment.engine.rubric import Rubric
from service.assessment.errors import InvalidAssessmentRequest
from service.assessment.models import Assessment
from service.assessment.results import criterion_results
from service.audit.service import record
from service.core.config import Settings
from service.core.errors import NotFound
from service.core.keystore import Keystore
from service.credentials.entry_points import claim_active_slot, issue_from_assessment
from service.credentials.issuing import Recipient
from service.credentials.lifecycle import ensure_renewable
from service.credentials.models import Credential
from service.credentials.service import recipient_of
from service.evidence import service as evidence
from service.evidence.service import list_items as bundle_items
from service.vc.skillcred import AssessmentStatement

NO_SUCH_CREDENTIAL = "No such credential"


def renewable_credential(session: Session, earner: Account, credential_id: str, achievement_id: str) -> Credential:
    """The earner's own credential for ``achievement_id`` that a new assessment may renew.

    Active or expired; not revoked (409 ``credential_revoked``) or suspended (409
    ``credential_suspended``). Another person's credential is 404; another achievement's is 422
    ``renews_other_achievement``."""
    credential = session.get(Credential, credential_id)
    if credential is None:
        raise NotFound(NO_SUCH_CREDENTIAL)
    identity = recipient_of(session, credential)
    if identity.kind != "email" or identity.email != proven_email(earner):
        raise NotFound(NO_SUCH_CREDENTIAL)
    if credential.achievement_id != achievement_id:
        raise InvalidAssessmentRequest(
            "renews: that credential is for another achievement than the bundle's", code="renews_other_achievement"
        )
    ensure_renewable(credential)
    return credential


def ensure_slot_free(
    session: Session, earner: Account, achievement: Achievement, renews: Credential | None, now: datetime
) -> None:
    """Refuse, before anything is assessed, a submission whose credential could not be issued:
    the earner already holds an active credential for the achievement (409 ``credential_exists``,
    unless the achievement allows several, or ``renews`` is that one). Reads only: issuing
    checks again (the database keeps the slot unique)."""
    claim_active_slot(session, achievement, Recipient.parse({"email": earner.email}), replaces=renews, now=now)


def issue_for_assessment(
    session: Session,
    keystore: Keystore,
    settings: Settings,
    assessment: Assessment,
    rubric: Rubric,
    levels: Mapping[str, str],
    *,
    human_reviewed: bool,
    decided_at: datetime,
    authorised_by: Account | None,
) -> Credential:
    """Issue the credential ``assessment`` earned with ``levels``, and mark its bundle issued.

    ``authorised_by``: the reviewer who approved (None: issued automatically by the policy).
    Raises :class:`Conflict` ``rubric_changed`` when the achievement's current rubric is not the
    one that judged the evidence (the earner resubmits), or when a credential to renew was revoked
    or suspended meanwhile."""
    achievement = session.get(Achievement, assessment.achievement_id)
    if achievement is None:
        raise NotFound("No such achievement")
    version = get_version(session, achievement.id, achievement.current_version)
    results = criterion_results(version, rubric, levels)
    earner = session.get(Account, assessment.earner_id)
    if earner is None:
        raise NotFound("The earner's account no longer exists", code="earner_not_found")
    old = None
    if assessment.renews_credential_id is not None:
        old = renewable_credential(session, earner, assessment.renews_credential_id, achievement.id)
    items = bundle_items(session, assessment.bundle_id)
    statement = AssessmentStatement(
        assessor_kind=assessment.assessor_kind,
        assessor_version=assessment.assessor_version,
        human_reviewed=human_reviewed,
        decision="approved" if human_reviewed else "auto_issue",
        rubric_id=assessment.rubric_id,
        rubric_name=assessment.rubric_name,
        rubric_version=assessment.rubric_version,
        rubric_hash=assessment.rubric_hash,
        assessed_at=assessment.assessed_at,
        reviewed_at=decided_at if human_reviewed else None,
    )
    credential = issue_from_assessment(
        session,
        keystore,
        settings,
        achievement_id=achievement.id,
        recipient={"email": earner.email},
        valid_until=_renewal_valid_until(old, version.validity_days),
        results=results,
        evidence=evidence.credential_evidence(settings, items),
        assessment=statement,
        authorised_by=authorised_by,
        replaces=old,
        now=decided_at,
    )
    evidence.mark_bundle_issued(session, assessment.bundle_id, credential.id, actor=authorised_by)
    if old is not None:
        record(
            session,
            action="credential.renew",
            object_type="credential",
            object_id=old.id,
            actor=authorised_by,
            issuer_id=old.issuer_id,
            before={"state": str(old.state), "valid_until": _iso(old.valid_until)},
            after={
                "replaced_by": credential.id,
                "achievement_version": credential.achievement_version,
                "valid_until": _iso(credential.valid_until),
                "assessment_id": assessment.id,
                "requested_by": assessment.earner_id,
            },
        )
    return credential


def _renewal_valid_until(old: Credential | None, validity_days: int | None) -> datetime | None:
    """As an issuer's renewal: the achievement's validity period, else the old credential's
    period length from now, else no expiry."""
    if old is None or validity_days is not None or old.valid_until is None:
        return None
    return datetime.now(UTC) + (old.valid_until - old.valid_from)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
