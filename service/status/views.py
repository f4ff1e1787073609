"""Status rows as API responses: the one place where a published list becomes what
``GET /status/{list_id}`` answers (its body and headers)."""

from __future__ import annotations

import math
from datetime import datetime

from service.core.config import Settings
from service.status.publish import PublishedList


def cache_max_age(settings: Settings, published: PublishedList, now: datetime) -> int:
    """Seconds a cache may keep ``published``: what is left at ``now`` of the re-signing interval
    since it was signed (never more than the interval, never negative), so no cache keeps a copy
    past the moment a newer signature may exist."""
    interval = settings.status_list_resign_interval_seconds
    age = (now - published.signed_at).total_seconds()
    return max(0, min(interval, math.floor(interval - age)))


def list_headers(settings: Settings, published: PublishedList, now: datetime) -> dict[str, str]:
    """The response headers of a served list credential: its strong ``ETag``, ``Cache-Control``
    (:func:`cache_max_age`), open CORS (any verifier may fetch it) and ``nosniff``."""
    return {
        "ETag": published.etag,
        "Cache-Control": f"public, max-age={cache_max_age(settings, published, now)}",
        "Access-Control-Allow-Origin": "*",
        "X-Content-Type-Options": "nosniff",
    }


def list_body(published: PublishedList) -> bytes:
    """The signed list credential's text as stored, byte for byte."""
    return published.text.encode("utf-8")
