"""A VC-JWT forged in a SkillCred issuer's name never verifies.

The attack an outside tester found: take an issued credential's JWT payload, change it, keep
``iss`` = the issuer's did:web, sign it with your own key and put that key in the JOSE ``jwk``
header. A key from the header counts only when the issuer's DID document lists it, so the forgery
fails the ``issuer_key`` check with a plain reason, over REST and in ``skillcred verify``.
"""

from __future__ import annotations

import json

import pytest

from service.cli.main import main
from service.vc.jose import decode_vc_jwt_unverified, encode_compact_jws
from service.vc.keys import LocalSigner, generate_ed25519
from service.vc.multikey import public_key_to_jwk
from tests.credentials.helpers import MEDIA_TYPES, did_document

pytestmark = pytest.mark.attack

NOT_PUBLISHED = "signed by a key the issuer does not publish"


def _issued_jwt(api, credential_id: str) -> str:
    response = api.client.get(f"/v1/credentials/{credential_id}/jwt", headers=api.admin)
    assert response.status_code == 200, response.text
    return response.text


def _forge(token: str, change) -> str:
    """The token's payload changed by ``change``, re-signed by a stranger whose key rides in ``jwk``."""
    header, payload = decode_vc_jwt_unverified(token)
    change(payload)
    forger = LocalSigner(generate_ed25519(), "urn:forger")
    forged_header = {"alg": "EdDSA", "typ": header.get("typ", "JWT"), "jwk": public_key_to_jwk(forger.public_key)}
    return encode_compact_jws(forged_header, payload, forger)


def _verify(client, token: str) -> dict:
    response = client.post("/v1/verify", content=token, headers={"Content-Type": MEDIA_TYPES["jwt"]})
    assert response.status_code == 200, response.text
    return response.json()


def _failed(report: dict) -> dict[str, str]:
    return {check["id"]: check["reason"] for check in report["checks"] if check["outcome"] == "failed"}


@pytest.fixture
def issued(api, achievement):
    return api.issue(achievement["id"], {"email": "ada@example.org"})


def test_a_changed_payload_signed_by_a_key_in_the_jwk_header_is_not_verified(api, issued):
    def promote(payload):
        payload["credentialSubject"]["achievement"]["name"] = "Chief surgeon"

    report = _verify(api.client, _forge(_issued_jwt(api, issued["id"]), promote))

    assert report["verified"] is False
    failed = _failed(report)
    assert set(failed) == {"issuer_key"}, report
    assert NOT_PUBLISHED in failed["issuer_key"].lower()


def test_dropping_the_status_of_a_revoked_credential_does_not_unrevoke_it(api, issued):
    token = _issued_jwt(api, issued["id"])
    revoked = api.client.post(
        f"/v1/credentials/{issued['id']}/revoke", json={"reason": "Issued in error"}, headers=api.admin
    )
    assert revoked.status_code == 200, revoked.text
    assert _verify(api.client, token)["verified"] is False

    report = _verify(api.client, _forge(token, lambda payload: payload.pop("credentialStatus")))

    assert report["verified"] is False
    assert NOT_PUBLISHED in _failed(report)["issuer_key"].lower()


def test_the_genuine_token_still_verifies(api, issued):
    report = _verify(api.client, _issued_jwt(api, issued["id"]))

    assert report["verified"] is True, report


def test_skillcred_verify_exits_non_zero_on_the_forgery(api, issued, issuer, tmp_path, capsys):
    token = _forge(_issued_jwt(api, issued["id"]), lambda payload: payload.update(name="Forged"))
    (tmp_path / "forged.jwt").write_text(token)
    (tmp_path / "did.json").write_text(json.dumps(did_document(api.client, issuer)))
    capsys.readouterr()

    code = main(
        [
            "verify",
            str(tmp_path / "forged.jwt"),
            "--json",
            "--resolve",
            f"{issuer['did_document_url']}={tmp_path / 'did.json'}",
        ]
    )

    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert NOT_PUBLISHED in _failed(report)["issuer_key"].lower()
