"""OAuth 2.0 as a platform meets it: registration, every grant, PKCE, refresh rotation with reuse
detection, revocation, introspection, metadata, and every failure a platform will run into, each
a JSON error with a stable code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

from service.platforms import scopes
from tests.platforms.oauth_flow import (
    EARNER_SCOPE,
    REDIRECT_URI,
    authorize,
    basic,
    exchange_code,
    pkce_pair,
    register_public_client,
)

ISSUE = "credentials:issue " + scopes.CREDENTIAL_READONLY
EARNER_EMAIL, EARNER_PASSWORD = "freelancer@example.com", "a-long-enough-password"


def issuer_client(client, api, scope: str = ISSUE, **extra):
    """An issuer admin registers their platform's confidential client dynamically."""
    issuer = api.create_issuer()
    admin = api.create_account("issuer_admin", issuer["id"])
    body = {"client_name": "Acme Marketplace", "grant_types": ["client_credentials"], "scope": scope, **extra}
    response = client.post("/oauth/register", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return issuer, response.json()


def client_credentials(client, registered, **form):
    return client.post(
        "/v1/auth/token",
        data={"grant_type": "client_credentials", **form},
        headers=basic(registered["client_id"], registered["client_secret"]),
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- metadata ------------------------------------------------------------------------------------


def test_the_metadata_names_every_endpoint_and_validates_as_rfc_8414(client):
    metadata = client.get("/.well-known/oauth-authorization-server").json()
    AuthorizationServerMetadata(metadata).validate()
    assert metadata["token_endpoint"] == "https://skillcred.example/v1/auth/token"
    assert metadata["registration_endpoint"].endswith("/oauth/register")
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert "client_credentials" in metadata["grant_types_supported"]
    assert set(metadata["scopes_supported"]) == scopes.ALL


# --- client credentials --------------------------------------------------------------------------


def test_an_issuers_client_gets_a_token_with_its_scopes_and_calls_the_api(client, api):
    _, registered = issuer_client(client, api)
    assert registered["client_secret"] and registered["client_secret_expires_at"] == 0
    token = client_credentials(client, registered)
    assert token.status_code == 200, token.text
    body = token.json()
    assert body["token_type"] == "Bearer" and "refresh_token" not in body
    assert set(body["scope"].split()) == set(ISSUE.split())
    assert client.get("/v1/credentials", headers=bearer(body["access_token"])).status_code == 200


def test_a_client_may_ask_for_fewer_scopes_and_is_held_to_them(client, api):
    _, registered = issuer_client(client, api)
    token = client_credentials(client, registered, scope=scopes.CREDENTIAL_READONLY).json()
    assert token["scope"] == scopes.CREDENTIAL_READONLY
    refused = client.post("/v1/credentials", json={}, headers=bearer(token["access_token"]))
    assert refused.status_code == 403 and refused.json()["error"] == "insufficient_scope"
    assert "insufficient_scope" in refused.headers["www-authenticate"]


def test_asking_for_a_scope_the_client_does_not_hold_is_invalid_scope(client, api):
    _, registered = issuer_client(client, api)
    response = client_credentials(client, registered, scope="webhooks:manage")
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"


def test_a_wrong_secret_or_unknown_client_is_invalid_client(client, api):
    _, registered = issuer_client(client, api)
    wrong = client.post(
        "/v1/auth/token", data={"grant_type": "client_credentials"}, headers=basic(registered["client_id"], "nope")
    )
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    unknown = client.post("/v1/auth/token", data={"grant_type": "client_credentials"}, headers=basic("sc_x", "y"))
    assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_client"


def test_an_unknown_grant_type_is_unsupported_grant_type(client):
    response = client.post("/v1/auth/token", data={"grant_type": "urn:example:magic"})
    assert response.status_code == 400 and response.json()["error"] == "unsupported_grant_type"


def test_people_still_sign_in_with_the_password_grant(client, api):
    api.register_earner(EARNER_EMAIL)
    response = client.post(
        "/v1/auth/token", data={"grant_type": "password", "username": EARNER_EMAIL, "password": EARNER_PASSWORD}
    )
    assert response.status_code == 200 and response.json()["token_type"].lower() == "bearer"


# --- registration --------------------------------------------------------------------------------


def test_open_registration_gives_an_earner_app_without_client_credentials(client):
    registered = register_public_client(client)
    assert "client_secret" not in registered
    assert registered["token_endpoint_auth_method"] == "none"
    refused = client.post(
        "/oauth/register",
        json={"client_name": "x", "grant_types": ["client_credentials"], "scope": "credentials:issue"},
    )
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_client_metadata"


def test_registration_refuses_bad_redirect_uris_and_unknown_scopes(client):
    for uri in ["http://platform.example/cb", "https://platform.example/cb#frag", "not a url"]:
        response = client.post(
            "/oauth/register",
            json={"client_name": "x", "redirect_uris": [uri], "token_endpoint_auth_method": "none"},
        )
        assert response.status_code == 400, uri
        assert response.json()["error"] in {"invalid_redirect_uri", "invalid_client_metadata"}, response.text
    unknown = client.post(
        "/oauth/register", json={"client_name": "x", "redirect_uris": [REDIRECT_URI], "scope": "root:everything"}
    )
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_client_metadata"


def test_only_an_issuer_admins_own_token_registers_an_issuers_client(client, api):
    earner = api.register_earner(EARNER_EMAIL)
    response = client.post("/oauth/register", json={"client_name": "x"}, headers=earner)
    assert response.status_code == 401 and response.json()["error"] == "access_denied"
    forged = client.post("/oauth/register", json={"client_name": "x"}, headers=bearer("not-a-token"))
    assert forged.status_code == 401


# --- authorization code with PKCE ----------------------------------------------------------------


def test_the_consent_page_names_the_client_and_what_it_may_do(client):
    registered = register_public_client(client)
    _, challenge = pkce_pair()
    page = client.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": registered["client_id"],
            "redirect_uri": REDIRECT_URI,
            "scope": EARNER_SCOPE,
            "state": "s",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    assert page.status_code == 200
    assert "Portfolio Platform" in page.text
    assert scopes.DESCRIPTIONS[scopes.EVIDENCE_WRITE] in page.text
    assert "platform.example" in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_an_earner_allows_a_platform_which_then_acts_for_them(client, api):
    api.register_earner(EARNER_EMAIL)
    registered = register_public_client(client)
    verifier, challenge = pkce_pair()
    back = authorize(client, registered["client_id"], challenge, email=EARNER_EMAIL, password=EARNER_PASSWORD)
    assert back.status == 302 and back.location.startswith(REDIRECT_URI)
    assert back.params["state"] == "xyz" and back.params["code"]
    token = exchange_code(client, registered["client_id"], back.params["code"], verifier)
    assert token.status_code == 200, token.text
    body = token.json()
    assert body["refresh_token"] and set(body["scope"].split()) == set(EARNER_SCOPE.split())
    me = client.get("/v1/credentials", headers=bearer(body["access_token"]))
    assert me.status_code == 200, me.text
    # the earner's own routes that the consent did not cover stay closed
    closed = client.get("/v1/me", headers=bearer(body["access_token"]))
    assert closed.status_code == 403 and closed.json()["error"] == "insufficient_scope"


def test_a_code_is_good_once_and_only_with_its_verifier(client, api):
    api.register_earner(EARNER_EMAIL)
    registered = register_public_client(client)
    verifier, challenge = pkce_pair()
    code = authorize(client, registered["client_id"], challenge, email=EARNER_EMAIL, password=EARNER_PASSWORD)
    code = code.params["code"]
    mismatch = exchange_code(client, registered["client_id"], code, pkce_pair()[0])
    assert mismatch.status_code == 400 and mismatch.json()["error"] == "invalid_grant"
    assert exchange_code(client, registered["client_id"], code, verifier).status_code == 200
    replay = exchange_code(client, registered["client_id"], code, verifier)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"


def test_pkce_is_required_and_only_s256(client):
    registered = register_public_client(client)
    base = {"response_type": "code", "client_id": registered["client_id"], "redirect_uri": REDIRECT_URI, "state": "s"}
    missing = client.get("/oauth/authorize", params=base, follow_redirects=False)
    assert missing.status_code == 302 and "error=invalid_request" in missing.headers["location"]
    plain = client.get(
        "/oauth/authorize",
        params={**base, "code_challenge": "a" * 43, "code_challenge_method": "plain"},
        follow_redirects=False,
    )
    assert plain.status_code == 302 and "error=invalid_request" in plain.headers["location"]


def test_a_bad_redirect_uri_is_an_error_page_not_a_redirect(client):
    registered = register_public_client(client)
    _, challenge = pkce_pair()
    response = client.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": registered["client_id"],
            "redirect_uri": "https://attacker.example/steal",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        follow_redirects=False,
    )
    assert response.status_code == 400 and "location" not in response.headers
    assert "does not work" in response.text


def test_parameters_no_valid_request_holds_get_the_protocols_error_not_a_crash(client):
    """A parameter quoted in the error's description with a character RFC 6749 forbids there
    (non-ASCII, a double quote) is refused as any wrong value is: redirected when the client and
    redirect URI are good, an error page when the redirect URI is the bad part."""
    registered = register_public_client(client)
    _, challenge = pkce_pair()
    base = {
        "response_type": "code",
        "client_id": registered["client_id"],
        "redirect_uri": REDIRECT_URI,
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    for odd in ("\U0001d498\U0001d497", 'co"de', "\x00"):
        wrong_type = client.get("/oauth/authorize", params={**base, "response_type": odd}, follow_redirects=False)
        assert wrong_type.status_code == 302, wrong_type.text
        assert "error=unsupported_response_type" in wrong_type.headers["location"]
        wrong_uri = client.get(
            "/oauth/authorize", params={**base, "redirect_uri": REDIRECT_URI + odd}, follow_redirects=False
        )
        assert wrong_uri.status_code == 400 and "location" not in wrong_uri.headers
        assert 'data-oauth-error="invalid_request"' in wrong_uri.text
        grant = client.post("/v1/auth/token", data={"grant_type": odd})
        assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"


def test_an_unknown_client_is_401_whichever_way_it_authenticates(client):
    """RFC 6749 section 5.2 lets ``invalid_client`` be 401 for every method; here it always is."""
    form = {"token": "anything", "client_id": "no-such-client", "client_secret": "wrong"}
    for path in ("/oauth/introspect", "/oauth/revoke"):
        in_form = client.post(path, data=form)
        assert in_form.status_code == 401 and in_form.json()["error"] == "invalid_client", in_form.text
        assert in_form.headers["www-authenticate"].startswith("Basic")
        in_header = client.post(path, data={"token": "anything"}, headers=basic("no-such-client", "wrong"))
        assert in_header.status_code == 401 and in_header.json()["error"] == "invalid_client"


def test_denying_sends_access_denied_back(client, api):
    registered = register_public_client(client)
    _, challenge = pkce_pair()
    back = authorize(client, registered["client_id"], challenge, email="", password="", decision="deny")
    assert back.status == 302 and back.params["error"] == "access_denied" and back.params["state"] == "xyz"


def test_a_wrong_password_shows_the_page_again_and_gives_no_code(client, api):
    api.register_earner(EARNER_EMAIL)
    registered = register_public_client(client)
    _, challenge = pkce_pair()
    back = authorize(client, registered["client_id"], challenge, email=EARNER_EMAIL, password="wrong-password-here")
    assert back.status == 401 and not back.location


def test_an_altered_authorization_request_is_refused(client, api):
    registered = register_public_client(client)
    _, challenge = pkce_pair()
    page = client.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": registered["client_id"],
            "redirect_uri": REDIRECT_URI,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    from tests.platforms.oauth_flow import hidden_fields

    form = hidden_fields(page.text)
    form["authorization_request"] += "&scope=credentials%3Aissue"
    response = client.post("/oauth/authorize", data={**form, "decision": "approve", "email": "a@b.c", "password": "x"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


# --- refresh, revocation, introspection ----------------------------------------------------------


def _earner_tokens(client, api):
    api.register_earner(EARNER_EMAIL)
    registered = register_public_client(client)
    verifier, challenge = pkce_pair()
    back = authorize(client, registered["client_id"], challenge, email=EARNER_EMAIL, password=EARNER_PASSWORD)
    token = exchange_code(client, registered["client_id"], back.params["code"], verifier).json()
    return registered, token


def refresh(client, client_id, refresh_token):
    return client.post(
        "/v1/auth/token", data={"grant_type": "refresh_token", "client_id": client_id, "refresh_token": refresh_token}
    )


def test_refresh_tokens_rotate_and_a_reused_one_revokes_the_whole_family(client, api):
    registered, first = _earner_tokens(client, api)
    second = refresh(client, registered["client_id"], first["refresh_token"])
    assert second.status_code == 200, second.text
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    # the first refresh token is presented again: a thief or the client, one of them leaked it
    replay = refresh(client, registered["client_id"], first["refresh_token"])
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    # the whole family is revoked: the newest refresh token and the access tokens stop at once
    assert refresh(client, registered["client_id"], second["refresh_token"]).status_code == 400
    assert client.get("/v1/credentials", headers=bearer(second["access_token"])).status_code == 401


def test_a_refresh_may_narrow_the_scope_but_not_widen_it(client, api):
    registered, first = _earner_tokens(client, api)
    narrow = client.post(
        "/v1/auth/token",
        data={
            "grant_type": "refresh_token",
            "client_id": registered["client_id"],
            "refresh_token": first["refresh_token"],
            "scope": scopes.CREDENTIAL_READONLY,
        },
    )
    assert narrow.status_code == 200 and narrow.json()["scope"] == scopes.CREDENTIAL_READONLY
    wide = client.post(
        "/v1/auth/token",
        data={
            "grant_type": "refresh_token",
            "client_id": registered["client_id"],
            "refresh_token": narrow.json()["refresh_token"],
            "scope": "credentials:issue",
        },
    )
    assert wide.status_code == 400 and wide.json()["error"] == "invalid_scope"


def test_revoking_a_refresh_token_stops_its_access_tokens_at_once(client, api):
    registered, token = _earner_tokens(client, api)
    assert client.get("/v1/credentials", headers=bearer(token["access_token"])).status_code == 200
    revoked = client.post(
        "/oauth/revoke",
        data={
            "token": token["refresh_token"],
            "token_type_hint": "refresh_token",
            "client_id": registered["client_id"],
        },
    )
    assert revoked.status_code == 200
    assert client.get("/v1/credentials", headers=bearer(token["access_token"])).status_code == 401
    assert refresh(client, registered["client_id"], token["refresh_token"]).status_code == 400


def test_introspection_describes_the_clients_own_tokens_only(client, api):
    registered, token = _earner_tokens(client, api)
    own = client.post("/oauth/introspect", data={"token": token["access_token"], "client_id": registered["client_id"]})
    assert own.status_code == 200 and own.json()["active"] is True
    assert own.json()["client_id"] == registered["client_id"] and own.json()["token_type"] == "Bearer"
    other = register_public_client(client)
    foreign = client.post("/oauth/introspect", data={"token": token["access_token"], "client_id": other["client_id"]})
    assert foreign.json() == {"active": False}
    junk = client.post("/oauth/introspect", data={"token": "junk", "client_id": registered["client_id"]})
    assert junk.json() == {"active": False}


def test_revoking_the_client_stops_its_tokens_at_once(client, api, app):
    from sqlmodel import Session

    from service.platforms.service import find_client, revoke_client

    _, registered = issuer_client(client, api)
    access = client_credentials(client, registered).json()["access_token"]
    with Session(app.state.engine) as session:
        row = find_client(session, registered["client_id"])
        assert row is not None
        revoke_client(session, row)
        session.commit()
    assert client.get("/v1/credentials", headers=bearer(access)).status_code == 401
    assert client_credentials(client, registered).status_code == 401


# --- tokens a platform must not get away with ----------------------------------------------------


def test_an_expired_or_foreign_alg_token_is_refused(client, api, app):
    _, registered = issuer_client(client, api)
    access = client_credentials(client, registered).json()["access_token"]
    claims = jwt.decode(access, options={"verify_signature": False})
    tokens = app.state.tokens
    expired = tokens.issue(
        claims["sub"],
        claims["role"],
        now=datetime.now(UTC) - timedelta(hours=2),
        client_id=claims["client_id"],
        grant_id=claims["fam"],
        scope=claims["scope"],
    )
    assert client.get("/v1/credentials", headers=bearer(expired)).status_code == 401
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    assert client.get("/v1/credentials", headers=bearer(unsigned)).status_code == 401
    other_alg = jwt.encode(claims, tokens.secret + tokens.secret, algorithm="HS512")
    assert client.get("/v1/credentials", headers=bearer(other_alg)).status_code == 401
    widened = jwt.encode({**claims, "scope": " ".join(sorted(scopes.ALL))}, b"x" * 32, algorithm="HS256")
    assert client.get("/v1/audit", headers=bearer(widened)).status_code == 401


def test_another_tenants_client_sees_nothing_of_this_issuers(client, api):
    issuer_a, registered_a = issuer_client(client, api)
    _, registered_b = issuer_client(client, api)
    token_b = client_credentials(client, registered_b).json()["access_token"]
    listed = client.get(f"/v1/issuers/{issuer_a['id']}/achievements", headers=bearer(token_b))
    assert listed.status_code == 404, listed.text  # not 403: B does not learn that A exists
