"""The ways of issuing a credential, one named entry point each. No FastAPI here, and nothing commits.

Each one checks who asks and what for, describes the credential as an
:class:`~service.credentials.issuing.IssueRequest` and issues it through the one path,
:func:`service.credentials.issuing.issue`:

- :func:`issue_direct`: an admin or issuer admin issues an achievement through the API;
- :func:`renew`: the issuer's staff renew a credential (same recipient, current version);
- :func:`issue_from_assessment`: an assessment earned it (its reviewer, or the policy, decided);
- :func:`reissue_with_endorsements`: a credential reissued with its endorsements embedded.

A new way of issuing (bulk, a platform API) is a new entry point here, not a new flag.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from service.accounts.models import Account, Role
from service.achievements.models import Achievement
from service.achievements.service import NO_SUCH_ACHIEVEMENT, get_version
from service.audit.service import record
from service.core.config import Settings
from service.core.errors import Forbidden, NotFound
from service.core.keystore import Keystore
from service.credentials.issuing import EvidenceItem, IssueRequest, Recipient, issue
from service.credentials.lifecycle import ensure_renewable
from service.credentials.models import Credential
from service.credentials.schemas import EvidenceIn, ResultIn
from service.credentials.service import NO_SUCH_CREDENTIAL, recipient_of
from service.vc import openbadges as ob
from service.vc.skillcred import AssessmentStatement

ISSUING_ROLES = frozenset({Role.admin, Role.issuer_admin})


def issue_direct(
    session: Session,
    keystore: Keystore,
    settings: Settings,
    *,
    actor: Account,
    achievement_id: str,
    recipient: Mapping[str, Any],
    valid_until: datetime | None = None,
    evidence: Sequence[EvidenceIn] = (),
    results: Sequence[ResultIn] = (),
    now: datetime,
) -> Credential:
    """The issuer's staff issue the current version of an achievement to ``recipient``
    (``{"email"}`` or ``{"did"}``).

    ``actor`` must be an admin or an issuer admin of the achievement's issuer (another issuer's
    achievement is "not found"). Raises :class:`Forbidden`, :class:`NotFound` or
    :class:`~service.credentials.errors.InvalidCredentialRequest`.
    """
    if actor.role not in ISSUING_ROLES:
        raise Forbidden("Your role may not issue credentials")
    achievement = session.get(Achievement, achievement_id)
    if achievement is None or (actor.role != Role.admin and actor.issuer_id != achievement.issuer_id):
        raise NotFound(NO_SUCH_ACHIEVEMENT)
    request = IssueRequest(
        achievement_id=achievement.id,
        recipient=Recipient.parse(recipient),
        valid_until=valid_until,
        evidence=evidence,
        results=results,
        authorised_by=actor,
    )
    return issue(session, keystore, settings, request, now=now)


def renew(
    session: Session,
    keystore: Keystore,
    settings: Settings,
    credential_id: str,
    *,
    actor: Account,
    valid_until: datetime | None = None,
    evidence: Sequence[EvidenceIn] | None = None,
    now: datetime,
) -> Credential:
    """Issue a new credential that replaces ``credential_id``: the same recipient and achievement
    (its current version), ``replaces_id`` naming the old one. The old credential is left as it
    is (valid until its own end unless revoked).

    ``valid_until`` defaults to the achievement's validity period, else the old credential's
    period length from ``now``, else no expiry; ``evidence`` defaults to the old credential's.
    Results are not carried over (they answer the version they were issued with).
    Raises :class:`NotFound` (also for another issuer's credential), :class:`Forbidden`,
    :class:`~service.core.errors.Conflict` (revoked or suspended) or
    :class:`~service.credentials.errors.InvalidCredentialRequest`.
    """
    if actor.role not in ISSUING_ROLES:
        raise Forbidden("Your role may not renew credentials")
    old = session.get(Credential, credential_id)
    if old is None or (actor.role != Role.admin and actor.issuer_id != old.issuer_id):
        raise NotFound(NO_SUCH_CREDENTIAL)
    ensure_renewable(old)
    achievement = session.get(Achievement, old.achievement_id)
    assert achievement is not None  # a foreign key guarantees it
    current = get_version(session, achievement.id, achievement.current_version)
    if valid_until is None and current.validity_days is None and old.valid_until is not None:
        valid_until = now + (old.valid_until - old.valid_from)
    identity = recipient_of(session, old)
    recipient = {"email": identity.email} if identity.kind == "email" else {"did": identity.did}
    request = IssueRequest(
        achievement_id=achievement.id,
        recipient=Recipient.parse(recipient),
        valid_until=valid_until,
        evidence=evidence if evidence is not None else _stored_evidence(old),
        replaces_id=old.id,
        authorised_by=actor,
    )
    renewed = issue(session, keystore, settings, request, now=now)
    record(
        session,
        action="credential.renew",
        object_type="credential",
        object_id=old.id,
        actor=actor,
        issuer_id=old.issuer_id,
        before={"state": str(old.state), "valid_until": _iso(old.valid_until)},
        after={
            "replaced_by": renewed.id,
            "achievement_version": renewed.achievement_version,
            "valid_until": _iso(renewed.valid_until),
        },
    )
    return renewed


def issue_from_assessment(
    session: Session,
    keystore: Keystore,
    settings: Settings,
    *,
    achievement_id: str,
    recipient: Mapping[str, Any],
    results: Sequence[ob.Result],
    evidence: Sequence[EvidenceItem],
    assessment: AssessmentStatement,
    authorised_by: Account | None,
    replaces: Credential | None = None,
    valid_until: datetime | None = None,
    now: datetime,
) -> Credential:
    """The service issues the credential an assessment earned, with ``credentialSubject.assessment``.

    ``authorised_by``: the reviewer whose approval issues it (None: the policy issued it
    automatically); the caller checked their role. ``replaces``: the earner's credential this
    one renews. Raises :class:`NotFound` or :class:`~service.credentials.errors.InvalidCredentialRequest`.
    """
    request = IssueRequest(
        achievement_id=achievement_id,
        recipient=Recipient.parse(recipient),
        valid_until=valid_until,
        evidence=evidence,
        results=results,
        assessment=assessment,
        replaces_id=None if replaces is None else replaces.id,
        authorised_by=authorised_by,
    )
    return issue(session, keystore, settings, request, now=now)


def reissue_with_endorsements(
    session: Session,
    keystore: Keystore,
    settings: Settings,
    old: Credential,
    *,
    recipient: Mapping[str, Any],
    evidence: Sequence[EvidenceItem],
    results: Sequence[ob.Result],
    assessment: AssessmentStatement | None,
    endorsements: Sequence[Mapping[str, Any]],
    requested_by: Account,
    now: datetime,
) -> Credential:
    """Reissue ``old`` with ``endorsements`` embedded (``endorsement``): the same achievement and
    ``validUntil``, the given recipient, evidence, results and assessment statement (those ``old``
    carries), replacing ``old``.

    ``requested_by``: the earner or the issuer's staff; the caller checked they may ask.
    Raises :class:`NotFound` or :class:`~service.credentials.errors.InvalidCredentialRequest`.
    """
    request = IssueRequest(
        achievement_id=old.achievement_id,
        recipient=Recipient.parse(recipient),
        valid_until=old.valid_until,
        evidence=evidence,
        results=results,
        assessment=assessment,
        endorsements=endorsements,
        replaces_id=old.id,
        authorised_by=requested_by,
    )
    return issue(session, keystore, settings, request, now=now)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _stored_evidence(credential: Credential) -> list[ob.Evidence]:
    """The evidence the signed credential carries, as the builder takes it."""
    names = ("id", "name", "description", "narrative", "genre", "audience")
    stored = json.loads(credential.jsonld).get("evidence") or []
    return [ob.Evidence(**{name: item.get(name) for name in names}) for item in stored if isinstance(item, dict)]
