"""Real concurrency on PostgreSQL: one `skillcred serve` with two worker processes, eight callers
sending one keyed POST at once: one credential is created and every caller gets its answer."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import POSTGRES_URL
from tests.serve import ADMIN, running_server

if not POSTGRES_URL:
    pytest.skip("real concurrency runs on PostgreSQL: set SKILLCRED_TEST_POSTGRES_URL", allow_module_level=True)

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)

CALLERS = 8


def test_concurrent_requests_with_one_key_create_one_credential_and_get_one_answer(database_url, tmp_path: Path):
    with running_server(database_url, tmp_path, workers=2) as server:
        http = httpx.Client(base_url=server.base, timeout=60)
        token = http.post("/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]}).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        issuer = http.post("/v1/issuers", json={"name": "Race Academy", "url": "https://race.example"}, headers=auth)
        achievement = http.post(
            f"/v1/issuers/{issuer.json()['id']}/achievements",
            headers=auth,
            json={
                "name": "Racing",
                "description": "Sends one request many times.",
                "criteria": {"narrative": "Retries safely."},
                "allow_multiple_active": True,
            },
        ).json()
        body = {"achievement_id": achievement["id"], "recipient": {"email": "ada@example.org"}}
        start = threading.Barrier(CALLERS)
        answers: list[httpx.Response | BaseException] = [RuntimeError("not sent")] * CALLERS
        sent, answered = [0.0] * CALLERS, [0.0] * CALLERS

        def call(number: int) -> None:
            with httpx.Client(base_url=server.base, timeout=60) as own:  # one connection per caller
                start.wait()
                sent[number] = time.monotonic()
                try:
                    answers[number] = own.post(
                        "/v1/credentials", json=body, headers={**auth, "Idempotency-Key": "race-1"}
                    )
                except httpx.HTTPError as error:
                    answers[number] = error
                answered[number] = time.monotonic()

        threads = [threading.Thread(target=call, args=(n,)) for n in range(CALLERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(90)
        responses = [answer for answer in answers if isinstance(answer, httpx.Response)]
        listed = http.get("/v1/credentials", params={"achievement_id": achievement["id"]}, headers=auth).json()

    assert len(responses) == CALLERS, answers
    assert max(sent) < min(answered), "every request was sent before the first was answered (all were in flight)"
    assert {response.status_code for response in responses} == {201}, [r.text for r in responses]
    assert len({response.content for response in responses}) == 1
    assert sum("Idempotent-Replayed" not in response.headers for response in responses) == 1
    assert listed["total"] == 1
