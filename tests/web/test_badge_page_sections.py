"""The badge page's sections (issue 13): whose badge it is (as the earner chose), privacy, how a
revoked badge looks, the skill with each criterion's level on its scale, evidence rendered safely,
sharing (LinkedIn, QR, embed, link previews) and the downloads."""

from __future__ import annotations

import io
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image

from service.core.templates import STATIC
from tests.credentials.helpers import assert_error, stored_credential
from tests.web.badge_helpers import (
    DISPLAY_NAME,
    EARNER_EMAIL,
    WEB_EVIDENCE_URL,
    add_earner,
    issue_rich,
    set_credential,
)

HTML = {"Accept": "text/html"}
FILES = ("badge.png", "badge.svg", "credential.jsonld", "credential.jwt", "qr.svg", "preview.png")


@pytest.fixture
def rich(app, settings, achievement):
    add_earner(app)
    return issue_rich(app, settings, achievement)


def _page(client, rich) -> str:
    response = client.get(rich.path, headers=HTML)
    assert response.status_code == 200, response.text
    return response.text


def _revoke(api, credential_id: str, reason: str = "Issued to the wrong person") -> None:
    response = api.client.post(f"/v1/credentials/{credential_id}/revoke", json={"reason": reason}, headers=api.admin)
    assert response.status_code == 200, response.text


# --- whose badge it is ------------------------------------------------------------------------


def test_the_earners_display_name_shows_when_they_chose_to_show_it(client, rich):
    page = _page(client, rich)

    assert f"Earned by <strong>{DISPLAY_NAME}</strong>" in page
    assert EARNER_EMAIL not in page and "hashed email address" not in page


def test_only_the_badge_shows_when_the_earner_hides_their_name(app, client, rich):
    set_credential(app, rich.id, show_name=False)

    page = _page(client, rich)

    assert DISPLAY_NAME not in page
    assert "The recipient is identified by a hashed email address." in page


def test_an_account_that_did_not_verify_the_address_lends_no_name(app, settings, client, achievement):
    add_earner(app, email="claimed@example.org", name="Someone Else", verified=False)
    rich = issue_rich(app, settings, achievement, email="claimed@example.org")

    page = _page(client, rich)

    assert "Someone Else" not in page and "a hashed email address" in page


# --- privacy ----------------------------------------------------------------------------------


def test_a_private_credential_answers_404_everywhere_like_an_unknown_one(app, client, rich):
    set_credential(app, rich.id, public=False)

    page = client.get(rich.path, headers=HTML)
    assert page.status_code == 404 and "Credential not found" in page.text
    assert DISPLAY_NAME not in page.text
    assert_error(client.get(rich.path, headers={"Accept": "application/vc+ld+json"}), 404, "not_found")
    for name in FILES:
        assert_error(client.get(f"{rich.path}/{name}"), 404, "not_found")
    assert client.post(f"{rich.path}/identity", data={"email": EARNER_EMAIL}).status_code == 404
    assert client.post(f"{rich.path}/evidence/0/check").status_code == 404


# --- a revoked badge looks it ------------------------------------------------------------------


def test_a_revoked_badge_is_greyed_marked_and_its_files_marked_revoked(api, client, rich):
    _revoke(api, rich.id)

    page = _page(client, rich)

    assert '<div class="banner bad" role="status">' in page and "</span> Revoked</strong>" in page
    assert "Acme Academy revoked this credential on " in page
    assert '<figure class="badge-figure invalid">' in page
    assert '<figcaption class="stamp">Revoked</figcaption>' in page  # a word, not only grey
    assert "These files are kept for the record; they will not verify as a valid badge." in page
    assert page.count('<span class="tag withdrawn">Revoked</span>') == 4
    assert "Add to LinkedIn profile" not in page and "embed-code" not in page
    assert "Issued to the wrong person" not in page  # the reason is for the issuer and the earner
    assert '<meta property="og:title" content="Python testing (Revoked)">' in page


# --- the skill ---------------------------------------------------------------------------------


def test_each_criterion_shows_its_level_on_its_scale_and_how_it_was_assessed(client, rich):
    page = _page(client, rich)

    assert "<strong>Test design</strong>: Proficient, 2 of 3" in page
    assert '<meter min="0" max="3" value="2"' in page
    assert "<h3>How this was assessed</h3>" in page
    assert "by an AI language model (AI-assisted assessment), version 2.1 on 28 November 2026" in page
    assert "then reviewed by a person at the issuer on 29 November 2026 who approved it." in page


# --- evidence -----------------------------------------------------------------------------------


def test_markdown_evidence_is_rendered_sanitised_and_highlighted(client, rich):
    page = _page(client, rich)

    assert "<h4>Testing the parser</h4>" in page  # under the page's own headings
    assert "<em>property-based</em>" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert '<pre class="hl"><code><span class="k">def</span>' in page  # Pygments, CSS classes only
    # an outside image would call a third party: it becomes a link; a javascript: URL stays text
    assert '<a href="https://tracker.example/pixel.png" rel="nofollow noopener noreferrer">Image: diagram</a>' in page
    assert 'src="https://tracker.example' not in page and 'href="javascript:' not in page


def test_web_evidence_shows_its_link_digest_and_a_check_again_form(client, rich):
    page = _page(client, rich)

    assert f'<a href="{WEB_EVIDENCE_URL}" rel="nofollow noopener noreferrer">' in page
    assert "SHA-256 (SRI): <code>sha256-" in page and "Multibase: <code>z" in page
    assert f'<form method="post" action="{rich.id}/evidence/0/check"' in page
    assert 'action="{rich.id}/evidence/1/check"' not in page  # a narrative has nothing to fetch


# --- sharing ------------------------------------------------------------------------------------


def test_share_offers_the_link_linkedin_a_qr_code_and_an_embed_snippet(client, rich, settings):
    page = _page(client, rich)
    url = f"{settings.public_url}/credentials/{rich.id}"

    assert f'<span id="share-url">{url}</span>' in page  # shown as text, copied by script if any
    linkedin = re.search(r'href="(https://www\.linkedin\.com/profile/add\?[^"]+)"', page)
    assert linkedin is not None
    fields = parse_qs(urlsplit(linkedin.group(1).replace("&amp;", "&")).query)
    assert fields["startTask"] == ["CERTIFICATION_NAME"] and fields["name"] == ["Python testing"]
    assert fields["organizationName"] == ["Acme Academy"] and fields["certUrl"] == [url]
    assert fields["certId"] == [rich.id] and fields["issueYear"][0].isdigit() and fields["issueMonth"][0].isdigit()
    assert f'<img src="{rich.id}/qr.svg"' in page
    assert '<label for="embed-code">' in page and '<textarea id="embed-code" readonly' in page
    assert f"&lt;a href=&#34;{url}&#34;" in page  # the snippet is text in the textarea


def test_the_page_has_open_graph_and_twitter_card_tags_with_a_preview_image(client, rich, settings):
    page = _page(client, rich)
    url = f"{settings.public_url}/credentials/{rich.id}"

    for key, value in (
        ("og:title", "Python testing"),
        ("og:url", url),
        ("og:image", f"{url}/preview.png"),
        ("og:description", f"{DISPLAY_NAME} earned Python testing, issued by Acme Academy. Verify it here."),
    ):
        assert f'<meta property="{key}" content="{value}">' in page, key
    assert '<meta name="twitter:card" content="summary_large_image">' in page


def test_the_preview_image_is_1200_by_630_and_says_revoked_when_it_is(api, client, rich):
    valid = client.get(f"{rich.path}/preview.png")
    assert valid.status_code == 200 and valid.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(valid.content))
    assert image.size == (1200, 630)
    assert image.getpixel((20, 600)) == (244, 245, 247)  # no band at the bottom

    _revoke(api, rich.id)

    revoked = Image.open(io.BytesIO(client.get(f"{rich.path}/preview.png").content))
    assert revoked.size == (1200, 630)
    assert revoked.getpixel((20, 600)) == (127, 26, 18)  # the red "Revoked" band


def test_the_qr_code_is_an_svg_made_here(client, rich):
    response = client.get(f"{rich.path}/qr.svg")

    assert response.status_code == 200 and response.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in response.content and b"<script" not in response.content and b"href" not in response.content
    assert "default-src 'none'" in response.headers["content-security-policy"]


# --- downloads ----------------------------------------------------------------------------------


def test_downloads_are_the_stored_credential_in_each_format(app, client, rich):
    stored = stored_credential(app, rich.id)
    page = _page(client, rich)
    for name in ("badge.png", "badge.svg", "credential.jsonld", "credential.jwt"):
        assert f'<a href="{rich.id}/{name}" download>' in page, name

    jsonld = client.get(f"{rich.path}/credential.jsonld")
    jwt = client.get(f"{rich.path}/credential.jwt")

    assert jsonld.content == stored.jsonld.encode() and json.loads(jsonld.content)["id"].endswith(rich.id)
    assert jsonld.headers["content-disposition"] == f'attachment; filename="credential-{rich.id}.jsonld"'
    assert jwt.content == stored.vc_jwt.encode() and jwt.headers["content-type"] == "application/vc+jwt"
    assert jwt.headers["content-disposition"] == f'attachment; filename="credential-{rich.id}.jwt"'


# --- layout ------------------------------------------------------------------------------------


def test_the_stylesheets_never_force_a_wide_two_column_grid():
    """The old page's `grid-template-columns: max-content 1fr` scrolled sideways at 390 px."""
    for sheet in ("site.css", "highlight.css"):
        assert "max-content 1fr" not in (STATIC / sheet).read_text(encoding="utf-8")
