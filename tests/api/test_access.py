"""Who may call what: every route declares its access, and the tables below are the specification.

``ACCESS`` gives each route's roles; ``SCOPES`` the OAuth scopes that let a platform client's token
through (any one of them; a route missing from ``SCOPES`` is for people only). For every route and
every caller (no token, earner, reviewer, issuer admin, admin, and platform clients: one holding
every scope but the route's, one holding exactly the route's) the test calls the route with
placeholder ids and an empty body and checks the outcome class: 401 without a token, 403 for a
role or scope the route does not admit, and neither for one it admits (a 404 or 422 from the
placeholder input is fine: the caller got past the door). Another tenant's client meeting real
objects is tests/platforms/test_tenancy.py's.
"""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute

from service.accounts.models import Role
from service.api.auth import Access, PublicAccess
from service.platforms import scopes

PUBLIC = "public"
PROTOCOL = "protocol"
"""Public to the access rules, but the caller authenticates inside the OAuth 2.0 protocol (a client
secret, a password, an initial access token), so a 401 is the protocol's answer, not the door's:
tests/platforms/test_oauth.py covers who gets through."""
ANY = frozenset(Role)
ADMIN = frozenset({Role.admin})
MANAGERS = frozenset({Role.admin, Role.issuer_admin})
ISSUER_STAFF = frozenset({Role.admin, Role.issuer_admin, Role.reviewer})

ACCESS = {
    ("GET", "/health"): PUBLIC,
    ("GET", "/ready"): PUBLIC,
    ("POST", "/v1/auth/register"): PUBLIC,
    ("POST", "/v1/auth/verify-email"): PUBLIC,
    ("POST", "/v1/auth/verify-email/resend"): ANY,
    ("GET", "/v1/me"): ANY,
    ("PATCH", "/v1/me"): ANY,
    ("POST", "/v1/accounts"): MANAGERS,
    ("POST", "/v1/issuers"): ADMIN,
    ("GET", "/v1/issuers"): MANAGERS,
    ("GET", "/v1/issuers/{issuer_id}"): MANAGERS,
    ("PATCH", "/v1/issuers/{issuer_id}"): MANAGERS,
    ("GET", "/v1/issuers/{issuer_id}/keys"): MANAGERS,
    ("POST", "/v1/issuers/{issuer_id}/keys/rotate"): MANAGERS,
    ("POST", "/v1/issuers/{issuer_id}/keys/{key_id}/compromise"): MANAGERS,
    ("GET", "/v1/issuers/{issuer_id}/keys/{key_id}/affected-credentials"): MANAGERS,
    ("POST", "/v1/issuers/{issuer_id}/achievements"): MANAGERS,
    ("GET", "/v1/issuers/{issuer_id}/achievements"): ISSUER_STAFF,
    ("GET", "/v1/issuers/{issuer_id}/expiring"): MANAGERS,
    ("GET", "/v1/achievements/{achievement_id}"): ISSUER_STAFF,
    ("PUT", "/v1/achievements/{achievement_id}"): MANAGERS,
    ("GET", "/v1/achievements/{achievement_id}/versions"): ISSUER_STAFF,
    # earners read rubrics too (what they will be judged on); staff of the issuer get key_ideas
    ("GET", "/v1/achievements/{achievement_id}/rubric"): ANY,
    # the catalogue of achievements open for applications: what the home page shows anyone
    ("GET", "/v1/catalogue/achievements"): PUBLIC,
    ("GET", "/v1/catalogue/achievements/{achievement_id}"): PUBLIC,
    ("GET", "/v1/skills"): ISSUER_STAFF,
    ("POST", "/v1/credentials"): MANAGERS,
    # bulk issuance: issuer admins for their issuer, admins for all (scoped in the service)
    ("POST", "/v1/bulk/credentials"): MANAGERS,
    ("GET", "/v1/jobs/{job_id}"): MANAGERS,
    ("GET", "/v1/jobs/{job_id}/results"): MANAGERS,
    # earners see their own credentials, issuer staff their issuer's: scoped in the service
    ("GET", "/v1/credentials"): ANY,
    ("GET", "/v1/credentials/{credential_id}"): ANY,
    ("GET", "/v1/credentials/{credential_id}/jsonld"): ANY,
    ("GET", "/v1/credentials/{credential_id}/jwt"): ANY,
    ("GET", "/v1/credentials/{credential_id}/png"): ANY,
    ("GET", "/v1/credentials/{credential_id}/svg"): ANY,
    ("POST", "/v1/credentials/{credential_id}/revoke"): MANAGERS,
    ("POST", "/v1/credentials/{credential_id}/renew"): MANAGERS,
    ("POST", "/v1/credentials/{credential_id}/suspend"): MANAGERS,
    ("POST", "/v1/credentials/{credential_id}/unsuspend"): MANAGERS,
    # the earner a credential was issued to chooses who sees it (scoped in the service)
    ("PATCH", "/v1/credentials/{credential_id}/visibility"): frozenset({Role.earner}),
    ("POST", "/v1/verify"): PUBLIC,
    ("GET", "/v1/audit"): MANAGERS,
    # evidence: earners build their own bundles; a bundle's issuer's staff and admins read it
    ("POST", "/v1/evidence/bundles"): frozenset({Role.earner}),
    ("GET", "/v1/evidence/bundles"): frozenset({Role.earner}),
    ("GET", "/v1/evidence/bundles/{bundle_id}"): ANY,
    ("POST", "/v1/evidence/bundles/{bundle_id}/items"): frozenset({Role.earner}),
    ("PATCH", "/v1/evidence/bundles/{bundle_id}"): frozenset({Role.earner}),
    ("POST", "/v1/evidence/bundles/{bundle_id}/files"): frozenset({Role.earner}),
    ("DELETE", "/v1/evidence/bundles/{bundle_id}/items/{item_id}"): frozenset({Role.earner}),
    ("GET", "/v1/evidence/bundles/{bundle_id}/items/{item_id}/content"): ANY,
    # skill discovery: the bundle's earner asks which achievements and skills it shows
    ("POST", "/v1/evidence/bundles/{bundle_id}/suggestions"): frozenset({Role.earner}),
    ("GET", "/evidence/items/{item_id}"): PUBLIC,
    # assessments: earners see their own, issuer staff their issuer's (scoped in the service)
    ("POST", "/v1/assessments"): frozenset({Role.earner}),
    ("GET", "/v1/assessments"): ANY,
    ("GET", "/v1/assessments/{assessment_id}"): ANY,
    ("GET", "/v1/review-queue"): ISSUER_STAFF,
    ("POST", "/v1/assessments/{assessment_id}/overrides"): ISSUER_STAFF,
    ("POST", "/v1/assessments/{assessment_id}/approve"): ISSUER_STAFF,
    ("POST", "/v1/assessments/{assessment_id}/reject"): ISSUER_STAFF,
    ("POST", "/v1/assessments/{assessment_id}/appeal"): frozenset({Role.earner}),
    # agreement of assessors with reviewers: issuer admins their issuer's, admins any (not reviewers)
    ("GET", "/v1/assessment-quality"): MANAGERS,
    ("GET", "/contexts/skillcred-v1.jsonld"): PUBLIC,
    # endorsements: clients (no account) endorse; earners decide, scoped in the service
    ("POST", "/v1/credentials/{credential_id}/endorsements/requests"): PUBLIC,
    ("POST", "/v1/endorsements/requests/{request_id}/confirm"): PUBLIC,
    ("POST", "/v1/credentials/{credential_id}/endorsements/challenges"): PUBLIC,
    ("POST", "/v1/credentials/{credential_id}/endorsements/signed"): PUBLIC,
    ("GET", "/v1/credentials/{credential_id}/endorsements"): ANY,
    ("POST", "/v1/endorsements/{endorsement_id}/accept"): frozenset({Role.earner}),
    ("POST", "/v1/endorsements/{endorsement_id}/hide"): frozenset({Role.earner}),
    ("POST", "/v1/endorsements/{endorsement_id}/revoke"): MANAGERS,
    ("POST", "/v1/credentials/{credential_id}/reissue"): frozenset({Role.earner, Role.issuer_admin, Role.admin}),
    ("GET", "/v1/credentials/{credential_id}/refresh"): ANY,
    ("GET", "/endorsements/{endorsement_id}"): PUBLIC,
    ("GET", "/.well-known/did.json"): PUBLIC,
    ("GET", "/issuers/{issuer_id}/did.json"): PUBLIC,
    ("GET", "/.well-known/jwks.json"): PUBLIC,
    ("GET", "/achievements/{achievement_id}"): PUBLIC,
    ("GET", "/credentials/{credential_id}"): PUBLIC,
    ("GET", "/credentials/{credential_id}/badge.png"): PUBLIC,
    ("GET", "/credentials/{credential_id}/badge.svg"): PUBLIC,
    ("GET", "/credentials/{credential_id}/credential.jsonld"): PUBLIC,
    ("GET", "/credentials/{credential_id}/credential.jwt"): PUBLIC,
    ("GET", "/credentials/{credential_id}/qr.svg"): PUBLIC,
    ("GET", "/credentials/{credential_id}/preview.png"): PUBLIC,
    ("POST", "/credentials/{credential_id}/identity"): PUBLIC,
    ("POST", "/credentials/{credential_id}/evidence/{index}/check"): PUBLIC,
    ("GET", "/status/{list_id}"): PUBLIC,
    # webhooks: an issuer's admins manage their issuer's, admins any (scoped in the service)
    ("POST", "/v1/webhooks"): MANAGERS,
    ("GET", "/v1/webhooks"): MANAGERS,
    ("DELETE", "/v1/webhooks/{webhook_id}"): MANAGERS,
    ("GET", "/v1/webhooks/{webhook_id}/deliveries"): MANAGERS,
    ("POST", "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver"): MANAGERS,
    ("POST", "/v1/webhooks/{webhook_id}/secret/rotate"): MANAGERS,
    ("POST", "/v1/webhooks/{webhook_id}/disable"): MANAGERS,
    ("POST", "/v1/webhooks/{webhook_id}/enable"): MANAGERS,
    # platforms: an issuer's OAuth clients, registered by hand (people only)
    ("POST", "/v1/issuers/{issuer_id}/clients"): MANAGERS,
    ("GET", "/v1/issuers/{issuer_id}/clients"): MANAGERS,
    ("DELETE", "/v1/issuers/{issuer_id}/clients/{client_id}"): MANAGERS,
    # platforms: the earners a platform provisioned (scoped to its issuer in the service)
    ("POST", "/v1/platform/earners"): MANAGERS,
    ("GET", "/v1/platform/earners"): MANAGERS,
    ("GET", "/v1/platform/earners/{earner_id}"): MANAGERS,
    # the Open Badges 3.0 API: an earner's backpack and profile, or an issuer's (scoped in the service)
    ("GET", "/ims/ob/v3p0/credentials"): frozenset({Role.earner, Role.issuer_admin}),
    ("POST", "/ims/ob/v3p0/credentials"): frozenset({Role.earner}),
    ("GET", "/ims/ob/v3p0/profile"): frozenset({Role.earner, Role.issuer_admin}),
    ("PUT", "/ims/ob/v3p0/profile"): frozenset({Role.issuer_admin}),
    ("GET", "/ims/ob/v3p0/discovery"): PUBLIC,
    # OAuth 2.0: callers authenticate inside the protocol (client secret, password, PKCE)
    ("POST", "/v1/auth/token"): PUBLIC,
    ("GET", "/oauth/authorize"): PUBLIC,
    ("POST", "/oauth/authorize"): PROTOCOL,
    ("POST", "/oauth/revoke"): PROTOCOL,
    ("POST", "/oauth/introspect"): PROTOCOL,
    ("POST", "/oauth/register"): PROTOCOL,
    ("GET", "/.well-known/oauth-authorization-server"): PUBLIC,
    # the home and verify pages (service/web/pages/routes.py) and the interactive API docs (service/api/docs.py)
    ("GET", "/"): PUBLIC,
    ("GET", "/verify"): PUBLIC,
    ("POST", "/verify"): PUBLIC,
    # the policies the Open Badges discovery document names (service/web/policy_pages.py)
    ("GET", "/terms"): PUBLIC,
    ("GET", "/privacy"): PUBLIC,
    ("GET", "/static/{name}"): PUBLIC,
    # the portal's pages (service/portal): their door is the session cookie, checked by
    # test_each_role_gets_through_exactly_the_page_doors_the_table_opens below
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("GET", "/signup"): PUBLIC,
    ("POST", "/signup"): PUBLIC,
    ("GET", "/verify-email"): PUBLIC,
    ("POST", "/verify-email"): PUBLIC,
    ("POST", "/logout"): ANY,
    ("GET", "/portal"): ANY,
    ("POST", "/portal/verify-email/resend"): ANY,
    ("POST", "/portal/profile"): ANY,
    ("POST", "/portal/credentials/{credential_id}/visibility"): frozenset({Role.earner}),
    ("GET", "/portal/credentials/{credential_id}/download/{kind}"): frozenset({Role.earner}),
    ("GET", "/portal/apply/{achievement_id}"): frozenset({Role.earner}),
    ("POST", "/portal/apply/{achievement_id}/items"): frozenset({Role.earner}),
    ("POST", "/portal/apply/{achievement_id}/files"): frozenset({Role.earner}),
    ("POST", "/portal/apply/{achievement_id}/items/{item_id}/delete"): frozenset({Role.earner}),
    ("POST", "/portal/apply/{achievement_id}/submit"): frozenset({Role.earner}),
    ("GET", "/portal/assessments/{assessment_id}"): frozenset({Role.earner}),
    ("POST", "/portal/assessments/{assessment_id}/appeal"): frozenset({Role.earner}),
    ("POST", "/portal/apply/{achievement_id}/suggestions"): frozenset({Role.earner}),
    ("POST", "/portal/apply/{achievement_id}/retarget"): frozenset({Role.earner}),
    ("POST", "/portal/endorsements/{endorsement_id}/{decision}"): frozenset({Role.earner}),
    # the reviewer's pages (service/portal/review): the doors of the API's review routes
    ("GET", "/portal/review"): ISSUER_STAFF,
    ("GET", "/portal/review/{assessment_id}"): ISSUER_STAFF,
    ("GET", "/portal/review/{assessment_id}/evidence/{item_id}"): ISSUER_STAFF,
    ("POST", "/portal/review/{assessment_id}/approve"): ISSUER_STAFF,
    ("POST", "/portal/review/{assessment_id}/reject"): ISSUER_STAFF,
    ("POST", "/portal/review/{assessment_id}/override"): ISSUER_STAFF,
    # the issuer admin's pages (service/portal/issuer): the same door as the API's IssuerManager
    ("GET", "/portal/issuer"): MANAGERS,
    ("GET", "/portal/issuer/{issuer_id}"): MANAGERS,
    ("GET", "/portal/issuer/{issuer_id}/achievements"): MANAGERS,
    ("GET", "/portal/issuer/{issuer_id}/achievements/new"): MANAGERS,
    ("POST", "/portal/issuer/{issuer_id}/achievements/new"): MANAGERS,
    ("GET", "/portal/issuer/{issuer_id}/achievements/{achievement_id}"): MANAGERS,
    ("POST", "/portal/issuer/{issuer_id}/achievements/{achievement_id}"): MANAGERS,
    ("GET", "/portal/issuer/{issuer_id}/credentials"): MANAGERS,
    ("GET", "/portal/issuer/{issuer_id}/credentials/{credential_id}/{action}"): MANAGERS,
    ("POST", "/portal/issuer/{issuer_id}/credentials/{credential_id}/{action}"): MANAGERS,
    ("GET", "/portal/issuer/{issuer_id}/keys"): MANAGERS,
    ("POST", "/portal/issuer/{issuer_id}/keys/rotate"): MANAGERS,
    ("GET", "/portal/issuer/{issuer_id}/audit"): MANAGERS,
    ("GET", "/portal/issuer/{issuer_id}/clients"): MANAGERS,
    ("POST", "/portal/issuer/{issuer_id}/clients"): MANAGERS,
    ("GET", "/portal/issuer/{issuer_id}/clients/{client_id}/revoke"): MANAGERS,
    ("POST", "/portal/issuer/{issuer_id}/clients/{client_id}/revoke"): MANAGERS,
    ("GET", "/portal/issuer/{issuer_id}/webhooks"): MANAGERS,
    ("POST", "/portal/issuer/{issuer_id}/webhooks"): MANAGERS,
    ("GET", "/portal/issuer/{issuer_id}/webhooks/{webhook_id}"): MANAGERS,
    ("GET", "/portal/issuer/{issuer_id}/webhooks/{webhook_id}/{action}"): MANAGERS,
    ("POST", "/portal/issuer/{issuer_id}/webhooks/{webhook_id}/{action}"): MANAGERS,
    ("POST", "/portal/issuer/{issuer_id}/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver"): MANAGERS,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
}

READ = frozenset({scopes.CREDENTIAL_READONLY})
ISSUE = frozenset({scopes.CREDENTIALS_ISSUE})
REVOKE = frozenset({scopes.CREDENTIALS_REVOKE})
WEBHOOKS = frozenset({scopes.WEBHOOKS_MANAGE})
EVIDENCE = frozenset({scopes.EVIDENCE_WRITE})
EVIDENCE_READ = frozenset({scopes.EVIDENCE_WRITE, scopes.ASSESSMENTS_READ})

SCOPES = {
    ("GET", "/v1/credentials"): READ,
    ("GET", "/v1/credentials/{credential_id}"): READ,
    ("GET", "/v1/credentials/{credential_id}/jsonld"): READ,
    ("GET", "/v1/credentials/{credential_id}/jwt"): READ,
    ("GET", "/v1/credentials/{credential_id}/png"): READ,
    ("GET", "/v1/credentials/{credential_id}/svg"): READ,
    ("POST", "/v1/credentials"): ISSUE,
    ("POST", "/v1/credentials/{credential_id}/renew"): ISSUE,
    ("POST", "/v1/bulk/credentials"): ISSUE,
    ("GET", "/v1/jobs/{job_id}"): frozenset({scopes.CREDENTIALS_ISSUE, scopes.JOBS_READ}),
    ("GET", "/v1/jobs/{job_id}/results"): frozenset({scopes.CREDENTIALS_ISSUE, scopes.JOBS_READ}),
    ("POST", "/v1/credentials/{credential_id}/revoke"): REVOKE,
    ("POST", "/v1/credentials/{credential_id}/suspend"): REVOKE,
    ("POST", "/v1/credentials/{credential_id}/unsuspend"): REVOKE,
    ("POST", "/v1/webhooks"): WEBHOOKS,
    ("GET", "/v1/webhooks"): WEBHOOKS,
    ("DELETE", "/v1/webhooks/{webhook_id}"): WEBHOOKS,
    ("GET", "/v1/webhooks/{webhook_id}/deliveries"): WEBHOOKS,
    ("POST", "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver"): WEBHOOKS,
    ("POST", "/v1/webhooks/{webhook_id}/secret/rotate"): WEBHOOKS,
    ("POST", "/v1/webhooks/{webhook_id}/disable"): WEBHOOKS,
    ("POST", "/v1/webhooks/{webhook_id}/enable"): WEBHOOKS,
    ("POST", "/v1/evidence/bundles"): EVIDENCE,
    ("GET", "/v1/evidence/bundles"): EVIDENCE,
    ("POST", "/v1/evidence/bundles/{bundle_id}/items"): EVIDENCE,
    ("PATCH", "/v1/evidence/bundles/{bundle_id}"): EVIDENCE,
    ("POST", "/v1/evidence/bundles/{bundle_id}/files"): EVIDENCE,
    ("DELETE", "/v1/evidence/bundles/{bundle_id}/items/{item_id}"): EVIDENCE,
    ("GET", "/v1/evidence/bundles/{bundle_id}"): EVIDENCE_READ,
    ("GET", "/v1/evidence/bundles/{bundle_id}/items/{item_id}/content"): EVIDENCE_READ,
    ("POST", "/v1/evidence/bundles/{bundle_id}/suggestions"): EVIDENCE,
    ("POST", "/v1/assessments"): EVIDENCE,
    ("GET", "/v1/assessments"): frozenset({scopes.ASSESSMENTS_READ}),
    ("GET", "/v1/assessments/{assessment_id}"): frozenset({scopes.ASSESSMENTS_READ}),
    ("GET", "/v1/assessment-quality"): frozenset({scopes.ASSESSMENTS_READ}),
    ("GET", "/v1/issuers/{issuer_id}/achievements"): frozenset({scopes.ACHIEVEMENTS_READ, scopes.CREDENTIALS_ISSUE}),
    ("GET", "/v1/achievements/{achievement_id}"): frozenset({scopes.ACHIEVEMENTS_READ, scopes.CREDENTIALS_ISSUE}),
    ("GET", "/v1/achievements/{achievement_id}/versions"): frozenset(
        {scopes.ACHIEVEMENTS_READ, scopes.CREDENTIALS_ISSUE}
    ),
    ("GET", "/v1/achievements/{achievement_id}/rubric"): frozenset(
        {scopes.ACHIEVEMENTS_READ, scopes.EVIDENCE_WRITE, scopes.ASSESSMENTS_READ}
    ),
    ("GET", "/ims/ob/v3p0/credentials"): READ,
    ("POST", "/ims/ob/v3p0/credentials"): frozenset({scopes.CREDENTIAL_UPSERT}),
    ("GET", "/ims/ob/v3p0/profile"): frozenset({scopes.PROFILE_READONLY}),
    ("PUT", "/ims/ob/v3p0/profile"): frozenset({scopes.PROFILE_UPDATE}),
    ("POST", "/v1/platform/earners"): frozenset({scopes.EARNERS_PROVISION}),
    ("GET", "/v1/platform/earners"): frozenset({scopes.EARNERS_PROVISION}),
    ("GET", "/v1/platform/earners/{earner_id}"): frozenset({scopes.EARNERS_PROVISION}),
}
"""The scopes that open each route to a platform client's token; any route not here is people only."""


def api_routes(routes):
    """Every APIRoute of the app, including those of included routers."""
    for route in routes:
        if hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes)
        elif isinstance(route, APIRoute):
            yield route


def declared_access(route: APIRoute) -> list:
    found, stack = [], [route.dependant]
    while stack:
        dependant = stack.pop()
        for dependency in dependant.dependencies:
            if isinstance(dependency.call, (Access, PublicAccess)):
                found.append(dependency.call)
            stack.append(dependency)
    return found


def operations(app):
    for route in api_routes(app.routes):
        for method in route.methods - {"HEAD", "OPTIONS"}:
            yield method, route


def is_page(route: APIRoute) -> bool:
    """A portal page: its door is the session cookie (a bearer token never opens it)."""
    from service.api.page_auth import PageAccess, PagePublicAccess

    return any(isinstance(rule, (PageAccess, PagePublicAccess)) for rule in declared_access(route))


def test_every_route_declares_exactly_one_access_rule_and_it_matches_the_table(app):
    seen = set()
    for method, route in operations(app):
        key = (method, route.path)
        seen.add(key)
        rules = declared_access(route)
        assert len({repr(r) for r in rules}) == 1, f"{key} declares {rules}"
        assert key in ACCESS, f"{key} is not in the access table: add it"
        expected = ACCESS[key]
        rule = rules[0]
        assert rule.is_public == (expected in (PUBLIC, PROTOCOL)), key
        if expected not in (PUBLIC, PROTOCOL):
            assert (rule.roles or ANY) == expected, f"{key}: declared {sorted(rule.roles)}"
            declared = sorted(rule.scopes)
            assert rule.scopes == SCOPES.get(key, frozenset()), f"{key}: declares scopes {declared}"
    assert seen == set(ACCESS), f"routes in the table but not in the app: {set(ACCESS) - seen}"
    assert set(SCOPES) <= seen, f"scoped routes not in the app: {set(SCOPES) - seen}"


@pytest.fixture
def callers(api):
    issuer = api.create_issuer()
    return {
        None: {},
        Role.earner: api.create_account("earner"),
        Role.reviewer: api.create_account("reviewer", issuer["id"]),
        Role.issuer_admin: api.create_account("issuer_admin", issuer["id"]),
        Role.admin: api.admin,
    }


PLACEHOLDER = "00000000-0000-4000-8000-000000000000"


def test_each_role_gets_through_exactly_the_doors_the_table_opens(app, client, callers):
    for method, route in operations(app):
        path = (
            route.path.replace("{issuer_id}", PLACEHOLDER)
            .replace("{achievement_id}", PLACEHOLDER)
            .replace("{credential_id}", PLACEHOLDER)
        )
        expected = ACCESS[(method, route.path)]
        if is_page(route):
            # a bearer token opens no page: sent to sign in (GET) or refused (a POST's CSRF check)
            status = client.request(method, path, headers=callers[Role.admin], follow_redirects=False).status_code
            assert status in ((303, 200) if method == "GET" else (403,)), f"{method} {route.path} with a token"
            continue
        for role, headers in callers.items():
            status = client.request(method, path, headers=headers, json={}).status_code
            where = f"{method} {route.path} as {role or 'anonymous'}: {status}"
            if expected == PROTOCOL:
                continue
            if expected == PUBLIC:
                assert status not in (401, 403), where
            elif role is None:
                assert status == 401, where
            elif role in expected:
                assert status not in (401, 403), where
            else:
                assert status == 403, where


def _earner_client_token(app, earner_headers, scope: str) -> dict[str, str]:
    """An earner's consent to a platform (an authorization code grant), minted directly."""
    from sqlmodel import Session

    from service.accounts.models import Account
    from service.platforms import service

    claims = app.state.tokens.claims(earner_headers["Authorization"].split()[1])
    with Session(app.state.engine, expire_on_commit=False) as session:
        registered = service.register_client(
            session,
            name="Earner app",
            issuer_id=None,
            scope=" ".join(sorted(scopes.EARNER_SCOPES)),
            redirect_uris=["https://app.example/cb"],
        )
        account = session.get(Account, claims.subject)
        grant = service.open_grant(session, registered.client, account.id, scope, "authorization_code", expires_at=None)
        token = service.mint_access_token(app.state.tokens, registered.client, grant, account)
        session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_a_platform_client_gets_through_only_with_a_scope_the_route_declares(app, client, callers):
    from tests.platforms.clients import client_token

    issuer_id = client.get("/v1/me", headers=callers[Role.issuer_admin]).json()["issuer_id"]
    clients: dict[frozenset, dict[str, str]] = {}

    def token_for(scope_set: frozenset, *, earner: bool) -> dict[str, str]:
        key = (scope_set, earner)
        if key not in clients:
            scope = " ".join(sorted(scope_set))
            if earner:
                clients[key] = _earner_client_token(app, callers[Role.earner], scope)
            else:
                clients[key] = client_token(app, issuer_id, scope).headers
        return clients[key]

    for method, route in operations(app):
        key = (method, route.path)
        if ACCESS[key] in (PUBLIC, PROTOCOL) or is_page(route):
            continue
        path = (
            route.path.replace("{issuer_id}", PLACEHOLDER)
            .replace("{achievement_id}", PLACEHOLDER)
            .replace("{credential_id}", PLACEHOLDER)
        )
        route_scopes = SCOPES.get(key, frozenset())
        as_earner = Role.issuer_admin not in ACCESS[key]
        others = (scopes.EARNER_SCOPES if as_earner else scopes.ALL) - route_scopes
        status = client.request(method, path, headers=token_for(others, earner=as_earner), json={}).status_code
        assert status == 403, f"{method} {route.path} with a client lacking its scopes: {status}"
        if route_scopes:
            headers = token_for(route_scopes, earner=as_earner)
            status = client.request(method, path, headers=headers, json={}).status_code
            assert status not in (401, 403), f"{method} {route.path} with its scopes: {status}"


def test_each_role_gets_through_exactly_the_page_doors_the_table_opens(app, api):
    """The portal's pages, with a signed-in browser of each role (a session cookie, and for a POST
    the session's CSRF token): the same outcome classes as the API's doors, except that a browser
    without a session is sent to sign in (GET) or refused (POST: no session, no valid token)."""
    from fastapi.testclient import TestClient
    from sqlmodel import Session

    from service.accounts.models import Account
    from service.accounts.service import create_account
    from service.api.page_auth import CSRF_PURPOSE, pre_session_cookie_name, session_cookie_name
    from service.portal import sessions

    settings = app.state.settings
    key = app.state.keystore.derive_secret(CSRF_PURPOSE)
    issuer_id_of_staff = api.create_issuer("Door Academy")["id"]
    with Session(app.state.engine, expire_on_commit=False) as session:
        accounts: dict[Role | None, Account | None] = {None: None}
        for role in Role:
            issuer_id = issuer_id_of_staff if role in (Role.reviewer, Role.issuer_admin) else None
            accounts[role] = create_account(
                session,
                email=f"door-{role}@example.org",
                password="a-long-enough-password",
                role=role,
                issuer_id=issuer_id,
            )
        session.commit()

    def signed_in_as(account: Account | None) -> tuple[dict[str, str], str]:
        """Cookies of a fresh session of ``account`` (none for nobody) and its forms' token."""
        if account is None:
            return {}, ""
        with Session(app.state.engine, expire_on_commit=False) as session:
            token, _ = sessions.start_session(session, account, now=app.state.clock.now())
            session.commit()
        return {session_cookie_name(settings): token}, sessions.csrf_token(key, token)

    checked = 0
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as browser:
        for method, route in operations(app):
            if not is_page(route):
                continue
            path = route.path.replace("{kind}", "jsonld")
            for name in ("credential_id", "achievement_id", "assessment_id", "item_id"):
                path = path.replace(f"{{{name}}}", PLACEHOLDER)
            expected = ACCESS[(method, route.path)]
            for role, account in accounts.items():
                browser.cookies.clear()
                cookies, token = signed_in_as(account)
                if expected == PUBLIC:  # a public form's token is bound to its pre-session cookie
                    form_page = browser.get("/login", follow_redirects=False)  # one pre-session for all
                    token = form_page.text.split('name="csrf_token" value="', 1)[-1][:64]
                    cookies[pre_session_cookie_name(settings)] = browser.cookies.get(
                        pre_session_cookie_name(settings), ""
                    )
                browser.cookies.clear()
                for cookie, value in cookies.items():
                    browser.cookies.set(cookie, value)
                if method == "GET":
                    response = browser.get(path, follow_redirects=False)
                else:
                    response = browser.post(path, data={"csrf_token": token}, follow_redirects=False)
                status, where = response.status_code, f"{method} {route.path} as {role or 'anonymous'}"
                sent_to_sign_in = status == 303 and response.headers["location"].startswith("/login?next=")
                if expected == PUBLIC:
                    assert status not in (401, 403) and not sent_to_sign_in, f"{where}: {status}"
                elif role is None:
                    assert sent_to_sign_in if method == "GET" else status == 403, f"{where}: {status}"
                elif role in expected:
                    assert status not in (401, 403) and not sent_to_sign_in, f"{where}: {status}"
                else:
                    assert status == 403, f"{where}: {status}"
                checked += 1
    assert checked >= 5 * 15, "the walk found the pages"
