"""Where to go after signing in: a ``next`` parameter that can only name a page of this site.

An open redirect (``/login?next=https://evil.example``) lends the site's name to a phishing page,
so ``next`` is kept only when it is a plain same-site path: one leading ``/`` (``//host`` and
``/\\host`` are other hosts to browsers), no scheme or host, no backslash, no control character
or whitespace. Anything else becomes the portal's home.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

HOME = "/portal"
MAX_NEXT = 2048
_REFUSED = re.compile(r"[\x00-\x20\x7f\\]")


def safe_next(value: str | None, default: str = HOME) -> str:
    """``value`` when it is a same-site relative path (see the module docstring), else ``default``."""
    if not value or len(value) > MAX_NEXT or _REFUSED.search(value):
        return default
    if not value.startswith("/") or value.startswith("//"):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value
