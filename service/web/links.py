"""Which URLs from stored or submitted data may become links on a page.

Autoescaping keeps a value from breaking out of its attribute, but ``href="javascript:..."`` is
still a script, and ``data:`` or ``vbscript:`` URLs are no better. A URL becomes a link only when
it is an absolute ``https`` or ``http`` URL with a host and no whitespace or control characters;
anything else is shown as text. Templates add ``rel="nofollow noopener noreferrer"`` to such
links: they lead to places nobody here vouches for.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
LINK_SCHEMES = frozenset({"https", "http"})


def safe_href(value: Any) -> str | None:
    """``value`` when it is a URL safe to link to (see the module docstring), else None."""
    if not isinstance(value, str) or not value or len(value) > MAX_URL_LENGTH:
        return None
    if any(ord(c) <= 0x20 or ord(c) == 0x7F or c in "\\<>\"'`" for c in value):
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (a malformed port raises here)
    except ValueError:
        return None
    if parts.scheme.lower() not in LINK_SCHEMES or not parts.hostname or "@" in parts.netloc:
        return None
    return value
