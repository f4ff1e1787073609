"""Workers share one queue in PostgreSQL: a periodic job is deferred once per period however many
workers run, and each job runs on exactly one of them (procrastinate's tables, as the migration
creates them in the service's schema)."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

import procrastinate
import pytest

from service.jobs.runner import connector_for
from tests.conftest import POSTGRES_URL
from tests.event_loops import run_in_new_loop

if not POSTGRES_URL:
    pytest.skip("the shared queue is PostgreSQL's: set SKILLCRED_TEST_POSTGRES_URL", allow_module_level=True)

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)


def _app(database_url: str, ticks: Counter[int], lock: threading.Lock) -> procrastinate.App:
    app = procrastinate.App(connector=connector_for(database_url, pool_size=2))

    @app.periodic(cron="* * * * * *", periodic_id="tick")  # every second
    @app.task(name="tick", pass_context=False)
    def tick(timestamp: int) -> None:
        with lock:
            ticks[timestamp] += 1

    @app.task(name="work")
    def work(n: int) -> None:
        with lock:
            ticks[-n] += 1  # negative keys: the one-off jobs

    return app


def test_two_workers_run_each_periodic_tick_and_each_job_once(database_url):
    ticks: Counter[int] = Counter()
    lock = threading.Lock()
    apps = [_app(database_url, ticks, lock) for _ in range(2)]

    async def run() -> None:
        for app in apps:
            await app.open_async()
        try:
            await apps[0].configure_task("work").batch_defer_async(*({"n": n} for n in range(1, 41)))
            workers = [
                asyncio.create_task(
                    app.run_worker_async(concurrency=2, install_signal_handlers=False, name=f"w{i}", wait=True)
                )
                for i, app in enumerate(apps)
            ]
            await asyncio.sleep(4.5)
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        finally:
            for app in apps:
                await app.close_async()

    run_in_new_loop(run)

    periodic = {stamp: count for stamp, count in ticks.items() if stamp > 0}
    one_off = {-stamp: count for stamp, count in ticks.items() if stamp < 0}
    assert len(periodic) >= 3, periodic  # about one tick a second
    assert set(periodic.values()) == {1}, periodic  # never twice for one second
    assert one_off == {n: 1 for n in range(1, 41)}
