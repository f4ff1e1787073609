"""A platform client's requests are limited per client (all its tokens, every route), with the
standard fields on every answer: a refusal is 429 ``too_many_requests`` with ``Retry-After``,
another client is not slowed by it, and with Redis every server process shares the count."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from service.api import auth
from service.api.app import create_app
from service.api.ratelimit import Policy
from service.cli.bootstrap import ensure_admin
from service.platforms import scopes
from tests.api_client import Api
from tests.conftest import redis_url_or_skip
from tests.platforms.clients import client_token

LIMIT = 5
READ = scopes.CREDENTIAL_READONLY


@pytest.fixture
def small_limit(monkeypatch) -> Policy:
    """The per-client policy with a limit a test can reach (the real one is 1,200 a minute)."""
    policy = Policy(f"platform-{uuid.uuid4().hex[:8]}", limit=LIMIT, window=60)
    monkeypatch.setattr(auth, "PLATFORM_PER_CLIENT", policy)
    return policy


def _refused(response) -> None:
    assert response.status_code == 429, response.text
    body = response.json()
    code = body.get("error") or body["imsx_codeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]
    assert code in {"too_many_requests", "server_busy"}  # the OB 3.0 API's word for it
    assert int(response.headers["Retry-After"]) >= 1


def test_a_client_past_its_limit_is_refused_and_another_client_is_not(app, client, api, small_limit):
    issuer = api.create_issuer()
    busy = client_token(app, issuer["id"], READ, name="Busy platform")
    calm = client_token(app, issuer["id"], READ, name="Calm platform")

    answers = [client.get("/v1/credentials", headers=busy.headers) for _ in range(LIMIT)]
    assert [a.status_code for a in answers] == [200] * LIMIT
    assert answers[0].headers["RateLimit-Policy"] == small_limit.header_policy()
    remaining = [a.headers["RateLimit"] for a in answers]
    assert remaining[0] != remaining[-1]  # the count goes down as the client calls

    _refused(client.get("/v1/credentials", headers=busy.headers))
    _refused(client.get("/ims/ob/v3p0/credentials", headers=busy.headers))  # every route counts
    assert client.get("/v1/credentials", headers=calm.headers).status_code == 200


def test_with_redis_every_server_process_shares_a_clients_count(settings, small_limit):
    shared = settings.model_copy(
        update={"redis_url": redis_url_or_skip(), "rate_limit_namespace": f"test-{uuid.uuid4().hex}"}
    )
    first, second = create_app(shared), create_app(shared)
    ensure_admin(first.state.engine, shared)
    try:
        with TestClient(first) as one, TestClient(second) as two:
            issuer = Api(one).create_issuer()
            platform = client_token(first, issuer["id"], READ)
            for n in range(LIMIT):
                answer = (one if n % 2 else two).get("/v1/credentials", headers=platform.headers)
                assert answer.status_code == 200, answer.text
            _refused(one.get("/v1/credentials", headers=platform.headers))
            _refused(two.get("/v1/credentials", headers=platform.headers))
    finally:
        first.state.engine.dispose()
        second.state.engine.dispose()
