"""The ways of issuing a credential, one named entry point each. No FastAPI here, and nothing commits.

Each one checks who asks and what for, describes the credential as an
:class:`~service.credentials.issuing.IssueRequest` and issues it through the one path,
:func:`service.credentials.issuing.issue`:

- :func:`issue_direct`: an admin or issuer admin issues an achievement through the API;
- :func:`renew`: the issuer's staff renew a credential (same recipient, current version);
- :func:`issue_from_assessment`: an assessment earned it (its reviewer, or the policy, decided);
- :func:`reissue_with_endorsements`: a credential reissued with its endorsements embedded.

A new way of issuing (bulk, a platform API) is a new entry point here, not a new flag.

One active credential per recipient and achievement (issue 9), unless the achievement allows
more (``allow_multiple_active``): every entry point claims the recipient's slot
(:func:`claim_active_slot`) and the database keeps it unique (``credential.active_key``), so
parallel requests cannot get past it: 409 ``credential_exists``. A renewal or a reissue takes over
the slot of the credential it replaces, which stays valid until its own end but is *superseded*:
it cannot be renewed or reissued again (409 ``credential_replaced``; renew or reissue its
replacement). A reissue must change the embedded endorsements (409 ``nothing_to_reissue``), so
reissues are bounded by the endorsements accepted. An expired credential does not hold the slot
against a new issuance; a revoked one never does; a suspended one does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlmodel import Session, col, select

from service.accounts.models import Account, Role
from service.achievements.models import Achievement
from service.achievements.service import NO_SUCH_ACHIEVEMENT, get_version
from service.audit.service import record
from service.core.config import Settings
from service.core.errors import Conflict, Forbidden, NotFound
from service.core.keystore import Keystore
from service.credentials.errors import CredentialExists
from service.credentials.issuing import ActiveSlot, EvidenceItem, IssueRequest, Recipient, issue
from service.credentials.lifecycle import ensure_renewable
from service.credentials.models import Credential, CredentialState
from service.credentials.schemas import EvidenceIn, ResultIn
from service.credentials.service import NO_SUCH_CREDENTIAL, recipient_of
from service.issuers.models import Issuer
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
    # the achievement and its issuer in one query: the issuing path's reads of both
    # (session.get) find them in the session while ``loaded`` keeps them
    loaded = session.exec(
        select(Achievement, Issuer)
        .join(Issuer, col(Issuer.id) == col(Achievement.issuer_id))
        .where(Achievement.id == achievement_id)
    ).first()
    achievement = None if loaded is None else loaded[0]
    if achievement is None or (actor.role != Role.admin and actor.issuer_id != achievement.issuer_id):
        raise NotFound(NO_SUCH_ACHIEVEMENT)
    who = Recipient.parse(recipient)
    request = IssueRequest(
        achievement_id=achievement.id,
        recipient=who,
        valid_until=valid_until,
        evidence=evidence,
        results=results,
        authorised_by=actor,
        active_slot=claim_active_slot(session, achievement, who, replaces=None, now=now),
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
    who = Recipient.parse({"email": identity.email} if identity.kind == "email" else {"did": identity.did})
    request = IssueRequest(
        achievement_id=achievement.id,
        recipient=who,
        valid_until=valid_until,
        evidence=evidence if evidence is not None else _stored_evidence(old),
        replaces_id=old.id,
        authorised_by=actor,
        active_slot=claim_active_slot(session, achievement, who, replaces=old, now=now),
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
    one renews. Raises :class:`NotFound`, :class:`~service.credentials.errors.CredentialExists`
    (the earner already holds one), :class:`Conflict` ``credential_replaced`` or
    :class:`~service.credentials.errors.InvalidCredentialRequest`.
    """
    achievement = session.get(Achievement, achievement_id)
    if achievement is None:
        raise NotFound(NO_SUCH_ACHIEVEMENT)
    who = Recipient.parse(recipient)
    request = IssueRequest(
        achievement_id=achievement_id,
        recipient=who,
        valid_until=valid_until,
        evidence=evidence,
        results=results,
        assessment=assessment,
        replaces_id=None if replaces is None else replaces.id,
        authorised_by=authorised_by,
        active_slot=claim_active_slot(session, achievement, who, replaces=replaces, now=now),
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
    Raises :class:`NotFound`, :class:`Conflict` (``nothing_to_reissue`` when the endorsements are
    those ``old`` already embeds; ``credential_replaced``) or
    :class:`~service.credentials.errors.InvalidCredentialRequest`.
    """
    embedded = json.loads(old.jsonld).get("endorsement")
    before = {str(e.get("id")) for e in embedded if isinstance(e, dict)} if isinstance(embedded, list) else set()
    if {str(e.get("id")) for e in endorsements} == before:
        raise Conflict(
            "The credential already embeds exactly these endorsements: a reissue would change nothing",
            code="nothing_to_reissue",
        )
    achievement = session.get(Achievement, old.achievement_id)
    if achievement is None:
        raise NotFound(NO_SUCH_ACHIEVEMENT)
    who = Recipient.parse(recipient)
    request = IssueRequest(
        achievement_id=old.achievement_id,
        recipient=who,
        valid_until=old.valid_until,
        evidence=evidence,
        results=results,
        assessment=assessment,
        endorsements=endorsements,
        replaces_id=old.id,
        authorised_by=requested_by,
        active_slot=claim_active_slot(session, achievement, who, replaces=old, now=now),
    )
    return issue(session, keystore, settings, request, now=now)


def active_key(achievement: Achievement, recipient: Recipient) -> str | None:
    """The key of ``recipient``'s one active credential for ``achievement`` (sha256 hex of both),
    or None when the achievement allows several. An email counts as normalised (lower-cased)."""
    if achievement.allow_multiple_active:
        return None
    who = f"email:{recipient.email}" if recipient.email is not None else f"did:{recipient.did}"
    return hashlib.sha256(f"{achievement.id}\n{who}".encode()).hexdigest()


class Holder(Protocol):
    """What :func:`claim_active_slot` reads of a credential holding a recipient's slot."""

    @property
    def id(self) -> str: ...
    @property
    def valid_until(self) -> datetime | None: ...


def _holders_of(session: Session, key: str) -> list[Any]:
    """(id, valid_until) rows of the unrevoked credentials holding the active ``key``: the columns
    the slot's check reads, not the credentials' signed text."""
    return list(
        session.exec(
            select(Credential.id, Credential.valid_until).where(
                Credential.active_key == key, col(Credential.state) != CredentialState.revoked
            )
        )
    )


def active_holders(session: Session, keys: Sequence[str]) -> dict[str, list[Credential]]:
    """The unrevoked credentials holding each of the active ``keys`` (see :func:`active_key`), in
    one query: what :func:`claim_active_slot` reads, for a batch of recipients at once."""
    holders: dict[str, list[Credential]] = {key: [] for key in keys}
    if keys:
        for credential in session.exec(
            select(Credential).where(
                col(Credential.active_key).in_(list(keys)), col(Credential.state) != CredentialState.revoked
            )
        ):
            holders[str(credential.active_key)].append(credential)
    return holders


def claim_active_slot(
    session: Session,
    achievement: Achievement,
    recipient: Recipient,
    *,
    replaces: Credential | None,
    now: datetime,
    holders: Mapping[str, Sequence[Holder]] | None = None,
) -> ActiveSlot:
    """Check that a new credential for ``recipient`` may be issued and claim its slot.

    ``replaces`` (a renewal or reissue) must not have been replaced already (409
    ``credential_replaced``). The credential holding the slot now gives it up when it is the one
    replaced or has expired; any other unrevoked holder is :class:`CredentialExists` (409). Reads
    only: the holders give the slot up in :func:`~service.credentials.issuing.persist`, after
    the signing, and the unique index settles requests that pass this check at the same time.
    A batch passes the ``holders`` :func:`active_holders` read for all its recipients."""
    if replaces is not None:
        successor = session.exec(select(Credential.id).where(Credential.replaces_id == replaces.id)).first()
        if successor is not None:
            raise Conflict(
                f"This credential was already replaced by {successor}; renew or reissue that one",
                code="credential_replaced",
            )
    key = active_key(achievement, recipient)
    if key is None:
        return ActiveSlot()
    found = holders[key] if holders is not None and key in holders else _holders_of(session, key)
    for holder in found:
        if holder.id != getattr(replaces, "id", None) and not _expired(holder, now):
            raise CredentialExists(
                f"The recipient already holds an active credential for this achievement ({holder.id}); renew or "
                "reissue it, or revoke it first (the achievement does not allow more than one)"
            )
    # each remaining holder is superseded by its replacement, or has expired: the slot is free
    return ActiveSlot(key=key, released=tuple(holder.id for holder in found))


def _expired(credential: Holder, now: datetime) -> bool:
    until = credential.valid_until
    if until is None:
        return False
    return (until if until.tzinfo else until.replace(tzinfo=UTC)) <= now


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _stored_evidence(credential: Credential) -> list[ob.Evidence]:
    """The evidence the signed credential carries, as the builder takes it."""
    names = ("id", "name", "description", "narrative", "genre", "audience")
    stored = json.loads(credential.jsonld).get("evidence") or []
    return [ob.Evidence(**{name: item.get(name) for name in names}) for item in stored if isinstance(item, dict)]
