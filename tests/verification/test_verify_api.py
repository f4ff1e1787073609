"""POST /v1/verify: anyone verifies a credential, in any format, from any issuer.

The answer is 200 with the report whatever the verdict; only a request the route cannot read
(a Content-Type it does not take, a multipart upload without `file`, a body over the upload limit)
is an error.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from service.vc.baking import bake_png, bake_svg
from service.vc.data_integrity import sign
from service.vc.did import VerificationMethod
from service.vc.errors import KeyResolutionError
from service.vc.keys import LocalSigner, did_key_signer, generate_ed25519
from service.vc.openbadges import Achievement, IssuerProfile, build_achievement_credential
from tests.credentials.helpers import MEDIA_TYPES, assert_error

ALTERNATIVE_TYPES = {"jsonld": "application/json", "jwt": "text/plain"}


@pytest.fixture
def issued(api, achievement):
    return api.issue(achievement["id"], {"email": "ada@example.org"})


def _fetch(api, credential_id: str, fmt: str) -> bytes:
    response = api.client.get(f"/v1/credentials/{credential_id}/{fmt}", headers=api.admin)
    assert response.status_code == 200
    return response.content


def _verify(client, content: bytes | str, content_type: str) -> dict:
    response = client.post("/v1/verify", content=content, headers={"Content-Type": content_type})
    assert response.status_code == 200, response.text
    report = response.json()
    assert set(report) == {"verified", "format", "checks"}
    return report


def _outcomes(report: dict) -> dict[str, str]:
    return {check["id"]: check["outcome"] for check in report["checks"]}


def _failed(report: dict) -> dict[str, str]:
    return {check["id"]: check["reason"] for check in report["checks"] if check["outcome"] == "failed"}


@pytest.mark.parametrize("fmt", ["jsonld", "jwt", "png", "svg"])
def test_every_format_of_an_issued_credential_verifies_without_signing_in(api, issued, fmt):
    content = _fetch(api, issued["id"], fmt)

    report = _verify(api.client, content, MEDIA_TYPES[fmt])

    assert report["verified"] is True, report
    assert report["format"] == {"jsonld": "json-ld", "jwt": "vc-jwt"}.get(fmt, fmt)
    outcomes = _outcomes(report)
    assert outcomes["issuer_key"] == "passed"
    assert outcomes["proof" if fmt != "jwt" else "jwt"] == "passed"
    if fmt in ALTERNATIVE_TYPES:
        assert _verify(api.client, content, ALTERNATIVE_TYPES[fmt])["verified"] is True


@pytest.mark.parametrize("fmt", ["jsonld", "jwt", "png", "svg"])
def test_a_multipart_upload_verifies_too(api, issued, fmt):
    content = _fetch(api, issued["id"], fmt)

    response = api.client.post("/v1/verify", files={"file": (f"badge.{fmt}", content, MEDIA_TYPES[fmt])})

    assert response.status_code == 200 and response.json()["verified"] is True, response.text


def test_the_credential_in_the_issue_response_verifies_as_posted_json(api, issued):
    report = _verify(api.client, json.dumps(issued["credential"]), "application/json")

    assert report["verified"] is True


def test_a_tampered_json_ld_credential_fails_the_proof_check(api, issued):
    credential = json.loads(_fetch(api, issued["id"], "jsonld"))
    credential["credentialSubject"]["achievement"]["name"] = "Rocket science"

    report = _verify(api.client, json.dumps(credential), "application/vc+ld+json")

    assert report["verified"] is False
    assert "proof" in _failed(report)


def test_a_tampered_vc_jwt_fails_the_jwt_check(api, issued):
    header, payload, signature = _fetch(api, issued["id"], "jwt").decode().split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]

    report = _verify(api.client, f"{header}.{payload}.{flipped}", "application/vc+jwt")

    assert report["verified"] is False
    assert "jwt" in _failed(report)


def test_a_tampered_credential_baked_into_an_image_fails(api, issued):
    png = _fetch(api, issued["id"], "png")
    credential = json.loads(_fetch(api, issued["id"], "jsonld"))
    credential["validFrom"] = "2001-01-01T00:00:00Z"

    report = _verify(api.client, bake_png(png, credential), "image/png")

    assert report["verified"] is False and report["format"] == "png"
    assert "proof" in _failed(report)


def test_after_key_rotation_old_credentials_still_verify_and_new_ones_use_the_new_keys(api, issuer, achievement):
    old = api.issue(achievement["id"])
    rotated = api.client.post(f"/v1/issuers/{issuer['id']}/keys/rotate", headers=api.admin)
    assert rotated.status_code == 200, rotated.text
    new = api.issue(achievement["id"])

    assert old["credential"]["proof"][0]["verificationMethod"] == f"{issuer['did']}#key-1"
    assert new["credential"]["proof"][0]["verificationMethod"] == f"{issuer['did']}#key-2"
    for credential in (old, new):
        for fmt in ("jsonld", "jwt", "png"):
            report = _verify(api.client, _fetch(api, credential["id"], fmt), MEDIA_TYPES[fmt])
            assert report["verified"] is True, (credential["id"], fmt, report)
    new_jwt = _fetch(api, new["id"], "jwt").decode()
    assert f"{issuer['did']}#rsa-2" in json.dumps(_jwt_header(new_jwt))


def _jwt_header(token: str) -> dict:
    import base64

    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


def _outside_credential(issuer_id: str) -> dict:
    return build_achievement_credential(
        credential_id="urn:uuid:4f6c1b52-0d3f-4a2e-9a43-6a5d2c7f1e11",
        issuer=IssuerProfile(id=issuer_id, name="Elsewhere Academy"),
        achievement=Achievement(
            id="https://elsewhere.example/achievements/1",
            name="Welding",
            description="Welds.",
            criteria_narrative="Weld a joint.",
        ),
        recipient_did="did:example:ebfeb1f712ebc6f1c276e12ec21",
        valid_from=datetime(2024, 1, 1, tzinfo=UTC),
    )


def test_a_credential_from_another_issuer_with_a_did_key_verifies(client):
    signer = did_key_signer(generate_ed25519())
    did = signer.verification_method.partition("#")[0]
    credential = sign(_outside_credential(did), signer, proof_as_list=True)

    report = _verify(client, json.dumps(credential), "application/json")

    assert report["verified"] is True, report


class RecordingResolver:
    """Stands in for the app's remote did:web resolver: records ids, answers from ``keys``."""

    def __init__(self, keys: dict | None = None) -> None:
        self.keys = keys or {}
        self.asked: list[str] = []

    def resolve(self, verification_method_id: str) -> VerificationMethod:
        self.asked.append(verification_method_id)
        if verification_method_id not in self.keys:
            raise KeyResolutionError(f"{verification_method_id!r} could not be fetched (unreachable: test)")
        return self.keys[verification_method_id]


@pytest.fixture
def remote(app) -> RecordingResolver:
    resolver = RecordingResolver()
    app.state.verifier = replace(app.state.verifier, remote_keys=resolver)
    return resolver


def test_a_foreign_did_web_is_resolved_by_the_remote_resolver(client, remote):
    did = "did:web:elsewhere.example"
    key = generate_ed25519()
    remote.keys[f"{did}#key-1"] = VerificationMethod(
        f"{did}#key-1", "Multikey", did, key.public_key(), frozenset({"assertionMethod"})
    )
    credential = sign(_outside_credential(did), LocalSigner(key, f"{did}#key-1"), proof_as_list=True)

    report = _verify(client, json.dumps(credential), "application/json")

    assert report["verified"] is True, report
    assert remote.asked == [f"{did}#key-1"]


def test_a_foreign_did_web_that_cannot_be_fetched_fails_the_issuer_key_check(client, remote):
    did = "did:web:elsewhere.example"
    credential = sign(_outside_credential(did), LocalSigner(generate_ed25519(), f"{did}#key-1"), proof_as_list=True)

    report = _verify(client, json.dumps(credential), "application/json")

    assert report["verified"] is False
    failed = _failed(report)
    assert "issuer_key" in failed and "could not be fetched" in failed["issuer_key"]
    assert remote.asked == [f"{did}#key-1"]


@pytest.mark.parametrize(
    "did",
    [
        "did:web:skillcred.example:issuers:unknown",
        "did:web:SkillCred.example%3A8443",
    ],
)
def test_a_did_web_on_this_services_own_host_is_never_fetched(client, remote, did):
    credential = sign(_outside_credential(did), LocalSigner(generate_ed25519(), f"{did}#key-1"), proof_as_list=True)

    report = _verify(client, json.dumps(credential), "application/json")

    assert report["verified"] is False
    assert "own host" in _failed(report)["issuer_key"]
    assert remote.asked == []


def test_a_credential_claiming_a_local_issuer_but_signed_by_another_key_fails(api, issuer, issued):
    credential = json.loads(_fetch(api, issued["id"], "jsonld"))
    del credential["proof"]
    forged = sign(credential, LocalSigner(generate_ed25519(), f"{issuer['did']}#key-1"), proof_as_list=True)

    report = _verify(api.client, json.dumps(forged), "application/json")

    assert report["verified"] is False and "proof" in _failed(report)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b"[1, 2, 3]", "application/vc+ld+json"),
        (b'{"hello": "world"}', "application/json"),
        (b"not.a.jwt!", "text/plain"),
        (b"eyJhbGciOiJub25lIn0.eyJ9.", "application/vc+jwt"),
        (b"\x89PNG\r\n\x1a\nnot really", "image/png"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"),
        (b"\xff\xfe\x00garbage", "text/plain"),
    ],
)
def test_malformed_input_is_a_failed_report_not_an_error(client, content, content_type):
    response = client.post("/v1/verify", content=content, headers={"Content-Type": content_type})

    assert response.status_code == 200, response.text
    assert response.json()["verified"] is False
    assert _failed(response.json())
    assert "Traceback" not in response.text


def test_a_svg_with_an_entity_bomb_is_refused_in_the_report(client):
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        '<svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>'
    )

    report = _verify(client, bomb, "image/svg+xml")

    assert report["verified"] is False and "baked_image" in _failed(report)


@pytest.mark.parametrize("content_type", ["application/xml", "image/gif", "application/x-www-form-urlencoded"])
def test_another_content_type_is_415(client, content_type):
    response = client.post("/v1/verify", content=b"{}", headers={"Content-Type": content_type})

    assert_error(response, 415, "unsupported_media_type")


def test_a_missing_content_type_is_415(client):
    assert_error(client.post("/v1/verify", content=b"{}"), 415, "unsupported_media_type")


def test_a_multipart_upload_without_a_file_field_is_422(client):
    response = client.post("/v1/verify", files={"credential": ("badge.json", b"{}", "application/json")})

    assert_error(response, 422, "validation_error")


def test_a_broken_multipart_body_is_400(client):
    no_boundary = client.post("/v1/verify", content=b"garbage", headers={"Content-Type": "multipart/form-data"})
    two_files = client.post(
        "/v1/verify",
        files=[("file", ("a.json", b"{}", "application/json")), ("file", ("b.json", b"{}", "application/json"))],
    )

    assert_error(no_boundary, 400, "bad_request")
    assert_error(two_files, 400, "bad_request")


def test_a_body_over_the_upload_limit_is_413(client, settings):
    content = b"{" + b" " * settings.max_upload_bytes + b"}"

    assert_error(
        client.post("/v1/verify", content=content, headers={"Content-Type": "application/json"}),
        413,
        "payload_too_large",
    )


def test_a_badge_image_over_the_ordinary_body_limit_is_still_accepted(api, issued, settings):
    # verify takes the larger upload limit, so big badge images can be checked
    big = bake_svg(
        "<svg xmlns='http://www.w3.org/2000/svg'><desc>" + "x" * (settings.max_body_bytes + 10) + "</desc></svg>",
        json.loads(_fetch(api, issued["id"], "jsonld")),
    )

    assert _verify(api.client, big, "image/svg+xml")["verified"] is True
