"""Issuer signing keys: creation, rotation, the active signer, and their public forms.

Every issuer holds one active key per algorithm: Ed25519 (``EdDSA``: eddsa-rdfc-2022 proofs and
EdDSA VC-JWTs; fragments ``key-1``, ``key-2`` ...) and RSA 3072 (``RS256``, the Open Badges 3.0
conformance algorithm for VC-JWTs; fragments ``rsa-1`` ...). Private parts exist in memory only
while a key is made (then sealed by the keystore), while a :class:`Signer` signs with it, and in
the keystore that opened it (which keeps the keys it opened recently, and drops a key this
process retires).
Rotation retires keys without deleting them: retired public keys stay in the DID document and the
JWKS so credentials signed before the rotation still verify. A key reported compromised
(:func:`mark_compromised`) is retired too if it was active, never signs again, and is published
as revoked: listed in the DID document with its ``revoked`` date under no relationship, and no
longer in the JWKS, so nothing it signed verifies any more.

No FastAPI here, and nothing commits.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from service.audit.service import record
from service.core.errors import Conflict, NotFound, ServiceError
from service.core.keystore import Keystore
from service.core.models import new_id, utcnow
from service.core.validation import clean_text
from service.issuers.models import Issuer, SigningKey
from service.vc.did import PublishedKey
from service.vc.keys import Signer
from service.vc.multikey import PrivateKey, jwk_to_public_key, public_key_to_jwk

Algorithm = Literal["EdDSA", "RS256"]
ALGORITHMS: tuple[Algorithm, ...] = ("EdDSA", "RS256")
FRAGMENT_PREFIX: dict[str, str] = {"EdDSA": "key", "RS256": "rsa"}
RSA_KEY_BITS = 3072

# Active keys may sign new credentials and authenticate; retired keys only keep old proofs valid.
ACTIVE_PURPOSES = ("assertionMethod", "authentication")
RETIRED_PURPOSES = ("assertionMethod",)


class NoActiveKey(Conflict):
    """The issuer has no active key for an algorithm (rotate its keys to make one)."""

    code = "no_active_key"


class ActiveKeyCompromised(Conflict):
    """The issuer's newest unretired key of an algorithm was reported compromised: it signs nothing."""

    code = "active_key_compromised"


class KeyAlreadyCompromised(Conflict):
    """The key was already reported compromised (the first report stands)."""

    code = "key_already_compromised"


class InvalidCompromiseReport(ServiceError):
    """A compromise report the service cannot record: a moment in the future, without a time
    zone, or a reason that is empty, too long or holds control characters."""

    status_code, code = 422, "invalid_compromise_report"


MAX_COMPROMISE_REASON = 500
CLOCK_SKEW_ALLOWANCE = timedelta(minutes=1)
"""A reported moment this little ahead of the service's clock is taken as "now" (the reporter's
clock may run a little fast); later than that it is refused as a moment in the future."""


def generate_private_key(algorithm: Algorithm) -> PrivateKey:
    """A fresh private key for ``algorithm``."""
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)
    raise ValueError(f"Unsupported algorithm {algorithm!r}")


def verification_method_id(issuer: Issuer, key: SigningKey) -> str:
    """The absolute DID URL of a key: ``<issuer DID>#<fragment>``."""
    return f"{issuer.did}#{key.fragment}"


def new_signing_key(keystore: Keystore, issuer_id: str, algorithm: Algorithm, fragment: str) -> SigningKey:
    """A new key row (not yet added to a session), its private part sealed under the KEK."""
    private_key = generate_private_key(algorithm)
    key_id = new_id()
    return SigningKey(
        id=key_id,
        issuer_id=issuer_id,
        algorithm=algorithm,
        fragment=fragment,
        public_jwk=public_key_to_jwk(private_key.public_key()),
        private_sealed=keystore.seal(private_key, key_id=key_id),
    )


def initial_keys(keystore: Keystore, issuer_id: str) -> list[SigningKey]:
    """A new issuer's keys: ``key-1`` (Ed25519) and ``rsa-1`` (RSA 3072)."""
    return [new_signing_key(keystore, issuer_id, alg, f"{FRAGMENT_PREFIX[alg]}-1") for alg in ALGORITHMS]


def issuer_keys(session: Session, issuer_id: str, *, refresh: bool = False) -> list[SigningKey]:
    """Every key of an issuer, active and retired, oldest first."""
    statement = (
        select(SigningKey)
        .where(SigningKey.issuer_id == issuer_id)
        .order_by(col(SigningKey.created_at), col(SigningKey.fragment))
    )
    if refresh:
        statement = statement.execution_options(populate_existing=True)
    return list(session.exec(statement))


def next_fragment(keys: list[SigningKey], algorithm: Algorithm) -> str:
    """``key-N`` / ``rsa-N`` with N one past the highest number used for that algorithm."""
    prefix = FRAGMENT_PREFIX[algorithm]
    pattern = re.compile(rf"{prefix}-(\d+)")
    numbers = [int(m.group(1)) for k in keys if (m := pattern.fullmatch(k.fragment))]
    return f"{prefix}-{max(numbers, default=0) + 1}"


def rotate_keys(session: Session, keystore: Keystore, issuer: Issuer, *, actor: Any) -> list[SigningKey]:
    """Retire the issuer's active keys and make new ones with the next fragments.

    The issuer row is locked first (``SELECT ... FOR UPDATE`` on PostgreSQL), so two rotations
    at once run one after the other; where the lock does not exist (SQLite) the loser of a
    collision on the fragment names gets :class:`Conflict` (``concurrent_rotation``).
    """
    session.exec(select(Issuer).where(Issuer.id == issuer.id).with_for_update()).one()
    keys = issuer_keys(session, issuer.id, refresh=True)
    now = utcnow()
    retired = []
    for key in keys:
        if key.retired_at is None:
            key.retired_at = now
            session.add(key)
            retired.append(key)
    new_keys = [new_signing_key(keystore, issuer.id, alg, next_fragment(keys, alg)) for alg in ALGORITHMS]
    session.add_all(new_keys)
    try:
        session.flush()
    except IntegrityError as err:  # SQLite ignores FOR UPDATE: a simultaneous rotation took the names
        raise Conflict(
            "The issuer's keys were being rotated at the same moment; try again", code="concurrent_rotation"
        ) from err
    for key in retired:
        keystore.forget(key.id)
    record(
        session,
        action="issuer.keys.rotate",
        object_type="issuer",
        object_id=issuer.id,
        actor=actor,
        issuer_id=issuer.id,
        before={"active": [verification_method_id(issuer, k) for k in retired]},
        after={"active": [verification_method_id(issuer, k) for k in new_keys]},
    )
    return new_keys


def active_key(session: Session, issuer: Issuer, algorithm: Algorithm) -> SigningKey:
    """The issuer's current key for ``algorithm``; :class:`NoActiveKey` when it has none and
    :class:`ActiveKeyCompromised` when it was reported compromised (it signs nothing more)."""
    key = session.exec(
        select(SigningKey)
        .where(
            SigningKey.issuer_id == issuer.id, SigningKey.algorithm == algorithm, col(SigningKey.retired_at).is_(None)
        )
        .order_by(col(SigningKey.created_at).desc())
    ).first()
    return _may_sign(issuer, algorithm, key)


def _may_sign(issuer: Issuer, algorithm: str, key: Any) -> Any:
    """``key``, the issuer's newest unretired ``algorithm`` key (a :class:`SigningKey` or a row of
    its columns), when it may sign; :class:`NoActiveKey` when there is none and
    :class:`ActiveKeyCompromised` when it was reported compromised (it signs nothing more)."""
    if key is None:
        raise NoActiveKey(f"Issuer {issuer.id} has no active {algorithm} key; rotate its keys")
    if key.compromised_at is not None:
        raise ActiveKeyCompromised(
            f"Issuer {issuer.id}'s active {algorithm} key {key.fragment} was reported compromised and signs "
            "nothing more; rotate its keys to make a new one"
        )
    return key


def active_signer(session: Session, keystore: Keystore, issuer: Issuer, algorithm: Algorithm) -> Signer:
    """A signer over the issuer's active ``algorithm`` key, named ``<issuer DID>#<fragment>``."""
    key = active_key(session, issuer, algorithm)
    return keystore.signer(key.private_sealed, key_id=key.id, verification_method=verification_method_id(issuer, key))


_KEY_TABLE = SigningKey.__table__  # type: ignore[attr-defined]  # set by SQLModel's metaclass, not in its hints
_ACTIVE_KEYS = (
    sa_select(
        _KEY_TABLE.c.id,
        _KEY_TABLE.c.algorithm,
        _KEY_TABLE.c.fragment,
        _KEY_TABLE.c.private_sealed,
        _KEY_TABLE.c.compromised_at,
    )
    .where(_KEY_TABLE.c.issuer_id == bindparam("issuer_id"), _KEY_TABLE.c.retired_at.is_(None))
    .order_by(_KEY_TABLE.c.created_at.desc())
)
"""The issuer's unretired keys, newest first (what :func:`active_key` reads, for every algorithm)."""


def active_signers(session: Session, keystore: Keystore, issuer: Issuer) -> dict[str, Signer]:
    """:func:`active_signer` for every algorithm (``EdDSA`` and ``RS256``), with the issuer's
    unretired keys read in one statement: the same keys, and the same :class:`NoActiveKey` or
    :class:`ActiveKeyCompromised` (for the first algorithm, in :data:`ALGORITHMS` order, that has
    no key that may sign). The key rows are read every time, so a key retired or reported
    compromised, by this process or another, never signs again; only the unwrapping of a key
    that may sign is spared (:class:`~service.core.keystore.Keystore` keeps opened keys)."""
    newest: dict[str, Any] = {}
    for row in session.execute(_ACTIVE_KEYS, {"issuer_id": issuer.id}):
        newest.setdefault(row.algorithm, row)  # newest first: the first row of an algorithm is its active key
    signers: dict[str, Signer] = {}
    for algorithm in ALGORITHMS:
        key = _may_sign(issuer, algorithm, newest.get(algorithm))
        signers[algorithm] = keystore.signer(
            key.private_sealed, key_id=key.id, verification_method=f"{issuer.did}#{key.fragment}"
        )
    return signers


def published_key(key: SigningKey) -> PublishedKey:
    """How a key appears in the DID document: active keys also authenticate, retired ones only
    keep asserting (so credentials they signed still verify), and a compromised one is listed as
    ``revoked`` from its compromise under no relationship (so nothing it signed verifies)."""
    public_key = jwk_to_public_key(key.public_jwk)
    if key.compromised_at is not None:
        return PublishedKey(key.fragment, public_key, (), revoked=xsd_timestamp(key.compromised_at))
    purposes = ACTIVE_PURPOSES if key.retired_at is None else RETIRED_PURPOSES
    return PublishedKey(key.fragment, public_key, purposes)


def xsd_timestamp(moment: datetime) -> str:
    """An XML Schema dateTimeStamp in UTC, to the second: ``2026-12-06T09:30:00Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def jwk_entry(issuer: Issuer, key: SigningKey) -> dict[str, Any]:
    """A JWKS member: the public JWK with ``kid`` (verification method id), ``alg`` and ``use``."""
    return {**key.public_jwk, "kid": verification_method_id(issuer, key), "alg": key.algorithm, "use": "sig"}


# --- compromise --------------------------------------------------------------------------------


def find_key(session: Session, issuer: Issuer, key_ref: str) -> SigningKey:
    """One of the issuer's keys by its id or its fragment (``key-1``); :class:`NotFound` otherwise
    (a key of another issuer included)."""
    key = session.exec(
        select(SigningKey).where(
            SigningKey.issuer_id == issuer.id, (col(SigningKey.id) == key_ref) | (col(SigningKey.fragment) == key_ref)
        )
    ).first()
    if key is None:
        raise NotFound(f"Issuer {issuer.id} has no key {key_ref!r:.80}")
    return key


def _checked_report(compromised_at: datetime, reason: str, now: datetime) -> str:
    if compromised_at.tzinfo is None:
        raise InvalidCompromiseReport("compromised_at needs a time zone (e.g. 2026-12-06T09:30:00Z)")
    if compromised_at > now + CLOCK_SKEW_ALLOWANCE:
        raise InvalidCompromiseReport(
            f"compromised_at {xsd_timestamp(compromised_at)} is in the future; report a compromise once it is "
            "known or suspected, from the moment it began"
        )
    reason = reason.strip()
    if not reason or len(reason) > MAX_COMPROMISE_REASON:
        raise InvalidCompromiseReport(f"The reason must be 1 to {MAX_COMPROMISE_REASON} characters")
    try:
        return clean_text(reason)
    except ValueError as err:
        raise InvalidCompromiseReport(f"The reason is refused: {err}") from None


def mark_compromised(
    session: Session,
    keystore: Keystore,
    issuer: Issuer,
    key: SigningKey,
    *,
    compromised_at: datetime,
    reason: str,
    now: datetime,
    actor: Any,
) -> SigningKey | None:
    """Record that ``key`` is known or suspected compromised since ``compromised_at``.

    From then on the key signs nothing (:func:`active_key` refuses it) and is published as
    revoked (:func:`published_key`). An active key is retired at ``now`` and replaced by a new key
    of its algorithm (the next fragment), which is returned; for a retired key None is returned.
    Refused, changing nothing: a moment in the future or without a time zone, an empty reason
    (:class:`InvalidCompromiseReport`, 422), a key already reported (:class:`KeyAlreadyCompromised`,
    409). The issuer row is locked first, as :func:`rotate_keys` does. Records
    ``issuer.key.compromise``.
    """
    reason = _checked_report(compromised_at, reason, now)
    compromised_at = min(compromised_at, now)
    session.exec(select(Issuer).where(Issuer.id == issuer.id).with_for_update()).one()
    keys = issuer_keys(session, issuer.id, refresh=True)
    key = next(k for k in keys if k.id == key.id)
    if key.compromised_at is not None:
        raise KeyAlreadyCompromised(
            f"Key {key.fragment} was already reported compromised on {xsd_timestamp(key.compromised_at)}"
        )
    was_active = key.retired_at is None
    key.compromised_at, key.compromise_reason = compromised_at, reason
    replacement = None
    if was_active:
        key.retired_at = now
        algorithm: Algorithm = "RS256" if key.algorithm == "RS256" else "EdDSA"
        replacement = new_signing_key(keystore, issuer.id, algorithm, next_fragment(keys, algorithm))
        session.add(replacement)
    session.add(key)
    try:
        session.flush()
    except IntegrityError as err:  # SQLite ignores FOR UPDATE: a simultaneous rotation took the name
        raise Conflict(
            "The issuer's keys were being changed at the same moment; try again", code="concurrent_rotation"
        ) from err
    keystore.forget(key.id)
    record(
        session,
        action="issuer.key.compromise",
        object_type="signing_key",
        object_id=key.id,
        actor=actor,
        issuer_id=issuer.id,
        before={"verification_method": verification_method_id(issuer, key), "active": was_active},
        after={
            "compromised_at": xsd_timestamp(compromised_at),
            "reason": reason,
            "replacement": verification_method_id(issuer, replacement) if replacement else None,
        },
    )
    return replacement
