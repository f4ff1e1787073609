"""Issuance holds up under a mixed load on PostgreSQL (issue 16): `skillcred serve --workers 2`
with status lists re-signed every 2 seconds, while 16 clients issue, others verify, open badge
pages and status lists (some hanging up mid-request), and a changer revokes and suspends.

Properties: no 5xx at all; every acknowledged issuance is stored once, with status indexes no
other credential has; p99 issuance latency under 2 s; afterwards none of the server's database
sessions is left idle in a transaction.

A bounded run (``SOAK_SECONDS``, 20 s) is part of `make test`; ``SKILLCRED_SOAK_SECONDS=600``
runs a longer one. PostgreSQL only (SKILLCRED_REQUIRE_POSTGRES=1 in `.ci/run` makes it mandatory).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import figures
from tests.api.test_faults import _schema_url, postgres_schema  # noqa: F401  (a fixture)
from tests.conftest import idle_in_transaction
from tests.load import ISSUE, MixedLoad, issuance_figures, issuance_problems, prepare
from tests.serve import ADMIN, RunningServer, running_server

SOAK_SECONDS = float(os.environ.get("SKILLCRED_SOAK_SECONDS", "20"))
ISSUERS = 16
SERVER_NAME = "skillcred-soak"


@pytest.fixture
def soak_server(postgres_schema: str, tmp_path: Path) -> Iterator[tuple[RunningServer, str]]:  # noqa: F811
    database_url = f"{_schema_url(postgres_schema)}&application_name={SERVER_NAME}-{os.getpid()}"
    settings = {
        "SKILLCRED_RATE_LIMITS": "false",  # every client is 127.0.0.1
        "SKILLCRED_REDIS_URL": "",
        "SKILLCRED_STATUS_LIST_RESIGN_INTERVAL_SECONDS": "2",
        "SKILLCRED_ISSUING_CONCURRENCY": "8",
    }
    with running_server(database_url, tmp_path, workers=2, settings=settings) as server:
        yield server, database_url


def test_a_mixed_load_with_16_issuers_gets_no_5xx_and_every_issuance_once(soak_server):
    server, database_url = soak_server
    work = prepare(server.base, ADMIN)

    started = time.monotonic()
    outcomes = MixedLoad(server.base, work, issuers=ISSUERS).run(SOAK_SECONDS)
    elapsed = time.monotonic() - started
    time.sleep(1.5)  # the requests of clients that hung up finish on the server

    figures.record("requests under load", len(outcomes))
    server_errors = sorted({(o.kind, o.status) for o in outcomes if o.status is not None and o.status >= 500})
    assert not server_errors, f"{server_errors}\n{server.log.read_text()[-3000:]}"
    failed = [o for o in outcomes if o.status is None and not o.hung_up]
    assert not failed, f"{len(failed)} requests failed at the connection"
    issued = issuance_figures(outcomes, elapsed)
    print(f"\nsoak {SOAK_SECONDS:.0f} s, {ISSUERS} issuers: {issued}, {len(outcomes)} requests")
    assert issued["errors"] == 0, [o.status for o in outcomes if o.kind == ISSUE and o.status != 201][:10]
    assert issued["issued"] >= ISSUERS, issued
    assert issued["p99_s"] < 2.0, issued
    assert issuance_problems(database_url, outcomes) == []
    assert sum(o.hung_up for o in outcomes) > 0  # clients did hang up mid-request
    assert idle_in_transaction(database_url, f"{SERVER_NAME}-{os.getpid()}") == []
