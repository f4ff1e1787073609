"""``/terms`` and ``/privacy``: the policies the Open Badges discovery document names are real
pages (they answered 404), say what this deployment does with its own settings, load nothing from
another host, and give way to the operator's own policies when configured."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from tests.conftest import PUBLIC_URL

OB_DISCOVERY = "/ims/ob/v3p0/discovery"


def _policies_named_by_discovery(client: TestClient) -> tuple[str, str]:
    info = client.get(OB_DISCOVERY).json()["info"]
    return info["termsOfService"], info["x-imssf-privacyPolicyUrl"]


def test_the_policies_the_discovery_document_names_are_served(client):
    terms, privacy = _policies_named_by_discovery(client)
    assert (terms, privacy) == (f"{PUBLIC_URL}/terms", f"{PUBLIC_URL}/privacy")
    for url, heading in ((terms, "Terms of service"), (privacy, "Privacy")):
        page = client.get(url.removeprefix(PUBLIC_URL))
        assert page.status_code == 200, url
        assert page.headers["content-type"].startswith("text/html")
        assert f"<h1>{heading}</h1>" in page.text


def test_the_pages_state_this_deployments_own_figures(app, client):
    settings = app.state.settings
    privacy = client.get("/privacy").text
    assert f"{settings.unverified_account_hours} hours after its latest verification email" in privacy
    assert f"deleted {settings.evidence_unsubmitted_bundle_days} days after" in privacy
    assert "no evidence is sent to an outside model" in privacy
    terms = client.get("/terms").text
    assert f"Access tokens last {settings.access_token_ttl_seconds // 60} minutes" in terms


def test_the_pages_load_nothing_from_another_host_and_allow_only_their_own_style(client):
    for path in ("/terms", "/privacy"):
        page = client.get(path)
        policy = page.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "'unsafe-inline'" not in policy
        assert re.search(r"style-src 'self' 'sha256-[A-Za-z0-9+/=]+'", policy), policy
        assert "<script" not in page.text
        assert not re.search(r'(src|href)="(https?:)?//', page.text), path


def test_an_llm_assessor_is_named_on_the_privacy_page(settings):
    configured = settings.model_copy(
        update={"assessor": "llm", "llm_base_url": "https://llm.internal.example/v1", "llm_model": "m"}
    )
    app = create_app(configured)
    try:
        with TestClient(app) as client:
            page = client.get("/privacy").text
    finally:
        app.state.engine.dispose()
    assert "sent to the language model this service is configured to use" in page
    assert "llm.internal.example" in page and "no evidence is sent" not in page


def test_an_operators_own_policies_replace_the_pages(settings):
    configured = settings.model_copy(
        update={"terms_url": "https://operator.example/terms", "privacy_url": "https://operator.example/privacy"}
    )
    app = create_app(configured)
    try:
        with TestClient(app) as client:
            assert _policies_named_by_discovery(client) == (
                "https://operator.example/terms",
                "https://operator.example/privacy",
            )
            for path in ("/terms", "/privacy"):
                answer = client.get(path, follow_redirects=False)
                assert answer.status_code == 302
                assert answer.headers["location"] == f"https://operator.example{path}"
    finally:
        app.state.engine.dispose()


@pytest.mark.parametrize("value", ["ftp://operator.example/terms", "javascript:alert(1)", "/terms"])
def test_a_policy_url_must_be_an_absolute_http_url(settings, value):
    with pytest.raises(ValueError, match="terms_url"):
        type(settings)(**{**settings.model_dump(), "terms_url": value})
