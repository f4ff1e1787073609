"""GET /ims/ob/v3p0/credentials: an issuer's client reads its issuer's credentials, paged, each
exactly as issued; another issuer's client sees none; every error is an Imsx_StatusInfo."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from service.platforms import scopes
from tests.platforms.clients import client_token
from tests.platforms.ob_helpers import OB, assert_imsx, ob_schema_errors

READ = scopes.CREDENTIAL_READONLY


@pytest.fixture
def issuer(api) -> dict[str, Any]:
    return api.create_issuer("Acme Academy")


@pytest.fixture
def issued(api, issuer) -> list[dict[str, Any]]:
    """Five credentials of the issuer, in the order issued."""
    achievement = api.create_achievement(issuer["id"])
    return [api.issue(achievement["id"]) for _ in range(5)]


def links(response) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.headers["Link"])}


def page(client, headers, **params) -> Any:
    response = client.get(f"{OB}/credentials", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert ob_schema_errors("getopenbadgecredentialsresponse.json", body) == []
    for credential in body["credential"]:
        assert ob_schema_errors("achievementcredential.json", credential) == []
    return response


def test_an_issuers_client_pages_through_its_issuers_credentials_oldest_first(app, client, issuer, issued):
    headers = client_token(app, issuer["id"], READ).headers

    first = page(client, headers, limit=2)
    assert first.headers["X-Total-Count"] == "5"
    assert links(first) == {
        "first": f"{OB}/credentials?limit=2&offset=0",
        "last": f"{OB}/credentials?limit=2&offset=4",
        "next": f"{OB}/credentials?limit=2&offset=2",
    }
    middle = page(client, headers, limit=2, offset=2)
    assert set(links(middle)) == {"first", "last", "prev", "next"}
    assert links(middle)["prev"] == f"{OB}/credentials?limit=2&offset=0"
    last = page(client, headers, limit=2, offset=4)
    assert set(links(last)) == {"first", "last", "prev"}

    listed = [c["id"] for r in (first, middle, last) for c in r.json()["credential"]]
    assert listed == [c["credential"]["id"] for c in issued]
    assert all(r.json()["compactJwsString"] == [] for r in (first, middle, last))


def test_each_credential_is_listed_byte_for_byte_as_issued(app, client, api, issuer, issued):
    response = page(client, client_token(app, issuer["id"], READ).headers)
    for credential in issued:
        stored = client.get(f"/v1/credentials/{credential['id']}/jsonld", headers=api.admin)
        assert stored.status_code == 200
        assert stored.content in response.content  # spliced in verbatim, not re-serialised
    assert response.json()["credential"] == [c["credential"] for c in issued]


def test_a_client_of_another_issuer_sees_none_of_them(app, client, api, issued):
    other = api.create_issuer("Other Academy")
    response = page(client, client_token(app, other["id"], READ).headers)
    assert response.headers["X-Total-Count"] == "0"
    assert response.json() == {"credential": [], "compactJwsString": []}
    assert links(response) == {
        "first": f"{OB}/credentials?limit=50&offset=0",
        "last": f"{OB}/credentials?limit=50&offset=0",
    }


def test_since_keeps_the_credentials_issued_at_or_after_it(app, client, issuer, issued):
    headers = client_token(app, issuer["id"], READ).headers
    assert page(client, headers, since="2000-01-01T00:00:00").headers["X-Total-Count"] == "5"
    assert page(client, headers, since="2999-01-01T00:00:00Z").headers["X-Total-Count"] == "0"
    third = issued[2]["issued_at"]
    since = page(client, headers, since=third)
    assert [c["id"] for c in since.json()["credential"]] == [c["credential"]["id"] for c in issued[2:]]
    assert "since=" in links(since)["first"]


def test_no_token_is_401_as_imsx_status_info(client):
    response = client.get(f"{OB}/credentials")
    assert_imsx(response, 401, "unauthorizedrequest")
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_token_without_the_read_scope_is_403_as_imsx_status_info(app, client, issuer):
    headers = client_token(app, issuer["id"], scopes.PROFILE_READONLY).headers
    body = assert_imsx(client.get(f"{OB}/credentials", headers=headers), 403, "forbidden")
    assert READ in body["imsx_description"]


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "many"}, {"since": "yesterday"}]
)
def test_a_bad_query_parameter_is_400_invalid_query_parameter(app, client, issuer, params):
    headers = client_token(app, issuer["id"], READ).headers
    assert_imsx(client.get(f"{OB}/credentials", params=params, headers=headers), 400, "invalid_query_parameter")


def test_unknown_paths_and_methods_under_the_api_answer_imsx_status_info(client):
    assert_imsx(client.get(f"{OB}/badges"), 404, "not_found")
    assert_imsx(client.delete(f"{OB}/credentials"), 405, "not_allowed")


def test_errors_elsewhere_keep_the_services_own_shape(client):
    response = client.get("/v1/credentials")
    assert response.status_code == 401
    assert set(response.json()) == {"error", "detail"}


def test_an_issued_credential_text_is_valid_json_inside_the_page(app, client, issuer, issued):
    # the splice must stay one JSON document whatever the stored texts look like
    response = page(client, client_token(app, issuer["id"], READ).headers)
    assert json.loads(response.content)["credential"][0]["proof"]
