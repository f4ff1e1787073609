"""Content negotiation for the public badge URL: which representation an ``Accept`` header asks
for (RFC 9110 section 12.5.1, https://www.rfc-editor.org/rfc/rfc9110#section-12.5.1)."""

from __future__ import annotations

from collections.abc import Sequence

from service.credentials.formats import JSONLD_MEDIA_TYPE

HTML = "text/html"
JSON_TYPES = (JSONLD_MEDIA_TYPE, "application/ld+json", "application/json")
OFFERS = (HTML, *JSON_TYPES)
MAX_RANGES = 50
"""Media ranges read from one ``Accept`` header; the rest are ignored."""


def negotiate(accept: str | None, offers: Sequence[str] = OFFERS) -> str | None:
    """The offer ``accept`` prefers (q-values; the most specific matching range sets an offer's
    quality; ties go to the earlier offer), or None when it accepts none of them. No ``Accept``
    (or an empty one) takes the first offer."""
    if not accept or not accept.strip():
        return offers[0]
    ranges = _media_ranges(accept)
    best, best_quality = None, 0.0
    for offer in offers:
        quality = _offer_quality(offer, ranges)
        if quality is not None and quality > best_quality:
            best, best_quality = offer, quality
    return best


def _media_ranges(accept: str) -> list[tuple[str, float]]:
    """The ``(media range, q)`` pairs of an ``Accept`` header, media ranges lower-cased."""
    ranges: list[tuple[str, float]] = []
    for part in accept.split(",")[:MAX_RANGES]:
        media, *params = (p.strip() for p in part.split(";"))
        if media:
            ranges.append((media.lower(), _q_value(params)))
    return ranges


def _q_value(params: Sequence[str]) -> float:
    """The ``q`` parameter clamped to [0, 1]: 1 when absent, 0 when it is not a number."""
    quality = 1.0
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                quality = max(0.0, min(1.0, float(value)))
            except ValueError:
                quality = 0.0
    return quality


def _specificity(media_range: str, offer: str) -> int:
    """2 for the exact type, 1 for ``type/*``, 0 for ``*/*``, -1 when the range does not match."""
    if media_range == offer:
        return 2
    if media_range == f"{offer.split('/')[0]}/*":
        return 1
    return 0 if media_range in ("*/*", "*") else -1


def _offer_quality(offer: str, ranges: Sequence[tuple[str, float]]) -> float | None:
    """The q of the most specific range matching ``offer`` (the first among equals), or None."""
    quality, best_specificity = None, -1
    for media_range, q in ranges:
        specificity = _specificity(media_range, offer)
        if specificity > best_specificity:
            quality, best_specificity = q, specificity
    return quality
