"""Key custody: sealed private keys, the KEK rules for development and production."""

import os
import stat

import pytest

from service.core.config import Settings
from service.core.keystore import DEV_KEK_PREFIX, Keystore, KeystoreError, load_kek, new_kek_text
from service.vc.keys import generate_ed25519


def settings(tmp_path, **overrides) -> Settings:
    return Settings(**{"dev_kek_file": tmp_path / "keys" / "dev-kek", **overrides})


def test_development_creates_a_private_dev_kek_once(tmp_path):
    first = load_kek(settings(tmp_path))
    path = tmp_path / "keys" / "dev-kek"
    assert first.source == "development" and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.read_text().startswith(DEV_KEK_PREFIX)
    assert load_kek(settings(tmp_path)).key == first.key


def test_production_refuses_to_start_without_a_kek(tmp_path):
    with pytest.raises(KeystoreError, match="Production needs"):
        load_kek(settings(tmp_path, env="production"))
    assert not (tmp_path / "keys" / "dev-kek").exists()


def test_production_refuses_the_development_kek(tmp_path):
    load_kek(settings(tmp_path))  # creates the dev KEK
    dev_file = tmp_path / "keys" / "dev-kek"
    with pytest.raises(KeystoreError, match="development"):
        load_kek(settings(tmp_path, env="production", kek_file=dev_file))
    with pytest.raises(KeystoreError, match="development"):
        load_kek(settings(tmp_path, env="production", kek=dev_file.read_text().strip()))


def test_production_accepts_a_kek_from_the_environment_or_a_file(tmp_path):
    text = new_kek_text()
    assert load_kek(settings(tmp_path, env="production", kek=text)).source == "env"
    kek_file = tmp_path / "kek"
    kek_file.write_text(text + "\n")
    assert (
        load_kek(settings(tmp_path, env="production", kek_file=kek_file)).key
        == load_kek(settings(tmp_path, env="production", kek=text)).key
    )


@pytest.mark.parametrize("bad", ["short", "!!!not-base64!!!", "dGVzdC1rZWstMDEyMzQ1Njc4OWFi"])
def test_malformed_keks_are_refused(tmp_path, bad):
    with pytest.raises(KeystoreError):
        load_kek(settings(tmp_path, kek=bad))


def test_sealed_keys_open_only_with_the_same_kek_and_key_id(tmp_path):
    keystore = Keystore(load_kek(settings(tmp_path, kek=new_kek_text())))
    key = generate_ed25519()
    sealed = keystore.seal(key, key_id="k1")
    signer = keystore.signer(sealed, key_id="k1", verification_method="did:web:x#key-1")
    assert signer.public_key == key.public_key()
    with pytest.raises(KeystoreError):
        keystore.signer(sealed, key_id="k2", verification_method="did:web:x#key-1")
    other = Keystore(load_kek(settings(tmp_path, kek=new_kek_text())))
    with pytest.raises(KeystoreError):
        other.signer(sealed, key_id="k1", verification_method="did:web:x#key-1")


def test_nothing_printable_holds_key_material(tmp_path):
    kek = load_kek(settings(tmp_path, kek=new_kek_text()))
    keystore = Keystore(kek)
    signer = keystore.signer(keystore.seal(generate_ed25519(), key_id="k"), key_id="k", verification_method="v")
    for text in (repr(kek), repr(keystore), repr(signer), str(signer)):
        assert "PRIVATE" not in text and kek.key.hex() not in text
