"""Under a burst, a real server on the embedded SQLite default answers every request: 201, or a
quick 503 with Retry-After; never a 500, never a half-written credential.

An outside tester sent 50 concurrent issuances to `skillcred serve` on SQLite and got 13-21 HTTP
500s ("database is locked", "QueuePool limit reached"): every issuance held SQLite's single write
lock while it signed. Now issuing signs before it writes, the write lock is held for
milliseconds, and a request that still cannot get the database in time is told to retry.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests import figures
from tests.serve import ADMIN, running_server

BURST = 50


@pytest.fixture
def server_settings() -> dict[str, str]:
    """Extra SKILLCRED_* settings for the server (none: the defaults)."""
    return {}


@pytest.fixture
def sqlite_server(tmp_path: Path, server_settings: dict[str, str]) -> Iterator[tuple[str, str]]:
    """``skillcred serve`` with two workers on a SQLite file: (base URL, database URL)."""
    database_url = f"sqlite:///{tmp_path / 'skillcred.db'}"
    with running_server(database_url, tmp_path, settings=server_settings) as running:
        yield running.base, database_url


def _burst(base: str) -> list[tuple[int, dict[str, str], float, str | None]]:
    """BURST concurrent issuances, each from its own client: (status, headers, seconds, id)."""
    with httpx.Client(base_url=base, timeout=30) as http:
        token = http.post("/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]}).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        issuer = http.post("/v1/issuers", json={"name": "Burst Academy", "url": "https://burst.example"}, headers=auth)
        achievement = http.post(
            f"/v1/issuers/{issuer.json()['id']}/achievements",
            headers=auth,
            json={"name": "Burst", "description": "Issued in a burst.", "criteria": {"narrative": "Any."}},
        ).json()

    def issue(number: int) -> tuple[int, dict[str, str], float, str | None]:
        started = time.monotonic()
        with httpx.Client(base_url=base, timeout=60) as client:
            response = client.post(
                "/v1/credentials",
                headers=auth,
                json={"achievement_id": achievement["id"], "recipient": {"email": f"f{number}@example.org"}},
            )
        return response.status_code, dict(response.headers), time.monotonic() - started, response.json().get("id")

    with ThreadPoolExecutor(BURST) as pool:
        return list(pool.map(issue, range(BURST)))


def _stored(database_url: str) -> tuple[set[str], dict[str, int], set[str]]:
    """Credential ids, status entries per credential, and audited issuances in the database."""
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        credentials = {row[0] for row in connection.execute(sa.text("SELECT id FROM credential"))}
        entries = connection.execute(sa.text("SELECT credential_id, count(*) FROM statusentry GROUP BY credential_id"))
        entry_counts = {row[0]: row[1] for row in entries}
        audited = {
            row[0]
            for row in connection.execute(sa.text("SELECT object_id FROM auditevent WHERE action = 'credential.issue'"))
        }
    engine.dispose()
    return credentials, entry_counts, audited


def test_a_burst_of_issuances_on_sqlite_gets_no_500_and_loses_nothing(sqlite_server):
    base, database_url = sqlite_server

    results = _burst(base)

    statuses = [status for status, _, _, _ in results]
    timings = " ".join(f"{status}:{seconds:.2f}" for status, _, seconds, _ in sorted(results, key=lambda r: r[2]))
    assert set(statuses) <= {201, 503}, timings
    assert all("retry-after" in headers for status, headers, _, _ in results if status == 503)
    issued = {credential_id for status, _, _, credential_id in results if status == 201}
    credentials, entry_counts, audited = _stored(database_url)
    figures.record("requests under load", BURST)
    figures.record("credentials lost", len(issued - credentials))
    assert len(issued) >= BURST * 0.9, timings  # two cores sign 50 credentials in about two seconds
    assert credentials == issued  # nothing acknowledged is lost, nothing refused is half-written
    assert entry_counts == {credential_id: 2 for credential_id in issued}
    assert audited == issued


@pytest.mark.parametrize(
    "server_settings", [{"SKILLCRED_ISSUING_CONCURRENCY": "1", "SKILLCRED_OVERLOAD_WAIT_SECONDS": "0.2"}]
)
def test_beyond_capacity_requests_get_a_quick_503_with_retry_after(sqlite_server):
    """One signing slot per worker and a 0.2 s wait: most of the burst is turned away, at once."""
    base, database_url = sqlite_server

    results = _burst(base)

    refused = [(headers, seconds) for status, headers, seconds, _ in results if status == 503]
    assert {status for status, _, _, _ in results} <= {201, 503}
    assert refused, "the burst never went past capacity"
    assert all(headers["retry-after"] == "2" for headers, _ in refused)
    assert all(headers["content-type"] == "application/json" for headers, _ in refused)
    assert max(seconds for _, seconds in refused) < 5, "a refusal should be quick, not a hang"
    issued = {credential_id for status, _, _, credential_id in results if status == 201}
    credentials, entry_counts, _ = _stored(database_url)
    figures.record("requests under load", BURST)
    figures.record("credentials lost", len(issued - credentials))
    assert credentials == issued
    assert entry_counts == {credential_id: 2 for credential_id in issued}
