"""Signers: the only objects in the core that hold private keys.

The core never sees where a key lives. Anything that can sign bytes and name its verification
method is a :class:`Signer`: :class:`LocalSigner` wraps an in-memory ``cryptography`` key (the CLI
and tests), the service's keystore supplies its own. Private keys are never serialised here except
by :func:`ed25519_key_file`, which the CLI uses to write a key file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import nacl.bindings
import nacl.exceptions
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from .errors import KeyError_
from .multikey import (
    PrivateKey,
    PublicKey,
    ed25519_private_from_multibase,
    ed25519_private_to_multibase,
    public_key_to_multikey,
)


@runtime_checkable
class Signer(Protocol):
    """Signs bytes with a private key the caller never sees.

    ``verification_method`` is the absolute URL (DID URL or https URL) a verifier dereferences to
    find the public key; ``algorithm`` is its JOSE name (``EdDSA``, ``RS256``, ``ES256``).
    """

    @property
    def verification_method(self) -> str: ...

    @property
    def algorithm(self) -> str: ...

    @property
    def public_key(self) -> PublicKey: ...

    def sign(self, data: bytes) -> bytes:
        """The raw signature over ``data`` (JWS form for ES256: r || s, 64 bytes)."""
        ...


def jose_algorithm(key: PrivateKey | PublicKey) -> str:
    """The JOSE ``alg`` SkillCred uses for a key type."""
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return "EdDSA"
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        if key.key_size < 2048:
            raise KeyError_("RSA keys shorter than 2048 bits are refused", code="weak_key")
        return "RS256"
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)) and isinstance(key.curve, ec.SECP256R1):
        return "ES256"
    raise KeyError_(f"Unsupported key type {type(key).__name__}", code="unsupported_key_type")


@dataclass(frozen=True)
class LocalSigner:
    """A :class:`Signer` over an in-memory private key."""

    private_key: PrivateKey
    verification_method: str

    @property
    def algorithm(self) -> str:
        return jose_algorithm(self.private_key)

    @property
    def public_key(self) -> PublicKey:
        return self.private_key.public_key()

    def sign(self, data: bytes) -> bytes:
        key = self.private_key
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return key.sign(data)
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        der = key.sign(data, ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def __repr__(self) -> str:  # never print key material
        return f"LocalSigner(verification_method={self.verification_method!r}, algorithm={self.algorithm!r})"


ED25519_PUBLIC_KEY_BYTES = 32
ED25519_SIGNATURE_BYTES = 64


def verify_ed25519(public_key: ed25519.Ed25519PublicKey | bytes, signature: bytes, message: bytes) -> bool:
    """True when ``signature`` is a valid Ed25519 signature (RFC 8032 5.1.7) of ``message`` by
    ``public_key`` (a ``cryptography`` key or its 32 raw bytes); False for anything else.

    libsodium (PyNaCl) decides: about twice as fast as OpenSSL here (bench/schema_and_crypto.py,
    issue 15) and at least as strict: it refuses S >= L and non-canonical encodings of R and A (RFC
    8032 5.1.7 step 1), and small-order public keys and R, which OpenSSL accepts, so that such a key
    "signs" every message (tests/vc/test_keys.py). Signing stays with ``cryptography``.
    """
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        public_key = public_key.public_bytes_raw()
    if (
        not isinstance(public_key, bytes)
        or not isinstance(signature, bytes)
        or not isinstance(message, bytes)
        or len(public_key) != ED25519_PUBLIC_KEY_BYTES
        or len(signature) != ED25519_SIGNATURE_BYTES  # crypto_sign_open reads the first 64 bytes
    ):
        return False
    try:
        nacl.bindings.crypto_sign_open(signature + message, public_key)
    except nacl.exceptions.BadSignatureError:
        return False
    return True


def generate_ed25519() -> ed25519.Ed25519PrivateKey:
    """A new random Ed25519 private key."""
    return ed25519.Ed25519PrivateKey.generate()


def did_key_signer(private_key: ed25519.Ed25519PrivateKey) -> LocalSigner:
    """A signer whose verification method is the key's own ``did:key`` (``did:key:z6Mk..#z6Mk..``)."""
    multikey = public_key_to_multikey(private_key.public_key())
    return LocalSigner(private_key, f"did:key:{multikey}#{multikey}")


def ed25519_key_file(private_key: ed25519.Ed25519PrivateKey) -> dict[str, Any]:
    """The JSON of a SkillCred key file: a Multikey with ``secretKeyMultibase`` (keep it 0600)."""
    public = public_key_to_multikey(private_key.public_key())
    return {
        "type": "Multikey",
        "controller": f"did:key:{public}",
        "id": f"did:key:{public}#{public}",
        "publicKeyMultibase": public,
        "secretKeyMultibase": ed25519_private_to_multibase(private_key),
    }


def load_ed25519_key_file(data: Any) -> ed25519.Ed25519PrivateKey:
    """Parse a key file's JSON; accepts ``secretKeyMultibase`` or the vectors' ``privateKeyMultibase``."""
    if not isinstance(data, dict):
        raise KeyError_("A key file must be a JSON object", code="malformed_key")
    secret = data.get("secretKeyMultibase") or data.get("privateKeyMultibase")
    if not isinstance(secret, str):
        raise KeyError_("The key file has no secretKeyMultibase", code="malformed_key")
    key = ed25519_private_from_multibase(secret)
    public = data.get("publicKeyMultibase")
    if public is not None and public != public_key_to_multikey(key.public_key()):
        raise KeyError_("The key file's public and secret keys do not match", code="malformed_key")
    return key
