"""Outbound HTTP for URLs that other people chose: SSRF-safe fetching, remote status lists and
foreign did:web documents.

The one way the service reaches the network on a user's behalf (status lists of other issuers,
evidence URLs, foreign did:web documents). Not part of the pure credential core: ``service.vc``
never imports this package; it receives a resolver built from it.
"""

from service.net.addresses import is_allowed_address, is_public_address
from service.net.did_web import RemoteDidWebResolver
from service.net.errors import (
    BadScheme,
    BadUrl,
    BlockedAddress,
    FetchError,
    FetchTimeout,
    HttpError,
    TooLarge,
    TooManyRedirects,
    Unreachable,
)
from service.net.fetch import FetchResult, SafeFetcher
from service.net.status import RemoteStatusListResolver

__all__ = [
    "BadScheme",
    "BadUrl",
    "BlockedAddress",
    "FetchError",
    "FetchResult",
    "FetchTimeout",
    "HttpError",
    "RemoteDidWebResolver",
    "RemoteStatusListResolver",
    "SafeFetcher",
    "TooLarge",
    "TooManyRedirects",
    "Unreachable",
    "is_allowed_address",
    "is_public_address",
]
