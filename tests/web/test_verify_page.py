"""The verify page (``/verify``): anyone checks any Open Badges 3.0 credential by pasting a badge URL,
its JSON or its JWT, or by uploading a baked badge image, and reads the same plain-words report as
the badge page with what the credential claims.

It is the verify API's pipeline behind a form, so it is held to the API's bounds: a body-size
limit, a per-address budget, and URLs fetched only over the SSRF-safe client (never a private,
local or metadata address). Nothing from a credential is run or loaded: a hostile name is text.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser
from ipaddress import ip_network

import pytest

from service.net import SafeFetcher
from service.vc.data_integrity import sign
from service.vc.keys import did_key_signer, generate_ed25519
from service.vc.openbadges import Achievement, IssuerProfile, build_achievement_credential
from service.verification.fetching import credential_fetcher
from service.web.pages.routes import verify_fetcher
from tests.net.local_server import LocalServer, fixed_resolver, respond

KIB = 1024
UPLOAD_LIMIT = 256 * KIB
LOOPBACK_ONLY = (ip_network("127.0.0.1/32"),)
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def settings(settings):
    """A small upload limit, so "too large" needs no megabytes."""
    return settings.model_copy(update={"max_upload_bytes": UPLOAD_LIMIT})


@pytest.fixture
def issued(api, achievement):
    return api.issue(achievement["id"], {"email": "ada@example.org"})


@pytest.fixture
def local_server():
    with LocalServer() as server:
        yield server


@pytest.fixture
def local_fetcher(app):
    """The page fetches with a client that may reach 127.0.0.1 over http: the test-only allowance
    (production's fetcher is https-only and public-only; a test below checks that wiring)."""
    fetcher = SafeFetcher(timeout=2.0, max_bytes=UPLOAD_LIMIT, allow_http=True, allowed_networks=LOOPBACK_ONLY)
    app.dependency_overrides[verify_fetcher] = lambda: fetcher
    yield fetcher
    app.dependency_overrides.pop(verify_fetcher, None)


def _download(api, credential_id: str, fmt: str) -> bytes:
    response = api.client.get(f"/v1/credentials/{credential_id}/{fmt}", headers=api.admin)
    assert response.status_code == 200
    return response.content


def _paste(client, text: str):
    return client.post("/verify", files={"credential": (None, text), "file": ("", b"", "application/octet-stream")})


def _upload(client, name: str, content: bytes, media_type: str):
    return client.post("/verify", files={"credential": (None, ""), "file": (name, content, media_type)})


def _banner(html: str) -> str:
    found = re.search(r'<div class="banner (ok|warn|bad)" role="status">\s*<strong>(.*?)</strong>', html, re.DOTALL)
    assert found, "no report banner on the page"
    return re.sub(r"<[^>]+>", "", found.group(2)).replace("✔", "").replace("✘", "").replace("!", "").strip()


def _error(html: str) -> str:
    found = re.search(r'<div class="banner bad" role="alert" id="verify-error">(.*?)</div>', html, re.DOTALL)
    assert found, "no error on the page"
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def _outside_credential(name: str = "Welding", issuer_url: str | None = None) -> dict:
    """A credential of another issuer (a did:key, so it verifies offline)."""
    signer = did_key_signer(generate_ed25519())
    did = signer.verification_method.partition("#")[0]
    credential = build_achievement_credential(
        credential_id="urn:uuid:4f6c1b52-0d3f-4a2e-9a43-6a5d2c7f1e11",
        issuer=IssuerProfile(id=did, name="Elsewhere Academy", url=issuer_url),
        achievement=Achievement(
            id="https://elsewhere.example/achievements/1",
            name=name,
            description="Welds.",
            criteria_narrative="Weld a joint.",
        ),
        recipient_did="did:example:ebfeb1f712ebc6f1c276e12ec21",
        valid_from=datetime(2024, 1, 1, tzinfo=UTC),
    )
    return sign(credential, signer, proof_as_list=True)


def csp_directives(policy: str) -> dict[str, list[str]]:
    return {name: sources for name, *sources in (d.split() for d in policy.split(";") if d.strip())}


class _Elements(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    return parser.tags


# --- the form --------------------------------------------------------------------------------


def test_the_form_takes_a_url_json_or_jwt_and_a_file_and_works_without_script(client):
    response = client.get("/verify")

    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    tags = _elements(html)
    form = next(attrs for tag, attrs in tags if tag == "form" and attrs.get("action") == "/verify")
    assert form["method"] == "post" and form["enctype"] == "multipart/form-data"
    assert '<label for="credential">' in html and '<textarea id="credential" name="credential"' in html
    assert '<label for="file">' in html
    assert any(tag == "input" and attrs.get("type") == "file" and attrs.get("name") == "file" for tag, attrs in tags)
    assert "at most 256 KiB" in html
    scripts = [attrs for tag, attrs in tags if tag == "script"]
    assert [s["src"].split("?")[0] for s in scripts] == ["/static/verify.js"]  # a file, not inline
    assert "<style" not in html
    policy = csp_directives(response.headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert client.get(scripts[0]["src"]).status_code == 200


# --- credentials that verify -----------------------------------------------------------------------


def test_a_pasted_json_ld_credential_verifies_and_shows_what_it_claims(client, api, issued):
    response = _paste(client, _download(api, issued["id"], "jsonld").decode())

    assert response.status_code == 200, response.text
    html = response.text
    assert _banner(html) == "Verified"
    assert '<h2 id="claims-heading">Python testing</h2>' in html
    assert "Acme Academy" in html
    assert "A hashed email address" in html and "ada@example.org" not in html
    assert "How was this checked" in html and "Signature" in html


def test_a_pasted_vc_jwt_verifies(client, api, issued):
    html = _paste(client, _download(api, issued["id"], "jwt").decode()).text

    assert _banner(html) == "Verified"
    assert "Python testing" in html


@pytest.mark.parametrize(("fmt", "media_type"), [("png", "image/png"), ("svg", "image/svg+xml")])
def test_an_uploaded_baked_badge_image_verifies(client, api, issued, fmt, media_type):
    image = _download(api, issued["id"], fmt)

    html = _upload(client, f"badge.{fmt}", image, media_type).text

    assert _banner(html) == "Verified"
    assert "Badge image" in html  # the report says the credential came out of the image


def test_the_badge_url_of_a_credential_of_this_service_is_read_without_a_request_to_itself(client, issued):
    url = issued["credential"]["id"]
    assert url.startswith("https://skillcred.example/credentials/")

    html = _paste(client, url).text

    assert _banner(html) == "Verified" and "Python testing" in html


def test_a_credential_url_of_another_issuer_is_fetched_and_verified(client, local_server, local_fetcher):
    local_server.routes["/badges/1"] = respond(
        200, json.dumps(_outside_credential()).encode(), {"Content-Type": "application/vc+ld+json"}
    )

    html = _paste(client, local_server.url("/badges/1")).text

    assert _banner(html) == "Verified"
    assert "Welding" in html and "Elsewhere Academy" in html
    assert local_server.hits("/badges/1") == 1
    assert "application/vc+ld+json" in local_server.requests[0].headers["accept"]


# --- credentials that do not -----------------------------------------------------------------------


def test_a_tampered_credential_is_not_verified_and_the_failing_check_says_why_in_plain_words(client, api, issued):
    credential = json.loads(_download(api, issued["id"], "jsonld"))
    credential["credentialSubject"]["achievement"]["name"] = "Rocket science"

    html = _paste(client, json.dumps(credential)).text

    assert _banner(html) == "Not verified"
    assert "The signature does not match: the credential was changed after it was signed" in html
    assert "It did not verify, so none of this is confirmed." in html
    assert "Rocket science" in html  # what it claims, marked as unconfirmed


def test_a_tampered_baked_image_is_not_verified(client, api, issued):
    from service.vc.baking import bake_png

    credential = json.loads(_download(api, issued["id"], "jsonld"))
    credential["validFrom"] = "2001-01-01T00:00:00Z"
    image = bake_png(_download(api, issued["id"], "png"), credential)

    assert _banner(_upload(client, "badge.png", image, "image/png").text) == "Not verified"


def test_text_that_is_not_a_credential_is_a_result_not_a_fault(client):
    response = _paste(client, "hello, is this a badge?")

    assert response.status_code == 200
    assert _banner(response.text) == "Not verified"


# --- nothing from the credential runs --------------------------------------------------------------


def test_a_hostile_credential_renders_as_text_and_its_urls_never_become_script_links(client):
    credential = _outside_credential(name=HOSTILE, issuer_url="javascript:alert(document.cookie)")
    credential["credentialSubject"]["achievement"]["image"] = {"id": "https://tracker.example/pixel.png"}

    html = _paste(client, json.dumps(credential)).text

    assert HOSTILE not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    tags = _elements(html)
    assert [attrs.get("src", "").split("?")[0] for tag, attrs in tags if tag == "script"] == ["/static/verify.js"]
    hrefs = [attrs.get("href") or "" for tag, attrs in tags if tag == "a"]
    assert not [h for h in hrefs if not h.startswith(("/", "#", "https://", "http://"))], hrefs
    assert "javascript:alert(document.cookie)" in html  # shown, as text
    assert not [attrs for tag, attrs in tags if tag == "img"]  # the credential's image is not loaded
    assert "tracker.example" not in html


# --- bounds ----------------------------------------------------------------------------------------


def test_a_file_over_the_upload_limit_gets_a_clear_error_page(client):
    response = _upload(client, "huge.png", b"\x89PNG" + b"\0" * UPLOAD_LIMIT, "image/png")

    assert response.status_code == 413 and response.headers["content-type"].startswith("text/html")
    assert "The file is larger than 256 KiB, the most this page accepts." in _error(response.text)


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(client):
    response = _upload(client, "huge.png", b"\0" * (UPLOAD_LIMIT + 2 * 1024 * KIB), "image/png")

    assert response.status_code == 413


def test_an_empty_form_and_a_doubled_one_say_what_to_do(client):
    empty = _paste(client, "   ")
    both = client.post("/verify", files={"credential": (None, "{}"), "file": ("a.json", b"{}", "application/json")})

    assert empty.status_code == 422 and "Paste a badge URL" in _error(empty.text)
    assert both.status_code == 422 and "either paste it or choose a file, not both" in _error(both.text)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1:{port}/badges/1",
        "http://127.0.0.1:{port}/badges/1",
        "https://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "https://[::1]:{port}/badges/1",
        "https://10.0.0.8/badge.json",
    ],
)
def test_a_private_local_or_metadata_address_is_refused_without_a_request(client, local_server, url):
    local_server.routes["/badges/1"] = respond(200, b"{}")

    response = _paste(client, url.format(port=local_server.port))

    assert response.status_code == 422
    assert "private, local or cloud-internal network" in _error(response.text)
    assert local_server.requests == []


def test_a_name_that_resolves_to_a_private_address_is_refused_like_one_that_does_not_resolve(app, client, settings):
    production = credential_fetcher(settings)
    fetcher = SafeFetcher(
        timeout=production.timeout,
        max_bytes=production.max_bytes,
        resolver=fixed_resolver({"internal.example": ["10.0.0.8"]}),
    )
    app.dependency_overrides[verify_fetcher] = lambda: fetcher
    try:
        internal = _error(_paste(client, "https://internal.example/badge.json").text)
        unknown = _error(_paste(client, "https://nowhere.example/badge.json").text)
    finally:
        app.dependency_overrides.pop(verify_fetcher, None)

    assert "not allowed or could not be reached" in internal
    assert internal.replace("internal", "X") == unknown.replace("nowhere", "X")  # no DNS oracle


def test_the_production_fetcher_is_https_only_public_only_and_bounded(settings):
    fetcher = credential_fetcher(settings)

    assert fetcher.allow_http is False and fetcher.max_bytes == settings.max_upload_bytes
    assert fetcher.timeout <= 5 and fetcher.max_redirects <= 3


def test_another_address_on_this_service_is_not_fetched(client):
    response = _paste(client, "https://skillcred.example/v1/me")

    assert response.status_code == 422 and "not a badge's address" in _error(response.text)


def test_verifications_share_the_verify_apis_budget_per_address(client):
    seen = [_paste(client, "").status_code for _ in range(61)]

    assert seen[:60] == [422] * 60 and seen[60] == 429
    page = _paste(client, "")
    assert page.status_code == 429 and "Too many verifications" in _error(page.text)
    assert int(page.headers["Retry-After"]) >= 1
    api = client.post("/v1/verify", content=b"{}", headers={"Content-Type": "application/json"})
    assert api.status_code == 429
