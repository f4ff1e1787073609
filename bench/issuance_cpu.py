"""CPU and SQL statements per single issuance (``POST /v1/credentials``), in one process (issue 15).

    SKILLCRED_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/issuance_cpu.py [--count 200] [--rounds 3] [--sqlite]

Builds the app on a schema of its own (dropped afterwards; SQLite with ``--sqlite``), with the
in-process job worker running (so the ``webhooks:fan_out`` job each issuance asks for runs too),
and issues ``--count`` credentials one after the other through the ASGI app (TestClient). Reports
the process's CPU seconds per issuance (every thread: the request and the jobs it causes) and the
SQL statements the service's engine sent per issuance, split into those sent by the request and
those sent by jobs (the in-process worker's queue statements, procrastinate's own, are not
counted). For where the time goes, run it under ``py-spy record --gil --format raw -o out.txt --``.

Figures vary with the machine's load: compare runs side by side, made in the same conditions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from contextlib import nullcontext
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient

from bench.schemas import postgres_schema
from service.api.app import create_app
from service.cli.bootstrap import ensure_admin
from service.core.config import Settings
from service.core.migrations import upgrade
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, PUBLIC_URL, TEST_KEK


def settle(url: str, seconds: float = 10.0) -> None:
    """Wait until no event waits for its fan-out (the jobs of the issuances made so far ran); read
    on an engine of its own, so its reads are not counted as the service's."""
    deadline = time.monotonic() + seconds
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        while time.monotonic() < deadline:
            waiting = connection.execute(sa.text("SELECT count(*) FROM event WHERE dispatched_at IS NULL")).scalar()
            connection.rollback()
            if not waiting:
                return
            time.sleep(0.05)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds of --count (median reported)")
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--statements", action="store_true", help="print the statements of one issuance")
    parser.add_argument("--database-url", default=os.environ.get("SKILLCRED_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    if not args.sqlite and not args.database_url:
        raise SystemExit("give a PostgreSQL URL (--database-url or SKILLCRED_TEST_POSTGRES_URL) or --sqlite")
    tmp = Path(tempfile.mkdtemp())
    with (
        nullcontext(f"sqlite:///{tmp / 'bench.db'}")
        if args.sqlite
        else postgres_schema(args.database_url, "skillcred-bench-cpu")
    ) as url:
        upgrade(url)
        settings = Settings(
            env="test",
            database_url=url,
            kek=TEST_KEK,
            public_url=PUBLIC_URL,
            dev_kek_file=tmp / "dev-kek",
            bootstrap_admin_email=ADMIN_EMAIL,
            bootstrap_admin_password=ADMIN_PASSWORD,
            blob_dir=tmp / "blobs",
            rate_limits=False,
            jobs_in_process=True,
        )
        app = create_app(settings)
        ensure_admin(app.state.engine, settings)
        engine = app.state.engine
        counts = {"request": 0, "other": 0}
        request_thread: list[int] = []
        shown: list[str] | None = None

        @sa.event.listens_for(engine, "before_cursor_execute")
        def count(conn: object, cursor: object, statement: str, *_rest: object) -> None:
            mine = threading.get_ident() in request_thread
            counts["request" if mine else "other"] += 1
            if shown is not None:
                shown.append(("request: " if mine else "job:     ") + " ".join(statement.split())[:160])

        with TestClient(app) as client:
            token = client.post("/v1/auth/token", data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
            auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
            issuer = client.post(
                "/v1/issuers", json={"name": "CPU Academy", "url": "https://cpu.example"}, headers=auth
            )
            achievement = client.post(
                f"/v1/issuers/{issuer.json()['id']}/achievements",
                headers=auth,
                json={"name": "Steady hands", "description": "Measured.", "criteria": {"narrative": "Any."}},
            ).json()
            number = 0

            def issue() -> None:
                nonlocal number
                number += 1
                body = {"achievement_id": achievement["id"], "recipient": {"email": f"r{number}@example.org"}}
                response = client.post("/v1/credentials", json=body, headers=auth)
                assert response.status_code == 201, response.text

            # the request runs in the portal's worker thread: learn its id from the first request
            @sa.event.listens_for(engine, "before_cursor_execute")
            def learn(conn, cursor, statement, *_rest: object) -> None:
                if not request_thread and "credential" in statement.lower() and "insert" in statement.lower():
                    request_thread.append(threading.get_ident())

            for _ in range(args.warmup):
                issue()
            sa.event.remove(engine, "before_cursor_execute", learn)
            settle(url)
            if args.statements:
                shown = []
                issue()
                settle(url)
                print("\n".join(shown))
                shown = None
            cpu, requests, others = [], [], []
            for _ in range(args.rounds):
                counts.update(request=0, other=0)
                started = time.process_time()
                for _ in range(args.count):
                    issue()
                settle(url)
                cpu.append((time.process_time() - started) / args.count)
                requests.append(counts["request"] / args.count)
                others.append(counts["other"] / args.count)
        backend = "SQLite" if args.sqlite else "PostgreSQL"
        print(f"# bench/issuance_cpu.py --count {args.count} --rounds {args.rounds} ({backend})")
        print(
            f"CPU ms per issuance (median of rounds): {statistics.median(cpu) * 1000:.2f}  rounds: "
            + " ".join(f"{c * 1000:.2f}" for c in cpu)
        )
        print(
            f"statements per issuance: request {statistics.median(requests):.2f}, jobs {statistics.median(others):.2f}"
        )
        app.state.engine.dispose()


if __name__ == "__main__":
    main()
