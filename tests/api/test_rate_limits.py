"""Rate limits on the routes an attacker hammers: sign-in, registration, one-time tokens,
verification, endorsement requests and public documents. A refusal is 429 with Retry-After and the
RateLimit fields; counters live in Redis when SKILLCRED_REDIS_URL is set.
"""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.api.ratelimit import (
    ENDORSEMENT_REQUESTS_PER_ENDORSER,
    LOGIN_BACKOFF,
    LOGIN_PER_ADDRESS,
    REGISTRATION_PER_ADDRESS,
    VERIFY_PER_ADDRESS,
)
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, redis_url_or_skip

pytestmark = pytest.mark.attack


def _token(client: TestClient, email: str, password: str):
    return client.post("/v1/auth/token", data={"username": email, "password": password})


def _refused(response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"] == "too_many_requests"
    assert int(response.headers["Retry-After"]) >= 1


def test_wrong_passwords_lock_the_account_out_even_for_the_right_one(client):
    for _ in range(LOGIN_BACKOFF.free_failures):
        assert _token(client, ADMIN_EMAIL, "not-the-password").status_code == 401

    _refused(_token(client, ADMIN_EMAIL, ADMIN_PASSWORD))
    _refused(_token(client, ADMIN_EMAIL.upper(), ADMIN_PASSWORD))  # the same account, spelt otherwise


def test_a_locked_out_email_that_has_no_account_answers_the_same(client):
    for _ in range(LOGIN_BACKOFF.free_failures):
        assert _token(client, "nobody@example.org", "guess").status_code == 401

    _refused(_token(client, "nobody@example.org", "guess"))


def test_another_account_is_not_locked_by_someone_elses_failures(client, api):
    for _ in range(LOGIN_BACKOFF.free_failures):
        _token(client, "someone@example.org", "guess")

    assert _token(client, ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 200


def test_sign_ins_from_one_address_are_limited_whatever_the_email(client):
    responses = [_token(client, f"u{n}@example.org", "guess") for n in range(LOGIN_PER_ADDRESS.limit + 1)]

    assert {r.status_code for r in responses[:-1]} == {401}
    _refused(responses[-1])
    assert responses[-1].headers["RateLimit-Policy"] == f'"login";q={LOGIN_PER_ADDRESS.limit};w=60'
    assert responses[-1].headers["RateLimit"].startswith('"login";r=0;t=')
    assert responses[0].headers["RateLimit"].startswith(f'"login";r={LOGIN_PER_ADDRESS.limit - 1};')


def test_registrations_from_one_address_are_limited(client):
    for n in range(REGISTRATION_PER_ADDRESS.limit):
        response = client.post(
            "/v1/auth/register", json={"email": f"r{n}@example.org", "password": f"pw-{n}-long-enough"}
        )
        assert response.status_code == 201, response.text

    _refused(client.post("/v1/auth/register", json={"email": "late@example.org", "password": "late-long-enough-pw"}))


def test_verification_requests_from_one_address_are_limited(client):
    for _ in range(VERIFY_PER_ADDRESS.limit):
        assert client.post("/v1/verify", content=b"{}", headers={"Content-Type": "application/json"}).status_code == 200

    _refused(client.post("/v1/verify", content=b"{}", headers={"Content-Type": "application/json"}))


def test_public_documents_carry_the_ratelimit_fields(client):
    response = client.get("/.well-known/did.json")

    assert response.headers["RateLimit-Policy"].startswith('"public";q=')


def test_one_endorser_mailbox_gets_at_most_three_requests_a_day_whatever_its_tags(api, achievement):
    credentials = [api.issue(achievement["id"], {"email": f"earner{n}@example.org"}) for n in range(4)]

    def request(credential, email):
        return api.client.post(
            f"/v1/credentials/{credential['id']}/endorsements/requests",
            json={"email": email, "name": "Client", "statement": "Delivered on time."},
        )

    sent = [request(c, f"client+{n}@example.org") for n, c in enumerate(credentials[:3])]
    assert [r.status_code for r in sent] == [202] * ENDORSEMENT_REQUESTS_PER_ENDORSER.limit

    _refused(request(credentials[3], "Client+other@Example.org"))


def test_an_earner_cannot_endorse_themself_through_a_plus_address(api, achievement):
    credential = api.issue(achievement["id"], {"email": "ada@example.org"})

    response = api.client.post(
        f"/v1/credentials/{credential['id']}/endorsements/requests",
        json={"email": "Ada+client@example.org", "name": "Totally a client", "statement": "Great work."},
    )

    assert response.status_code in (400, 422), response.text
    assert response.json()["error"] == "self_endorsement"


def test_with_redis_every_worker_shares_the_counts(settings):
    redis_url = redis_url_or_skip()
    shared = settings.model_copy(update={"redis_url": redis_url, "rate_limit_namespace": f"test-{uuid.uuid4().hex}"})
    first, second = create_app(shared), create_app(shared)
    with TestClient(first) as one, TestClient(second) as two:
        for n in range(LOGIN_PER_ADDRESS.limit):
            (one if n % 2 else two).post("/v1/auth/token", data={"username": f"u{n}@example.org", "password": "x"})

        _refused(one.post("/v1/auth/token", data={"username": "late@example.org", "password": "x"}))
        _refused(two.post("/v1/auth/token", data={"username": "late2@example.org", "password": "x"}))


def test_rate_limits_can_be_switched_off(settings):
    app = create_app(settings.model_copy(update={"rate_limits": False}))
    with TestClient(app) as client:
        responses = [_token(client, f"u{n}@example.org", "x") for n in range(LOGIN_PER_ADDRESS.limit + 5)]

    assert {r.status_code for r in responses} == {401}
    assert "RateLimit" not in responses[0].headers


@pytest.fixture
def issuer(api):
    return api.create_issuer("Rate Academy")


@pytest.fixture
def achievement(api, issuer):
    return api.create_achievement(issuer["id"], name="Rated")
