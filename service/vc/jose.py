"""VC-JWT: a credential secured as a compact JWS, as Open Badges 3.0 section 8.2 defines it.

The JWT payload *is* the credential (VCDM 2.0) with the claims ``iss`` (issuer id), ``jti``
(credential id), ``nbf`` (validFrom), ``sub`` (credentialSubject.id) and ``exp`` (validUntil)
added; a VCDM 1.1 credential travels in the ``vc`` claim instead, with ``issuanceDate`` and
``expirationDate`` (the spec's notes). There is no ``iat``. The JOSE header holds ``alg``,
``typ: JWT`` and either ``kid`` (a URI dereferenced to the key) or ``jwk`` (the public key).

Signing goes through the :class:`~service.vc.keys.Signer` Protocol, so the private key never
leaves it. Verification is written on ``cryptography``: measured on a 2-core machine, PyJWT 2.15
verifies about 2,300 tokens/s (most of it a per-character base64url check in Python), a compact
JWS verify on ``cryptography`` about 4,600/s. It follows RFC 8725: the algorithm is allow-listed
before any key is looked at, the key type must fit the algorithm, headers that point elsewhere for
keys (``jku``, ``x5u``) are refused, and a key carried in the ``jwk`` header counts only when the
issuer's own controller document lists it.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from .did import DidKeyResolver, KeyResolver, VerificationMethod
from .errors import JwtError, KeyError_, VCError
from .jwt_claims import (
    JWT_CLAIM_NAMES,
    check_date_claims,
    check_identity_claims,
    claims_for,
    credential_in,
    is_vcdm_1_1,
)
from .keys import Signer, jose_algorithm
from .multikey import PublicKey, jwk_to_public_key, public_key_to_jwk

# The only algorithms ever accepted, whatever a caller allows: asymmetric; no "none", no HS*.
SUPPORTED_ALGORITHMS = frozenset({"RS256", "EdDSA", "ES256"})
# Fully-specified JOSE algorithm names (RFC 9864) accepted on verify as the names above.
FULLY_SPECIFIED_ALIASES = {"Ed25519": "EdDSA"}
# A compact JWS longer than this (1 MiB) is refused before anything is decoded.
MAX_TOKEN_LENGTH = 1024 * 1024
# Registered JWT claims (RFC 7519): not part of the credential the payload carries.
# The only JOSE headers OB 3.0 section 8.2 allows; others verify with a warning, except:
OB3_HEADER_NAMES = frozenset({"alg", "kid", "jwk", "typ"})
# headers that fetch keys, carry certificates, or demand processing this verifier does not do.
REFUSED_HEADER_NAMES = frozenset({"crit", "jku", "x5u", "x5c", "x5t", "x5t#S256", "b64"})

_PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")

KeySource = Literal["kid", "jwk"]


@dataclass(frozen=True)
class JwtVerification:
    """A VC-JWT whose signature verified and whose claims agree with the credential it carries.

    ``verification_method`` is the id of the issuer's method that holds the signing key: the
    resolved ``kid``, or the method whose key a ``jwk`` header matched.
    ``warnings`` are ``"code: explanation"`` strings to report without failing.
    """

    credential: dict[str, Any]
    header: dict[str, Any]
    payload: dict[str, Any]
    algorithm: str
    verification_method: str
    key_source: KeySource
    warnings: tuple[str, ...] = ()


# --- encoding and strict parsing -------------------------------------------------------------


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(part: str, what: str) -> bytes:
    """Unpadded, canonical base64url only: other spellings of the same bytes are refused."""
    if not _BASE64URL.fullmatch(part) or len(part) % 4 == 1:
        raise JwtError(f"The {what} is not base64url", code="malformed_jwt")
    data = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    if _b64url_encode(data) != part:
        raise JwtError(f"The {what} is not canonical base64url", code="malformed_jwt")
    return data


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise ValueError(f"duplicate member {name!r}")
        result[name] = value
    return result


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        text = data.decode("utf-8")
        value = json.loads(text, object_pairs_hook=_unique_members, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise JwtError(f"The {what} is not JSON: {err}", code="malformed_jwt") from err
    if not isinstance(value, dict):
        raise JwtError(f"The {what} is not a JSON object", code="malformed_jwt")
    return value


def _json_bytes(value: dict[str, Any]) -> bytes:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.encode("utf-8")


def _parse(token: Any) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """(header, payload, signing input, signature) of a compact JWS, or ``malformed_jwt``."""
    if not isinstance(token, str):
        raise JwtError("A compact JWS must be text", code="malformed_jwt")
    if len(token) > MAX_TOKEN_LENGTH:
        raise JwtError(f"The token is over {MAX_TOKEN_LENGTH} characters", code="malformed_jwt")
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise JwtError(f"A compact JWS has 3 parts, not {len(parts)}", code="malformed_jwt")
    header = _json_object(_b64url_decode(parts[0], "JOSE header"), "JOSE header")
    payload = _json_object(_b64url_decode(parts[1], "JWT payload"), "JWT payload")
    signature = _b64url_decode(parts[2], "signature")
    return header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), signature


def looks_like_compact_jws(text: str) -> bool:
    """Whether ``text`` is shaped like a compact JWS: 3 base64url parts, a header with ``alg``."""
    if not isinstance(text, str) or len(text) > MAX_TOKEN_LENGTH:
        return False
    text = text.strip()
    if not _COMPACT_JWS.fullmatch(text):
        return False
    try:
        header = _json_object(_b64url_decode(text.split(".", 1)[0], "header"), "header")
    except JwtError:
        return False
    return isinstance(header.get("alg"), str)


def decode_vc_jwt_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (header, payload) of a compact JWS, parsed strictly but NOT verified: for display."""
    header, payload, _, _ = _parse(token)
    return header, payload


# --- signing ---------------------------------------------------------------------------------


def encode_compact_jws(header: dict[str, Any], payload: dict[str, Any], signer: Signer) -> str:
    """Sign ``payload`` under ``header`` exactly as given: B64URL(header).B64URL(payload).sig."""
    signing_input = f"{_b64url_encode(_json_bytes(header))}.{_b64url_encode(_json_bytes(payload))}"
    signature = signer.sign(signing_input.encode("ascii"))
    if signer.algorithm == "ES256" and len(signature) != 64:
        raise JwtError("ES256 signatures must be raw r || s (64 bytes)", code="signer_error")
    return f"{signing_input}.{_b64url_encode(signature)}"


def sign_vc_jwt(credential: dict[str, Any], signer: Signer, *, key_in_header: KeySource = "kid") -> str:
    """The credential as an OB 3.0 VC-JWT (compact JWS), signed by ``signer``.

    The header names the key by ``kid`` (the signer's verification method) or carries its public
    ``jwk``. The credential needs an issuer id, an id and validFrom (issuanceDate in VCDM 1.1).
    """
    if not isinstance(credential, dict):
        raise JwtError("A credential must be a JSON object", code="malformed_credential")
    algorithm = signer.algorithm
    if algorithm not in SUPPORTED_ALGORITHMS:
        raise JwtError(f"Algorithm {algorithm!r} is not supported", code="alg_not_allowed")
    _check_key_fits_algorithm(signer.public_key, algorithm)
    header: dict[str, Any] = {"alg": algorithm, "typ": "JWT"}
    if key_in_header == "kid":
        header["kid"] = signer.verification_method
    elif key_in_header == "jwk":
        header["jwk"] = public_key_to_jwk(signer.public_key)
    else:
        raise ValueError(f"key_in_header must be 'kid' or 'jwk', not {key_in_header!r}")
    claims = claims_for(credential)
    if is_vcdm_1_1(credential):
        return encode_compact_jws(header, {**claims, "vc": credential}, signer)
    clash = sorted(JWT_CLAIM_NAMES & credential.keys())
    if clash:
        raise JwtError(f"The credential uses JWT claim names {clash}", code="claim_mismatch")
    return encode_compact_jws(header, {**credential, **claims}, signer)


# --- verification: header and key --------------------------------------------------------------


def _check_header(header: dict[str, Any], allowed: frozenset[str], warnings: list[str]) -> str:
    algorithm = header.get("alg")
    # RFC 9864 section 2.2 names Ed25519 signatures "Ed25519", deprecating the polymorphic
    # "EdDSA" for new uses; both mean the same Ed25519 verification here.
    algorithm = FULLY_SPECIFIED_ALIASES.get(algorithm, algorithm) if isinstance(algorithm, str) else algorithm
    if not isinstance(algorithm, str) or algorithm not in allowed & SUPPORTED_ALGORITHMS:
        raise JwtError(f"Algorithm {algorithm!r:.40} is not allowed", code="alg_not_allowed")
    refused = sorted(REFUSED_HEADER_NAMES & header.keys())
    if refused:
        message = f"JOSE headers {refused} are refused (no key fetching, no extensions)"
        raise JwtError(message, code="header_not_allowed")
    extra = sorted(header.keys() - OB3_HEADER_NAMES)
    if extra:
        warnings.append(f"header_not_in_ob3: OB 3.0 allows alg, kid, jwk and typ, not {extra}")
    typ = header.get("typ")
    if typ is not None and not isinstance(typ, str):
        raise JwtError("The typ header must be a string", code="malformed_jwt")
    if typ is not None and typ.lower().removeprefix("application/") != "jwt":
        warnings.append(f"typ_not_jwt: OB 3.0 wants typ 'JWT', not {typ!r:.40}")
    return algorithm


def _check_key_fits_algorithm(key: PublicKey, algorithm: str) -> None:
    try:
        key_algorithm = jose_algorithm(key)
    except KeyError_ as err:
        code = "weak_key" if err.code == "weak_key" else "alg_key_mismatch"
        raise JwtError(str(err), code=code) from err
    if key_algorithm != algorithm:
        message = f"A {key_algorithm} key cannot verify an {algorithm} signature"
        raise JwtError(message, code="alg_key_mismatch")


def _header_jwk(jwk: Any) -> PublicKey:
    if not isinstance(jwk, dict):
        raise JwtError("The jwk header must be a JSON object", code="malformed_key")
    if _PRIVATE_JWK_MEMBERS & jwk.keys():
        raise JwtError("The jwk header exposes private key members", code="private_key_in_header")
    try:
        return jwk_to_public_key(jwk)
    except KeyError_ as err:
        raise JwtError(f"The jwk header is not a usable key: {err}", code="malformed_key") from err


def _same_key(first: PublicKey, second: PublicKey) -> bool:
    try:
        return public_key_to_jwk(first) == public_key_to_jwk(second)
    except KeyError_:
        return False


def _resolve(resolver: KeyResolver, method_id: str) -> VerificationMethod:
    try:
        return resolver.resolve(method_id)
    except VCError as err:
        message = f"Key {method_id!r:.120} was not resolved: {err}"
        raise JwtError(message, code="key_not_resolved") from err


def _choose_key(
    header: dict[str, Any], iss: Any, resolver: KeyResolver | None
) -> tuple[PublicKey, VerificationMethod, KeySource]:
    """The key that must have signed, always one the issuer's controller document lists.

    ``kid`` is dereferenced through ``resolver``. A ``jwk`` header is only a claim by whoever
    made the token: it is trusted when it equals a key the document of ``iss`` lists (the
    did:key of that very key, or a method of the issuer's DID document), never on its own word:
    otherwise anyone could sign any payload with their own key and name any issuer in ``iss``.
    Without either header, a did:key ``iss`` names its only key.
    """
    kid, jwk = header.get("kid"), header.get("jwk")
    resolver = resolver or DidKeyResolver()
    if kid is not None:
        if not isinstance(kid, str) or not kid:
            raise JwtError("The kid header must be a non-empty string", code="malformed_jwt")
        if kid.startswith("#") and isinstance(iss, str):
            kid = iss.split("#", 1)[0] + kid
        elif ":" not in kid:
            message = f"kid {kid!r:.60} is neither a URI nor a fragment of iss"
            raise JwtError(message, code="key_not_resolved")
        method = _resolve(resolver, kid)
        if jwk is not None and not _same_key(_header_jwk(jwk), method.public_key):
            message = "The jwk header is not the key that kid resolves to"
            raise JwtError(message, code="controller_mismatch")
        return method.public_key, method, "kid"
    if jwk is None:
        if isinstance(iss, str) and iss.startswith("did:key:"):
            method = _resolve(DidKeyResolver(), iss)
            return method.public_key, method, "kid"
        raise JwtError("The header names no key: it needs kid or jwk", code="key_not_resolved")
    public_key = _header_jwk(jwk)
    return public_key, _published_method(resolver, iss, public_key), "jwk"


def _published_method(resolver: KeyResolver, iss: Any, public_key: PublicKey) -> VerificationMethod:
    """The issuer's method holding ``public_key`` (``assertionMethod`` first), or ``key_not_published``."""
    if not isinstance(iss, str) or not iss:
        raise JwtError("The JWT has no iss claim, so its jwk header belongs to nobody", code="key_not_published")
    controller = iss.split("#", 1)[0]
    try:
        methods = resolver.methods_of(controller)
    except VCError as err:
        message = f"The keys of the issuer {controller!r:.120} were not resolved: {err}"
        raise JwtError(message, code="key_not_resolved") from err
    matching = [method for method in methods if _same_key(public_key, method.public_key)]
    if not matching:
        message = f"Signed by a key the issuer does not publish: the jwk header is not a key of {controller:.120}"
        raise JwtError(message, code="key_not_published")
    return next((m for m in matching if "assertionMethod" in m.purposes), matching[0])


def _signature_is_valid(key: PublicKey, signing_input: bytes, signature: bytes) -> bool:
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, signing_input)
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
        else:
            if len(signature) != 64:
                return False
            r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


# --- verification ----------------------------------------------------------------------------


def verify_vc_jwt(
    token: str,
    key_resolver: KeyResolver | None,
    *,
    allowed_algorithms: frozenset[str] = SUPPORTED_ALGORITHMS,
    now: datetime | None = None,
    leeway: timedelta = timedelta(minutes=5),
) -> JwtVerification:
    """Verify an OB 3.0 VC-JWT; raises :class:`JwtError` with a stable ``code`` when it fails.

    In order: strict parsing; ``alg`` against the allow-list (before any key); refused headers;
    the key (``kid`` dereferenced through ``key_resolver``, a ``#fragment`` relative to ``iss``,
    did:key alone when ``key_resolver`` is None; or the ``jwk`` header, trusted only when the
    controller document of ``iss`` lists that very key, else ``key_not_published``; with
    neither, a did:key ``iss``); key type against ``alg``; the
    signature; the claims against the credential; the key's controller (the issuer) and purpose
    (``assertionMethod``); the validity window against ``now``, give or take ``leeway``.
    """
    header, payload, signing_input, signature = _parse(token)
    warnings: list[str] = []
    algorithm = _check_header(header, allowed_algorithms, warnings)
    public_key, method, source = _choose_key(header, payload.get("iss"), key_resolver)
    _check_key_fits_algorithm(public_key, algorithm)
    if not _signature_is_valid(public_key, signing_input, signature):
        raise JwtError("The signature does not verify", code="bad_signature")

    credential = credential_in(payload)
    check_identity_claims(payload, credential, warnings)
    not_before, expiry = check_date_claims(payload, credential, warnings)
    if method.controller != payload["iss"]:
        message = f"Key {method.id} is controlled by {method.controller}, not by the issuer"
        raise JwtError(message, code="controller_mismatch")
    if "assertionMethod" not in method.purposes:
        message = f"Key {method.id} is not listed under assertionMethod"
        raise JwtError(message, code="purpose_mismatch")

    moment = now or datetime.now(UTC)
    instant = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    slack = leeway.total_seconds()
    if instant + slack < not_before:
        raise JwtError("The credential is not valid yet (nbf is ahead)", code="not_yet_valid")
    if expiry is not None and instant >= expiry + slack:
        raise JwtError("The credential has expired (exp has passed)", code="expired")
    return JwtVerification(
        credential=credential,
        header=header,
        payload=payload,
        algorithm=algorithm,
        verification_method=method.id,
        key_source=source,
        warnings=tuple(warnings),
    )
