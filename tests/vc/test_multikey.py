"""Key encodings: Multikey, multibase (base58btc) and JWK."""

import base58
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from service.vc.errors import KeyError_
from service.vc.keys import ed25519_key_file, generate_ed25519, load_ed25519_key_file
from service.vc.multikey import (
    BASE58_ALPHABET,
    base58btc_decode,
    base58btc_encode,
    ed25519_private_from_multibase,
    jwk_to_public_key,
    multibase_decode,
    multibase_encode,
    multikey_to_public_key,
    public_key_to_jwk,
    public_key_to_multikey,
)
from tests.standards import VC_DI_EDDSA, load_json
from tests.vc.conftest import load_pem


def test_w3c_key_pair_decodes_to_matching_public_and_private_keys():
    pair = load_json(VC_DI_EDDSA / "keyPair.json")
    key = ed25519_private_from_multibase(pair["privateKeyMultibase"])
    assert public_key_to_multikey(key.public_key()) == pair["publicKeyMultibase"]


def test_ed25519_multikey_starts_with_z6mk_and_round_trips():
    public = generate_ed25519().public_key()
    encoded = public_key_to_multikey(public)
    assert encoded.startswith("z6Mk") and multikey_to_public_key(encoded) == public


def test_p256_multikey_starts_with_zdn_and_round_trips():
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    encoded = public_key_to_multikey(public)
    assert encoded.startswith("zDn") and multikey_to_public_key(encoded) == public


@pytest.mark.parametrize("name", ["issuer-rsa2048.pem", "issuer-p256.pem"])
def test_jwk_round_trips_without_private_members(name):
    public = load_pem(name).public_key()
    jwk = public_key_to_jwk(public)
    assert "d" not in jwk and jwk_to_public_key(jwk) == public


def test_a_jwk_with_private_members_is_refused():
    with pytest.raises(KeyError_):
        jwk_to_public_key({"kty": "OKP", "crv": "Ed25519", "x": "AAAA", "d": "BBBB"})


def test_a_symmetric_jwk_is_refused():
    with pytest.raises(KeyError_):
        jwk_to_public_key({"kty": "oct", "k": "c2VjcmV0"})


@pytest.mark.parametrize("bad", ["", "z", "uAAAA", "z0OIl", 42])
def test_malformed_multikeys_are_refused(bad):
    with pytest.raises(KeyError_):
        multikey_to_public_key(bad)


def test_key_file_round_trips_and_checks_its_public_key():
    key = generate_ed25519()
    data = ed25519_key_file(key)
    assert load_ed25519_key_file(data).public_key() == key.public_key()
    data["publicKeyMultibase"] = public_key_to_multikey(generate_ed25519().public_key())
    with pytest.raises(KeyError_):
        load_ed25519_key_file(data)


# --- base58btc ----------------------------------------------------------------------------------

# draft-msporny-base58-03 section 5 (test vectors), plus leading zero bytes and the empty string
BASE58_VECTORS = [
    (b"Hello World!", "2NEpo7TZRRrLZSi2U"),
    (
        b"The quick brown fox jumps over the lazy dog.",
        "USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z",
    ),
    (bytes.fromhex("00000000287fb4cd"), "1111233QC4"),
    (b"", ""),
    (b"\0", "1"),
    (b"\0\0\0", "111"),
]


@pytest.mark.parametrize(("data", "text"), BASE58_VECTORS)
def test_base58btc_known_answers(data, text):
    assert base58btc_encode(data) == text
    assert base58btc_decode(text) == data
    if text:
        assert multibase_decode("z" + text) == data


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.binary(max_size=80))
def test_base58btc_matches_the_base58_package_on_any_bytes(data):
    text = base58.b58encode(data).decode("ascii")
    assert base58btc_encode(data) == text
    assert base58btc_decode(text) == data
    assert multibase_encode(data) == "z" + text


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.text(alphabet=BASE58_ALPHABET, max_size=120))
def test_every_base58btc_spelling_is_the_canonical_one(text):
    """Any string of alphabet characters decodes as the base58 package does and encodes back to
    itself, so the decoder needs no re-encoding to refuse a second spelling of a signature."""
    assert base58btc_decode(text) == base58.b58decode(text)
    assert base58btc_encode(base58btc_decode(text)) == text


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("z2NEpo7TZRRrLZSi2U ", "Not the canonical base58btc spelling"),
        ("z2NEpo7TZRRrLZSi2U\n", "Not the canonical base58btc spelling"),
        (" z2NEpo7", "Not a multibase base58btc value"),
        ("z 2NEpo7", "Invalid base58btc: Invalid character ' '"),
        ("z2NEp0", "Invalid base58btc: Invalid character '0'"),
        ("zOIl", "Invalid base58btc: Invalid character 'O'"),
        ("z2NE\u00e9", "Invalid base58btc: Invalid character '\u00e9'"),
        ("z\uff12", "Invalid base58btc"),  # a full-width digit is not an alphabet character
    ],
)
def test_multibase_refuses_whitespace_and_characters_outside_the_alphabet(value, message):
    with pytest.raises(KeyError_, match=message) as caught:
        multibase_decode(value)
    assert caught.value.code == "malformed_multibase"
