"""Conditional requests: ``If-None-Match`` against a response's ``ETag`` (RFC 9110 section 13.1.2)."""

from __future__ import annotations


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 13.1.2: ``*`` or any listed tag equal by the weak comparison."""
    if not if_none_match:
        return False
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in tags or etag.removeprefix("W/") in (tag.removeprefix("W/") for tag in tags)
