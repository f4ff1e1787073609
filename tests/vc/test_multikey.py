"""Key encodings: Multikey, multibase and JWK."""

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from service.vc.errors import KeyError_
from service.vc.keys import ed25519_key_file, generate_ed25519, load_ed25519_key_file
from service.vc.multikey import (
    ed25519_private_from_multibase,
    jwk_to_public_key,
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
