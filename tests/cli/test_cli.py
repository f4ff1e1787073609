"""The `skillcred` command line contract: verify, keys generate, sign."""

import json
import os
import stat
import subprocess
import sys

import pytest

from service.cli.main import main
from service.vc import data_integrity
from service.vc.baking import bake_png
from service.vc.did import PublishedKey, build_did_document
from service.vc.keys import LocalSigner
from tests.standards import OB3_IMPL_GUIDE, load_json
from tests.vc.conftest import KEYS, load_key_file
from tests.vc.test_baking import _tiny_png


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / "issuer.json"
    assert main(["keys", "generate", "--out", str(path)]) == 0
    return path


@pytest.fixture
def unsigned_file(tmp_path, key_file):
    credential = load_json(OB3_IMPL_GUIDE / "unsigned-credential.json")
    credential["issuer"]["id"] = json.loads(key_file.read_text())["controller"]
    path = tmp_path / "unsigned.json"
    path.write_text(json.dumps(credential))
    return path


def run(capsys, *args) -> tuple[int, str, str]:
    capsys.readouterr()  # drop what fixtures printed
    code = main(list(map(str, args)))
    out, err = capsys.readouterr()
    return code, out, err


def test_keys_generate_writes_a_private_file_and_prints_its_did_key(tmp_path, capsys):
    path = tmp_path / "k.json"
    code, out, _ = run(capsys, "keys", "generate", "--out", path)
    assert code == 0 and out.strip().startswith("did:key:z6Mk")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text())["controller"] == out.strip()


def test_keys_generate_does_not_overwrite_without_force(key_file, capsys):
    code, _, err = run(capsys, "keys", "generate", "--out", key_file)
    assert code == 2 and "exists" in err


@pytest.mark.parametrize("as_jwt", [False, True])
def test_sign_then_verify_round_trips(tmp_path, capsys, key_file, unsigned_file, as_jwt):
    code, out, _ = run(capsys, "sign", unsigned_file, "--key", key_file, *(["--jwt"] if as_jwt else []))
    assert code == 0
    signed = tmp_path / "signed.out"
    signed.write_text(out)
    code, out, _ = run(capsys, "verify", signed, "--json")
    report = json.loads(out)
    assert code == 0 and report["verified"] is True
    assert all({"id", "outcome", "reason"} <= set(c) for c in report["checks"])


def test_verify_prints_readable_text_and_exits_non_zero_when_not_verified(tmp_path, capsys, key_file, unsigned_file):
    _, out, _ = run(capsys, "sign", unsigned_file, "--key", key_file)
    tampered = json.loads(out)
    tampered["name"] = "Something else"
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(tampered))
    code, out, _ = run(capsys, "verify", path)
    assert code == 1 and out.startswith("NOT VERIFIED") and "[FAIL] proof" in out


def test_verify_reads_baked_images(tmp_path, capsys, key_file, unsigned_file):
    _, out, _ = run(capsys, "sign", unsigned_file, "--key", key_file)
    badge = tmp_path / "badge.png"
    badge.write_bytes(bake_png(_tiny_png(), out))
    code, out, _ = run(capsys, "verify", badge, "--json")
    assert code == 0 and json.loads(out)["verified"]


def test_verify_resolve_supplies_a_foreign_issuers_did_document(tmp_path, capsys):
    key = load_key_file("issuer-ed25519.json")
    did = "did:web:issuer.example"
    document = build_did_document(did, [PublishedKey("key-1", key.public_key())])
    credential = load_json(OB3_IMPL_GUIDE / "unsigned-credential.json")
    credential["issuer"]["id"] = did
    signed = tmp_path / "signed.json"
    signed.write_text(json.dumps(data_integrity.sign(credential, LocalSigner(key, f"{did}#key-1"))))
    did_json = tmp_path / "did.json"
    did_json.write_text(json.dumps(document))
    code, _, _ = run(capsys, "verify", signed)
    assert code == 1
    code, out, _ = run(
        capsys, "verify", signed, "--json", "--resolve", f"https://issuer.example/.well-known/did.json={did_json}"
    )
    assert code == 0, out


def test_sign_warns_when_the_issuer_is_not_the_keys_did(tmp_path, capsys, key_file):
    credential = load_json(OB3_IMPL_GUIDE / "unsigned-credential.json")
    path = tmp_path / "u.json"
    path.write_text(json.dumps(credential))
    code, _, err = run(capsys, "sign", path, "--key", key_file)
    assert code == 0 and "warning" in err


def test_sign_refuses_undefined_terms_with_a_clear_message(tmp_path, capsys, key_file, unsigned_file):
    credential = json.loads(unsigned_file.read_text())
    credential["mystery"] = 1
    unsigned_file.write_text(json.dumps(credential))
    code, _, err = run(capsys, "sign", unsigned_file, "--key", key_file)
    assert code == 1 and "mystery" in err


def test_verify_of_a_missing_file_exits_2(capsys, tmp_path):
    code, _, err = run(capsys, "verify", tmp_path / "nope.json")
    assert code == 2 and "cannot read" in err


def test_the_console_script_is_installed():
    out = subprocess.run([sys.executable, "-m", "service.cli.main", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "verify" in out.stdout
    assert KEYS.exists()
