"""POST /ims/ob/v3p0/credentials: a credential goes into its earner's backpack only once it
verifies and names that earner; it comes back from GET byte for byte. An earner sees what was
issued to them and what their backpack holds; platforms see it only as the earner lets them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from service.platforms import scopes
from tests.platforms.clients import client_token
from tests.platforms.ob_helpers import (
    OB,
    account_id,
    assert_imsx,
    earner_client_token,
    ob_schema_errors,
    provision,
)

EMAIL = "ana@example.com"
READ, UPSERT = scopes.CREDENTIAL_READONLY, scopes.CREDENTIAL_UPSERT


@pytest.fixture
def issuer(api) -> dict[str, Any]:
    return api.create_issuer("Acme Academy")


@pytest.fixture
def earner(api) -> dict[str, str]:
    """The earner's own (password) token headers."""
    return api.register_earner(EMAIL)


@pytest.fixture
def issued(api, issuer, earner) -> dict[str, Any]:
    """A credential the issuer issued to the earner, as POST /v1/credentials answered."""
    achievement = api.create_achievement(issuer["id"])
    return api.issue(achievement["id"], {"email": EMAIL})


def formats(client, api, credential_id: str) -> tuple[str, str]:
    """The credential's stored JSON-LD text and VC-JWT."""
    jsonld = client.get(f"/v1/credentials/{credential_id}/jsonld", headers=api.admin)
    jwt = client.get(f"/v1/credentials/{credential_id}/jwt", headers=api.admin)
    assert jsonld.status_code == jwt.status_code == 200
    return jsonld.text, jwt.text.strip()


def listed(client, headers) -> dict[str, Any]:
    response = client.get(f"{OB}/credentials", headers=headers)
    assert response.status_code == 200, response.text
    assert ob_schema_errors("getopenbadgecredentialsresponse.json", response.json()) == []
    return {"total": int(response.headers["X-Total-Count"]), "body": response.content, **response.json()}


def post_json(client, headers, text: str):
    return client.post(
        f"{OB}/credentials", content=text.encode(), headers={**headers, "Content-Type": "application/json"}
    )


def test_an_earner_lists_the_credentials_issued_to_them(client, earner, issued):
    mine = listed(client, earner)
    assert mine["total"] == 1
    assert mine["credential"] == [issued["credential"]]


def test_an_upsert_is_201_then_200_and_comes_back_byte_for_byte(client, api, earner, issued):
    jsonld, _ = formats(client, api, issued["id"])
    reformatted = json.dumps(json.loads(jsonld), indent=4, ensure_ascii=True)  # same credential, other bytes

    created = post_json(client, earner, reformatted)
    assert created.status_code == 201, created.text
    assert created.content == reformatted.encode()
    assert created.headers["content-type"].startswith("application/json")
    replaced = post_json(client, earner, reformatted)
    assert replaced.status_code == 200, replaced.text
    assert replaced.content == reformatted.encode()

    mine = listed(client, earner)
    assert mine["total"] == 1  # the upserted copy stands for the issued credential: listed once
    assert reformatted.encode() in mine["body"]
    assert jsonld.encode() not in mine["body"]


def test_a_compact_jws_is_upserted_as_text_plain(client, api, earner, issued):
    _, jwt = formats(client, api, issued["id"])
    response = client.post(
        f"{OB}/credentials", content=(jwt + "\n").encode(), headers={**earner, "Content-Type": "text/plain"}
    )
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert response.content == (jwt + "\n").encode()  # the body as sent

    mine = listed(client, earner)
    assert (mine["total"], mine["credential"], mine["compactJwsString"]) == (1, [], [jwt])


def test_a_tampered_credential_is_refused_with_the_failing_checks(client, api, earner, issued):
    tampered = json.loads(formats(client, api, issued["id"])[0])
    tampered["name"] = "Grand Master of Everything"
    body = assert_imsx(post_json(client, earner, json.dumps(tampered)), 400, "invalid_data")
    assert "proof" in body["imsx_description"]
    assert listed(client, earner)["compactJwsString"] == [] and listed(client, earner)["total"] == 1


def test_every_store_and_replace_is_in_the_audit_log_and_a_refusal_is_not(client, api, earner, issued):
    jsonld, _ = formats(client, api, issued["id"])
    tampered = json.loads(jsonld)
    tampered["name"] = "Grand Master of Everything"
    assert post_json(client, earner, json.dumps(tampered)).status_code == 400
    assert post_json(client, earner, jsonld).status_code == 201
    assert post_json(client, earner, jsonld).status_code == 200

    events = client.get("/v1/audit", params={"limit": 100}, headers=api.admin).json()["items"]
    backpack = [e for e in events if e["action"].startswith("backpack.")]
    assert sorted(e["action"] for e in backpack) == ["backpack.credential_replaced", "backpack.credential_stored"]
    assert {e["actor_id"] for e in backpack} == {client.get("/v1/me", headers=earner).json()["id"]}
    assert len({e["object_id"] for e in backpack}) == 1


def test_a_credential_about_someone_else_is_refused(client, api, issuer, earner):
    achievement = api.create_achievement(issuer["id"])
    theirs = api.issue(achievement["id"], {"email": "someone-else@example.com"})
    jsonld, _ = formats(client, api, theirs["id"])
    body = assert_imsx(post_json(client, earner, jsonld), 400, "invalid_data")
    assert "credentialSubject" in body["imsx_description"]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b"[1, 2]"),
        ("application/json", b'{"a": NaN}'),
        ("application/json", b"\xff\xfe{}"),
        ("text/plain", b"not a jws"),
    ],
)
def test_what_is_not_a_credential_is_400_invalid_data(client, earner, content_type, body):
    response = client.post(f"{OB}/credentials", content=body, headers={**earner, "Content-Type": content_type})
    assert_imsx(response, 400, "invalid_data")


def test_another_media_type_is_415(client, earner):
    response = client.post(f"{OB}/credentials", content=b"<svg/>", headers={**earner, "Content-Type": "image/svg+xml"})
    assert_imsx(response, 415, "invalid_data")


def test_an_issuers_client_has_no_backpack(app, client, api, issuer, issued):
    jsonld, _ = formats(client, api, issued["id"])
    headers = client_token(app, issuer["id"], UPSERT).headers
    body = assert_imsx(post_json(client, headers, jsonld), 403, "forbidden")
    assert "role" in body["imsx_description"]  # only earners have a backpack


def test_a_platform_the_earner_granted_reads_and_stores_for_them(app, client, api, earner, issued):
    headers = earner_client_token(app, account_id(app, EMAIL), f"{READ} {UPSERT}")
    jsonld, _ = formats(client, api, issued["id"])
    assert post_json(client, headers, jsonld).status_code == 201
    assert listed(client, headers)["body"] == listed(client, earner)["body"]


def test_a_grant_without_the_upsert_scope_cannot_store(app, client, api, earner, issued):
    headers = earner_client_token(app, account_id(app, EMAIL), READ)
    jsonld, _ = formats(client, api, issued["id"])
    assert_imsx(post_json(client, headers, jsonld), 403, "forbidden")


def test_an_issuers_client_acts_only_for_its_own_provisioned_earners(app, client, api, issuer, issued):
    ours = client_token(app, issuer["id"], f"{READ} {UPSERT}")
    provision(app, issuer["id"], ours.client_id, account_id(app, EMAIL))
    on_behalf = {**ours.headers, "On-Behalf-Of": account_id(app, EMAIL)}
    assert listed(client, on_behalf)["credential"] == [issued["credential"]]
    jsonld, _ = formats(client, api, issued["id"])
    assert post_json(client, on_behalf, jsonld).status_code == 201

    other = api.create_issuer("Other Academy")
    theirs = client_token(app, other["id"], f"{READ} {UPSERT}").headers
    response = client.get(f"{OB}/credentials", headers={**theirs, "On-Behalf-Of": account_id(app, EMAIL)})
    assert_imsx(response, 404, "not_found")
    assert_imsx(post_json(client, {**theirs, "On-Behalf-Of": account_id(app, EMAIL)}, jsonld), 404, "not_found")


def test_an_earner_with_an_unverified_address_sees_no_issued_credentials(client, api, issuer):
    headers = api.register_earner("unverified@example.com", verify=False)
    achievement = api.create_achievement(issuer["id"])
    api.issue(achievement["id"], {"email": "unverified@example.com"})
    assert listed(client, headers)["total"] == 0


def test_too_much_verification_in_flight_is_503_server_busy(app, client, api, earner, issued):
    from service.api.gates import ConcurrencyGate, Gates

    app.state.gates = Gates(app.state.gates.issuing, ConcurrencyGate("verification", 0, 0.01))
    jsonld, _ = formats(client, api, issued["id"])
    response = post_json(client, earner, jsonld)
    assert_imsx(response, 503, "server_busy")
    assert response.headers["Retry-After"]


def test_acting_for_an_earner_a_platform_sees_only_its_issuers_share(app, client, api, issuer, earner, issued):
    other = api.create_issuer("Other Academy")
    elsewhere = api.issue(api.create_achievement(other["id"])["id"], {"email": EMAIL})
    assert post_json(client, earner, formats(client, api, elsewhere["id"])[0]).status_code == 201  # the earner's own

    ours = client_token(app, issuer["id"], READ)
    provision(app, issuer["id"], ours.client_id, account_id(app, EMAIL))
    on_behalf = listed(client, {**ours.headers, "On-Behalf-Of": account_id(app, EMAIL)})
    assert (on_behalf["total"], on_behalf["credential"]) == (1, [issued["credential"]])
    assert listed(client, earner)["total"] == 2  # the earner sees both
