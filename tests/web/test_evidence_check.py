"""Checking a piece of web evidence again: the digest the credential carries (SRI or multibase),
the page fetched now, and an honest answer (same bytes, changed, or could not tell)."""

from __future__ import annotations

import hashlib

import pytest

from service.evidence.credential import digest_multibase, digest_sri
from service.net.errors import HttpError, Unreachable
from service.net.fetch import FetchResult
from service.web.evidence_check import check_evidence, expected_sha256

URL = "https://portfolio.example/page"
BODY = b"<html>the work</html>"
DIGEST = hashlib.sha256(BODY).hexdigest()


class Fetcher:
    def __init__(self, content: bytes = BODY, error: Exception | None = None) -> None:
        self.content, self.error, self.asked = content, error, []

    def fetch(self, url, *, accept="*/*", max_bytes=None):
        self.asked.append((url, max_bytes))
        if self.error:
            raise self.error
        return FetchResult(url=url, status=200, headers={}, content=self.content, address="203.0.113.1")


@pytest.mark.parametrize(
    "entry",
    [
        {"digestSRI": digest_sri(DIGEST)},
        {"digestMultibase": digest_multibase(DIGEST)},
        {"digestSRI": "sha384-nope", "digestMultibase": digest_multibase(DIGEST)},
    ],
)
def test_the_expected_digest_is_read_from_either_form(entry):
    assert expected_sha256(entry) == bytes.fromhex(DIGEST)


@pytest.mark.parametrize(
    "entry", [{}, {"digestSRI": "sha256-!!!"}, {"digestMultibase": "zzz0"}, {"digestSRI": "sha512-AAAA"}]
)
def test_no_usable_digest_is_none(entry):
    assert expected_sha256(entry) is None


def test_the_same_bytes_match():
    fetcher = Fetcher()

    outcome = check_evidence({"id": URL, "digestSRI": digest_sri(DIGEST)}, fetcher, max_bytes=1000)

    assert outcome.matches is True and fetcher.asked == [(URL, 1000)]
    assert DIGEST in outcome.detail


def test_changed_bytes_do_not_match():
    outcome = check_evidence({"id": URL, "digestSRI": digest_sri(DIGEST)}, Fetcher(BODY + b"!"), max_bytes=1000)

    assert outcome.matches is False and "has changed" in outcome.sentence


@pytest.mark.parametrize("error", [Unreachable("no route to 10.0.0.1", url=URL), HttpError("404", url=URL, status=404)])
def test_a_failed_fetch_cannot_tell(error):
    outcome = check_evidence({"id": URL, "digestSRI": digest_sri(DIGEST)}, Fetcher(error=error), max_bytes=1000)

    assert outcome.matches is None and "could not be fetched" in outcome.sentence
    assert "10.0.0.1" not in outcome.detail


def test_an_entry_without_a_digest_is_not_fetched():
    fetcher = Fetcher()

    outcome = check_evidence({"id": URL}, fetcher, max_bytes=1000)

    assert outcome.matches is None and fetcher.asked == []
