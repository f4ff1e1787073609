"""Security headers on every response (issue 9, item 6), as pure ASGI middleware.

Every response gets

- ``Referrer-Policy: no-referrer``: a badge page, a verification link or an API URL never leaks
  to the next site in ``Referer`` (W3C Referrer Policy, section 3.1);
- ``X-Content-Type-Options: nosniff``: browsers use the declared type, never a sniffed one
  (WHATWG Fetch, section 3.5);
- a ``Content-Security-Policy`` unless the route set its own (the badge page, badge images and
  evidence downloads do): for HTML, :func:`html_policy` (scripts, styles, images and requests from
  this origin only, no inline script or style); for anything else, ``NON_HTML_POLICY`` (nothing may load).

The interactive API docs set their own, looser policies (:func:`page_policy`): Swagger UI's inline
start-up script is allowed by its hash, and Swagger UI and ReDoc may add inline styles at run time.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REFERRER_POLICY = "no-referrer"
NON_HTML_POLICY = "default-src 'none'; frame-ancestors 'none'"
_INLINE = {tag: re.compile(rf"<{tag}>(.*?)</{tag}>", re.DOTALL) for tag in ("script", "style")}


def inline_hashes(html: str, tag: str) -> list[str]:
    """CSP hash sources (``'sha256-...'``) of the inline ``<script>`` or ``<style>`` elements in
    ``html`` (those written exactly ``<tag>``; ``<script src=...>`` loads a file and needs none).
    Only for HTML the service itself renders from fixed text: a hash of injected markup would allow it."""
    return [
        f"'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'"
        for body in _INLINE[tag].findall(html)
    ]


def page_policy(
    *,
    scripts: Iterable[str] = (),
    styles: Iterable[str] = (),
    inline_styles: bool = False,
    workers: Iterable[str] = (),
) -> str:
    """A policy that allows this origin only, plus the given script and style hashes; ``inline_styles``
    allows any inline style (for third-party pages that add them at run time), ``workers`` extra
    worker sources (e.g. ``blob:``)."""
    style_sources = ["'self'", *(["'unsafe-inline'"] if inline_styles else styles)]
    directives = [
        "default-src 'self'",
        "script-src " + " ".join(["'self'", *scripts]),
        "style-src " + " ".join(style_sources),
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    if workers:
        directives.append("worker-src " + " ".join(["'self'", *workers]))
    return "; ".join(directives)


def html_policy() -> str:
    """The policy of every HTML page without its own: this origin only, no inline script or style
    (the pages link the project's stylesheet and scripts as files)."""
    return page_policy()


class SecurityHeaders:
    """Adds the headers above to every HTTP response; headers a route set are kept."""

    def __init__(self, app: ASGIApp, *, policy_for_html: str | None = None) -> None:
        self.app = app
        self.html_policy = policy_for_html or html_policy()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Referrer-Policy", REFERRER_POLICY)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if "content-security-policy" not in headers:
                    html = headers.get("content-type", "").lower().startswith("text/html")
                    headers["Content-Security-Policy"] = self.html_policy if html else NON_HTML_POLICY
            await send(message)

        await self.app(scope, receive, send_with_headers)
