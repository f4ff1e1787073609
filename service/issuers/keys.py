"""Issuer signing keys: creation, rotation, the active signer, and their public forms.

Every issuer holds one active key per algorithm: Ed25519 (``EdDSA``: eddsa-rdfc-2022 proofs and
EdDSA VC-JWTs; fragments ``key-1``, ``key-2`` ...) and RSA 3072 (``RS256``, the Open Badges 3.0
conformance algorithm for VC-JWTs; fragments ``rsa-1`` ...). Private parts exist in memory only
while a key is made (then sealed by the keystore) or while a :class:`Signer` signs with it.
Rotation retires keys without deleting them: retired public keys stay in the DID document and the
JWKS so credentials signed before the rotation still verify.

No FastAPI here, and nothing commits.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from service.audit.service import record
from service.core.errors import Conflict
from service.core.keystore import Keystore
from service.core.models import new_id, utcnow
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
    """The issuer's current key for ``algorithm``; :class:`NoActiveKey` when it has none."""
    key = session.exec(
        select(SigningKey)
        .where(
            SigningKey.issuer_id == issuer.id, SigningKey.algorithm == algorithm, col(SigningKey.retired_at).is_(None)
        )
        .order_by(col(SigningKey.created_at).desc())
    ).first()
    if key is None:
        raise NoActiveKey(f"Issuer {issuer.id} has no active {algorithm} key; rotate its keys")
    return key


def active_signer(session: Session, keystore: Keystore, issuer: Issuer, algorithm: Algorithm) -> Signer:
    """A signer over the issuer's active ``algorithm`` key, named ``<issuer DID>#<fragment>``."""
    key = active_key(session, issuer, algorithm)
    return keystore.signer(key.private_sealed, key_id=key.id, verification_method=verification_method_id(issuer, key))


def published_key(key: SigningKey) -> PublishedKey:
    """How a key appears in the DID document: active keys also authenticate, retired ones only
    keep asserting (so credentials they signed still verify)."""
    purposes = ACTIVE_PURPOSES if key.retired_at is None else RETIRED_PURPOSES
    return PublishedKey(key.fragment, jwk_to_public_key(key.public_jwk), purposes)


def jwk_entry(issuer: Issuer, key: SigningKey) -> dict[str, Any]:
    """A JWKS member: the public JWK with ``kid`` (verification method id), ``alg`` and ``use``."""
    return {**key.public_jwk, "kid": verification_method_id(issuer, key), "alg": key.algorithm, "use": "sig"}
