"""Rate limits count per policy and key, in process or in Redis, and say so in the headers."""

from __future__ import annotations

import uuid

import pytest

from service.api.ratelimit import Backoff, Policy, RateLimiter
from service.core.errors import TooManyRequests
from tests.conftest import redis_url_or_skip

POLICY = Policy("test", limit=3, window=60)


@pytest.fixture(params=["memory", "redis"])
def limiter(request) -> RateLimiter:
    if request.param == "memory":
        return RateLimiter("memory://")
    redis_url = redis_url_or_skip()
    return RateLimiter(redis_url, namespace=f"test-{uuid.uuid4().hex}")


def test_requests_within_the_limit_pass_and_count_down(limiter):
    decisions = [limiter.hit(POLICY, "203.0.113.7") for _ in range(3)]

    assert [d.allowed for d in decisions] == [True, True, True]
    assert [d.remaining for d in decisions] == [2, 1, 0]
    assert decisions[0].headers() == {
        "RateLimit-Policy": '"test";q=3;w=60',
        "RateLimit": f'"test";r=2;t={decisions[0].reset_after}',
    }


def test_the_request_over_the_limit_is_refused_with_retry_after(limiter):
    for _ in range(3):
        limiter.check(POLICY, "203.0.113.7")

    with pytest.raises(TooManyRequests) as refused:
        limiter.check(POLICY, "203.0.113.7")

    assert refused.value.status_code == 429
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 60
    assert refused.value.headers["RateLimit"].startswith('"test";r=0;')


def test_keys_and_policies_count_separately(limiter):
    for _ in range(3):
        limiter.hit(POLICY, "203.0.113.7")

    assert limiter.hit(POLICY, "198.51.100.1").allowed
    assert limiter.hit(Policy("other", 3, 60), "203.0.113.7").allowed


def test_two_limiters_on_one_redis_share_their_counts():
    redis_url = redis_url_or_skip()
    namespace = f"test-{uuid.uuid4().hex}"
    first = RateLimiter(redis_url, namespace=namespace)
    second = RateLimiter(redis_url, namespace=namespace)

    for _ in range(3):
        first.hit(POLICY, "203.0.113.7")

    assert not second.hit(POLICY, "203.0.113.7").allowed


def test_failures_beyond_the_free_ones_lock_the_key_for_longer_each_time(limiter):
    backoff = Backoff(free_failures=2, first_lock=2, max_lock=8)

    locks = [limiter.record_failure("ada@example.org", backoff) for _ in range(6)]

    assert locks == [0, 2, 4, 8, 8, 8]
    assert limiter.locked_for("ada@example.org") >= 1
    assert limiter.locked_for("bob@example.org") == 0


def test_a_success_forgets_the_failures(limiter):
    backoff = Backoff(free_failures=1, first_lock=30)
    limiter.record_failure("ada@example.org", backoff)
    assert limiter.locked_for("ada@example.org") > 0

    limiter.record_success("ada@example.org")

    assert limiter.locked_for("ada@example.org") == 0


def test_an_unreachable_redis_lets_requests_through():
    limiter = RateLimiter("redis://127.0.0.1:1", namespace="unreachable")

    assert all(limiter.hit(POLICY, "203.0.113.7").allowed for _ in range(5))
    assert limiter.locked_for("ada@example.org") == 0
