""" "Check this evidence again": fetch a web page the credential cites as evidence, now, and say
whether its bytes still match the digest the credential carries (``digestSRI`` or
``digestMultibase``, VCDM 2.0).

The fetch goes through the SSRF-safe fetcher (:mod:`service.net`), bounded in time and size by the
caller's fetcher; a failure is told in words that do not reveal which names resolve to internal
addresses (:func:`service.net.errors.public_reason`). Only entries
:func:`service.web.badge_evidence.recheckable` offers are fetched. No FastAPI here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, Protocol

from service.net.errors import FetchError, TooLarge, public_reason
from service.net.fetch import FetchResult
from service.vc.errors import VCError
from service.vc.multikey import multibase_decode

SHA256_MULTIHASH_PREFIX = b"\x12\x20"


class Fetcher(Protocol):
    """What fetches the page: :class:`service.net.fetch.SafeFetcher` (tests give their own)."""

    def fetch(self, url: str, *, accept: str = "*/*", max_bytes: int | None = None) -> FetchResult: ...


@dataclass(frozen=True)
class EvidenceCheck:
    """The outcome: ``matches`` True (same bytes), False (changed) or None (could not tell)."""

    url: str
    matches: bool | None
    sentence: str
    detail: str


def expected_sha256(entry: dict[str, Any]) -> bytes | None:
    """The SHA-256 digest the entry carries: from ``digestSRI`` (``sha256-<base64>``) or
    ``digestMultibase`` (``z`` + base58btc of the multihash ``0x12 0x20 || digest``); None when it
    carries neither in a form read here (another hash, or malformed)."""
    sri = entry.get("digestSRI")
    if isinstance(sri, str) and sri.startswith("sha256-"):
        try:
            digest = base64.b64decode(sri.removeprefix("sha256-"), validate=True)
        except (binascii.Error, ValueError):
            digest = b""
        if len(digest) == 32:
            return digest
    multibase = entry.get("digestMultibase")
    if isinstance(multibase, str):
        try:
            decoded = multibase_decode(multibase)
        except VCError:
            return None
        if decoded.startswith(SHA256_MULTIHASH_PREFIX) and len(decoded) == 34:
            return decoded[2:]
    return None


def check_evidence(entry: dict[str, Any], fetcher: Fetcher, *, max_bytes: int) -> EvidenceCheck:
    """Fetch the entry's ``id`` (at most ``max_bytes``) and compare its SHA-256 with the entry's digest."""
    url = str(entry.get("id"))
    expected = expected_sha256(entry)
    if expected is None:
        return EvidenceCheck(
            url, None, "The credential carries no SHA-256 digest of this evidence to compare with.", ""
        )
    try:
        fetched = fetcher.fetch(url, max_bytes=max_bytes)
    except TooLarge:
        return EvidenceCheck(
            url, None, f"The page is now larger than {max_bytes:,} bytes, so it was not compared.", "too_large"
        )
    except FetchError as err:
        return EvidenceCheck(
            url, None, "The page could not be fetched just now, so it was not compared.", public_reason(err)
        )
    actual = hashlib.sha256(fetched.content).digest()
    detail = (
        f"expected sha256 {expected.hex()}\nreceived sha256 {actual.hex()} "
        f"({len(fetched.content):,} bytes from {fetched.url}, HTTP {fetched.status})"
    )
    if hmac.compare_digest(actual, expected):
        return EvidenceCheck(
            url, True, "The page still serves exactly the bytes the credential's digest describes.", detail
        )
    return EvidenceCheck(
        url,
        False,
        "The page has changed since the credential was issued: its bytes no longer match the digest. "
        "Pages change for many reasons; the credential still describes what was assessed.",
        detail,
    )
