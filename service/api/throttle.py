"""Rate limits as route dependencies: ``dependencies=[Throttle(VERIFY_PER_ADDRESS)]``.

Counts the request against the policy for the client's address; a refused request is 429 with
``Retry-After`` and the ``RateLimit`` fields, an allowed one gets the ``RateLimit`` fields too.
``SKILLCRED_RATE_LIMITS=false`` turns every limit off (for load tests, never in production).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from service.api.ratelimit import Backoff, Decision, Policy, RateLimiter
from service.core.errors import TooManyRequests


def client_address(request: Request) -> str:
    """The client's address as the server sees it (behind a proxy, configure uvicorn's
    ``--forwarded-allow-ips`` so this is the real client)."""
    return request.client.host if request.client else "unknown"


def limiter_of(request: Request) -> RateLimiter | None:
    """The app's limiter, or None when rate limits are off."""
    limiter: RateLimiter | None = request.app.state.rate_limiter
    return limiter


def Throttle(policy: Policy) -> Any:
    """Dependency: count this request against ``policy`` for the client's address."""

    async def throttle(request: Request) -> None:
        # async, so a request with limits off or counted in process takes no worker thread; a
        # count in Redis is a network round trip, so it goes to a worker thread (never blocks
        # the event loop)
        limiter = limiter_of(request)
        if limiter is None:
            return
        address = client_address(request)
        if limiter.in_process:
            decision = limiter.check(policy, address)
        else:
            decision = await run_in_threadpool(limiter.check, policy, address)
        request.state.rate_limit_headers = decision.headers()

    throttle.__name__ = f"throttle_{policy.name.replace('-', '_')}"
    return Depends(throttle)


def count(request: Request, policy: Policy, key: str) -> Decision | None:
    """Count one request of ``key`` (an address, an email...) against ``policy`` inside a route;
    raises :class:`TooManyRequests` when refused. None when rate limits are off."""
    limiter = limiter_of(request)
    return None if limiter is None else limiter.check(policy, key)


def refuse_while_locked(request: Request, key: str) -> None:
    """Raise 429 while ``key`` (an account) waits out its backoff after failed attempts."""
    limiter = limiter_of(request)
    if limiter is None:
        return
    seconds = limiter.locked_for(key)
    if seconds:
        raise TooManyRequests(
            f"Too many failed attempts; try again in {seconds} s", headers={"Retry-After": str(seconds)}
        )


def record_failure(request: Request, key: str, backoff: Backoff) -> None:
    """Count a failed attempt of ``key`` towards its backoff."""
    limiter = limiter_of(request)
    if limiter is not None:
        limiter.record_failure(key, backoff)


def record_success(request: Request, key: str) -> None:
    """Forget ``key``'s failed attempts."""
    limiter = limiter_of(request)
    if limiter is not None:
        limiter.record_success(key)


Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]


class RateLimitHeaders:
    """Pure ASGI middleware: adds the ``RateLimit`` fields a :func:`Throttle` counted to whatever
    response the request gets (a model, a ``Response`` a route built itself, or an error)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = scope.get("state", {}).get("rate_limit_headers")
                if extra:
                    present = {name.lower() for name, _ in message.get("headers", [])}
                    added = [
                        (name.lower().encode("latin-1"), value.encode("latin-1"))
                        for name, value in extra.items()
                        if name.lower().encode("latin-1") not in present
                    ]
                    message["headers"] = [*message.get("headers", []), *added]
            await send(message)

        await self.app(scope, receive, send_with_headers)
