"""Endorsements of issued credentials by the clients who hired their earners. No FastAPI here, and
nothing commits.

Two ways to endorse (see :mod:`service.endorsements.credential` for the documents):

A. **Signed by the issuer on the client's behalf.** :func:`request_endorsement` records the
   client's name, statement and engagement and a one-time token for their email address (only its
   SHA-256 is stored); :func:`confirm_request` checks the token and issues an EndorsementCredential
   signed by the credential's issuer (eddsa-rdfc-2022): its ``issuer`` is the issuer's own Profile,
   the client is described in ``credentialSubject.endorser`` (the name they gave and the salted
   hash of the confirmed address), and it has an entry in the issuer's revocation list, so the
   issuer's admins can revoke it (:func:`revoke`). Abuse limits: one pending request per
   address per credential (a unique key in the database), at most
   :data:`MAX_PENDING_REQUESTS` pending per credential, tokens valid :data:`TOKEN_TTL`, and
   :data:`MAX_ATTEMPTS` confirmation attempts per request (counted in a transaction of their own,
   :func:`spend_attempt`, so a wrong guess is counted even though the request then fails).
   *Delivery*: the route mails the token (:mod:`service.core.mail`, after the response). Development
   and test deployments also return it in the response; production never does.

B. **Signed by the client's own DID**: see :mod:`service.endorsements.self_signed`.

Either way the endorsement starts ``pending``; the earner (the account the credential was issued
to) accepts or hides it (:func:`decide`). Accepted endorsements are public and can be embedded in
a reissued credential (:mod:`service.endorsements.reissue`); the signed document is released (in
any response) only once accepted, never to the requester before. Every step writes an audit event.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from service.accounts.models import Account, Role
from service.accounts.service import mailbox, normalise_email, proven_email
from service.audit.service import record
from service.core.config import Settings
from service.core.errors import Conflict, Forbidden, NotFound, ServiceError
from service.core.keystore import Keystore
from service.core.models import new_id
from service.core.paging import PageParams, paginate
from service.credentials.models import Credential, CredentialState
from service.credentials.service import credential_url, get_credential, recipient_of
from service.endorsements.credential import (
    Engagement,
    InvalidEndorsement,
    build_issuer_signed_endorsement,
    endorsement_comment,
    endorser_name_problem,
    read_endorsement,
)
from service.endorsements.models import (
    Endorsement,
    EndorsementKind,
    EndorsementRequest,
    EndorsementState,
    RequestState,
)
from service.events.service import emit
from service.issuers.models import Issuer
from service.issuers.service import active_signer, get_issuer, issuer_profile
from service.status.allocation import (
    Allocation,
    StatusListsExhausted,
    claim,
    plan,
    replan,
)
from service.status.models import StatusPurpose
from service.status.service import endorsement_entry, entry_url, set_entry
from service.vc import data_integrity
from service.vc import openbadges as ob
from service.vc.errors import VCError

TOKEN_TTL = timedelta(hours=48)
MAX_ATTEMPTS = 5
MAX_PENDING_REQUESTS = 20
MAX_SIGNING_ROUNDS = 4
"""Signing rounds before giving up (a round repeats only when another issuance claimed the
picked status index between planning and claiming)."""
REVOKING_ROLES = frozenset({Role.admin, Role.issuer_admin})
NO_SUCH_ENDORSEMENT = "No such endorsement"
NO_SUCH_REQUEST = "No such endorsement request"


class TooManyRequests(ServiceError):
    status_code, code = 429, "too_many_requests"


class InvalidEndorsementRequest(ServiceError):
    """The request cannot make an endorsement (bad token, proof, document...); ``code`` says why."""

    status_code, code = 422, "invalid_endorsement_request"


def endorsement_url(settings: Settings, endorsement_id: str) -> str:
    """The public URL of an endorsement, which is also the ``id`` of those SkillCred signs."""
    return f"{settings.public_url}/endorsements/{endorsement_id}"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def endorsable(session: Session, credential_id: str, now: datetime) -> Credential:
    """The credential, which must exist (404) and be active and unexpired (409)."""
    credential = session.get(Credential, credential_id)
    if credential is None:
        raise NotFound("No such credential")
    if credential.state != CredentialState.active:
        raise Conflict(f"The credential is {credential.state}; it cannot be endorsed", code="credential_not_active")
    if credential.valid_until is not None and credential.valid_until <= now:
        raise Conflict("The credential has expired; it cannot be endorsed", code="credential_expired")
    return credential


# --- A: signed by the issuer on the client's behalf ------------------------------------------------


def _close_expired_requests(session: Session, credential_id: str, now: datetime) -> None:
    """Pending requests past their expiry stop being pending (and forget the address)."""
    session.connection().execute(
        update(EndorsementRequest)
        .where(
            col(EndorsementRequest.credential_id) == credential_id,
            col(EndorsementRequest.state) == RequestState.pending,
            col(EndorsementRequest.expires_at) <= now,
        )
        .values(state=RequestState.expired, email=None, open_key=None)
    )


def request_endorsement(
    session: Session,
    settings: Settings,
    credential_id: str,
    *,
    email: str,
    name: str,
    statement: str,
    engagement: Engagement | None,
    now: datetime,
) -> tuple[EndorsementRequest, str]:
    """Record a client's request to endorse a credential; returns it with the one-time token to
    send to ``email`` (the caller decides whether the token may be shown: never in production).

    Raises :class:`NotFound`, :class:`Conflict` (credential not active or expired; a request from
    this address is already pending), :class:`TooManyRequests` (too many pending for the
    credential) or :class:`InvalidEndorsementRequest` (the earner endorsing themselves)."""
    credential = endorsable(session, credential_id, now)
    _check_endorser_name(name, get_issuer(session, credential.issuer_id))
    address = normalise_email(email)
    identity = recipient_of(session, credential)
    # compared as mailboxes: "ada+client@example.org" is still Ada endorsing herself, and one
    # mailbox holds one pending request per credential whatever tags it adds
    if identity.kind == "email" and identity.email is not None and mailbox(identity.email) == mailbox(address):
        raise InvalidEndorsementRequest("The credential's earner cannot endorse it", code="self_endorsement")
    _close_expired_requests(session, credential.id, now)
    open_key = _sha256(f"{credential.id}\n{mailbox(address)}")
    if session.exec(select(EndorsementRequest.id).where(EndorsementRequest.open_key == open_key)).first():
        raise Conflict(
            "A request from this address to endorse this credential is already waiting for confirmation",
            code="endorsement_request_pending",
        )
    pending = session.exec(
        select(func.count())
        .select_from(EndorsementRequest)
        .where(EndorsementRequest.credential_id == credential.id, EndorsementRequest.state == RequestState.pending)
    ).one()
    if pending >= MAX_PENDING_REQUESTS:
        raise TooManyRequests("Too many endorsement requests are waiting for this credential; try again later")
    token = secrets.token_urlsafe(32)
    endorsement_request = EndorsementRequest(
        credential_id=credential.id,
        email=address,
        open_key=open_key,
        endorser_name=name,
        statement=statement,
        engagement={} if engagement is None else engagement.to_json(),
        token_hash=_sha256(token),
        expires_at=now + TOKEN_TTL,
        created_at=now,
    )
    session.add(endorsement_request)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(
            "A request from this address to endorse this credential is already waiting for confirmation",
            code="endorsement_request_pending",
        ) from None
    record(
        session,
        action="endorsement.request",
        object_type="endorsementrequest",
        object_id=endorsement_request.id,
        issuer_id=credential.issuer_id,
        after={
            "credential_id": credential.id,
            "endorser_name": name,
            "expires_at": endorsement_request.expires_at.isoformat(),
        },
    )
    return endorsement_request, token


def _check_endorser_name(name: str, issuer: Issuer) -> None:
    problem = endorser_name_problem(name, issuer.name)
    if problem is not None:
        raise InvalidEndorsementRequest(f"name: {problem}", code="invalid_endorser_name")


class Attempt(StrEnum):
    """What :func:`spend_attempt` found."""

    allowed = "allowed"
    unknown = "unknown"
    confirmed = "confirmed"
    expired = "expired"
    locked = "locked"


def spend_attempt(session: Session, request_id: str, now: datetime) -> Attempt:
    """Count one confirmation attempt against a request. Run it in a transaction of its own that
    commits whatever the confirmation then does; the last allowed attempt is the
    :data:`MAX_ATTEMPTS`-th, after which the request is locked (and forgets the address)."""
    found = session.get(EndorsementRequest, request_id)
    if found is None:
        return Attempt.unknown
    if found.state != RequestState.pending:
        return (
            Attempt(str(found.state))
            if found.state in (RequestState.confirmed, RequestState.locked)
            else Attempt.expired
        )
    if found.expires_at <= now:
        return Attempt.expired
    counted = (
        session.connection()
        .execute(
            update(EndorsementRequest)
            .where(
                col(EndorsementRequest.id) == request_id,
                col(EndorsementRequest.state) == RequestState.pending,
                col(EndorsementRequest.attempts) < MAX_ATTEMPTS,
            )
            .values(attempts=EndorsementRequest.attempts + 1)
        )
        .rowcount
    )
    if counted == 1:
        return Attempt.allowed
    session.connection().execute(
        update(EndorsementRequest)
        .where(col(EndorsementRequest.id) == request_id, col(EndorsementRequest.state) == RequestState.pending)
        .values(state=RequestState.locked, email=None, open_key=None)
    )
    return Attempt.locked


def raise_unless_allowed(attempt: Attempt) -> None:
    """The error for an attempt that may not proceed (nothing for :attr:`Attempt.allowed`)."""
    if attempt == Attempt.unknown:
        raise NotFound(NO_SUCH_REQUEST)
    if attempt == Attempt.confirmed:
        raise Conflict("This request is already confirmed", code="endorsement_request_confirmed")
    if attempt == Attempt.expired:
        raise Conflict("This request has expired; ask again", code="endorsement_request_expired")
    if attempt == Attempt.locked:
        raise TooManyRequests(f"Too many wrong tokens ({MAX_ATTEMPTS}): this request is locked; ask again")


def confirm_request(
    session: Session, keystore: Keystore, settings: Settings, request_id: str, token: str, *, now: datetime
) -> Endorsement:
    """Check ``token`` and issue the endorsement, signed by the credential's issuer, with an entry
    in the issuer's revocation list. Call :func:`spend_attempt` first (in its own transaction).
    Raises :class:`NotFound`, :class:`Conflict` or :class:`InvalidEndorsementRequest`
    (``invalid_token``, ``invalid_endorser_name``)."""
    pending = session.get(EndorsementRequest, request_id)
    if pending is None or pending.state != RequestState.pending or pending.email is None:
        raise NotFound(NO_SUCH_REQUEST)
    if not hmac.compare_digest(_sha256(token), pending.token_hash):
        left = max(0, MAX_ATTEMPTS - pending.attempts)
        raise InvalidEndorsementRequest(f"Wrong token ({left} attempt(s) left)", code="invalid_token")
    credential = endorsable(session, pending.credential_id, now)
    issuer = get_issuer(session, credential.issuer_id)
    _check_endorser_name(pending.endorser_name, issuer)  # the issuer may have been renamed since
    document = json.loads(credential.jsonld)
    achievement = document.get("credentialSubject", {}).get("achievement", {})
    endorsement_id = new_id()
    salt = secrets.token_hex(16)

    def signed_with(allocation: Allocation) -> dict[str, Any]:
        unsigned = build_issuer_signed_endorsement(
            endorsement_id=endorsement_url(settings, endorsement_id),
            issuer=issuer_profile(issuer),
            endorser_name=pending.endorser_name,
            endorser_email=str(pending.email),
            subject_id=credential_url(settings, credential.id),
            achievement_name=str(achievement.get("name") or document.get("name") or "Open Badge"),
            comment=endorsement_comment(pending.statement, Engagement.from_json(pending.engagement)),
            valid_from=now,
            status_entry=allocation.entries[0],
            salt=salt,
        )
        ob.validate_credential_strict(unsigned)
        return data_integrity.sign(unsigned, active_signer(session, keystore, issuer, "EdDSA"), proof_as_list=True)

    # as issuing does: pick the index by reading, sign, then claim it (the first write)
    revocation = (StatusPurpose.revocation,)
    allocation = plan(session, settings, issuer.id)
    for _ in range(MAX_SIGNING_ROUNDS):
        try:
            signed = signed_with(allocation)
        except (VCError, InvalidEndorsement) as err:
            raise InvalidEndorsementRequest(f"The endorsement cannot be issued: {err}") from err
        if not claim(session, allocation, credential.id, revocation, endorsement_id=endorsement_id):
            break
        allocation = replan(session, settings, issuer.id, allocation, revocation)
    else:
        raise StatusListsExhausted("No status list index could be claimed; try again", headers={"Retry-After": "1"})
    endorsement = store(
        session,
        credential,
        signed,
        json.dumps(signed, ensure_ascii=False, indent=2),
        kind=EndorsementKind.issuer_signed,
        now=now,
        endorsement_id=endorsement_id,
        request_id=pending.id,
    )
    pending.state, pending.confirmed_at = RequestState.confirmed, now
    pending.email = pending.open_key = None
    session.add(pending)
    session.flush()
    return endorsement


def store(
    session: Session,
    credential: Credential,
    document: dict[str, Any],
    text: str,
    *,
    kind: EndorsementKind,
    now: datetime,
    endorsement_id: str | None = None,
    request_id: str | None = None,
) -> Endorsement:
    facts = read_endorsement(document)
    endorsement = Endorsement(
        id=endorsement_id or new_id(),
        credential_id=credential.id,
        issuer_id=credential.issuer_id,
        kind=kind,
        state=EndorsementState.pending,
        endorsement_uri=facts.uri[:2048],
        endorser_id=facts.endorser_id[:2048],
        endorser_name=facts.endorser_name,
        comment=facts.comment,
        jsonld=text,
        issued_at=now,
        request_id=request_id,
    )
    session.add(endorsement)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("This endorsement was already submitted", code="endorsement_exists") from None
    record(
        session,
        action="endorsement.issue",
        object_type="endorsement",
        object_id=endorsement.id,
        issuer_id=credential.issuer_id,
        after={
            "credential_id": credential.id,
            "kind": str(kind),
            "endorser_id": endorsement.endorser_id,
            "endorser_name": endorsement.endorser_name,
            "endorsement_uri": endorsement.endorsement_uri,
            "state": str(endorsement.state),
        },
    )
    emit(
        session,
        issuer_id=credential.issuer_id,
        type="endorsement.received",
        data={
            "endorsement_id": endorsement.id,
            "credential_id": credential.id,
            "kind": str(kind),
            "endorser_name": endorsement.endorser_name,
        },
    )
    return endorsement


# --- the earner's decision, and reading ------------------------------------------------------------


def owns(session: Session, account: Account, credential: Credential) -> bool:
    """True when ``account`` is the earner the credential was issued to (by email address)."""
    if account.role != Role.earner:
        return False
    identity = recipient_of(session, credential)
    return identity.kind == "email" and identity.email == proven_email(account)


TRANSITIONS = {
    EndorsementState.accepted: frozenset({EndorsementState.pending, EndorsementState.hidden}),
    EndorsementState.hidden: frozenset({EndorsementState.pending, EndorsementState.accepted}),
}


def decide(
    session: Session, endorsement_id: str, to: EndorsementState, *, viewer: Account, now: datetime
) -> Endorsement:
    """The earner accepts (public from now on) or hides an endorsement of their credential.
    ``pending`` -> ``accepted`` | ``hidden``, and either of those to the other. Raises
    :class:`NotFound` (also for anyone who may not see the credential), :class:`Forbidden`
    (the issuer's staff: it is the earner's decision) or :class:`Conflict` (already so)."""
    endorsement = session.get(Endorsement, endorsement_id)
    if endorsement is None:
        raise NotFound(NO_SUCH_ENDORSEMENT)
    try:
        credential = get_credential(session, endorsement.credential_id, viewer=viewer)
    except NotFound:
        raise NotFound(NO_SUCH_ENDORSEMENT) from None
    if not owns(session, viewer, credential):
        raise Forbidden("Only the credential's earner accepts or hides its endorsements")
    before = EndorsementState(endorsement.state)
    if before == EndorsementState.revoked:
        raise Conflict("The issuer revoked this endorsement; it can no longer be accepted", code="endorsement_revoked")
    if before not in TRANSITIONS[to]:
        raise Conflict(f"The endorsement is already {before}", code=f"endorsement_already_{before}")
    moved = (
        session.connection()
        .execute(
            update(Endorsement)
            .where(col(Endorsement.id) == endorsement.id, col(Endorsement.state) == before)
            .values(state=to, state_changed_at=now)
        )
        .rowcount
    )
    if moved != 1:
        raise Conflict("The endorsement changed at the same moment; reload it", code="concurrent_change")
    session.refresh(endorsement)
    action = "endorsement.accept" if to == EndorsementState.accepted else "endorsement.hide"
    record(
        session,
        action=action,
        object_type="endorsement",
        object_id=endorsement.id,
        actor=viewer,
        issuer_id=endorsement.issuer_id,
        before={"state": str(before)},
        after={"state": str(to)},
    )
    return endorsement


def revoke(
    session: Session, settings: Settings, endorsement_id: str, *, reason: str, actor: Account, now: datetime
) -> Endorsement:
    """The issuer withdraws an endorsement of one of its credentials, in any state, for good: it
    is no longer public, shown or embedded by a reissue, and when the issuer signed it (with a
    status entry) its bit in the issuer's revocation list is set, so it fails verification.
    Admins, and issuer admins of the endorsed credential's issuer (anyone else: :class:`NotFound`
    or :class:`Forbidden`); :class:`Conflict` when it is already revoked."""
    if actor.role not in REVOKING_ROLES:
        raise Forbidden("Only admins and the issuer's admins revoke endorsements")
    endorsement = session.get(Endorsement, endorsement_id)
    if endorsement is None or (actor.role != Role.admin and actor.issuer_id != endorsement.issuer_id):
        raise NotFound(NO_SUCH_ENDORSEMENT)
    before = EndorsementState(endorsement.state)
    if before == EndorsementState.revoked:
        raise Conflict("The endorsement is already revoked", code="endorsement_already_revoked")
    moved = (
        session.connection()
        .execute(
            update(Endorsement)
            .where(col(Endorsement.id) == endorsement.id, col(Endorsement.state) == before)
            .values(state=EndorsementState.revoked, state_changed_at=now)
        )
        .rowcount
    )
    if moved != 1:
        raise Conflict("The endorsement changed at the same moment; reload it", code="concurrent_change")
    entry = endorsement_entry(session, endorsement.id, StatusPurpose.revocation)
    if entry is not None:
        set_entry(session, entry.list_id, entry.status_index, 1, now)
    session.refresh(endorsement)
    after: dict[str, object] = {"state": str(EndorsementState.revoked), "reason": reason}
    if entry is not None:
        after["status_entry"] = entry_url(settings, entry)
    record(
        session,
        action="endorsement.revoke",
        object_type="endorsement",
        object_id=endorsement.id,
        actor=actor,
        issuer_id=endorsement.issuer_id,
        before={"state": str(before)},
        after=after,
    )
    return endorsement


def list_endorsements(
    session: Session, credential_id: str, params: PageParams, *, viewer: Account
) -> tuple[list[Endorsement], int]:
    """One page of a credential's endorsements (every state), newest first, for whoever may see
    the credential (its earner, its issuer's staff, admins); :class:`NotFound` otherwise."""
    credential = get_credential(session, credential_id, viewer=viewer)
    statement = (
        select(Endorsement)
        .where(Endorsement.credential_id == credential.id)
        .order_by(col(Endorsement.issued_at).desc(), col(Endorsement.id))
    )
    return paginate(session, statement, params)


def public_endorsement(session: Session, endorsement_id: str) -> Endorsement:
    """An accepted endorsement of a public credential (pending, hidden and revoked ones are not
    public, nor the endorsements of a credential its earner made private: :class:`NotFound`)."""
    endorsement = session.get(Endorsement, endorsement_id)
    if endorsement is None or endorsement.state != EndorsementState.accepted:
        raise NotFound(NO_SUCH_ENDORSEMENT)
    credential = session.get(Credential, endorsement.credential_id)
    if credential is None or not credential.public:
        raise NotFound(NO_SUCH_ENDORSEMENT)
    return endorsement


def endorsements_by_uri(session: Session, uris: list[str]) -> dict[str, Endorsement]:
    """The stored endorsements with these ``id`` URIs (any state), by URI."""
    if not uris:
        return {}
    found = session.exec(select(Endorsement).where(col(Endorsement.endorsement_uri).in_(uris)))
    return {row.endorsement_uri: row for row in found}


def accepted_endorsements(session: Session, credential_id: str) -> list[Endorsement]:
    """A credential's accepted endorsements, oldest first."""
    return list(
        session.exec(
            select(Endorsement)
            .where(Endorsement.credential_id == credential_id, Endorsement.state == EndorsementState.accepted)
            .order_by(col(Endorsement.issued_at), col(Endorsement.id))
        )
    )
