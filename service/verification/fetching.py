"""Fetching a credential from a URL someone typed into the verify page. No FastAPI here.

The URL is chosen by an anonymous visitor, so it goes through the SSRF-safe client only
(:class:`~service.net.SafeFetcher`): https only, every resolved address public (never the
service's own machine, its private network or a cloud metadata address), redirects capped and
vetted hop by hop, the time and the body size bounded. What went wrong is said in plain words;
a host name that resolves to an internal address and one that does not resolve at all get the
same words (:func:`~service.net.errors.public_reason`), so the page is no oracle for which
internal names exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import ip_address
from urllib.parse import urlsplit

from service.core.config import Settings
from service.core.errors import ServiceError
from service.net import BadScheme, BadUrl, BlockedAddress, FetchError, SafeFetcher, is_public_address
from service.net.errors import NOT_ALLOWED_OR_UNREACHABLE, HttpError, TooLarge, TooManyRedirects

FETCH_TIMEOUT_SECONDS = 5.0
MAX_REDIRECTS = 3
ACCEPT = (
    "application/vc+ld+json, application/ld+json;q=0.9, application/json;q=0.9, application/vc+jwt;q=0.8, "
    "application/jwt;q=0.8, image/png;q=0.7, image/svg+xml;q=0.7, text/plain;q=0.5, */*;q=0.1"
)
"""What the verifier asks for: a credential first (an issuer's badge URL answers JSON-LD to this,
as this service's does), then a baked image."""

PRIVATE_ADDRESS = (
    "This address points to a private, local or cloud-internal network (such as 127.0.0.1, 10.x.x.x "
    "or 169.254.169.254). The verifier only opens public web addresses."
)
HTTPS_ONLY = "Only https:// addresses are opened. Check the address, or paste the credential itself."
NOT_A_URL = "This is not a web address the verifier can open. Check it, or paste the credential itself."


class CredentialUrlError(ServiceError):
    """The URL was refused or could not be fetched; ``detail`` says why in plain words."""

    status_code, code = 422, "credential_url_refused"


@dataclass(frozen=True)
class FetchedCredential:
    """What a URL answered: its bytes, the media type it declared and the final URL."""

    content: bytes
    media_type: str
    url: str


def credential_fetcher(settings: Settings) -> SafeFetcher:
    """The production fetcher: https only, public addresses only, at most ``max_upload_bytes``
    (the largest credential or badge image the verifier takes as an upload) in five seconds."""
    return SafeFetcher(timeout=FETCH_TIMEOUT_SECONDS, max_bytes=settings.max_upload_bytes, max_redirects=MAX_REDIRECTS)


def fetch_credential(fetcher: SafeFetcher, url: str) -> FetchedCredential:
    """GET ``url`` with ``fetcher``; raises :class:`CredentialUrlError` saying why it was refused
    or failed. Blocking: call it from a worker thread."""
    refusal = _refusal(fetcher, url)
    if refusal is not None:
        raise CredentialUrlError(refusal)
    try:
        result = fetcher.fetch(url, accept=ACCEPT)
    except FetchError as err:
        raise CredentialUrlError(_words(err, fetcher)) from None
    media_type = result.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return FetchedCredential(result.content, media_type, result.url)


def _refusal(fetcher: SafeFetcher, url: str) -> str | None:
    """Why ``url`` is refused before any network traffic, or None."""
    try:
        fetcher.precheck(url)
    except BlockedAddress:
        return PRIVATE_ADDRESS
    except BadScheme:
        # http://127.0.0.1 is refused for its scheme already; the address is the more useful news
        return PRIVATE_ADDRESS if _is_internal_literal(url) else HTTPS_ONLY
    except BadUrl:
        return NOT_A_URL
    return None


def _is_internal_literal(url: str) -> bool:
    try:
        host = urlsplit(url).hostname
        return host is not None and not is_public_address(ip_address(host))
    except ValueError:
        return False


def _words(err: FetchError, fetcher: SafeFetcher) -> str:
    if isinstance(err, BlockedAddress) or err.code == "unreachable":
        # the same words for both: no oracle for which names resolve to internal addresses
        return f"The address could not be opened: {NOT_ALLOWED_OR_UNREACHABLE}."
    if err.code == "timeout":
        return f"The address took longer than {fetcher.timeout:g} seconds to answer."
    if isinstance(err, TooLarge):
        return f"The address answered with more than {fetcher.max_bytes // 1024} KiB, too much for a credential."
    if isinstance(err, TooManyRedirects):
        return f"The address redirects more than {fetcher.max_redirects} times."
    if isinstance(err, HttpError) and err.status is not None:
        return f"The address answered HTTP {err.status} instead of a credential."
    if isinstance(err, BadScheme):
        return "The address redirects to a non-https address, which is not opened."
    if isinstance(err, BadUrl):
        return NOT_A_URL
    return "The address could not be opened."
