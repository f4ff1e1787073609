"""Request body size limit, enforced before the body reaches any route (pure ASGI middleware)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from service.api.errors import error_payload

Scope = dict[str, Any]


class BodySizeLimit:
    """Answers 413 in the service's error shape (the OB 3.0 API's on its paths) when a body exceeds its limit.

    Checks ``Content-Length`` up front and counts streamed bytes for chunked bodies. Upload routes
    (paths in ``upload_paths``) get ``upload_limit`` instead of ``limit``; paths that fully match
    a regular expression of ``pattern_limits`` (``(pattern, limit)`` pairs, e.g. evidence uploads
    under a bundle id) get that pattern's limit.
    """

    def __init__(
        self,
        app: Any,
        *,
        limit: int,
        upload_limit: int,
        upload_paths: tuple[str, ...] = (),
        pattern_limits: Sequence[tuple[str, int]] = (),
    ) -> None:
        self.app, self.limit, self.upload_limit, self.upload_paths = app, limit, upload_limit, upload_paths
        self.pattern_limits = tuple((re.compile(pattern), value) for pattern, value in pattern_limits)

    def _limit_for(self, path: str) -> int:
        if path in self.upload_paths:
            return self.upload_limit
        for pattern, value in self.pattern_limits:
            if pattern.fullmatch(path):
                return value
        return self.limit

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit: int | None = None

        def limit_of() -> int:
            # worked out only for a request with a body: matching the path against every pattern
            # cost a GET of a badge page several percent of its time
            nonlocal limit
            if limit is None:
                limit = self._limit_for(scope["path"])
            return limit

        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > limit_of()
                except ValueError:
                    too_big = False
                if too_big:
                    await _reject(send, scope["path"], limit_of())
                    return
        received = 0
        response_started = False

        async def limited_receive() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                if body:
                    received += len(body)
                    if received > limit_of():
                        raise _TooLarge
            return message

        async def tracking_send(message: Any) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not response_started:
                await _reject(send, scope["path"], limit_of())


class _TooLarge(BaseException):
    """BaseException on purpose: frameworks turn an ``Exception`` raised while reading the body
    into a 400, and this must reach the middleware to become a 413."""


async def _reject(send: Any, path: str, limit: int) -> None:
    payload = error_payload(path, 413, "payload_too_large", f"The request body exceeds {limit} bytes")
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
