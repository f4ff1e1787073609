"""Cross-site request forgery: a page on another site makes the victim's browser post a form.

Such a request carries the victim's cookies for this origin but no ``Authorization`` header, and
only the three content types an HTML form can send without CORS (``application/x-www-form-
urlencoded``, ``multipart/form-data``, ``text/plain``; Fetch Standard, "CORS-safelisted request
header"). SkillCred authenticates only with a bearer token in the ``Authorization`` header and
never sets or reads a cookie, so:

- every route that needs an account answers 401 to a forged form post, even when the cookies
  carry a valid admin token under any likely name;
- every public route that changes something takes JSON only, so a form post (text/plain holding a
  well-formed JSON body included, the classic ``enctype="text/plain"`` trick) is refused (415 or
  422), while the very same body sent as JSON works;
- the only routes that read form data are the OAuth 2.0 token endpoint (RFC 6749 section 4.3.2
  requires it), ``POST /v1/verify`` (an upload of a badge image) and the verify page's form
  (``POST /verify``); none sets a cookie and verifying changes nothing;
- the portal's pages (service/portal) are the exception that proves it: they do read their own
  session cookie, so every form post of theirs must carry the page's CSRF token (an HMAC of the
  session or pre-session cookie, which another site cannot know): a forged one is a 403 page;
- no answer sets a cookie or allows credentialed cross-origin reads;
- and were a form ever to authenticate, a route taking JSON still refuses the form content types
  (415 or 422), bearer token or not.

The routes are walked from the app itself (``app.routes``), and the database is compared, every
table and row, before and after the forged requests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import params
from fastapi.routing import APIRoute
from sqlmodel import SQLModel

import service.tables  # noqa: F401 (registers every table on SQLModel.metadata)
from service.accounts.models import Role
from service.api.auth import Access, PublicAccess
from service.core.config import Settings
from service.vc.keys import did_key_signer, generate_ed25519
from tests.api_client import Api
from tests.endorsements.conftest import Client, ask, challenge, endorse_by_email, register_earner

pytestmark = pytest.mark.attack

EVIL_ORIGIN = "https://evil.example"
PLACEHOLDER_ID = "00000000-0000-4000-8000-000000000000"
COOKIE_NAMES = ("access_token", "token", "session", "sessionid", "Authorization", "skillcred", "jwt")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")
# Routes whose contract is form data: the OAuth 2.0 token, revocation and introspection endpoints
# (RFC 6749 section 3.2, RFC 7009 section 2.1, RFC 7662 section 2.1), the consent page's answer
# (which carries the earner's password and a MAC of the authorization request, neither of which a
# forging page knows), and the verifier's badge-image upload and its page's form. None sets a cookie.
FORM_ROUTES = {
    ("POST", "/v1/auth/token"),
    ("POST", "/v1/verify"),
    ("POST", "/verify"),
    # the badge page's two forms ("Is this you?", "Check this evidence again"): read-only answers,
    # no cookie, no account
    ("POST", "/credentials/{credential_id}/identity"),
    ("POST", "/credentials/{credential_id}/evidence/{index}/check"),
    ("POST", "/oauth/authorize"),
    ("POST", "/oauth/revoke"),
    ("POST", "/oauth/introspect"),
}
OB_PREFIX = "/ims/ob/v3p0/"
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # no background re-signing: the database may change only through the requests under test
    return settings.model_copy(update={"status_list_background_resign": False})


# --- the routes and the database ----------------------------------------------------------------


def api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute of the app, those of included routers too."""
    for route in routes:
        if hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes)
        elif isinstance(route, APIRoute):
            yield route


def access_rules(route: APIRoute) -> list[Access | PublicAccess]:
    """The access rules a route declares (see tests/api/test_access.py)."""
    found, stack = [], [route.dependant]
    while stack:
        dependant = stack.pop()
        for dependency in dependant.dependencies:
            if isinstance(dependency.call, (Access, PublicAccess)):
                found.append(dependency.call)
            stack.append(dependency)
    return found


def is_public(route: APIRoute) -> bool:
    return any(isinstance(rule, PublicAccess) for rule in access_rules(route))


def is_page(route: APIRoute) -> bool:
    """A portal page, whose door is the session cookie and whose forms carry a CSRF token."""
    from service.api.page_auth import PageAccess, PagePublicAccess

    return any(isinstance(rule, (PageAccess, PagePublicAccess)) for rule in access_rules(route))


def state_changing_operations(app: Any) -> list[tuple[str, APIRoute]]:
    operations = [
        (method, route) for route in api_routes(app.routes) for method in sorted(route.methods & STATE_CHANGING)
    ]
    assert len(operations) > 30, "the walk found the app's routes"
    return operations


def database_fingerprint(app: Any) -> dict[str, str]:
    """Every table's rows, hashed (tables by name; rows in a stable order)."""
    prints = {}
    with app.state.engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            rows = sorted(repr(tuple(row)) for row in connection.execute(sa.select(table)))
            prints[table.name] = hashlib.sha256("\n".join(rows).encode()).hexdigest() + f" ({len(rows)} rows)"
    return prints


# --- what there is to attack ----------------------------------------------------------------------


class Scene:
    """An issuer, an achievement, an earner with a credential, a bundle with an item, a pending
    endorsement, and the one-time values the public routes take (tokens, a challenge)."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.admin_token = api.admin["Authorization"].removeprefix("Bearer ")
        issuer = api.create_issuer("Victim Academy")
        achievement = api.create_achievement(issuer["id"])
        self.earner = register_earner(api)
        self.issuer_admin = api.create_account("issuer_admin", issuer["id"])
        credential = api.issue(achievement["id"], {"email": self.earner.email})
        bundle = api.client.post(
            "/v1/evidence/bundles", json={"achievement_id": achievement["id"]}, headers=self.earner.headers
        ).json()
        item = api.client.post(
            f"/v1/evidence/bundles/{bundle['id']}/items",
            json={"kind": "text", "text": "My write-up."},
            headers=self.earner.headers,
        ).json()
        endorsement = endorse_by_email(api, credential["id"])
        pending = ask(api, credential["id"], email="henry@client.example", name="Henry Client").json()
        registered = api.client.post(
            "/v1/auth/register", json={"email": "unverified@example.org", "password": "a-long-enough-password"}
        ).json()
        client = Client(did_key_signer(generate_ed25519()))
        issued = challenge(api, credential["id"], client.did)
        self.ids = {
            "issuer_id": issuer["id"],
            "achievement_id": achievement["id"],
            "credential_id": credential["id"],
            "bundle_id": bundle["id"],
            "item_id": item["id"],
            "endorsement_id": endorsement["id"],
            "request_id": pending["id"],
        }
        proof = client.sign_jws({"nonce": issued["nonce"], "aud": issued["audience"], "iss": client.did})
        # A well-formed body for every public route that changes something: the same body sent
        # as JSON works (the test shows it), so a refusal of the forged copy is the content type's.
        self.valid_bodies: dict[tuple[str, str], dict[str, Any]] = {
            ("POST", "/v1/auth/register"): {"email": "forged@example.org", "password": "a-long-enough-password"},
            ("POST", "/v1/auth/verify-email"): {"token": registered["verification_token"]},
            ("POST", "/oauth/register"): {
                "client_name": "Forged app",
                "redirect_uris": ["https://app.example/cb"],
                "token_endpoint_auth_method": "none",
            },
            ("POST", "/v1/credentials/{credential_id}/endorsements/requests"): {
                "email": "mallory@client.example",
                "name": "Mallory Client",
                "statement": "Forged praise.",
            },
            ("POST", "/v1/endorsements/requests/{request_id}/confirm"): {"token": pending["verification_token"]},
            ("POST", "/v1/credentials/{credential_id}/endorsements/challenges"): {"did": client.did},
            ("POST", "/v1/credentials/{credential_id}/endorsements/signed"): {
                "challenge_id": issued["id"],
                "proof": proof,
                "endorsement": client.endorsement(credential["url"]),
            },
        }

    def path(self, route: APIRoute) -> str:
        path = route.path
        for name in route.param_convertors:
            path = path.replace(f"{{{name}}}", self.ids.get(name, PLACEHOLDER_ID))
        return path

    def body(self, method: str, route: APIRoute) -> dict[str, Any]:
        return self.valid_bodies.get((method, route.path), {"reason": "Forged", "name": "Forged"})

    def bearer_for(self, route: APIRoute) -> dict[str, str]:
        """A bearer token of an account the route admits: the admin's, or the earner's."""
        roles = {role for access in access_rules(route) for role in access.roles}
        if roles == {Role.earner}:
            return self.earner.headers
        if roles and Role.admin not in roles:
            return self.issuer_admin
        return self.api.admin

    def cookies(self) -> str:
        """The victim's cookies, if SkillCred had any: the admin's valid token under every likely name."""
        values = {name: self.admin_token for name in COOKIE_NAMES} | {"Authorization": f"Bearer {self.admin_token}"}
        return "; ".join(f"{name}={value}" for name, value in values.items())


@pytest.fixture
def scene(api: Api) -> Scene:
    return Scene(api)


def forged(
    scene: Scene, method: str, route: APIRoute, content_type: str, extra_headers: dict[str, str] | None = None
) -> Any:
    """What a cross-site form makes the victim's browser send: the cookies, another Origin, one of
    the three form content types, and no Authorization header (unless ``extra_headers`` adds one)."""
    body = scene.body(method, route)
    fields = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
    headers = {
        "Cookie": scene.cookies(),
        "Origin": EVIL_ORIGIN,
        "Referer": f"{EVIL_ORIGIN}/innocent-page",
        "Sec-Fetch-Site": "cross-site",
        "Sec-Fetch-Mode": "navigate",
        **(extra_headers or {}),
    }
    request = scene.api.client.request
    if content_type == "text/plain":
        # <form enctype="text/plain"> with name='{"a":"' value='"}' sends a JSON document
        return request(
            method, scene.path(route), content=json.dumps(body), headers={**headers, "Content-Type": content_type}
        )
    if content_type == "multipart/form-data":
        parts = {k: (None, v) for k, v in fields.items()} | {"file": ("evidence.txt", b"forged evidence", "text/plain")}
        return request(method, scene.path(route), files=parts, headers=headers)
    return request(method, scene.path(route), data=fields, headers=headers)


def assert_no_cookie_and_no_credentialed_cors(response: Any, where: str) -> None:
    assert "set-cookie" not in response.headers, where
    assert response.headers.get("access-control-allow-credentials") is None, where
    assert response.headers.get("access-control-allow-origin") in (None, "*"), where


# --- the tests ----------------------------------------------------------------------------------


def test_a_forged_form_post_changes_nothing_on_any_route(app, scene):
    before = database_fingerprint(app)
    refused: dict[str, int] = {}

    for method, route in state_changing_operations(app):
        for content_type in FORM_TYPES:
            where = f"{method} {route.path} as {content_type}"
            response = forged(scene, method, route, content_type)
            assert response.status_code < 500, f"{where}: {response.status_code} {response.text}"
            assert_no_cookie_and_no_credentialed_cors(response, where)
            if is_page(route):  # no valid CSRF token: refused before anything is read or done
                assert response.status_code == 403 and "security token" in response.text, where
            elif not is_public(route):
                # the cookies are never read: the route still sees nobody signed in
                assert response.status_code == 401, f"{where}: {response.status_code} {response.text}"
                if route.path.startswith(OB_PREFIX):  # the Open Badges API's own error shape
                    assert response.json()["imsx_codeMajor"] == "failure", where
                else:
                    assert response.json()["error"] == "unauthorized", where
            elif (method, route.path) not in FORM_ROUTES:
                assert response.status_code in (415, 422), f"{where}: {response.status_code} {response.text}"
            refused[where] = response.status_code

    assert database_fingerprint(app) == before
    assert len(refused) == 3 * len(state_changing_operations(app))


def test_the_same_bodies_as_json_do_work_so_only_the_content_type_stopped_them(app, scene):
    public = [
        (m, r)
        for m, r in state_changing_operations(app)
        if is_public(r) and not is_page(r) and (m, r.path) not in FORM_ROUTES
    ]
    assert {(m, r.path) for m, r in public} == set(scene.valid_bodies), "a body for every public route"

    for method, route in public:
        before = database_fingerprint(app)
        response = scene.api.client.request(method, scene.path(route), json=scene.body(method, route))
        assert 200 <= response.status_code < 300, f"{method} {route.path}: {response.status_code} {response.text}"
        assert database_fingerprint(app) != before, f"{method} {route.path} changed something"


def test_even_with_a_bearer_token_a_json_route_refuses_form_content_types(app, scene):
    """Belt and braces: were a form ever to authenticate, a route that takes a JSON body still
    refuses the three form content types (415 or 422) and changes nothing."""
    before = database_fingerprint(app)
    checked = 0

    for method, route in state_changing_operations(app):
        body = route.body_field
        if body is None or isinstance(getattr(body, "field_info", None), params.Form) or is_public(route):
            continue  # no body, a form or upload route, or checked without a token above
        headers = scene.bearer_for(route)
        for content_type in FORM_TYPES:
            response = forged(scene, method, route, content_type, extra_headers=headers)
            where = f"{method} {route.path} as {content_type} with a bearer token"
            # the Open Badges API answers a refused body 400 invalid_data (its OpenAPI has no 422)
            refusals = (400, 415) if route.path.startswith(OB_PREFIX) else (415, 422)
            assert response.status_code in refusals, f"{where}: {response.status_code} {response.text}"
            checked += 1

    assert checked >= 45, "the walk found the JSON routes"
    assert database_fingerprint(app) == before


def test_the_token_endpoint_answers_in_the_body_and_never_with_a_cookie(scene):
    from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

    response = scene.api.client.post(
        "/v1/auth/token",
        data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        headers={"Origin": EVIL_ORIGIN, "Sec-Fetch-Site": "cross-site"},
    )

    assert response.status_code == 200
    assert_no_cookie_and_no_credentialed_cors(response, "POST /v1/auth/token")
    assert not scene.api.client.cookies, "the test client kept no cookie"
    token = response.json()["access_token"]
    signed_in = scene.api.client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert signed_in.status_code == 200
    for name in COOKIE_NAMES:
        cookie_only = scene.api.client.get("/v1/me", headers={"Cookie": f"{name}={token}"})
        assert cookie_only.status_code == 401, name


def test_a_preflight_from_another_origin_is_granted_nothing(app, scene):
    for method, route in state_changing_operations(app):
        response = scene.api.client.options(
            scene.path(route),
            headers={
                "Origin": EVIL_ORIGIN,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        where = f"OPTIONS {route.path} for {method}"
        assert response.status_code < 500, where
        assert response.headers.get("access-control-allow-origin") != EVIL_ORIGIN, where
        assert response.headers.get("access-control-allow-credentials") is None, where
        assert "authorization" not in response.headers.get("access-control-allow-headers", "").lower(), where
