"""Errors of the outbound fetcher. Each carries a stable machine-readable ``code``.

Callers map them to their own outcome: the status-list resolver turns every one into
``StatusListUnavailable`` (a warning in a verification report); evidence intake can turn them
into a 422 with the code.
"""

from __future__ import annotations


class FetchError(Exception):
    """A URL could not be fetched. ``code`` is stable, ``str(err)`` is for humans, ``url`` is the
    URL of the hop that failed (after redirects, it is not the URL first asked for)."""

    code = "fetch_error"

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class BadUrl(FetchError):
    """The URL is malformed, has no host, or carries credentials (``user:pass@``)."""

    code = "bad_url"


class BadScheme(FetchError):
    """The scheme is not ``https`` (or ``http`` where the fetcher allows it)."""

    code = "bad_scheme"


class BlockedAddress(FetchError):
    """The host is, or resolves to, an address the service must not connect to (SSRF guard)."""

    code = "blocked_address"


class Unreachable(FetchError):
    """The host name does not resolve, the connection or TLS handshake failed, or the peer broke
    the HTTP protocol."""

    code = "unreachable"


class FetchTimeout(FetchError):
    """The whole fetch (resolution, every hop, the body) took longer than the time budget."""

    code = "timeout"


class TooLarge(FetchError):
    """The response body is larger than the byte cap (declared or actually sent)."""

    code = "too_large"


class TooManyRedirects(FetchError):
    """More redirects than allowed, or a redirect loop."""

    code = "too_many_redirects"


class HttpError(FetchError):
    """The final response is not a 2xx (``status`` holds the code), or is a redirect without a
    ``Location``, or uses a content coding the fetcher cannot read."""

    code = "http_error"

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None) -> None:
        super().__init__(message, url=url)
        self.status = status


NOT_ALLOWED_OR_UNREACHABLE = "the host is not allowed or could not be reached"


def public_reason(err: FetchError) -> str:
    """Why a fetch failed, in words fit for an anonymous client: a refused host and one that does
    not resolve or answer get the same words, so no answer tells which names resolve to internal
    addresses (issue 9: a DNS oracle through ``POST /v1/verify``). The log keeps the detail."""
    if isinstance(err, BlockedAddress | Unreachable):
        return NOT_ALLOWED_OR_UNREACHABLE
    return f"{err.code}: {err}"
