"""Signers and Ed25519 verification.

:func:`verify_ed25519` verifies with libsodium (PyNaCl). These tests show it accepts what RFC 8032
signs (its test vectors, and every signature ``cryptography`` makes) and refuses at least what
OpenSSL (``cryptography``) refuses, on malformed and non-canonical inputs in the manner of
Wycheproof's EdDSA cases; where the two differ (small-order and non-canonical public keys), it is
libsodium that refuses.
"""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

from service.vc.keys import LocalSigner, did_key_signer, verify_ed25519

#: The order of the Ed25519 base point (RFC 8032 5.1) and the field prime.
L = 2**252 + 27742317777372353535851937790883648493
P = 2**255 - 19
IDENTITY = (1).to_bytes(32, "little")  # the neutral element (x = 0, y = 1): order 1

# RFC 8032 7.1, TEST 1, TEST 2 and TEST 3: (secret key, public key, message, signature)
RFC8032_VECTORS = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
        "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
        "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
]


def openssl_verifies(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """The same question put to OpenSSL through ``cryptography``."""
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


@pytest.fixture(scope="module")
def signed() -> tuple[bytes, bytes, bytes]:
    private = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    message = b"\x01" * 64  # eddsa-rdfc-2022 signs two SHA-256 digests
    return private.public_key().public_bytes_raw(), private.sign(message), message


@pytest.mark.parametrize(("secret", "public", "message", "signature"), RFC8032_VECTORS)
def test_rfc8032_vectors_verify(secret, public, message, signature):
    private = ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(secret))
    assert private.public_key().public_bytes_raw().hex() == public
    assert private.sign(bytes.fromhex(message)).hex() == signature
    assert verify_ed25519(bytes.fromhex(public), bytes.fromhex(signature), bytes.fromhex(message))
    assert verify_ed25519(private.public_key(), bytes.fromhex(signature), bytes.fromhex(message))
    assert not verify_ed25519(bytes.fromhex(public), bytes.fromhex(signature), bytes.fromhex(message) + b"\0")


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(seed=st.binary(min_size=32, max_size=32), message=st.binary(max_size=200))
def test_every_signature_cryptography_makes_verifies(seed, message):
    private = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    signature = private.sign(message)
    assert verify_ed25519(private.public_key(), signature, message)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(position=st.integers(0, 159), bit=st.integers(0, 7))
def test_a_flipped_bit_anywhere_fails_for_both_libraries(signed, position, bit):
    public_key, signature, message = (bytearray(part) for part in signed)
    parts = [public_key, signature, message]
    part, offset = (0, position) if position < 32 else (1, position - 32) if position < 96 else (2, position - 96)
    parts[part][offset] ^= 1 << bit
    arguments = tuple(bytes(p) for p in parts)
    assert not verify_ed25519(*arguments)
    assert not openssl_verifies(*arguments)


def with_s(signature: bytes, s: int) -> bytes:
    return signature[:32] + s.to_bytes(32, "little")


def malformed_cases(public_key: bytes, signature: bytes, message: bytes) -> dict[str, tuple[bytes, bytes, bytes]]:
    s = int.from_bytes(signature[32:], "little")
    return {
        "S + L (a second encoding of S)": (public_key, with_s(signature, s + L), message),
        "S = L": (public_key, with_s(signature, L), message),
        "S = 2^256 - 1": (public_key, with_s(signature, 2**256 - 1), message),
        "signature of 63 bytes": (public_key, signature[:63], message),
        "signature of 65 bytes": (public_key, signature + b"\0", message),
        "signature moved into the message": (public_key, signature[:63], signature[63:] + message),
        "empty signature": (public_key, b"", message),
        "public key of 31 bytes": (public_key[:31], signature, message),
        "public key of 33 bytes": (public_key + b"\0", signature, message),
        "R not on the curve": (public_key, b"\xff" * 32 + signature[32:], message),
        "R with y = p + 1 (non-canonical)": (public_key, (P + 1).to_bytes(32, "little") + signature[32:], message),
        "public key y = p - 1 (order 2)": ((P - 1).to_bytes(32, "little"), IDENTITY + bytes(32), message),
        "public key all zero": (bytes(32), IDENTITY + bytes(32), message),
        "public key all 0xff": (b"\xff" * 32, signature, message),
    }


@pytest.mark.parametrize("case", list(malformed_cases(bytes(32), bytes(64), b"")))  # the names
def test_both_libraries_refuse_malformed_and_non_canonical_signatures(signed, case):
    arguments = malformed_cases(*signed)[case]
    assert not verify_ed25519(*arguments)
    assert not openssl_verifies(*arguments)


@pytest.mark.parametrize(
    "public_key",
    [IDENTITY, (P + 1).to_bytes(32, "little")],  # the neutral element, canonical and not
    ids=["identity", "identity-non-canonical"],
)
@pytest.mark.parametrize("message", [b"", b"any message at all", b"\x01" * 64])
def test_a_small_order_public_key_verifies_nothing(public_key, message):
    """R = identity, S = 0 satisfies [S]B = R + [k]A for A of order 1, whatever the message:
    OpenSSL accepts it (the reason this project verifies with libsodium), libsodium refuses it."""
    signature = IDENTITY + bytes(32)
    assert openssl_verifies(public_key, signature, message)
    assert not verify_ed25519(public_key, signature, message)


@pytest.mark.parametrize("bad", [None, "not bytes", bytearray(64)])
def test_anything_but_bytes_is_refused(signed, bad):
    public_key, signature, message = signed
    assert not verify_ed25519(bad, signature, message)  # type: ignore[arg-type]
    assert not verify_ed25519(public_key, bad, message)  # type: ignore[arg-type]
    assert not verify_ed25519(public_key, signature, bad)  # type: ignore[arg-type]


def test_a_local_signer_signature_verifies_under_its_public_key():
    signer: LocalSigner = did_key_signer(ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33))))
    signature = signer.sign(b"data")
    assert isinstance(signer.public_key, ed25519.Ed25519PublicKey)
    assert verify_ed25519(signer.public_key, signature, b"data")
    assert not verify_ed25519(signer.public_key, signature, b"date")
