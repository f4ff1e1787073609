"""The public badge URL: an HTML page for people, the credential for machines, badge images for both."""

from __future__ import annotations

import re

import pytest

from service.vc.baking import extract_baked_text
from service.web.negotiation import negotiate
from tests.credentials.helpers import assert_error, stored_credential

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
EMAIL = "ada.lovelace@example.org"


@pytest.fixture
def issued(api, achievement):
    return api.issue(
        achievement["id"],
        {"email": EMAIL},
        evidence=[{"id": "https://github.com/ada/tested-project", "name": "Tested project"}],
    )


def _path(issued: dict) -> str:
    return f"/credentials/{issued['id']}"


def test_a_browser_gets_a_page_with_the_achievement_issuer_and_live_verification(client, issued):
    response = client.get(_path(issued), headers={"Accept": BROWSER_ACCEPT})

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert '<h1 id="badge-name">Python testing</h1>' in page and "Acme Academy" in page
    assert '<div class="banner ok" role="status">' in page and "</span> Verified</strong>" in page
    assert "How was this checked" in page
    for check in ("format", "context", "schema", "proof", "issuer_key", "valid_from"):
        assert f"<pre><code>{check}: passed\n" in page, check  # the technical detail, folded away
    assert "<pre><code>valid_until: skipped\n" in page  # it does not expire
    assert "Key published at <strong>skillcred.example</strong>" in page  # the did:web domain that verified
    assert "https://github.com/ada/tested-project" in page


def test_the_page_never_shows_the_recipients_email(client, issued):
    page = client.get(_path(issued), headers={"Accept": "text/html"}).text

    assert "The recipient is identified by a hashed email address." in page
    assert "lovelace" not in page.lower()


def test_the_page_loads_nothing_from_elsewhere_and_runs_no_inline_script_or_style(client, issued):
    response = client.get(_path(issued), headers={"Accept": "text/html"})

    page = response.text
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts and all(re.search(r'src="/static/[a-z]+\.js\?v=', attrs) and not body for attrs, body in scripts)
    assert "<style" not in page and " style=" not in page
    assert not re.search(
        r"""(src|href|action)=["']?(https?:)?//""",
        page.replace('href="https://github.com/ada/tested-project"', "")
        .replace('href="https://issuer.example"', "")
        .replace('href="https://www.linkedin.com/profile/add?', "")
        .replace(f'href="https://skillcred.example/credentials/{issued["id"]}"', ""),  # rel=canonical
    )
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self';" in policy and "style-src 'self';" in policy
    assert "unsafe-inline" not in policy and "form-action 'self'" in policy
    assert response.headers["vary"] == "Accept"


def test_a_did_recipient_is_shown_as_the_did(api, client, achievement):
    did = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    issued = api.issue(achievement["id"], {"did": did})

    assert did in client.get(_path(issued), headers={"Accept": "text/html"}).text


def test_text_in_the_credential_is_escaped_on_the_page(api, client, issuer):
    achievement = api.create_achievement(
        issuer["id"], name="<img src=x onerror=alert(1)>", description="Bold & <b>brave</b>"
    )
    issued = api.issue(
        achievement["id"], evidence=[{"id": "https://example.org/work?a=1&b=2", "name": "<script>alert(1)</script>"}]
    )

    page = client.get(_path(issued), headers={"Accept": "text/html"}).text

    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<b>brave</b>" not in page
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="https://example.org/work?a=1&amp;b=2"' in page


@pytest.mark.parametrize(
    "accept",
    ["application/vc+ld+json", "application/ld+json", "application/json", "application/json;q=0.9, text/html;q=0.5"],
)
def test_machines_get_the_stored_json_ld_byte_for_byte(app, client, issued, accept):
    response = client.get(_path(issued), headers={"Accept": accept})

    assert response.status_code == 200
    assert response.content == stored_credential(app, issued["id"]).jsonld.encode("utf-8")
    assert response.headers["content-type"] == accept.split(";")[0]
    assert response.headers["vary"] == "Accept"


def test_curl_and_clients_without_a_preference_get_the_page(client, issued):
    for headers in ({"Accept": "*/*"}, {"Accept": ""}):
        response = client.get(_path(issued), headers=headers)
        assert response.headers["content-type"].startswith("text/html")


def test_an_unacceptable_type_is_406(client, issued):
    assert_error(client.get(_path(issued), headers={"Accept": "image/png"}), 406, "not_acceptable")


def test_an_unknown_credential_is_404_as_a_page_for_browsers_and_the_error_shape_otherwise(client):
    page = client.get("/credentials/00000000-0000-0000-0000-000000000000", headers={"Accept": BROWSER_ACCEPT})
    assert page.status_code == 404 and "Credential not found" in page.text
    assert page.headers["content-type"].startswith("text/html")
    data = client.get("/credentials/00000000-0000-0000-0000-000000000000", headers={"Accept": "application/json"})
    assert_error(data, 404, "not_found")


@pytest.mark.parametrize("image", ["png", "svg"])
def test_public_badge_images_carry_the_credential(app, client, issued, image):
    response = client.get(f"{_path(issued)}/badge.{image}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith({"png": "image/png", "svg": "image/svg+xml"}[image])
    assert extract_baked_text(response.content) == stored_credential(app, issued["id"]).jsonld
    assert_error(client.get(f"/credentials/00000000-0000-0000-0000-000000000000/badge.{image}"), 404)


def test_the_page_links_to_its_badge_images(client, issued):
    page = client.get(_path(issued), headers={"Accept": "text/html"}).text

    assert f'src="{issued["id"]}/badge.svg"' in page
    assert f'href="{issued["id"]}/badge.png"' in page


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, "text/html"),
        ("*/*", "text/html"),
        ("application/*", "application/vc+ld+json"),
        ("application/json, */*;q=0.1", "application/json"),
        ("text/html;q=0, */*", "application/vc+ld+json"),
        ("application/vc+ld+json;q=0.5, application/json;q=0.8", "application/json"),
        ("text/plain", None),
        ("text/html;q=nonsense", None),
    ],
)
def test_content_negotiation_follows_q_values_and_specificity(accept, chosen):
    assert negotiate(accept) == chosen
