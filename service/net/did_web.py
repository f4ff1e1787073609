"""Resolving other services' ``did:web`` keys over HTTPS, with a per-DID cache.

:class:`RemoteDidWebResolver` implements :class:`service.vc.did.KeyResolver` for ``did:web``
verification method ids: it fetches the DID document from ``did_web_document_url(did)`` (HTTPS
only) through :class:`SafeFetcher`, so it inherits the private-address refusal, the redirect cap,
the time budget and the size cap. The document must be a JSON object whose ``id`` is the DID; the
method is then looked up exactly as for a supplied document
(:class:`~service.vc.did.DocumentKeyResolver`), purposes included.

Successful documents are cached per DID for ``ttl`` seconds (a bounded LRU); failures never are.
Every failure raises :class:`~service.vc.errors.KeyResolutionError`, so the resolver chains with
the others (:class:`~service.vc.did.ChainedKeyResolver`).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from service.net.errors import FetchError, public_reason
from service.net.fetch import SafeFetcher
from service.vc.did import DocumentKeyResolver, VerificationMethod, did_web_document_url
from service.vc.errors import KeyResolutionError

DID_ACCEPT = "application/did+json, application/json"
DEFAULT_MAX_BYTES = 256 * 1024
"""A DID document with a handful of keys is a few KB."""
DEFAULT_TTL = 300.0
MAX_ENTRIES = 1024

_DID_WEB = re.compile(r"did:web:[A-Za-z0-9._%-]+(?::[A-Za-z0-9._%-]+)*")
_UNSAFE_DECODED = re.compile(r"[/?#@\\\s]")


def did_web_of(verification_method_id: str) -> str:
    """The ``did:web`` DID of a verification method id, or KeyResolutionError when it is none.

    Only plain DIDs (no path, query or parameters) whose percent-decoded segments cannot change
    the shape of the document URL (no ``/ ? # @ \\`` nor whitespace) are accepted.
    """
    did = verification_method_id.partition("#")[0]
    if not did.startswith("did:web:"):
        raise KeyResolutionError(f"{verification_method_id!r} is not a did:web")
    if _DID_WEB.fullmatch(did) is None or any(
        _UNSAFE_DECODED.search(unquote(segment)) for segment in did.removeprefix("did:web:").split(":")
    ):
        raise KeyResolutionError(f"Malformed did:web {did!r}")
    return did


class RemoteDidWebResolver:
    """Resolves ``did:web`` verification methods by fetching their DID documents.

    ``fetcher`` defaults to a :class:`SafeFetcher` with its defaults (HTTPS only, public addresses
    only, 5 s, 3 redirects); ``max_bytes`` caps each document. A document is cached for ``ttl``
    seconds, at most ``max_entries`` of them (least recently used dropped first). ``clock``
    (seconds, monotonic) is injectable for tests. Thread-safe; concurrent misses for one DID may
    fetch it twice.
    """

    def __init__(
        self,
        fetcher: SafeFetcher | None = None,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        ttl: float = DEFAULT_TTL,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetcher = fetcher or SafeFetcher()
        self._max_bytes = max_bytes
        self._ttl = ttl
        self._max_entries = max_entries
        self._clock = clock
        self._cache: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def resolve(self, verification_method_id: str) -> VerificationMethod:
        """The method and its purposes, or :class:`KeyResolutionError`."""
        did = did_web_of(verification_method_id)
        document = self.document(did)
        return DocumentKeyResolver({did: document}).resolve(verification_method_id)

    def methods_of(self, controller: str) -> list[VerificationMethod]:
        """Every method the DID document of ``controller`` lists, or :class:`KeyResolutionError`."""
        did = did_web_of(controller)
        return DocumentKeyResolver({did: self.document(did)}).methods_of(did)

    def document(self, did: str) -> dict[str, Any]:
        """The DID document of ``did`` (cached while fresh); do not modify it."""
        now = self._clock()
        with self._lock:
            cached = self._cache.get(did)
            if cached is not None and cached[0] > now:
                self._cache.move_to_end(did)
                return cached[1]
            self._cache.pop(did, None)
        document = self._fetch(did)
        if self._ttl > 0:
            with self._lock:
                self._cache[did] = (self._clock() + self._ttl, document)
                self._cache.move_to_end(did)
                while len(self._cache) > self._max_entries:
                    self._cache.popitem(last=False)
        return document

    def forget(self, did: str | None = None) -> None:
        """Drop one DID from the cache, or everything when ``did`` is None."""
        with self._lock:
            if did is None:
                self._cache.clear()
            else:
                self._cache.pop(did, None)

    def _fetch(self, did: str) -> dict[str, Any]:
        url = did_web_document_url(did_web_of(did), scheme="https")
        try:
            result = self._fetcher.fetch(url, accept=DID_ACCEPT, max_bytes=self._max_bytes)
        except FetchError as err:
            raise KeyResolutionError(
                f"The DID document of {did} could not be fetched from {url} ({public_reason(err)})"
            ) from None
        try:
            document = json.loads(result.content)
        except (ValueError, RecursionError) as err:
            raise KeyResolutionError(f"{url} did not return JSON ({type(err).__name__})") from None
        if not isinstance(document, dict):
            raise KeyResolutionError(f"{url} did not return a JSON object")
        if document.get("id") != did:
            raise KeyResolutionError(f"The DID document at {url} has id {str(document.get('id'))[:200]!r}, not {did!r}")
        return document
