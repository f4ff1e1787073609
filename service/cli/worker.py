"""``skillcred worker`` (run jobs) and ``skillcred jobs`` (what is queued, running, failed).

Contract (scripts rely on it):

- ``skillcred worker [--concurrency N] [--name NAME]`` runs jobs until SIGINT/SIGTERM, on
  PostgreSQL (exit 2 on SQLite, whose jobs run inside ``skillcred serve``). Run as many as you
  like, on any number of hosts: they share the queue in the database.
- ``skillcred jobs [--status todo|doing|succeeded|failed|cancelled|aborted] [--json]`` prints the
  number of jobs per task and status (PostgreSQL; exit 2 on SQLite).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import socket
import sys
from typing import Any

STATUSES = ("todo", "doing", "succeeded", "failed", "cancelled", "aborted")


def add_parsers(commands: Any) -> None:
    """Register ``worker`` and ``jobs`` on the ``skillcred`` sub-command parser."""
    p = commands.add_parser("worker", help="run background jobs (PostgreSQL; several may run on several hosts)")
    p.add_argument("--concurrency", type=int, default=None, help="jobs at once (default SKILLCRED_WORKER_CONCURRENCY)")
    p.add_argument("--name", default=None, help="the worker's name in logs and the jobs table (default host-pid)")
    p.set_defaults(func=cmd_worker)
    p = commands.add_parser("jobs", help="count the queue's jobs per task and status (PostgreSQL)")
    p.add_argument("--status", choices=STATUSES, default=None)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_jobs)


def cmd_worker(args: argparse.Namespace) -> int:
    import os

    from service.core.clock import SystemClock
    from service.core.config import get_settings
    from service.core.db import DatabaseLimits, make_engine
    from service.core.keystore import Keystore, load_kek
    from service.core.mail import mailer_from_settings
    from service.jobs.context import JobServices
    from service.jobs.runner import is_postgres, run_worker
    from service.worker import build_job_app

    settings = get_settings()
    if not is_postgres(settings.database_url):
        print(
            "skillcred: a separate worker needs PostgreSQL; on SQLite jobs run inside `skillcred serve`",
            file=sys.stderr,
        )
        return 2
    concurrency = args.concurrency or settings.worker_concurrency
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    engine = make_engine(settings.database_url, DatabaseLimits.for_workers(concurrency, 0))
    services = JobServices(
        engine, Keystore(load_kek(settings)), settings, mailer_from_settings(settings), SystemClock()
    )
    name = args.name or f"{socket.gethostname()}-{os.getpid()}"
    try:
        asyncio.run(run_worker(build_job_app, services, concurrency=concurrency, name=name))
    except KeyboardInterrupt:
        pass
    finally:
        engine.dispose()
    return 0


def cmd_jobs(args: argparse.Namespace) -> int:
    from service.core.config import get_settings
    from service.jobs.runner import connector_for, is_postgres
    from service.worker import build_job_app

    settings = get_settings()
    if not is_postgres(settings.database_url):
        print("skillcred: on SQLite the queue lives inside the `skillcred serve` process", file=sys.stderr)
        return 2

    async def count() -> list[dict[str, Any]]:
        app = build_job_app(connector_for(settings.database_url, pool_size=1))
        async with app.open_async():
            rows = await app.job_manager.list_tasks_async(status=args.status)
            return [dict(row) for row in rows]

    rows = asyncio.run(count())
    if args.json:
        print(json.dumps(rows, default=str))
        return 0
    for row in rows:
        counts = ", ".join(f"{status} {row.get(status, 0)}" for status in STATUSES if row.get(status))
        print(f"{row['name']}: {counts or 'none'}")
    return 0
