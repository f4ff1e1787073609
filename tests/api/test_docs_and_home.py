"""``/docs`` and ``/redoc`` work offline (every asset served by this app), can be switched off, and
``/`` links them in its "For developers" section (the rest of the home page: tests/web/test_home_page.py)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.api.docs import ASSET_FILES, assets_directory


class _References(HTMLParser):
    """Every URL a page refers to: href, src, and the spec URL of Swagger UI's and ReDoc's set-up."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("href", "src", "spec-url") and value]


def references(html: str) -> list[str]:
    parser = _References()
    parser.feed(html)
    return parser.urls + re.findall(r"url: '([^']*)'", html)


def is_local(url: str) -> bool:
    return url.startswith(("/", "#")) and not url.startswith("//")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_refer_only_to_this_service_and_every_reference_is_served(client, page):
    response = client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    urls = references(response.text)
    assert urls and all(is_local(url) for url in urls), urls
    assert not re.search(r"https?://", response.text), "a docs page names another host"
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_swagger_ui_does_not_call_the_online_validator(client):
    assert '"validatorUrl": null' in client.get("/docs").text


def test_the_assets_are_the_installed_bundles(client):
    assert {path.name for path in assets_directory().iterdir()} >= set(ASSET_FILES)
    script = client.get("/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.text[:2000]
    assert "javascript" in script.headers["content-type"]
    assert client.get("/docs/assets/swagger-ui.css").headers["content-type"].startswith("text/css")
    assert "Redoc" in client.get("/docs/assets/redoc.standalone.js").text[:2000]
    assert client.get("/docs/assets/core.py").status_code == 404  # only static/ is served, not the package


def test_the_docs_are_not_part_of_the_api_contract(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert not {"/", "/docs", "/redoc", "/docs/oauth2-redirect"} & set(paths)


def test_api_docs_can_be_switched_off_and_production_has_them_off_by_default(settings):
    for changes in ({"api_docs": False}, {"env": "production"}):
        app = create_app(settings.model_copy(update=changes))
        with TestClient(app) as client:
            for path in ("/docs", "/redoc", "/docs/assets/swagger-ui.css"):
                assert client.get(path).status_code == 404, (changes, path)
            assert client.get("/openapi.json").status_code == 200
            home = client.get("/")
            assert home.status_code == 200 and 'href="/docs' not in home.text
        app.state.engine.dispose()
    assert settings.model_copy(update={"env": "production", "api_docs": True}).api_docs_enabled


def test_the_home_page_links_the_docs_the_verify_api_and_the_health_check(client):
    response = client.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert html.startswith("<!DOCTYPE html>") and '<html lang="en">' in html and "<title>SkillCred</title>" in html
    assert '<main id="main">' in html and '<nav aria-label="Service links">' in html
    developers = html[html.index('<nav aria-label="Service links">') :]
    urls = references(developers)
    assert all(is_local(url) for url in references(html) if url != "https://issuer.example") and "<script" not in html
    assert {"/docs", "/redoc", "/openapi.json", "/health", "/ready"} <= set(urls)
    verify = next(url for url in urls if "verify" in url)
    operation = verify.rsplit("/", 1)[-1]
    spec = client.get("/openapi.json").json()
    assert spec["paths"]["/v1/verify"]["post"]["operationId"] == operation  # the deep link names a real operation
    for url in ("/docs", "/redoc", "/openapi.json", "/health", "/ready"):
        assert client.get(url).status_code == 200, url
