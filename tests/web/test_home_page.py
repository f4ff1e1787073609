"""``/``: what SkillCred is, for whom, the issuers and their achievements open for applications
(each linking to its page), and the ways in: verify a badge, sign in, the API documents."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.achievements.catalogue_world import closed_achievement, open_achievement


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hrefs += [value for name, value in attrs if name == "href" and value]
        self.scripts += tag == "script"


def _links(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


@pytest.fixture
def world(api):
    acme = api.create_issuer("Acme Academy")
    beta = api.create_issuer("Beta Guild")
    return {
        "python": open_achievement(api, acme["id"], "Python testing"),
        "closed": closed_achievement(api, acme["id"], "Awarded by hand"),
        "rust": open_achievement(api, beta["id"], "Rust services", description="Builds <b>fast</b> services."),
    }


def test_the_home_page_says_what_skillcred_is_for_each_kind_of_user(client):
    response = client.get("/")

    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<h1 id="intro-heading">SkillCred</h1>' in html
    for who in ("Freelancers", "Clients", "Platforms and issuers"):
        assert f"<strong>{who}</strong>" in html
    assert "No achievement is open for applications yet." in html


def test_it_lists_each_issuer_with_its_open_achievements_linking_to_their_pages(client, world):
    html = client.get("/").text

    hrefs = _links(html).hrefs
    assert f"/achievements/{world['python']['id']}" in hrefs and f"/achievements/{world['rust']['id']}" in hrefs
    assert f"/achievements/{world['closed']['id']}" not in hrefs and "Awarded by hand" not in html
    assert html.index("Acme Academy") < html.index("Python testing") < html.index("Beta Guild")
    assert "Builds &lt;b&gt;fast&lt;/b&gt; services." in html  # the issuer's words, as text


def test_the_search_narrows_the_list_by_name_without_script(client, world):
    html = client.get("/", params={"q": "rust"}).text

    assert "Rust services" in html and "Python testing" not in html
    assert "1 achievement named like &ldquo;rust&rdquo;" in html
    assert "No open achievement has a name like that." in client.get("/", params={"q": "<zzz>"}).text
    assert client.get("/", params={"q": "x" * 201}).status_code == 422


def test_it_links_to_verify_and_sign_in_and_keeps_a_small_for_developers_section(client, world):
    html = client.get("/").text
    links = _links(html)

    assert {"/verify", "/login", "/docs", "/redoc", "/openapi.json", "/health", "/ready"} <= set(links.hrefs)
    developers = html[html.index('id="developers-heading"') :]
    assert "POST /v1/verify" in developers and "GET /v1/catalogue/achievements" in developers
    assert links.scripts == 0 and "<style" not in html
    assert all(href.startswith(("/", "#")) or href == "https://issuer.example" for href in links.hrefs), links.hrefs


def test_its_policy_allows_this_origin_only(client):
    policy = client.get("/").headers["Content-Security-Policy"]

    assert "default-src 'self'" in policy and "script-src 'self';" in policy and "style-src 'self';" in policy
    assert "'unsafe-inline'" not in policy and not re.search(r"https?://", policy)
