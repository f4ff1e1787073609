"""Bulk issuance throughput on PostgreSQL with real `skillcred worker` processes.

    .venv/bin/python bench/bulk.py [--rows 100000] [--workers 2] [--concurrency 4] [--database-url URL]

Creates a fresh schema in the database (default $SKILLCRED_BENCH_POSTGRES_URL, else
postgresql+psycopg://postgres@127.0.0.1:5432/test), an issuer and an achievement, submits ``--rows``
rows as one bulk file (``skillcred bulk-issue``'s code path, without waiting), then starts
``--workers`` worker processes and waits for the job to finish. Prints credentials per second
(from the workers' start to the job's ``finished_at``), each worker's peak resident memory
(``VmHWM`` from /proc), the CPU time per credential of the workers and of their PostgreSQL
backends (from /proc: steadier than the rate on a shared machine), the machine's core count and
the command line. The schema is dropped at
the end. The machine may be shared: compare runs made side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

KEK = "YmVuY2gta2VrLTAxMjM0NTY3ODlhYmNkZWYwMTIzNDU"  # 32 bytes, benchmarks only
ADMIN = ("bench-admin@skillcred.example", "a-long-bench-admin-password")
APPLICATION = "skillcred_bench_bulk"
"""The workers' PostgreSQL ``application_name``: their backends' CPU time is read from /proc."""


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident set size (``VmHWM``), MiB; None when unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """The process's user and system CPU time so far, seconds; None when unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _schema_url(base: str, schema: str) -> str:
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}"


def _setup(url: str, folder: Path) -> str:
    """An issuer and an achievement through the API (in process); the achievement's id."""
    from fastapi.testclient import TestClient

    from service.api.app import create_app
    from service.cli.bootstrap import ensure_admin
    from service.core.config import Settings

    settings = Settings(
        env="test",
        database_url=url,
        kek=KEK,
        public_url="https://bench.skillcred.example",
        bootstrap_admin_email=ADMIN[0],
        bootstrap_admin_password=ADMIN[1],
        blob_dir=folder / "blobs",
        jobs_in_process=False,
        rate_limits=False,
    )
    app = create_app(settings)
    ensure_admin(app.state.engine, settings)
    with TestClient(app) as client:
        token = client.post("/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        issuer = client.post("/v1/issuers", json={"name": "Bench", "url": "https://bench.example"}, headers=headers)
        achievement = client.post(
            f"/v1/issuers/{issuer.json()['id']}/achievements",
            json={"name": "Bench skill", "description": "Benchmarked.", "criteria": {"narrative": "Any."}},
            headers=headers,
        )
        achievement_id: str = achievement.json()["id"]
    app.state.engine.dispose()
    return achievement_id


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=4, help="jobs at once per worker")
    parser.add_argument("--json", type=Path, help="also write the figures to this file (bench/run_all.py)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("SKILLCRED_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    )
    args = parser.parse_args()

    from service.bulk.commands import bulk_issue_command
    from service.core.config import Settings
    from service.core.migrations import upgrade

    schema = f"bench_bulk_{os.getpid()}"
    admin = sa.create_engine(args.database_url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = _schema_url(args.database_url, schema)
    workers: list[subprocess.Popen[bytes]] = []
    try:
        upgrade(url)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            achievement_id = _setup(url, folder)
            rows = folder / "rows.csv"
            with rows.open("w", encoding="utf-8") as out:
                out.write("recipient_email,external_id\n")
                for i in range(args.rows):
                    out.write(f"bench{i}@example.com,b-{i}\n")
            settings = Settings(
                env="test", database_url=url, kek=KEK, public_url="https://bench.skillcred.example", blob_dir=folder
            )
            submitted = time.perf_counter()
            outcome = bulk_issue_command(settings, rows, achievement_id=achievement_id, wait=False)
            print(f"submitted {outcome.total} rows in {time.perf_counter() - submitted:.1f} s (job {outcome.job_id})")

            env = os.environ | {
                "SKILLCRED_ENV": "production",
                "SKILLCRED_DATABASE_URL": f"{url}&application_name={APPLICATION}",
                "SKILLCRED_PUBLIC_URL": "https://bench.skillcred.example",
                "SKILLCRED_KEK": KEK,
                "SKILLCRED_BLOB_DIR": str(folder / "blobs"),
            }
            started = time.perf_counter()
            for number in range(args.workers):
                log = (folder / f"worker-{number}.log").open("w")
                workers.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "service.cli.main", "worker", "--concurrency", str(args.concurrency)],
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        cwd=folder,
                    )
                )
            engine = sa.create_engine(url)
            peaks: dict[int, float] = {}
            worker_cpu: dict[int, float] = {}
            backend_cpu: dict[int, float] = {}
            while True:
                with engine.connect() as connection:
                    backends = connection.execute(
                        sa.text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
                        {"name": APPLICATION},
                    ).scalars()
                    for pid in backends:  # the database runs on this machine (the default URL)
                        used = cpu_seconds(pid)
                        if used is not None:
                            backend_cpu[pid] = max(backend_cpu.get(pid, 0.0), used)
                    state, issued = connection.execute(
                        sa.text(
                            "SELECT j.state, (SELECT count(*) FROM bulkrow r"
                            " WHERE r.job_id = j.id AND r.state <> 'pending') FROM bulkjob j WHERE j.id = :job"
                        ),
                        {"job": outcome.job_id},
                    ).one()
                for worker in workers:
                    peak = peak_rss_mb(worker.pid)
                    if peak is not None:
                        peaks[worker.pid] = max(peaks.get(worker.pid, 0.0), peak)
                    used = cpu_seconds(worker.pid)
                    if used is not None:
                        worker_cpu[worker.pid] = used
                    if worker.poll() is not None:
                        raise SystemExit(f"a worker stopped: exit {worker.returncode}")
                if state in ("succeeded", "failed"):
                    break
                print(f"\r{issued}/{args.rows} rows", end="", flush=True)
                time.sleep(1)
            elapsed = time.perf_counter() - started
            with engine.connect() as connection:
                credentials = int(connection.execute(sa.text("SELECT count(*) FROM credential")).scalar_one())
                failures = connection.execute(
                    sa.text("SELECT line, error FROM bulkrow WHERE job_id = :job AND state = 'failed' LIMIT 5"),
                    {"job": outcome.job_id},
                ).all()
            engine.dispose()
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
    print()
    for line, error in failures:
        print(f"failed row {line}: {error}")
    print(f"job: {state}, {credentials} credentials in {elapsed:.1f} s: {credentials / elapsed:.1f} credentials/s")
    for number, worker in enumerate(workers):
        print(f"worker {number}: peak RSS {peaks.get(worker.pid, float('nan')):.0f} MiB")
    per_credential = 1000 / max(credentials, 1)
    print(
        f"CPU per credential: workers {sum(worker_cpu.values()) * per_credential:.2f} ms (start-up included),"
        f" their PostgreSQL backends {sum(backend_cpu.values()) * per_credential:.2f} ms"
    )
    print(f"cores: {os.cpu_count()}")
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    if args.json is not None:
        figures = {
            "state": state,
            "rows": args.rows,
            "workers": args.workers,
            "credentials": credentials,
            "seconds": elapsed,
            "credentials_per_s": credentials / elapsed,
            "peak_rss_mib": [peaks.get(worker.pid) for worker in workers],
            "worker_cpu_ms_per_credential": sum(worker_cpu.values()) * per_credential,
            "backend_cpu_ms_per_credential": sum(backend_cpu.values()) * per_credential,
        }
        args.json.write_text(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
