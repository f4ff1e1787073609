"""Scale-out on one PostgreSQL database (issue 15, docs/scaling.md): two `skillcred serve` instances
and two `skillcred worker` processes, as two hosts behind one public URL would run them.

- a credential issued through either instance is served by both;
- a revocation made through one is seen by the other at once, in `POST /v1/verify` and on the page;
- a periodic job is run once per period across the two workers, by one of them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.conftest import POSTGRES_URL, TEST_KEK
from tests.serve import ADMIN, running_server
from tests.web.badge_helpers import banner_of

if not POSTGRES_URL:
    pytest.skip("several processes share PostgreSQL only: set SKILLCRED_TEST_POSTGRES_URL", allow_module_level=True)

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)

PUBLIC_URL = "https://credentials.example"  # the load balancer's address, the same for every instance
PERIOD_SECONDS = 15  # service.jobs.housekeeping: retry_stalled runs every 15 seconds
STARTED = re.compile(r"Starting job (\S+)\[(\d+)\]\(timestamp=(\d+)\)")


def _environment(database_url: str, folder: Path) -> dict[str, str]:
    return os.environ | {
        "SKILLCRED_ENV": "production",
        "SKILLCRED_DATABASE_URL": database_url,
        "SKILLCRED_PUBLIC_URL": PUBLIC_URL,
        "SKILLCRED_KEK": TEST_KEK,
        "SKILLCRED_BLOB_DIR": str(folder / "blobs"),
        "SKILLCRED_JOBS_IN_PROCESS": "false",
    }


def _worker(database_url: str, folder: Path, name: str, stack: ExitStack) -> Path:
    log = folder / f"{name}.log"
    out = stack.enter_context(log.open("w"))
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli.main", "worker", "--name", name, "--concurrency", "2"],
        env=_environment(database_url, folder),
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=folder,
    )

    def stop() -> None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    stack.callback(stop)
    return log


@pytest.fixture
def deployment(database_url: str, tmp_path: Path) -> Iterator[tuple[list[str], list[Path], float]]:
    """Two servers (one uvicorn worker each) and two job workers; the time the workers started."""
    with ExitStack() as stack:
        started = time.time()
        logs = [_worker(database_url, tmp_path, f"worker-{n}", stack) for n in (1, 2)]
        bases = []
        for n in (1, 2):
            folder = tmp_path / f"server-{n}"
            folder.mkdir()
            settings = {"SKILLCRED_PUBLIC_URL": PUBLIC_URL, "SKILLCRED_JOBS_IN_PROCESS": "false"}
            server = stack.enter_context(running_server(database_url, folder, workers=1, settings=settings))
            bases.append(server.base)
        yield bases, logs, started


def _client(base: str) -> httpx.Client:
    http = httpx.Client(base_url=base, timeout=30)
    token = http.post("/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]}).json()["access_token"]
    http.headers["Authorization"] = f"Bearer {token}"
    return http


def _local(url: str) -> str:
    assert url.startswith(PUBLIC_URL)
    return url.removeprefix(PUBLIC_URL)


def test_two_servers_and_two_workers_share_one_database(deployment):
    (base_a, base_b), logs, started = deployment
    a, b = _client(base_a), _client(base_b)
    anonymous_b = httpx.Client(base_url=base_b, timeout=30)

    issuer = a.post("/v1/issuers", json={"name": "Scale-out Issuer", "url": "https://issuer.example"}).json()
    achievement = b.post(
        f"/v1/issuers/{issuer['id']}/achievements",
        json={"name": "Scaling out", "description": "Runs on two hosts.", "criteria": {"narrative": "Two."}},
    ).json()
    issued = []
    for n in range(6):  # alternately through each instance
        client = (a, b)[n % 2]
        response = client.post(
            "/v1/credentials",
            json={"achievement_id": achievement["id"], "recipient": {"email": f"earner{n}@example.org"}},
        )
        assert response.status_code == 201, response.text
        issued.append(response.json())
    # each is served by the other instance too, and verifies there
    for n, credential in enumerate(issued):
        other = (b, a)[n % 2]
        jsonld = other.get(_local(credential["url"]), headers={"Accept": "application/vc+ld+json"})
        assert jsonld.status_code == 200
        report = other.post("/v1/verify", content=jsonld.text, headers={"Content-Type": "application/vc+ld+json"})
        assert report.json()["verified"] is True, report.text
    # status indexes were handed out by two processes: no two credentials share one
    entries = [
        (entry["statusListCredential"], entry["statusListIndex"])
        for credential in issued
        for entry in httpx.Client(base_url=base_a)
        .get(_local(credential["url"]), headers={"Accept": "application/vc+ld+json"})
        .json()["credentialStatus"]
    ]
    assert len(entries) == len(set(entries)) == 2 * len(issued)

    # revoked through A, seen through B at once
    target = issued[1]
    jsonld = anonymous_b.get(_local(target["url"]), headers={"Accept": "application/vc+ld+json"}).text
    revoked = a.post(f"/v1/credentials/{target['id']}/revoke", json={"reason": "scale-out test"})
    assert revoked.status_code == 200, revoked.text
    report = anonymous_b.post("/v1/verify", content=jsonld, headers={"Content-Type": "application/vc+ld+json"})
    assert report.json()["verified"] is False
    assert _outcome(report.json(), "status.revocation") == "failed"
    assert banner_of(anonymous_b.get(_local(target["url"])).text) == "Revoked"
    assert b.get(f"/v1/credentials/{target['id']}").json()["state"] == "revoked"

    # the periodic job: wait until a period that both workers were up for has run, then count
    first_full_period = (int(started) // PERIOD_SECONDS + 1) * PERIOD_SECONDS
    deadline = time.time() + 40
    while time.time() < deadline:
        runs = _periodic_runs(logs)
        if any(stamp >= first_full_period for (_, stamp) in runs):
            break
        time.sleep(0.5)
    time.sleep(1.5)  # a second worker that ran the same period would have logged by now
    runs = _periodic_runs(logs)
    stalled = {stamp: workers for (task, stamp), workers in runs.items() if task.endswith("retry_stalled")}
    assert any(stamp >= first_full_period for stamp in stalled), (stalled, [log.read_text()[-2000:] for log in logs])
    assert all(len(workers) == 1 for workers in stalled.values()), stalled  # once per period, one worker
    assert all(sum(workers.values()) == 1 for workers in runs.values()), runs  # every periodic job likewise


def _periodic_runs(logs: list[Path]) -> dict[tuple[str, int], Counter[str]]:
    """(task, period timestamp) -> how often each worker started it."""
    runs: dict[tuple[str, int], Counter[str]] = {}
    for log in logs:
        for match in STARTED.finditer(log.read_text()):
            runs.setdefault((match[1], int(match[3])), Counter())[log.stem] += 1
    return runs


def _outcome(report: dict, check: str) -> str:
    (outcome,) = [c["outcome"] for c in report["checks"] if c["id"] == check]
    return str(outcome)
