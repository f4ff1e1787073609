"""Rate limits and login backoff, counted in Redis when configured, in process otherwise.

The counting is the `limits` library's (exact moving windows; the same storage backs several
web frameworks' limiters); this module only names the policies and speaks HTTP:

- a refused request is ``429 too_many_requests`` with ``Retry-After`` (RFC 9110 section 10.2.3);
- every limited response carries the ``RateLimit-Policy`` and ``RateLimit`` fields of
  draft-ietf-httpapi-ratelimit-headers-10 (``"<policy>";q=<quota>;w=<window>`` and
  ``"<policy>";r=<remaining>;t=<seconds to reset>``).

With ``SKILLCRED_REDIS_URL`` set, every worker and host shares the counters; without it each
process counts alone (fine for one process, the embedded default). If Redis cannot be reached
the request is let through and the failure logged: an outage of the limiter's store must not
become an outage of the service.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from dataclasses import dataclass
from typing import cast

from limits import RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from service.core.errors import TooManyRequests

log = logging.getLogger("skillcred.ratelimit")


@dataclass(frozen=True)
class Policy:
    """``limit`` requests per ``window`` seconds for one key (an IP address, an account...)."""

    name: str
    limit: int
    window: int

    def header_policy(self) -> str:
        return f'"{self.name}";q={self.limit};w={self.window}'


@dataclass(frozen=True)
class Decision:
    """The outcome of one counted request."""

    policy: Policy
    allowed: bool
    remaining: int
    reset_after: int

    def headers(self) -> dict[str, str]:
        """The RateLimit fields, plus ``Retry-After`` when refused."""
        headers = {
            "RateLimit-Policy": self.policy.header_policy(),
            "RateLimit": f'"{self.policy.name}";r={self.remaining};t={self.reset_after}',
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, self.reset_after))
        return headers


@dataclass(frozen=True)
class Backoff:
    """After ``free_failures`` failures within ``memory`` seconds, each further failure locks the
    key for twice as long as the last, from ``first_lock`` up to ``max_lock`` seconds."""

    free_failures: int = 5
    first_lock: int = 2
    max_lock: int = 900
    memory: int = 3600

    def lock_seconds(self, failures: int) -> int:
        if failures < self.free_failures:
            return 0
        return int(min(self.max_lock, self.first_lock * 2 ** (failures - self.free_failures)))


class RateLimiter:
    """Counts requests per policy and key in ``storage_uri`` (``memory://`` or ``redis://...``).

    ``namespace`` separates deployments (and test runs) sharing one Redis.
    """

    def __init__(self, storage_uri: str = "memory://", *, namespace: str | None = None) -> None:
        self.namespace = namespace or f"skillcred-{uuid.uuid4().hex[:8]}"
        self._storage: Storage
        if storage_uri.startswith("memory://"):
            self._storage = MemoryStorage()
        else:
            # limits returns an asyncio storage only for "async+..." URIs; every other scheme is synchronous.
            storage = storage_from_string(storage_uri, key_prefix=self.namespace, wrap_exceptions=True)
            self._storage = cast(Storage, storage)
        self._windows = MovingWindowRateLimiter(self._storage)
        self.in_process = isinstance(self._storage, MemoryStorage)
        """True when the counters live in this process (no network call per request)."""

    def hit(self, policy: Policy, key: str) -> Decision:
        """Count one request of ``key`` against ``policy``."""
        item = RateLimitItemPerSecond(policy.limit, policy.window)
        scope = (self.namespace, policy.name, key)
        try:
            allowed = self._windows.hit(item, *scope)
            stats = self._windows.get_window_stats(item, *scope)
        except StorageError as err:
            log.warning("rate-limit store unavailable, request let through: %s", err)
            return Decision(policy, True, policy.limit, policy.window)
        reset_after = max(0, math.ceil(stats.reset_time - time.time()))
        return Decision(policy, allowed, max(0, stats.remaining), reset_after)

    def check(self, policy: Policy, key: str) -> Decision:
        """:meth:`hit`, raising :class:`TooManyRequests` (with the headers) when refused."""
        decision = self.hit(policy, key)
        if not decision.allowed:
            raise TooManyRequests(
                f"Too many requests; try again in {max(1, decision.reset_after)} s", headers=decision.headers()
            )
        return decision

    # --- backoff after failures (logins) -------------------------------------------------------

    def _key(self, kind: str, key: str) -> str:
        return f"{self.namespace}/{kind}/{key}"

    def locked_for(self, key: str) -> int:
        """Seconds ``key`` must still wait after its last failures (0: it may try now)."""
        try:
            if self._storage.get(self._key("lock", key)) <= 0:
                return 0
            return max(1, math.ceil(self._storage.get_expiry(self._key("lock", key)) - time.time()))
        except StorageError as err:
            log.warning("rate-limit store unavailable, backoff not checked: %s", err)
            return 0

    def record_failure(self, key: str, backoff: Backoff) -> int:
        """Count a failure of ``key``; returns the seconds it is now locked for (0: not locked)."""
        try:
            failures = self._storage.incr(self._key("failures", key), backoff.memory)
            seconds = backoff.lock_seconds(failures)
            if seconds:
                self._storage.clear(self._key("lock", key))
                self._storage.incr(self._key("lock", key), seconds)
            return seconds
        except StorageError as err:
            log.warning("rate-limit store unavailable, failure not counted: %s", err)
            return 0

    def record_success(self, key: str) -> None:
        """Forget ``key``'s failures (a successful login)."""
        try:
            self._storage.clear(self._key("failures", key))
            self._storage.clear(self._key("lock", key))
        except StorageError as err:
            log.warning("rate-limit store unavailable: %s", err)

    def reset(self) -> None:
        """Forget every counter (tests)."""
        self._storage.reset()


# --- the service's policies ----------------------------------------------------------------------

#: Sign-in attempts per client address (any account), and per account the backoff below.
LOGIN_PER_ADDRESS = Policy("login", limit=30, window=60)
#: After 5 wrong passwords an account waits 2 s, then 4, 8 ... up to 15 minutes, per failure.
LOGIN_BACKOFF = Backoff(free_failures=5, first_lock=2, max_lock=900, memory=3600)
#: Self-registrations per client address.
REGISTRATION_PER_ADDRESS = Policy("registration", limit=10, window=3600)
#: One-time token redemptions and re-sends (email verification, endorsement confirmation).
TOKEN_ATTEMPTS_PER_ADDRESS = Policy("token", limit=20, window=600)
#: Credential verifications of submitted documents (POST /v1/verify) per client address.
VERIFY_PER_ADDRESS = Policy("verify", limit=60, window=60)
#: Public documents and pages (badge pages, images, DID documents, status lists) per client address.
PUBLIC_PER_ADDRESS = Policy("public", limit=600, window=60)
#: Endorsement requests per client address, and per endorser address (junk cannot exhaust a
#: credential's pending slots from one address, nor mail one address over and over).
ENDORSEMENT_REQUESTS_PER_ADDRESS = Policy("endorsement-request", limit=10, window=3600)
ENDORSEMENT_REQUESTS_PER_ENDORSER = Policy("endorsement-request-to", limit=3, window=86_400)
#: Skill-discovery requests per client address: each embeds the evidence and up to 300 skills.
SUGGESTIONS_PER_ADDRESS = Policy("suggestions", limit=30, window=600)
#: Requests of one platform client (all its tokens, every route of the API it calls).
PLATFORM_PER_CLIENT = Policy("platform", limit=1200, window=60)
