"""Issue 9, item 6: every response carries ``Referrer-Policy`` and ``nosniff``, and every HTML page
a Content-Security-Policy that allows this origin only (the docs pages: their own start-up script
by hash, and inline styles)."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.api.security_headers import NON_HTML_POLICY, SecurityHeaders, inline_hashes, page_policy
from tests.event_loops import run_in_new_loop

pytestmark = pytest.mark.attack


def _directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for directive in policy.split(";"):
        name, *sources = directive.split()
        parsed[name] = sources
    return parsed


def _sha256(text: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'"


def _assert_base_headers(response) -> None:
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in response.headers


def test_every_kind_of_answer_carries_the_headers(client, api):
    answers = [
        client.get("/health"),
        client.get("/openapi.json"),
        client.get("/v1/me"),  # 401
        client.get("/no/such/route"),  # 404
        client.post("/v1/auth/register", json={"email": "not-an-email"}),  # 422
        client.post("/v1/auth/register", content=b"{" + b" " * 2_000_000 + b"}"),  # 413 from the body limit
        client.get("/docs/assets/swagger-ui.css"),
        client.get("/v1/me", headers=api.admin),
    ]
    assert [a.status_code for a in answers] == [200, 200, 401, 404, 422, 413, 200, 200]
    for answer in answers:
        _assert_base_headers(answer)


def test_json_answers_may_load_nothing(client):
    assert client.get("/health").headers["Content-Security-Policy"] == NON_HTML_POLICY


def test_the_home_page_allows_only_this_origin_and_no_inline_style(client):
    response = client.get("/")
    _assert_base_headers(response)
    policy = _directives(response.headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    assert "<style" not in response.text and policy["style-src"] == ["'self'"]  # the stylesheet is a file
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]


def test_the_badge_page_keeps_its_own_stricter_policy_and_gets_the_referrer_policy(api, client):
    issuer = api.create_issuer()
    achievement = api.create_achievement(issuer["id"])
    credential = api.issue(achievement["id"], {"email": "ada@example.org"})
    page = client.get(f"/credentials/{credential['id']}", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    _assert_base_headers(page)
    assert _directives(page.headers["Content-Security-Policy"])["default-src"] == ["'none'"]


def test_swagger_ui_runs_its_start_up_script_by_hash_only(client):
    response = client.get("/docs")
    _assert_base_headers(response)
    policy = _directives(response.headers["Content-Security-Policy"])
    (start_up,) = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    assert policy["script-src"] == ["'self'", _sha256(start_up)]
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]
    assert policy["connect-src"] == ["'self'"] and policy["img-src"] == ["'self'", "data:"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]  # Swagger UI adds styles as it runs


def test_the_oauth2_redirect_page_runs_only_its_own_script(client):
    response = client.get("/docs/oauth2-redirect")
    (script,) = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    assert _directives(response.headers["Content-Security-Policy"])["script-src"] == ["'self'", _sha256(script)]


def test_redoc_gets_no_inline_script_and_a_blob_worker(client):
    response = client.get("/redoc")
    policy = _directives(response.headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["worker-src"] == ["'self'", "blob:"]


def test_with_the_docs_switched_off_their_urls_are_404_with_the_headers(settings):
    with TestClient(create_app(settings.model_copy(update={"api_docs": False}))) as client:
        response = client.get("/docs")
    assert response.status_code == 404
    _assert_base_headers(response)


def test_inline_hashes_cover_only_inline_elements():
    html = '<script src="/a.js"></script><script>go()</script><style>b{}</style>'
    assert inline_hashes(html, "script") == [_sha256("go()")]
    assert inline_hashes(html, "style") == [_sha256("b{}")]
    assert "'unsafe-inline'" not in page_policy(styles=inline_hashes(html, "style"))


def test_the_middleware_keeps_a_route_s_own_headers_and_passes_other_scopes_through():
    seen: list[str] = []

    async def inner(scope, receive, send):
        seen.append(scope["type"])
        if scope["type"] == "http":
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"text/html"), (b"referrer-policy", b"same-origin")],
                }
            )
            await send({"type": "http.response.body", "body": b"<p>hi</p>"})

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "lifespan.startup"}

    middleware = SecurityHeaders(inner, policy_for_html="default-src 'self'")
    run_in_new_loop(lambda: middleware({"type": "http", "headers": []}, receive, send))
    run_in_new_loop(lambda: middleware({"type": "lifespan"}, receive, send))
    headers = dict(sent[0]["headers"])
    assert headers[b"referrer-policy"] == b"same-origin"
    assert headers[b"content-security-policy"] == b"default-src 'self'"
    assert headers[b"x-content-type-options"] == b"nosniff"
    assert seen == ["http", "lifespan"]
