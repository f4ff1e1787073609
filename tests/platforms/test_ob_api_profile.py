"""GET/PUT /ims/ob/v3p0/profile (the issuer's Profile for its client, the earner's own) and
GET /ims/ob/v3p0/discovery (the Service Description Document, public)."""

from __future__ import annotations

from typing import Any

import pytest

from service.platforms import scopes
from tests.conftest import PUBLIC_URL
from tests.platforms.clients import client_token
from tests.platforms.ob_helpers import OB, account_id, assert_imsx, openapi_schema_errors, schema_errors

READ, UPDATE = scopes.PROFILE_READONLY, scopes.PROFILE_UPDATE


@pytest.fixture
def issuer(api) -> dict[str, Any]:
    return api.create_issuer("Acme Academy", email="badges@acme.example", description="We teach.")


def profile(client, headers) -> dict[str, Any]:
    response = client.get(f"{OB}/profile", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert schema_errors("profile.json", body) == []
    return body


def test_an_issuers_client_reads_the_issuers_profile(app, client, issuer):
    body = profile(client, client_token(app, issuer["id"], READ).headers)
    assert body == {
        "id": issuer["did"],
        "type": ["Profile"],
        "name": "Acme Academy",
        "url": "https://issuer.example",
        "email": "badges@acme.example",
        "description": "We teach.",
    }


def test_an_issuers_client_replaces_the_issuers_profile(app, client, api, issuer):
    headers = client_token(app, issuer["id"], f"{READ} {UPDATE}").headers
    new = {
        "id": issuer["did"],
        "type": ["Profile"],
        "name": "Acme Academy of Code",
        "url": "https://acme.example",
        "image": {"id": "https://acme.example/logo.png", "type": "Image"},
    }
    response = client.put(f"{OB}/profile", json=new, headers=headers)
    assert response.status_code == 200, response.text
    assert schema_errors("profile.json", response.json()) == []
    assert response.json() == profile(client, headers) == {**new, "id": issuer["did"]}  # email, description cleared
    stored = client.get(f"/v1/issuers/{issuer['id']}", headers=api.admin).json()
    assert (stored["name"], stored["email"], stored["image"]) == ("Acme Academy of Code", None, new["image"]["id"])


@pytest.mark.parametrize(
    "change",
    [
        {"id": "did:web:elsewhere.example"},
        {"phone": "+1 555 0100"},
        {"type": ["Organization"]},
        {"name": ""},
        {"url": "not a url"},
    ],
)
def test_a_profile_that_cannot_be_kept_is_400_invalid_data(app, client, issuer, change):
    headers = client_token(app, issuer["id"], UPDATE).headers
    body = {"type": ["Profile"], "name": "Acme", "url": "https://acme.example", **change}
    assert_imsx(client.put(f"{OB}/profile", json=body, headers=headers), 400, "invalid_data")


def test_the_read_scope_does_not_update(app, client, issuer):
    headers = client_token(app, issuer["id"], READ).headers
    body = {"type": ["Profile"], "name": "Acme", "url": "https://acme.example"}
    assert_imsx(client.put(f"{OB}/profile", json=body, headers=headers), 403, "forbidden")


def test_no_token_is_401(client):
    assert_imsx(client.get(f"{OB}/profile"), 401, "unauthorizedrequest")


def test_an_earner_reads_their_profile_but_cannot_change_it(app, client, api):
    headers = api.register_earner("ana@example.com")
    assert profile(client, headers) == {
        "id": f"urn:uuid:{account_id(app, 'ana@example.com')}",
        "type": ["Profile"],
        "email": "ana@example.com",
    }
    body = {"type": ["Profile"], "name": "Ana", "url": "https://ana.example"}
    refused = assert_imsx(client.put(f"{OB}/profile", json=body, headers=headers), 403, "forbidden")
    assert "role" in refused["imsx_description"]  # only an issuer's profile is updatable


def test_an_unverified_address_is_not_in_the_profile(client, api):
    assert "email" not in profile(client, api.register_earner("bo@example.com", verify=False))


def test_the_service_description_document_is_public_and_valid(client):
    response = client.get(f"{OB}/discovery")
    assert response.status_code == 200
    document = response.json()
    assert openapi_schema_errors("ServiceDescriptionDocument", document) == []
    assert document["servers"] == [{"url": f"{PUBLIC_URL}{OB}", "description": "This SkillCred deployment"}]
    assert document["info"]["termsOfService"] == f"{PUBLIC_URL}/terms"
    assert document["info"]["x-imssf-privacyPolicyUrl"] == f"{PUBLIC_URL}/privacy"
    oauth = document["components"]["securitySchemes"]["OAuth2ACG"]
    assert oauth["type"] == "oauth2"
    assert oauth["x-imssf-registrationUrl"] == f"{PUBLIC_URL}/oauth/register"
    flow = oauth["flows"]["authorizationCode"]
    assert flow["authorizationUrl"] == f"{PUBLIC_URL}/oauth/authorize"
    assert flow["tokenUrl"] == flow["refreshUrl"] == f"{PUBLIC_URL}/v1/auth/token"
    assert set(flow["scopes"]) == {
        scopes.CREDENTIAL_READONLY,
        scopes.CREDENTIAL_UPSERT,
        scopes.PROFILE_READONLY,
        scopes.PROFILE_UPDATE,
    }
    assert set(document["paths"]) == {"/credentials", "/profile", "/discovery"}
    assert "GetOpenBadgeCredentialsResponse" in document["components"]["schemas"]
