"""Concurrent issuance against a real server: N credentials from C clients, 2 worker processes.

    SKILLCRED_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/concurrent_issuance.py [--n 2000] [--clients 8] [--workers 2]

Starts ``skillcred serve --workers W`` on PostgreSQL (``--database-url`` or
``SKILLCRED_TEST_POSTGRES_URL``; the run gets a schema of its own, dropped afterwards), creates an
issuer and an achievement, then issues N credentials from C threads (httpx, one keep-alive client
each) and checks, in the database: N credentials, 2N status entries, 2N distinct (list, index)
pairs, each credential's two ``credentialStatus`` entries equal to its rows, each list's
``allocated`` counter equal to its entries, and no failed request. Prints the time taken.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
KEK = "YmVuY2gta2VrLTAxMjM0NTY3ODlhYmNkZWYwMTIzNDU"  # 32 bytes, benchmark only
ADMIN = ("bench@skillcred.example", "a-long-bench-password")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(database_url: str, port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    base = f"http://127.0.0.1:{port}"
    env = os.environ | {
        "SKILLCRED_ENV": "production",
        "SKILLCRED_DATABASE_URL": database_url,
        "SKILLCRED_PUBLIC_URL": base,
        "SKILLCRED_KEK": KEK,
        "SKILLCRED_BOOTSTRAP_ADMIN_EMAIL": ADMIN[0],
        "SKILLCRED_BOOTSTRAP_ADMIN_PASSWORD": ADMIN[1],
    }
    skillcred = Path(sys.executable).with_name("skillcred")
    command = [str(skillcred)] if skillcred.exists() else [sys.executable, "-m", "service.cli.main"]
    process = subprocess.Popen(
        [*command, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        cwd=log.parent,
    )
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.terminate()
            raise SystemExit("server did not start:\n" + log.read_text())
        time.sleep(0.3)


def issue_all(base: str, n: int, clients: int) -> tuple[list[dict], list[str], float]:
    with httpx.Client(base_url=base, timeout=60) as http:
        token = http.post("/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]}).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        issuer = http.post(
            "/v1/issuers", json={"name": "Bench Academy", "url": "https://bench.example"}, headers=auth
        ).json()
        achievement = http.post(
            f"/v1/issuers/{issuer['id']}/achievements",
            headers=auth,
            json={
                "name": "Concurrent issuing",
                "description": "Issued under load.",
                "criteria": {"narrative": "Part of a benchmark."},
            },
        ).json()
    errors: list[str] = []
    lock = threading.Lock()
    shares = [n // clients + (1 if i < n % clients else 0) for i in range(clients)]

    def client(share: int) -> list[dict]:
        issued = []
        with httpx.Client(base_url=base, timeout=60, headers=auth) as http:
            for i in range(share):
                response = http.post(
                    "/v1/credentials",
                    json={"achievement_id": achievement["id"], "recipient": {"email": f"earner{i}@example.org"}},
                )
                if response.status_code == 201:
                    body = response.json()
                    issued.append({"id": body["id"], "credentialStatus": body["credential"]["credentialStatus"]})
                else:
                    with lock:
                        errors.append(f"{response.status_code}: {response.text[:200]}")
        return issued

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        issued = [c for batch in pool.map(client, shares) for c in batch]
    return issued, errors, time.perf_counter() - start


def check(engine: sa.Engine, issued: list[dict], n: int) -> list[str]:
    problems = []
    with engine.connect() as connection:
        credentials = connection.execute(sa.text("SELECT count(*) FROM credential")).scalar_one()
        rows = connection.execute(sa.text("SELECT list_id, status_index, credential_id FROM statusentry")).all()
        lists = connection.execute(
            sa.text(
                "SELECT l.id, l.allocated, count(e.status_index) FROM statuslist l "
                "LEFT JOIN statusentry e ON e.list_id = l.id GROUP BY l.id, l.allocated"
            )
        ).all()
    pairs = {(r.list_id, r.status_index) for r in rows}
    claimed = {
        (e["statusListCredential"].rsplit("/", 1)[1], int(e["statusListIndex"]), c["id"])
        for c in issued
        for e in c["credentialStatus"]
    }
    if credentials != n:
        problems.append(f"{credentials} credentials, expected {n}")
    if len(rows) != 2 * n or len(pairs) != 2 * n:
        problems.append(f"{len(rows)} status entries, {len(pairs)} distinct; expected {2 * n}")
    if claimed != {(r.list_id, r.status_index, r.credential_id) for r in rows}:
        problems.append("the credentials' credentialStatus entries differ from the allocation rows")
    problems += [f"list {i}: allocated {a}, {c} entries" for i, a, c in lists if a != c]
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=os.environ.get("SKILLCRED_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    if not args.database_url or not args.database_url.startswith("postgresql"):
        raise SystemExit("give a PostgreSQL URL: --database-url or SKILLCRED_TEST_POSTGRES_URL")
    schema = f"skillcred_bench_{os.getpid()}"
    admin = sa.create_engine(args.database_url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = f"{args.database_url}{'&' if '?' in args.database_url else '?'}options=-csearch_path%3D{schema}"
    engine = sa.create_engine(url)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            port = free_port()
            server = start_server(url, port, args.workers, Path(tmp) / "server.log")
            try:
                issued, errors, seconds = issue_all(f"http://127.0.0.1:{port}", args.n, args.clients)
            finally:
                server.terminate()
                server.wait(timeout=30)
        problems = check(engine, issued, args.n)
        if errors:
            problems.append(f"{len(errors)} failed requests, e.g. {errors[0]}")
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
    print(f"# bench/concurrent_issuance.py --n {args.n} --clients {args.clients} --workers {args.workers} (PostgreSQL)")
    print(
        json.dumps(
            {
                "credentials": len(issued),
                "distinct_status_indexes": 2 * len(issued) if not problems else None,
                "errors": len(errors),
                "seconds": round(seconds, 1),
                "issued_per_second": round(len(issued) / seconds, 1),
            }
        )
    )
    if problems:
        raise SystemExit("FAILED: " + "; ".join(problems))
    print(f"OK: {args.n} credentials, {2 * args.n} distinct status indexes, no errors, in {seconds:.1f} s")


if __name__ == "__main__":
    main()
