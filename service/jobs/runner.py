"""The job worker: procrastinate's, in its own process (``skillcred worker``) or inside
``skillcred serve`` (:class:`InProcessWorker`).

On PostgreSQL the queue is procrastinate's tables in the service's database: any number of
workers on any number of hosts share it (``FOR UPDATE SKIP LOCKED``), LISTEN/NOTIFY wakes them,
a periodic job is deferred once per period however many workers run, and ``procrastinate``'s
own shell (``skillcred jobs``) shows what is queued, running and failed. On SQLite the queue is
procrastinate's in-memory one, run by the serving process itself: the same task functions, the
same retries and periodic schedule; what must survive a restart lives in the domain rows, and
each domain's recovery hook re-defers unfinished work when the worker starts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Any

import procrastinate
from procrastinate.testing import InMemoryConnector
from sqlalchemy.engine import make_url

from service.jobs.context import SERVICES_KEY, JobServices
from service.jobs.defer import JobRequest, attach_local_queue, detach_local_queue, submit_on_loop

log = logging.getLogger("skillcred.jobs")

AppFactory = Callable[[Any], procrastinate.App]
"""Builds the procrastinate App (every domain's tasks) on a connector (:mod:`service.worker`)."""

Recovery = Callable[[JobServices], Sequence[JobRequest]]
"""A domain's hook: the jobs its unfinished rows still need (run when an in-process worker
starts on SQLite, whose queue does not survive a restart)."""

SHUTDOWN_GRACE_SECONDS = 20.0
"""How long a stopping worker lets running jobs finish before cancelling them (each job
resumes from its rows when it runs again)."""


def is_postgres(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "postgresql"


def postgres_conninfo(database_url: str, application_name: str = "skillcred-worker") -> str:
    """The libpq URI of a SQLAlchemy PostgreSQL URL (driver name dropped, options kept)."""
    url = make_url(database_url).set(drivername="postgresql")
    if "application_name" not in url.query:
        url = url.update_query_dict({"application_name": application_name})
    return url.render_as_string(hide_password=False)


def connector_for(database_url: str, *, pool_size: int = 4) -> Any:
    """procrastinate's connector for the service's database: PostgreSQL's tables, or the
    in-memory queue of this process on SQLite."""
    if is_postgres(database_url):
        return procrastinate.PsycopgConnector(
            conninfo=postgres_conninfo(database_url), min_size=1, max_size=max(2, pool_size)
        )
    return InMemoryConnector()


def worker_options(services: JobServices, concurrency: int, *, name: str, in_process: bool) -> dict[str, Any]:
    """procrastinate worker options shared by both kinds of worker."""
    return {
        "concurrency": concurrency,
        "name": name,
        "additional_context": {SERVICES_KEY: services},
        "install_signal_handlers": not in_process,
        "delete_jobs": "successful",  # failed jobs stay for inspection (cleaned up after a week)
        "shutdown_graceful_timeout": SHUTDOWN_GRACE_SECONDS,
        "fetch_job_polling_interval": 2.0,
    }


class _LoopQueue:
    """Hands committed SQLite sessions' jobs to the in-memory queue of the worker's loop."""

    def __init__(self, app: procrastinate.App, loop: asyncio.AbstractEventLoop) -> None:
        self._app, self._loop = app, loop

    def submit(self, requests: list[JobRequest]) -> None:
        submit_on_loop(self._app, self._loop, requests)


class InProcessWorker:
    """A procrastinate worker on the running event loop of a ``serve`` process.

    ``start()`` in the app's lifespan, ``stop()`` at its end. Sync tasks run in threads, so the
    loop keeps serving requests while jobs run."""

    def __init__(
        self,
        build_app: AppFactory,
        services: JobServices,
        *,
        concurrency: int,
        recoveries: Sequence[Recovery] = (),
    ) -> None:
        self._build_app = build_app
        self._services = services
        self._concurrency = concurrency
        self._recoveries = recoveries
        self._app: procrastinate.App | None = None
        self._task: asyncio.Task[None] | None = None
        self._queue: _LoopQueue | None = None

    @property
    def app(self) -> procrastinate.App:
        """The procrastinate App this worker runs (tests use it to inspect the queue)."""
        if self._app is None:
            raise RuntimeError("the in-process worker is not started")
        return self._app

    async def start(self) -> None:
        settings = self._services.settings
        connector = connector_for(settings.database_url, pool_size=2)  # queue queries only
        app = self._build_app(connector)
        await app.open_async()
        self._app = app
        loop = asyncio.get_running_loop()
        if not is_postgres(settings.database_url):
            self._queue = _LoopQueue(app, loop)
            attach_local_queue(self._services.engine, self._queue)
            await self._recover(app)
        options = worker_options(self._services, self._concurrency, name="in-process", in_process=True)
        self._task = loop.create_task(app.run_worker_async(**options), name="skillcred-worker")

    async def _recover(self, app: procrastinate.App) -> None:
        for recovery in self._recoveries:
            try:
                requests = await asyncio.to_thread(recovery, self._services)
            except Exception:
                log.exception("job recovery %s failed", getattr(recovery, "__qualname__", recovery))
                continue
            if requests:
                log.info("re-deferring %d unfinished job(s)", len(requests))
                submit_on_loop(app, asyncio.get_running_loop(), list(requests))

    async def stop(self) -> None:
        if self._queue is not None:
            detach_local_queue(self._services.engine, self._queue)
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        if self._app is not None:
            await self._app.close_async()


async def run_worker(build_app: AppFactory, services: JobServices, *, concurrency: int, name: str) -> None:
    """Run a worker in this process until SIGINT/SIGTERM (``skillcred worker``): PostgreSQL only,
    since on SQLite the queue lives inside the serving process."""
    settings = services.settings
    if not is_postgres(settings.database_url):
        raise RuntimeError(
            "a separate worker needs PostgreSQL: on SQLite, jobs run inside `skillcred serve` "
            "(SKILLCRED_JOBS_IN_PROCESS=true, the default)"
        )
    app = build_app(connector_for(settings.database_url, pool_size=concurrency + 2))
    async with app.open_async():
        await app.run_worker_async(**worker_options(services, concurrency, name=name, in_process=False))
