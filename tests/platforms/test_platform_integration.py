"""A platform integrates with SkillCred the way the issue describes it, against a real `skillcred
serve`, using nothing but HTTP: dynamic registration, client credentials, a provisioned earner,
100 credentials issued with idempotency keys (some retried), every one found byte-identical and
schema-valid through the Open Badges 3.0 API; then the authorization code flow with PKCE through
the consent page, a refresh, a revocation, and the revoked token refused."""

from __future__ import annotations

import json
import re
import uuid

import httpx

from service.platforms import scopes
from tests.platforms.oauth_flow import authorize, exchange_code, pkce_pair, register_public_client
from tests.platforms.ob_helpers import ob_schema_errors
from tests.platforms.serving import ISSUER_ADMIN, platform_server

SCOPE = "earners:provision evidence:write credentials:issue " + scopes.CREDENTIAL_READONLY


def _credentials_in(body: str) -> list[str]:
    """The raw JSON text of each credential in a GetOpenBadgeCredentialsResponse, as sent."""
    decoder = json.JSONDecoder()
    start = body.index('"credential"')
    position = body.index("[", start) + 1
    found = []
    while True:
        while body[position] in " ,\n":
            position += 1
        if body[position] == "]":
            return found
        _, end = decoder.raw_decode(body, position)
        found.append(body[position:end])
        position = end


def test_a_platform_integrates_end_to_end(tmp_path):
    with platform_server(tmp_path) as server, httpx.Client(base_url=server.base, timeout=30) as http:
        admin = http.post("/v1/auth/token", data={"username": ISSUER_ADMIN[0], "password": ISSUER_ADMIN[1]}).json()
        registered = http.post(
            "/oauth/register",
            json={"client_name": "Acme Marketplace", "grant_types": ["client_credentials"], "scope": SCOPE},
            headers={"Authorization": f"Bearer {admin['access_token']}"},
        ).json()
        token = http.post(
            "/v1/auth/token",
            data={"grant_type": "client_credentials"},
            auth=(registered["client_id"], registered["client_secret"]),
        ).json()
        platform = {"Authorization": f"Bearer {token['access_token']}"}

        earner = http.post(
            "/v1/platform/earners", json={"external_id": "u-1", "email": "ada@example.com"}, headers=platform
        )
        assert earner.status_code == 201, earner.text

        issued: dict[str, str] = {}
        for number in range(100):
            key = str(uuid.uuid4())
            body = {"achievement_id": server.achievement_id, "recipient": {"email": f"user{number}@example.com"}}
            answer = http.post("/v1/credentials", json=body, headers={**platform, "Idempotency-Key": key})
            assert answer.status_code == 201, answer.text
            if number % 10 == 0:  # the network dropped the answer: the platform retries
                again = http.post("/v1/credentials", json=body, headers={**platform, "Idempotency-Key": key})
                assert again.status_code == 201 and again.headers.get("idempotent-replayed") == "true"
                assert again.json()["id"] == answer.json()["id"]
            issued[answer.json()["id"]] = http.get(
                f"/v1/credentials/{answer.json()['id']}/jsonld", headers=platform
            ).text

        seen: dict[str, str] = {}
        url: str | None = "/ims/ob/v3p0/credentials?limit=30"
        while url:
            page = http.get(url, headers=platform)
            assert page.status_code == 200, page.text
            assert page.headers["x-total-count"] == "100"
            assert not ob_schema_errors("getopenbadgecredentialsresponse.json", page.json())
            for text in _credentials_in(page.text):
                credential = json.loads(text)
                assert not ob_schema_errors("achievementcredential.json", credential)
                seen[credential["id"]] = text
            following = re.search(r'<([^>]+)>;\s*rel="next"', page.headers.get("link", ""))
            url = following.group(1) if following else None
        by_id = {json.loads(text)["id"]: text for text in issued.values()}
        assert seen == by_id  # all 100, each byte-identical to the issued credential

        # an earner connects a wallet app through the consent page
        password = "a-long-enough-password"
        registration = http.post("/v1/auth/register", json={"email": "grace@example.com", "password": password})
        assert registration.status_code == 201
        app_client = register_public_client(http)
        verifier, challenge = pkce_pair()
        back = authorize(http, app_client["client_id"], challenge, email="grace@example.com", password=password)
        assert back.status == 302 and back.params["code"]
        tokens = exchange_code(http, app_client["client_id"], back.params["code"], verifier).json()
        refreshed = http.post(
            "/v1/auth/token",
            data={
                "grant_type": "refresh_token",
                "client_id": app_client["client_id"],
                "refresh_token": tokens["refresh_token"],
            },
        ).json()
        wallet = {"Authorization": f"Bearer {refreshed['access_token']}"}
        assert http.get("/ims/ob/v3p0/credentials", headers=wallet).status_code == 200
        revoked = http.post(
            "/oauth/revoke", data={"token": refreshed["refresh_token"], "client_id": app_client["client_id"]}
        )
        assert revoked.status_code == 200
        refused = http.get("/ims/ob/v3p0/credentials", headers=wallet)
        assert refused.status_code == 401
        assert refused.json()["imsx_codeMajor"] == "failure"
