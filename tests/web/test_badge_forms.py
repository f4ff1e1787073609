"""The badge page's two forms, answered by the server when the browser runs no script:
"Is this you?" (an email address against the credential's hashed identity, never stored or
logged) and "Check this evidence again" (the web page fetched again over the SSRF-safe fetcher and
compared with the digest in the credential). Both are rate-limited per client address."""

from __future__ import annotations

import logging

import pytest

from service.net.errors import BlockedAddress, TooLarge
from service.net.fetch import FetchResult
from service.web.routes import EVIDENCE_CHECKS_PER_ADDRESS, IDENTITY_CHECKS_PER_ADDRESS, evidence_fetcher
from tests.web.badge_helpers import EARNER_EMAIL, WEB_EVIDENCE_BYTES, WEB_EVIDENCE_URL, add_earner, issue_rich


@pytest.fixture
def rich(app, settings, achievement):
    add_earner(app)
    return issue_rich(app, settings, achievement)


class FakeFetcher:
    """Answers every URL with ``content`` (or raises ``error``) and records what was asked."""

    def __init__(self, content: bytes = b"", error: Exception | None = None) -> None:
        self.content, self.error = content, error
        self.calls: list[tuple[str, int | None]] = []

    def fetch(self, url: str, *, accept: str = "*/*", max_bytes: int | None = None) -> FetchResult:
        self.calls.append((url, max_bytes))
        if self.error is not None:
            raise self.error
        return FetchResult(url=url, status=200, headers={}, content=self.content, address="203.0.113.7")


@pytest.fixture
def fetcher(app):
    fake = FakeFetcher()
    app.dependency_overrides[evidence_fetcher] = lambda: fake
    yield fake
    app.dependency_overrides.pop(evidence_fetcher, None)


def _banner(html: str) -> str:
    start = html.index('role="status">')
    return html[start : html.index("</div>", start)]


# --- Is this you? ------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", [EARNER_EMAIL, f"  {EARNER_EMAIL.upper()} "])
def test_the_address_the_credential_was_issued_to_matches(client, rich, typed):
    response = client.post(f"{rich.path}/identity", data={"email": typed})

    assert response.status_code == 200
    assert "Yes, it matches" in _banner(response.text)
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert typed.strip().lower() not in response.text.lower()  # the answer does not repeat it


def test_another_address_does_not_match(client, rich):
    response = client.post(f"{rich.path}/identity", data={"email": "grace.hopper@example.org"})

    assert response.status_code == 200
    assert "No, it does not match" in _banner(response.text)


def test_the_address_is_never_logged(client, rich, caplog):
    with caplog.at_level(logging.DEBUG):
        client.post(f"{rich.path}/identity", data={"email": "secret.client@example.org"})

    assert "secret.client" not in caplog.text


def test_the_browser_check_gets_the_public_hash_and_salt_only(client, rich):
    page = client.get(rich.path, headers={"Accept": "text/html"}).text

    assert "data-identities='[{&#34;hash&#34;: &#34;" in page or 'data-identities=\'[{"hash": "' in page
    assert EARNER_EMAIL not in page


def test_identity_checks_are_rate_limited_per_address(client, rich):
    answers = [
        client.post(f"{rich.path}/identity", data={"email": f"guess{i}@example.org"}).status_code
        for i in range(IDENTITY_CHECKS_PER_ADDRESS.limit + 1)
    ]

    assert answers[:-1] == [200] * IDENTITY_CHECKS_PER_ADDRESS.limit and answers[-1] == 429


# --- Check this evidence again -------------------------------------------------------------------


def test_unchanged_evidence_is_said_to_match_its_digest(client, rich, fetcher, settings):
    fetcher.content = WEB_EVIDENCE_BYTES

    response = client.post(f"{rich.path}/evidence/0/check")

    assert response.status_code == 200
    assert "The evidence is unchanged" in _banner(response.text)
    assert fetcher.calls == [(WEB_EVIDENCE_URL, settings.evidence_max_file_bytes)]


def test_changed_evidence_is_said_to_differ_in_amber(client, rich, fetcher):
    fetcher.content = WEB_EVIDENCE_BYTES + b"<!-- edited -->"

    response = client.post(f"{rich.path}/evidence/0/check")

    assert '<div class="banner warn" role="status">' in response.text
    assert "The evidence has changed" in _banner(response.text)


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (BlockedAddress("internal.example is not an allowed host", url=WEB_EVIDENCE_URL), "could not be fetched"),
        (TooLarge("too big", url=WEB_EVIDENCE_URL), "larger than"),
    ],
)
def test_a_failed_fetch_says_it_could_not_compare_without_naming_internal_hosts(client, rich, fetcher, error, words):
    fetcher.error = error

    response = client.post(f"{rich.path}/evidence/0/check")

    assert response.status_code == 200
    assert "The evidence could not be compared" in _banner(response.text) and words in response.text
    assert "internal.example" not in response.text


@pytest.mark.parametrize("index", ["1", "2", "999"])
def test_only_web_evidence_with_a_digest_is_fetched(client, rich, fetcher, index):
    response = client.post(f"{rich.path}/evidence/{index}/check")

    assert response.status_code == 404 and fetcher.calls == []


def test_evidence_checks_are_rate_limited_per_address(client, rich, fetcher):
    fetcher.content = WEB_EVIDENCE_BYTES
    answers = [
        client.post(f"{rich.path}/evidence/0/check").status_code for _ in range(EVIDENCE_CHECKS_PER_ADDRESS.limit + 1)
    ]

    assert answers[-1] == 429 and len(fetcher.calls) == EVIDENCE_CHECKS_PER_ADDRESS.limit
