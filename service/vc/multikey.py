"""Key encodings: multibase base58btc, Multikey (Ed25519 ``z6Mk...``, P-256 ``zDn...``) and JWK."""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from jwt.exceptions import InvalidKeyError

from .errors import KeyError_

PublicKey = ed25519.Ed25519PublicKey | rsa.RSAPublicKey | ec.EllipticCurvePublicKey
PrivateKey = ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

# multicodec varint headers
ED25519_PUB = b"\xed\x01"
ED25519_PRIV = b"\x80\x26"
P256_PUB = b"\x80\x24"


# base58btc (draft-msporny-base58-03, the Bitcoin alphabet): multibase prefix ``z``. A table
# codec rather than the ``base58`` package: a proofValue decodes in about 5 us instead of 25 (issue 15,
# bench/schema_and_crypto.py); tests/vc/test_multikey.py checks it against ``base58``.
BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_VALUE = {char: value for value, char in enumerate(BASE58_ALPHABET)}
_BASE58_PAIRS = [first + second for first in BASE58_ALPHABET for second in BASE58_ALPHABET]
_BASE58_PAIR_VALUE = {pair: value for value, pair in enumerate(_BASE58_PAIRS)}


def base58btc_encode(data: bytes) -> str:
    """base58btc text of ``data``: one ``1`` per leading zero byte, then the number in base 58."""
    number = int.from_bytes(data, "big")
    pairs = []
    while number:
        number, pair = divmod(number, 58 * 58)
        pairs.append(_BASE58_PAIRS[pair])
    digits = "".join(reversed(pairs)).lstrip("1")
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + digits


def base58btc_decode(text: str) -> bytes:
    """The bytes of base58btc ``text``; ValueError for any character outside the alphabet
    (whitespace included). Each byte string has exactly one spelling, so decoding and encoding
    again gives back ``text``."""
    # two digits at a time (58 * 58 per step): half the big-integer steps of one at a time
    odd = len(text) % 2
    try:
        number = _BASE58_VALUE[text[0]] if odd else 0
        for start in range(odd, len(text), 2):
            number = number * 3364 + _BASE58_PAIR_VALUE[text[start : start + 2]]
    except KeyError:
        bad = next(char for char in text if char not in _BASE58_VALUE)
        raise ValueError(f"Invalid character {bad!r}") from None
    zeros = len(text) - len(text.lstrip("1"))
    return b"\0" * zeros + number.to_bytes((number.bit_length() + 7) // 8, "big")


def multibase_encode(data: bytes) -> str:
    """Multibase base58btc: ``z`` + base58btc(data)."""
    return "z" + base58btc_encode(data)


def multibase_decode(value: str) -> bytes:
    """Decode a multibase base58btc (``z``) string; other bases are refused, and so is any
    character outside the alphabet (whitespace too: a signature has one spelling only)."""
    if not isinstance(value, str) or not value.startswith("z") or len(value) < 2:
        raise KeyError_(f"Not a multibase base58btc value: {value!r:.60}", code="malformed_multibase")
    try:
        return base58btc_decode(value[1:])
    except ValueError as err:
        if value[1:].rstrip() and all(char in _BASE58_VALUE for char in value[1:].rstrip()):
            raise KeyError_("Not the canonical base58btc spelling of its bytes", code="malformed_multibase") from err
        raise KeyError_(f"Invalid base58btc: {err}", code="malformed_multibase") from err


def public_key_to_multikey(key: PublicKey) -> str:
    """The Multikey ``publicKeyMultibase`` of an Ed25519 or P-256 public key."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return multibase_encode(ED25519_PUB + raw)
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        point = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
        return multibase_encode(P256_PUB + point)
    raise KeyError_(f"No Multikey encoding for {type(key).__name__}", code="unsupported_key_type")


def multikey_to_public_key(value: str) -> ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey:
    """Decode a Multikey ``publicKeyMultibase`` (Ed25519 or P-256)."""
    raw = multibase_decode(value)
    if raw[:2] == ED25519_PUB and len(raw) == 34:
        return ed25519.Ed25519PublicKey.from_public_bytes(raw[2:])
    if raw[:2] == P256_PUB and len(raw) == 35:
        try:
            return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw[2:])
        except ValueError as err:
            raise KeyError_(f"Invalid P-256 point: {err}", code="malformed_key") from err
    raise KeyError_("Unsupported or malformed Multikey public key", code="unsupported_key_type")


def ed25519_private_to_multibase(key: ed25519.Ed25519PrivateKey) -> str:
    """``secretKeyMultibase``: multicodec ed25519-priv + the 32-byte seed (as in the W3C vectors)."""
    seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    return multibase_encode(ED25519_PRIV + seed)


def ed25519_private_from_multibase(value: str) -> ed25519.Ed25519PrivateKey:
    """Decode ``secretKeyMultibase`` (32-byte seed, or the 64-byte seed + public key form)."""
    raw = multibase_decode(value)
    if raw[:2] != ED25519_PRIV or len(raw) not in (34, 66):
        raise KeyError_("Not an Ed25519 secretKeyMultibase", code="unsupported_key_type")
    key = ed25519.Ed25519PrivateKey.from_private_bytes(raw[2:34])
    if len(raw) == 66 and raw[34:] != key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    ):
        raise KeyError_("secretKeyMultibase holds a public key that does not match", code="malformed_key")
    return key


def public_key_to_jwk(key: PublicKey) -> dict[str, Any]:
    """The public JWK (RFC 7517) of an Ed25519 (OKP), RSA or EC P-256 key; never private members."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        jwk = OKPAlgorithm.to_jwk(key, as_dict=True)
    elif isinstance(key, rsa.RSAPublicKey):
        jwk = RSAAlgorithm.to_jwk(key, as_dict=True)
    elif isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        jwk = ECAlgorithm.to_jwk(key, as_dict=True)
    else:
        raise KeyError_(f"No JWK encoding for {type(key).__name__}", code="unsupported_key_type")
    return {k: v for k, v in jwk.items() if k in ("kty", "crv", "x", "y", "n", "e")}


_PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


def jwk_to_public_key(jwk: Any) -> PublicKey:
    """Parse a public JWK (OKP Ed25519, RSA, EC P-256); private or symmetric members are refused."""
    if not isinstance(jwk, dict):
        raise KeyError_("A JWK must be a JSON object", code="malformed_key")
    if _PRIVATE_JWK_MEMBERS & jwk.keys():
        raise KeyError_("A public JWK must not carry private or symmetric key members", code="malformed_key")
    kty, text = jwk.get("kty"), json.dumps(jwk)
    key: object  # PyJWT's from_jwk returns a private or a public key; only a public one is accepted below
    try:
        if kty == "OKP" and jwk.get("crv") == "Ed25519":
            key = OKPAlgorithm.from_jwk(text)
        elif kty == "RSA":
            key = RSAAlgorithm.from_jwk(text)
        elif kty == "EC" and jwk.get("crv") == "P-256":
            key = ECAlgorithm.from_jwk(text)
        else:
            raise KeyError_(f"Unsupported JWK kty/crv {kty!r}/{jwk.get('crv')!r}", code="unsupported_key_type")
    except (InvalidKeyError, ValueError, TypeError) as err:
        raise KeyError_(f"Malformed JWK: {err}", code="malformed_key") from err
    if not isinstance(key, (ed25519.Ed25519PublicKey, rsa.RSAPublicKey, ec.EllipticCurvePublicKey)):
        raise KeyError_("JWK is not a public key", code="malformed_key")
    return key
