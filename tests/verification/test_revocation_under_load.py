"""A revocation under load shows at once (issue 15): `skillcred serve --workers 2` on PostgreSQL,
clients verifying a kept credential and opening its badge page as fast as the workers answer
(kept reports and pages, whose re-reads concurrent requests share: service/core/coalesce.py),
and the credential is revoked in the middle. Every request sent after the revocation was answered
is answered revoked, by either worker; every request answered before it began, verified.

Bounded: 8 clients for about 3 seconds on loopback. PostgreSQL only (SKILLCRED_REQUIRE_POSTGRES=1
in `.ci/run` makes it mandatory)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.api.test_faults import _schema_url, postgres_schema  # noqa: F401  (a fixture)
from tests.serve import ADMIN, RunningServer, running_server
from tests.web.badge_helpers import banner_of

VERIFIERS, PAGE_READERS = 6, 2
SECONDS_EACH_SIDE = 1.5


@dataclass(frozen=True)
class Answer:
    kind: str
    sent: float
    answered: float
    status: int
    verified: bool | None


@pytest.fixture
def server(postgres_schema: str, tmp_path: Path) -> Iterator[RunningServer]:  # noqa: F811
    settings = {"SKILLCRED_RATE_LIMITS": "false", "SKILLCRED_REDIS_URL": ""}  # every client is 127.0.0.1
    with running_server(_schema_url(postgres_schema), tmp_path, workers=2, settings=settings) as running:
        yield running


def _issued(base: str) -> tuple[httpx.Client, dict, str]:
    admin = httpx.Client(base_url=base, timeout=30)
    token = admin.post("/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]}).json()["access_token"]
    admin.headers["Authorization"] = f"Bearer {token}"
    issuer = admin.post("/v1/issuers", json={"name": "Load Academy", "url": "https://load.example"}).json()
    achievement = admin.post(
        f"/v1/issuers/{issuer['id']}/achievements",
        json={"name": "Revoked under load", "description": "Tested.", "criteria": {"narrative": "Revoked."}},
    ).json()
    credential = admin.post(
        "/v1/credentials", json={"achievement_id": achievement["id"], "recipient": {"email": "e@example.org"}}
    ).json()
    path = credential["url"].removeprefix(base)
    jsonld = httpx.get(f"{base}{path}", headers={"Accept": "application/vc+ld+json"}).text
    return admin, credential, jsonld


def _load(base: str, kind: str, jsonld: str, path: str, stop: threading.Event, out: list[Answer]) -> None:
    with httpx.Client(base_url=base, timeout=30) as client:
        while not stop.is_set():
            sent = time.monotonic()
            if kind == "verify":
                response = client.post("/v1/verify", content=jsonld, headers={"Content-Type": "application/json"})
                verified = response.json()["verified"] if response.status_code == 200 else None
            else:
                response = client.get(path, headers={"Accept": "text/html"})
                verified = banner_of(response.text) == "Verified" if response.status_code == 200 else None
            out.append(Answer(kind, sent, time.monotonic(), response.status_code, verified))


def test_every_request_sent_after_a_revocation_was_answered_is_answered_revoked(server):
    admin, credential, jsonld = _issued(server.base)
    path = credential["url"].removeprefix(server.base)
    for entry_path in {e["statusListCredential"].removeprefix(server.base) for e in _status_entries(jsonld)}:
        assert httpx.get(f"{server.base}{entry_path}").status_code == 200  # the lists are published
    answers: list[Answer] = []
    stop = threading.Event()
    clients = [
        threading.Thread(target=_load, args=(server.base, kind, jsonld, path, stop, answers))
        for kind in ["verify"] * VERIFIERS + ["page"] * PAGE_READERS
    ]
    for client in clients:
        client.start()
    try:
        time.sleep(SECONDS_EACH_SIDE)
        revoking = time.monotonic()
        revoked = admin.post(f"/v1/credentials/{credential['id']}/revoke", json={"reason": "under load"})
        revoked_at = time.monotonic()
        time.sleep(SECONDS_EACH_SIDE)
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=30)
    assert revoked.status_code == 200, revoked.text

    assert all(a.status == 200 for a in answers), {a.status for a in answers}
    before = [a for a in answers if a.answered < revoking]
    after = [a for a in answers if a.sent > revoked_at]
    for kind in ("verify", "page"):
        assert sum(a.kind == kind for a in before) >= 10 and sum(a.kind == kind for a in after) >= 10, kind
    assert all(a.verified for a in before), "a verification before the revocation failed"
    stale = [a for a in after if a.verified]
    assert not stale, f"{len(stale)} of {len(after)} requests sent after the revocation were answered verified"


def _status_entries(jsonld: str) -> list[dict]:
    status = json.loads(jsonld)["credentialStatus"]
    return status if isinstance(status, list) else [status]
