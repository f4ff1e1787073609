"""Proof of control of a DID: a compact JWS over a challenge, checked against the DID's keys.

A client who endorses with their own DID first asks SkillCred for a challenge (a random nonce
bound to one credential and that DID, valid a few minutes, usable once) and signs it::

    header  {"alg": "EdDSA" | "ES256", "kid": "<DID URL of one of their keys>"}
    payload {"nonce": "<the challenge's nonce>", "aud": "<the endorsed credential's id URL>",
             "iss": "<their DID>"}

:func:`verify_control_proof` accepts the JWS only when every one of these holds: the algorithm
is EdDSA or ES256 (nothing else, never ``none`` or HMAC); the header names the key by ``kid``
only (no ``jwk``, ``jku`` or ``x5u``: the key must come from the DID, not from the token); the
``kid`` is a key of exactly that DID, resolved through the caller's resolver (``did:key``
offline, ``did:web`` through the SSRF-safe fetcher), controlled by it and listed under
``authentication`` or ``assertionMethod``; the key type fits the algorithm; the signature
verifies; and the payload names that nonce, that credential and that DID.

Pure: no database, no HTTP. The caller loads the challenge and spends it.
"""

from __future__ import annotations

import base64
import hmac
import re
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from service.vc import jose
from service.vc.did import KeyResolver, VerificationMethod
from service.vc.errors import KeyError_, VCError
from service.vc.keys import jose_algorithm

ALLOWED_ALGORITHMS = frozenset({"EdDSA", "ES256"})
ALLOWED_HEADERS = frozenset({"alg", "kid", "typ"})
CONTROL_PURPOSES = frozenset({"authentication", "assertionMethod"})
MAX_PROOF_LENGTH = 8192

_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


class ControlProofError(VCError):
    """The JWS does not prove control of the DID; ``code`` says why."""

    code = "invalid_control_proof"


def _fail(message: str, code: str = "invalid_control_proof") -> ControlProofError:
    return ControlProofError(message, code=code)


def _signature(token: str) -> bytes:
    part = token.rsplit(".", 1)[-1]
    if not _BASE64URL.fullmatch(part) or len(part) % 4 == 1:
        raise _fail("The JWS signature is not base64url", "malformed_proof")
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _valid_signature(key: Any, signing_input: bytes, signature: bytes) -> bool:
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, signing_input)
        elif isinstance(key, ec.EllipticCurvePublicKey) and len(signature) == 64:
            r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _same(claimed: Any, expected: str) -> bool:
    return isinstance(claimed, str) and hmac.compare_digest(claimed.encode(), expected.encode())


def verify_control_proof(
    token: str, *, did: str, nonce: str, audience: str, key_resolver: KeyResolver
) -> VerificationMethod:
    """The verification method that signed ``token``, after checking that the JWS proves control
    of ``did`` for this challenge (``nonce``) and this credential (``audience``). Raises
    :class:`ControlProofError` with a stable code otherwise."""
    if not isinstance(token, str) or len(token) > MAX_PROOF_LENGTH:
        raise _fail(f"The proof must be a compact JWS of at most {MAX_PROOF_LENGTH} characters", "malformed_proof")
    try:
        header, payload = jose.decode_vc_jwt_unverified(token.strip())
    except VCError as err:
        raise _fail(f"The proof is not a compact JWS: {err}", "malformed_proof") from err
    algorithm = header.get("alg")
    if algorithm not in ALLOWED_ALGORITHMS:
        raise _fail(f"alg must be one of {sorted(ALLOWED_ALGORITHMS)}", "alg_not_allowed")
    extra = sorted(set(header) - ALLOWED_HEADERS)
    if extra:
        raise _fail(f"JOSE headers {extra} are not accepted: name the key with kid only", "header_not_allowed")
    kid = header.get("kid")
    if not isinstance(kid, str) or kid.partition("#")[0] != did or "#" not in kid:
        raise _fail(f"kid must be a DID URL of {did} (the DID followed by #key-id)", "kid_mismatch")
    try:
        method = key_resolver.resolve(kid)
    except VCError as err:
        raise _fail(f"{kid} could not be resolved: {err}", "key_not_resolved") from err
    if method.controller != did:
        raise _fail(f"{kid} is controlled by {method.controller}, not by {did}", "controller_mismatch")
    if not CONTROL_PURPOSES & method.purposes:
        raise _fail(f"{did} does not list {kid} under authentication or assertionMethod", "purpose_mismatch")
    try:
        key_algorithm = jose_algorithm(method.public_key)
    except KeyError_ as err:
        raise _fail(str(err), "unsupported_key_type") from err
    if key_algorithm != algorithm:
        raise _fail(f"{kid} is a {key_algorithm} key, not {algorithm}", "alg_key_mismatch")
    signing_input = token.strip().rsplit(".", 1)[0].encode("ascii")
    if not _valid_signature(method.public_key, signing_input, _signature(token.strip())):
        raise _fail("The signature does not verify", "bad_signature")
    if not _same(payload.get("nonce"), nonce):
        raise _fail("The proof signs another challenge (nonce)", "nonce_mismatch")
    if not _same(payload.get("aud"), audience):
        raise _fail(f"aud must be the endorsed credential's id, {audience}", "audience_mismatch")
    if not _same(payload.get("iss"), did):
        raise _fail(f"iss must be {did}", "issuer_mismatch")
    return method
