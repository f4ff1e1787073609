"""The one issuing path. No FastAPI here, and nothing commits.

Every way of issuing (:mod:`service.credentials.entry_points`) describes the credential it wants
as an :class:`IssueRequest` and hands it to :func:`issue`, which runs three steps in the caller's
session:

1. :func:`prepare` runs every check of the request (achievement, dates, results) and writes
   nothing;
2. :func:`build_and_sign` picks the credential's revocation and suspension indexes by reading
   (:mod:`service.status.allocation`), builds the Open Badges 3.0
   AchievementCredential from the achievement's current version with those two
   ``credentialStatus`` entries and signs it twice, an embedded eddsa-rdfc-2022 proof and an
   RS256 VC-JWT of the same unsigned credential (:func:`sign`), then claims the indexes;
3. :func:`persist` stores the signed JSON-LD text verbatim, the recipient identity, the
   ``credential.issue`` audit event.

The caller's session commits all of it or none of it. Claiming the indexes is the first write: on
SQLite it takes the database's write lock, held until the commit, so it comes after every check
and after the signing.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import insert, text, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, col

from service.accounts.models import Account
from service.accounts.service import normalise_email
from service.achievements.models import Achievement
from service.achievements.service import NO_SUCH_ACHIEVEMENT, get_version, ob_achievement
from service.audit.service import record_many
from service.core.config import Settings
from service.core.errors import NotFound
from service.core.keystore import Keystore
from service.core.models import new_id, utcnow
from service.credentials.errors import CredentialExists, InvalidCredentialRequest
from service.credentials.models import Credential, CredentialState, RecipientIdentity
from service.credentials.refresh import refresh_service_url
from service.credentials.schemas import EvidenceIn, ResultIn, is_did
from service.credentials.service import credential_url
from service.events.service import emit_many
from service.issuers.models import Issuer
from service.issuers.service import active_signers, get_issuer, issuer_profile
from service.status.allocation import Allocation, StatusListsExhausted, claim, claim_many, plan, replan
from service.status.models import StatusPurpose
from service.vc import data_integrity, jose
from service.vc import openbadges as ob
from service.vc.errors import VCError
from service.vc.keys import Signer
from service.vc.skillcred import AssessmentStatement

EvidenceItem = EvidenceIn | ob.Evidence | Mapping[str, Any]
"""Evidence as the API takes it, as the builder takes it, or an OB 3.0 Evidence entry copied as
is (e.g. with ``digestMultibase``)."""


@dataclass(frozen=True)
class Recipient:
    """A parsed recipient: exactly one of an (already normalised) email address or a DID."""

    email: str | None = None
    did: str | None = None

    @classmethod
    def parse(cls, recipient: Mapping[str, Any]) -> Recipient:
        """``{"email": ...}`` or ``{"did": ...}``; anything else is :class:`InvalidCredentialRequest`."""
        keys = {k for k, v in recipient.items() if v is not None}
        if keys == {"email"} and isinstance(recipient["email"], str) and "@" in recipient["email"]:
            return cls(email=normalise_email(recipient["email"]))
        if keys == {"did"} and isinstance(recipient["did"], str) and is_did(recipient["did"]):
            return cls(did=recipient["did"])
        raise InvalidCredentialRequest("recipient: give exactly one of a valid email or a DID")


@dataclass(frozen=True)
class ActiveSlot:
    """The recipient's one active credential for an achievement, as an entry point claimed it.

    ``key`` is stored as the new credential's ``active_key`` (None: the achievement allows
    several); ``released`` are the credentials that give the slot up (the one renewed or
    reissued, or an expired holder). :func:`persist` clears theirs just before it stores the new
    one, after the signing: on SQLite the database's write lock is not taken while signing, and
    on PostgreSQL no credential row is held meanwhile. The unique index on ``active_key``
    settles two issuances that claimed the same slot at once (409)."""

    key: str | None = None
    released: tuple[str, ...] = ()


@dataclass(frozen=True)
class IssueRequest:
    """What to issue: the current version of achievement ``achievement_id`` to ``recipient``.

    ``valid_until`` None: the version's validity period from now, else no expiry. ``results``
    name the achievement's result descriptions (and rubric levels) by id or name.
    ``assessment`` states how the skill was judged (``credentialSubject.assessment``);
    ``endorsements`` are signed EndorsementCredentials to embed (``endorsement``).
    ``replaces_id`` names the credential this one renews or reissues. ``authorised_by`` is the
    account whose decision issues it (recorded as ``issued_by`` and the audit actor; None: the
    service itself). Who may ask is the entry point's business, checked before it builds this.
    """

    achievement_id: str
    recipient: Recipient
    valid_until: datetime | None = None
    evidence: Sequence[EvidenceItem] = ()
    results: Sequence[ResultIn | ob.Result] = ()
    assessment: AssessmentStatement | None = None
    endorsements: Sequence[Mapping[str, Any]] = ()
    replaces_id: str | None = None
    authorised_by: Account | None = None
    active_slot: ActiveSlot = field(default_factory=lambda: ActiveSlot())
    """The entry point's claim on the recipient's one active credential for the achievement."""


@dataclass(frozen=True)
class PreparedCredential:
    """A checked :class:`IssueRequest`: everything the credential says but its status entries."""

    request: IssueRequest
    credential_id: str
    issuer: Issuer
    achievement: ob.Achievement
    achievement_version: int
    identity_salt: str | None
    issued_at: datetime
    valid_from: datetime
    valid_until: datetime | None
    evidence: list[ob.Evidence | Mapping[str, Any]]
    results: list[ob.Result]


@dataclass(frozen=True)
class SignedCredential:
    """A prepared credential with its status entries, signed: the JSON-LD document and the VC-JWT."""

    prepared: PreparedCredential
    allocation: Allocation
    document: dict[str, Any]
    vc_jwt: str


#: Signing rounds before giving up: a round is repeated only when another issuance claimed one of
#: the randomly picked indexes between planning and claiming (about 1 in 65,000 per concurrent peer).
MAX_SIGNING_ROUNDS = 4


def issue(
    session: Session, keystore: Keystore, settings: Settings, request: IssueRequest, *, now: datetime
) -> Credential:
    """Issue what ``request`` describes at ``now``: :func:`prepare`, :func:`build_and_sign`,
    :func:`persist`. Raises :class:`NotFound` or :class:`InvalidCredentialRequest` (nothing is
    written when a check fails)."""
    prepared = prepare(session, settings, request, now=now)
    return persist(session, build_and_sign(session, keystore, settings, prepared))


def prepare(session: Session, settings: Settings, request: IssueRequest, *, now: datetime) -> PreparedCredential:
    """Check ``request`` and resolve it against the achievement's current version; writes nothing.

    ``validFrom`` is ``now`` in whole seconds, as the credential says it. Raises
    :class:`NotFound` (no such achievement) or :class:`InvalidCredentialRequest`.
    """
    achievement = session.get(Achievement, request.achievement_id)
    if achievement is None:
        raise NotFound(NO_SUCH_ACHIEVEMENT)
    version = get_version(session, achievement.id, achievement.current_version)
    issuer = get_issuer(session, achievement.issuer_id)
    valid_from = now.replace(microsecond=0)
    valid_until = _valid_until(request.valid_until, valid_from)
    if valid_until is None and version.validity_days is not None:
        valid_until = valid_from + timedelta(days=version.validity_days)
    ob_ach = ob_achievement(settings, achievement, version)
    return PreparedCredential(
        request=request,
        credential_id=new_id(),
        issuer=issuer,
        achievement=ob_ach,
        achievement_version=version.version,
        identity_salt=secrets.token_hex(16) if request.recipient.email is not None else None,
        issued_at=now,
        valid_from=valid_from,
        valid_until=valid_until,
        evidence=[_evidence(item) for item in request.evidence],
        results=[_result(item, ob_ach) for item in request.results],
    )


def build_and_sign(
    session: Session, keystore: Keystore, settings: Settings, prepared: PreparedCredential
) -> SignedCredential:
    """Pick the credential's status indexes by reading (:func:`~service.status.allocation.plan`),
    build and sign the credential with them (:func:`sign`), and only then claim them
    (:func:`~service.status.allocation.claim`, the path's first write).

    Signing first keeps SQLite's single write lock (taken by the first write, held to the commit)
    for the few milliseconds of :func:`persist`, not for the signing: a burst of issuances queues
    on milliseconds, not on every other issuance's signatures. If another issuance claimed a
    picked index meanwhile, that one is picked again and the credential signed again.
    """
    allocation = plan(session, settings, prepared.issuer.id)
    signed = sign(session, keystore, settings, prepared, allocation)
    (unclaimed,) = claim_many(session, [(allocation, prepared.credential_id)])  # every purpose, one statement
    return sign_until_claimed(session, keystore, settings, signed, unclaimed, rounds=MAX_SIGNING_ROUNDS - 1)


def sign_until_claimed(
    session: Session,
    keystore: Keystore,
    settings: Settings,
    signed: SignedCredential,
    unclaimed: tuple[StatusPurpose, ...],
    *,
    rounds: int = MAX_SIGNING_ROUNDS,
) -> SignedCredential:
    """``signed`` once its ``unclaimed`` purposes (indexes another issuance claimed meanwhile)
    are picked again, the credential signed again and those claimed, up to ``rounds`` times;
    :class:`StatusListsExhausted` when that is not enough."""
    prepared, allocation = signed.prepared, signed.allocation
    for _ in range(rounds):
        if not unclaimed:
            return signed
        allocation = replan(session, settings, prepared.issuer.id, allocation, unclaimed)
        signed = sign(session, keystore, settings, prepared, allocation)
        unclaimed = claim(session, allocation, prepared.credential_id, unclaimed)
    if not unclaimed:
        return signed
    raise StatusListsExhausted("No status list index could be claimed; try again", headers={"Retry-After": "1"})


def sign(
    session: Session,
    keystore: Keystore,
    settings: Settings,
    prepared: PreparedCredential,
    allocation: Allocation,
    *,
    signers: Mapping[str, Signer] | None = None,
) -> SignedCredential:
    """Build the AchievementCredential with ``allocation``'s status entries, check it against the
    OB 3.0 schema and sign it with the issuer's active keys: an eddsa-rdfc-2022 proof and an
    RS256 VC-JWT. A value the builder or a signer refuses is :class:`InvalidCredentialRequest`.

    ``signers`` (by algorithm, ``EdDSA`` and ``RS256``) are the issuer's active signers when the
    caller already holds them (a batch signs many credentials of one issuer); else they are
    looked up."""
    request, issuer = prepared.request, prepared.issuer
    who = request.recipient
    try:
        unsigned = ob.build_achievement_credential(
            credential_id=credential_url(settings, prepared.credential_id),
            issuer=issuer_profile(issuer),
            achievement=prepared.achievement,
            recipient_did=who.did,
            recipient_identity=(
                None if who.email is None else ob.hashed_email_identity(who.email, prepared.identity_salt)
            ),
            valid_from=prepared.valid_from,
            valid_until=prepared.valid_until,
            evidence=prepared.evidence,
            results=prepared.results,
            assessment=request.assessment,
            endorsements=request.endorsements,
            refresh_service=refresh_service_url(settings, prepared.credential_id),
        )
        # VCDM 2.0 allows a set of status entries (the 1EdTech schema one: see schema_validation)
        unsigned["credentialStatus"] = allocation.entries
        ob.validate_credential_strict(unsigned)
        # signing can still refuse a value (JSON-LD safe mode: it would not really be signed)
        if signers is None:
            signers = active_signers(session, keystore, issuer)
        document = data_integrity.sign(unsigned, signers["EdDSA"], proof_as_list=True)
        vc_jwt = jose.sign_vc_jwt(unsigned, signers["RS256"])
    except VCError as err:
        raise InvalidCredentialRequest(f"The credential cannot be issued: {err}") from err
    return SignedCredential(prepared=prepared, allocation=allocation, document=document, vc_jwt=vc_jwt)


def persist(session: Session, signed: SignedCredential) -> Credential:
    """Store a signed credential in the caller's transaction: the recipient identity, the
    credential row (the JSON-LD text verbatim), the ``credential.issue`` audit event and the
    ``credential.issued`` event, with the statements :func:`persist_many` sends for a batch (a
    Core INSERT per table, no ORM unit of work). No status list row is written
    (:mod:`service.status.allocation` counts in side transactions).

    Returns the credential as an ORM object of the session, made from the values written (no
    read-back); the recipient identity stays in the session for as long as it lives, so
    :func:`~service.credentials.service.recipient_of` finds it without a query. A simultaneous
    issuance that took the recipient's one active credential is :class:`CredentialExists`."""
    request = signed.prepared.request
    key = _identity_key(request.recipient)
    new_rows: list[dict[str, Any]] = []
    recipient_ids = _recipient_identity_ids(session, [request.recipient], new_rows)
    try:
        persist_many(session, [signed], recipient_ids=recipient_ids)
    except IntegrityError as err:  # a simultaneous issuance took the recipient's one active credential
        if not is_active_credential_conflict(err):
            raise
        raise CredentialExists() from None
    identity = (
        _attached(session, RecipientIdentity(**new_rows[0]))
        if new_rows
        else session.get(RecipientIdentity, recipient_ids[key])
    )
    assert identity is not None  # found by recipient_identity_ids in this transaction
    # the identity map holds unchanged objects weakly: keep the identity for the session's life
    session.info.setdefault(_ISSUED_RECIPIENTS, []).append(identity)
    return _attached(session, Credential(**_credential_values(signed, recipient_ids[key])))


_ISSUED_RECIPIENTS = "skillcred.issued_recipients"
_Row = TypeVar("_Row", Credential, RecipientIdentity)


def _attached(session: Session, row: _Row) -> _Row:
    """``row``, a new object holding the values just inserted, as the session's persistent object
    of that row, without a query (SQLAlchemy ORM, ``make_transient_to_detached``)."""
    make_transient_to_detached(row)
    session.add(row)
    return row


def persist_many(
    session: Session, signed: Sequence[SignedCredential], *, recipient_ids: Mapping[tuple[str, str], str]
) -> list[str]:
    """:func:`persist` for a batch of signed credentials (bulk issuance), in the caller's
    transaction: the same credential rows, ``credential.issue`` audit events and
    ``credential.issued`` events, each table's rows in one INSERT of several rows and without an
    ORM object per row. ``recipient_ids`` are :func:`recipient_identity_ids`'s. Returns the
    credential ids, in order.

    The caller handles the ``IntegrityError`` of a simultaneous issuance that took a
    recipient's one active credential (the credentials' INSERT raises it)."""
    if not signed:
        return []
    keys = [_identity_key(one.prepared.request.recipient) for one in signed]
    released = sorted({released for one in signed for released in one.prepared.request.active_slot.released})
    if released:
        session.connection().execute(update(Credential).where(col(Credential.id).in_(released)).values(active_key=None))
    table = Credential.__table__  # type: ignore[attr-defined]  # set by SQLModel's metaclass
    session.connection().execute(
        insert(table), [_credential_values(one, recipient_ids[key]) for one, key in zip(signed, keys, strict=True)]
    )
    record_many(session, [_audit_of(one, recipient_ids[key], key[0]) for one, key in zip(signed, keys, strict=True)])
    by_issuer: dict[str, list[dict[str, Any]]] = {}
    for one in signed:
        by_issuer.setdefault(one.prepared.issuer.id, []).append(_event_data_of(one))
    for issuer_id, data in by_issuer.items():
        emit_many(session, issuer_id=issuer_id, type="credential.issued", data=data)
    return [one.prepared.credential_id for one in signed]


def _credential_values(signed: SignedCredential, recipient_id: str) -> dict[str, Any]:
    """The credential row of ``signed`` (every column a new credential sets)."""
    prepared = signed.prepared
    request = prepared.request
    return {
        "id": prepared.credential_id,
        "issuer_id": prepared.issuer.id,
        "achievement_id": request.achievement_id,
        "achievement_version": prepared.achievement_version,
        "recipient_id": recipient_id,
        "identity_salt": prepared.identity_salt,
        "jsonld": json.dumps(signed.document, ensure_ascii=False, indent=2),
        "vc_jwt": signed.vc_jwt,
        "issued_at": prepared.issued_at,
        "valid_from": prepared.valid_from,
        "valid_until": prepared.valid_until,
        "state": CredentialState.active,
        "status_changed_at": None,
        "status_reason": None,
        "issued_by": getattr(request.authorised_by, "id", None),
        "replaces_id": request.replaces_id,
        "public": True,
        "show_name": True,
        "active_key": request.active_slot.key,
    }


def _audit_of(signed: SignedCredential, recipient_id: str, recipient_type: str) -> dict[str, Any]:
    """The keyword arguments of the ``credential.issue`` audit event of ``signed``."""
    prepared = signed.prepared
    request = prepared.request
    return {
        "action": "credential.issue",
        "object_type": "credential",
        "object_id": prepared.credential_id,
        "actor": request.authorised_by,
        "issuer_id": prepared.issuer.id,
        "after": {
            "achievement_id": request.achievement_id,
            "achievement_version": prepared.achievement_version,
            "recipient_id": recipient_id,
            "recipient_type": recipient_type,
            "valid_until": signed.document.get("validUntil"),
            "replaces_id": request.replaces_id,
            "credential_status": [entry["id"] for entry in signed.allocation.entries],
        },
    }


def _event_data_of(signed: SignedCredential) -> dict[str, Any]:
    """The data of the ``credential.issued`` event of ``signed``."""
    prepared = signed.prepared
    return {
        "credential_id": prepared.credential_id,
        "achievement_id": prepared.request.achievement_id,
        "achievement_version": prepared.achievement_version,
        "issued_at": prepared.issued_at,
        "valid_until": prepared.valid_until,
        "replaces_id": prepared.request.replaces_id,
    }


def _valid_until(valid_until: datetime | None, now: datetime) -> datetime | None:
    if valid_until is None:
        return None
    if valid_until.tzinfo is None or valid_until.utcoffset() is None:
        raise InvalidCredentialRequest("valid_until: give a time zone (e.g. 2030-01-01T00:00:00Z)")
    expires = valid_until.astimezone(UTC).replace(microsecond=0)
    if expires <= now:
        raise InvalidCredentialRequest("valid_until: must be in the future")
    return expires


def _evidence(item: EvidenceItem) -> ob.Evidence | Mapping[str, Any]:
    if isinstance(item, (ob.Evidence, Mapping)):
        return item
    return ob.Evidence(**item.model_dump())


def _by_id_or_name(items: Sequence[Any], reference: str) -> Any:
    return next((i for i in items if i.id == reference), None) or next((i for i in items if i.name == reference), None)


def _result(item: ResultIn | ob.Result, achievement: ob.Achievement) -> ob.Result:
    """A result whose description (and level) is named by id or name, checked and resolved to ids."""
    if isinstance(item, ob.Result):
        return item
    description = _by_id_or_name(achievement.result_descriptions, item.result_description)
    if description is None:
        raise InvalidCredentialRequest(
            f"results: {item.result_description!r} is not a result description of the achievement "
            "(use the id or name of one of its result_descriptions)"
        )
    level = None
    if item.achieved_level is not None:
        level = _by_id_or_name(description.rubric_criterion_levels, item.achieved_level)
        if level is None:
            raise InvalidCredentialRequest(
                f"results: {item.achieved_level!r} is not a rubric level of {description.name!r}"
            )
    if item.value is not None and description.allowed_values and item.value not in description.allowed_values:
        raise InvalidCredentialRequest(f"results: {item.value!r} is not an allowed value of {description.name!r}")
    return ob.Result(
        result_description=description.id,
        value=item.value,
        achieved_level=None if level is None else level.id,
        status=item.status,
    )


def is_active_credential_conflict(error: IntegrityError) -> bool:
    """Whether ``error`` is the one-active-credential-per-recipient rule (``active_key``)."""
    return "active_key" in str(error.orig)


def _identity_key(who: Recipient) -> tuple[str, str]:
    return ("email", who.email) if who.email is not None else ("did", str(who.did))


def recipient_identity_ids(session: Session, recipients: Sequence[Recipient]) -> dict[tuple[str, str], str]:
    """The ids of the identity rows of ``recipients`` (by :func:`_identity_key`), without ORM
    objects: read in one query per kind; the missing rows are inserted in one INSERT of several
    rows."""
    return _recipient_identity_ids(session, recipients, [])


def _recipient_identity_ids(
    session: Session, recipients: Sequence[Recipient], new_rows: list[dict[str, Any]]
) -> dict[tuple[str, str], str]:
    """:func:`recipient_identity_ids`, appending the rows it inserts to ``new_rows``."""
    wanted = {_identity_key(who) for who in recipients}
    found: dict[tuple[str, str], str] = {}
    emails = sorted(value for kind, value in wanted if kind == "email")
    dids = sorted(value for kind, value in wanted if kind == "did")
    table = RecipientIdentity.__table__  # type: ignore[attr-defined]  # set by SQLModel's metaclass
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    for kind, values in (("email", emails), ("did", dids)):
        if not values:
            continue
        column = table.c[kind]
        hits = (
            connection.execute(_IDENTITIES_ON_POSTGRES[kind], {"kind": kind, "values": values})
            if postgres
            else connection.execute(sa_select(column, table.c.id).where(table.c.kind == kind, column.in_(values)))
        )
        for value, identity_id in hits:
            found.setdefault((kind, str(value)), identity_id)
    rows: list[dict[str, Any]] = []
    for kind, value in sorted(wanted - found.keys()):
        found[(kind, value)] = identity_id = new_id()
        rows.append(
            {
                "id": identity_id,
                "kind": kind,
                "email": value if kind == "email" else None,
                "did": value if kind == "did" else None,
                "created_at": utcnow(),
            }
        )
    if rows:
        connection.execute(insert(table), rows)
        new_rows.extend(rows)
    return found


# One index lookup per recipient, whatever the planner knows of the table: with an IN list and no
# statistics (a new table, autovacuum not run yet) PostgreSQL reads the whole table, a read that
# grows with every recipient. A LATERAL subquery with LIMIT is not flattened into a join
# (PostgreSQL, SELECT: LATERAL subqueries): each value is looked up through its column's index.
_IDENTITIES_ON_POSTGRES = {
    kind: text(
        f"SELECT w.value, hit.id FROM unnest(CAST(:values AS varchar[])) AS w(value), LATERAL"
        f" (SELECT r.id FROM recipientidentity r WHERE r.{kind} = w.value AND r.kind = :kind LIMIT 1) AS hit"
    )
    for kind in ("email", "did")
}
