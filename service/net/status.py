"""Fetching other issuers' status lists over HTTPS, cached per their ``ttl``.

:class:`RemoteStatusListResolver` implements :class:`service.vc.status_list.StatusListResolver`
for lists this service does not own: a W3C ``BitstringStatusListCredential`` or a 1EdTech
revocation list (both are JSON objects fetched by URL). It goes through :class:`SafeFetcher`, so
it inherits the private-address refusal, the redirect cap, the time budget and the size cap.

Any failure (network, HTTP status, size, JSON) becomes
:class:`~service.vc.status_list.StatusListUnavailable`, which the verification report shows as a
warning ("status unknown"), never as a pass. The resolver only obtains documents: checking a list
credential's proof, issuer and validity is the verification pipeline's job.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from service.net.errors import FetchError, public_reason
from service.net.fetch import SafeFetcher
from service.vc.status_list import StatusListUnavailable

STATUS_LIST_ACCEPT = "application/vc, application/vc+ld+json, application/ld+json;q=0.9, application/json;q=0.8"
DEFAULT_MAX_BYTES = 4 * 1024 * 1024
"""A 131,072-entry list is a few KB gzipped; even an 8M-entry list with 1% set is about 200 KB."""
DEFAULT_TTL = 300.0
"""Seconds to cache a document that states no ``ttl`` and no HTTP freshness."""
MAX_TTL = 86_400.0
"""Longest any document is cached, whatever it asks for (seconds)."""
MAX_ENTRIES = 1024

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?:,|$)", re.IGNORECASE)
_NO_STORE = re.compile(r"(?:^|,)\s*(?:no-store|no-cache)\s*(?:,|$)", re.IGNORECASE)


class RemoteStatusListResolver:
    """Resolves status list URLs over the network, with a per-URL cache.

    ``fetcher`` defaults to a :class:`SafeFetcher` with its defaults (HTTPS only, public addresses
    only, 5 s, 3 redirects); ``max_bytes`` caps each document. A document is cached for its
    ``credentialSubject.ttl`` (milliseconds, Bitstring Status List v1.0), else for the response's
    ``Cache-Control: max-age`` (``no-store``/``no-cache`` mean: do not cache), else for
    ``default_ttl`` seconds; never longer than ``max_ttl``. ``clock`` (seconds, monotonic) is
    injectable for tests. Thread-safe; concurrent misses for one URL may fetch it twice.
    """

    def __init__(
        self,
        fetcher: SafeFetcher | None = None,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        default_ttl: float = DEFAULT_TTL,
        max_ttl: float = MAX_TTL,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetcher = fetcher or SafeFetcher()
        self._max_bytes = max_bytes
        self._default_ttl = default_ttl
        self._max_ttl = max_ttl
        self._max_entries = max_entries
        self._clock = clock
        self._cache: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def resolve(self, url: str) -> dict[str, Any]:
        """Return the JSON object at ``url`` (cached while fresh) or raise StatusListUnavailable.

        The caller gets its own copy, so it may modify the document without touching the cache.
        """
        now = self._clock()
        with self._lock:
            cached = self._cache.get(url)
            if cached is not None and cached[0] > now:
                return copy.deepcopy(cached[1])
            self._cache.pop(url, None)
        document, lifetime = self._fetch(url)
        if lifetime > 0:
            with self._lock:
                self._cache[url] = (self._clock() + lifetime, document)
                self._evict(now)
        return copy.deepcopy(document)

    def forget(self, url: str | None = None) -> None:
        """Drop one URL from the cache, or everything when ``url`` is None."""
        with self._lock:
            if url is None:
                self._cache.clear()
            else:
                self._cache.pop(url, None)

    def _fetch(self, url: str) -> tuple[dict[str, Any], float]:
        try:
            result = self._fetcher.fetch(url, accept=STATUS_LIST_ACCEPT, max_bytes=self._max_bytes)
        except FetchError as err:
            raise StatusListUnavailable(f"{url} could not be fetched ({public_reason(err)})") from None
        try:
            document = json.loads(result.content)
        except (ValueError, RecursionError) as err:
            raise StatusListUnavailable(f"{url} did not return JSON ({type(err).__name__})") from None
        if not isinstance(document, dict):
            raise StatusListUnavailable(f"{url} did not return a JSON object")
        return document, self._lifetime(document, result.headers)

    def _lifetime(self, document: Mapping[str, Any], headers: Mapping[str, str]) -> float:
        """Seconds to keep ``document``: its ``ttl``, else HTTP freshness, else the default."""
        subject = document.get("credentialSubject")
        ttl = subject.get("ttl") if isinstance(subject, Mapping) else None
        if isinstance(ttl, (int, float)) and not isinstance(ttl, bool) and ttl >= 0:
            return min(ttl / 1000.0, self._max_ttl)
        cache_control = headers.get("cache-control", "")
        if _NO_STORE.search(cache_control):
            return 0.0
        if (match := _MAX_AGE.search(cache_control)) is not None:
            return min(float(match.group(1)), self._max_ttl)
        return min(self._default_ttl, self._max_ttl)

    def _evict(self, now: float) -> None:
        for key in [k for k, (expires, _) in self._cache.items() if expires <= now]:
            del self._cache[key]
        while len(self._cache) > self._max_entries:
            self._cache.popitem(last=False)
