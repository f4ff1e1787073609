"""Asking for a job in the same transaction as the change that causes it.

On PostgreSQL the job row is inserted by procrastinate on the session's own connection, inside
the caller's transaction: a rolled-back change leaves no job, a committed one always has its job,
whatever crashes after the commit. On SQLite (the embedded default, one machine) the queue lives
in the process's in-process worker (:mod:`service.jobs.runner`): the job is handed to it when the
session commits, and dropped when it rolls back. A crash between the commit and the hand-over
loses the trigger but not the work: every job reads what to do from the domain's own rows, and
each domain's ``recover`` hook re-defers unfinished work when the in-process worker starts.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import procrastinate
from procrastinate import exceptions as procrastinate_errors
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

log = logging.getLogger("skillcred.jobs")

_PENDING = "skillcred.pending_jobs"
_LOCKS = "skillcred.queueing_locks"


@dataclass(frozen=True)
class JobRequest:
    """One job to run: task ``task_name`` with ``kwargs`` (JSON values).

    ``queueing_lock``: while a job with this lock waits in the queue, asking again adds nothing
    (bursts coalesce into one job). ``lock``: jobs with the same lock run one at a time, in
    order. ``delay_seconds``: not before this long from now."""

    task_name: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    queueing_lock: str | None = None
    lock: str | None = None
    delay_seconds: float | None = None
    queue: str = "default"

    def configure(self, app: procrastinate.App, **extra: Any) -> Any:
        """The procrastinate job deferrer for this request on ``app``."""
        options: dict[str, Any] = {"queue": self.queue, **extra}
        if self.queueing_lock is not None:
            options["queueing_lock"] = self.queueing_lock
        if self.lock is not None:
            options["lock"] = self.lock
        if self.delay_seconds:
            options["schedule_in"] = {"seconds": self.delay_seconds}
        return app.configure_task(self.task_name, allow_unknown=True, **options)


class LocalQueue(Protocol):
    """Where committed SQLite sessions hand their jobs: the process's in-process worker."""

    def submit(self, requests: list[JobRequest]) -> None: ...


_local_queues: weakref.WeakKeyDictionary[Engine, LocalQueue] = weakref.WeakKeyDictionary()
_local_lock = threading.Lock()

# Deferring on PostgreSQL needs only procrastinate's SQL, run on the caller's connection: this
# App is never opened and holds no task (the worker's App knows them; names are checked there).
_postgres_deferrer = procrastinate.App(connector=procrastinate.SyncPsycopgConnector())


def attach_local_queue(engine: Engine, queue: LocalQueue) -> None:
    """Hand the jobs of sessions committed on ``engine`` (not PostgreSQL) to ``queue``."""
    with _local_lock:
        _local_queues[engine] = queue


def detach_local_queue(engine: Engine, queue: LocalQueue) -> None:
    """Stop handing jobs to ``queue`` (the in-process worker stopped)."""
    with _local_lock:
        if _local_queues.get(engine) is queue:
            del _local_queues[engine]


def defer(session: Session, request: JobRequest) -> None:
    """Ask for the job ``request`` describes, as part of ``session``'s transaction.

    A request whose ``queueing_lock`` is already waiting in the queue adds nothing (the waiting
    job will do the work). Raises nothing else of procrastinate's.

    A waiting job may start before the caller commits and so miss its change: a coalesced job
    must read its work when it runs, and a periodic job must pick up what it missed (as the
    status lists' stale read and the webhooks' sweep do)."""
    if request.queueing_lock is not None:
        asked = session.info.setdefault(_LOCKS, set())
        if request.queueing_lock in asked:
            return  # this transaction already asked for it: one job does the work
        asked.add(request.queueing_lock)
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        _defer_on_connection(session, request)
    else:
        session.connection()  # begin the transaction, so its rollback (which drops the job) is seen
        session.info.setdefault(_PENDING, []).append(request)


_WAITING = text("SELECT 1 FROM procrastinate_jobs WHERE queueing_lock = :lock AND status = 'todo' LIMIT 1")


def _defer_on_connection(session: Session, request: JobRequest) -> None:
    if request.queueing_lock is not None and session.execute(_WAITING, {"lock": request.queueing_lock}).first():
        return  # one waits already (the common case in a burst): one read, no failed insert
    # a duplicate queueing lock is a unique violation (another transaction deferred it since):
    # a savepoint keeps it from aborting the caller's transaction
    savepoint = session.begin_nested()
    try:
        driver_connection = session.connection().connection.driver_connection
        request.configure(_postgres_deferrer, connection=driver_connection).defer(**request.kwargs)
    except procrastinate_errors.AlreadyEnqueued:
        savepoint.rollback()
        return
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()


@event.listens_for(Session, "after_commit")
def _hand_over_after_commit(session: Session) -> None:
    session.info.pop(_LOCKS, None)
    requests = session.info.pop(_PENDING, None)
    if not requests:
        return
    bind = session.get_bind()
    engine = bind.engine if not isinstance(bind, Engine) else bind
    with _local_lock:
        queue = _local_queues.get(engine)
    if queue is None:
        # no worker in this process (a CLI command, say): the domain rows keep the work, and the
        # next in-process worker's recovery picks it up
        log.info("no in-process worker: %d job(s) left for recovery", len(requests))
        return
    queue.submit(requests)


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session: Session, previous_transaction: Any) -> None:
    # every rollback of the session's transaction, whether or not it had reached the database;
    # a savepoint's rollback leaves the outer transaction's jobs alone
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)
        session.info.pop(_LOCKS, None)


def submit_on_loop(app: procrastinate.App, loop: asyncio.AbstractEventLoop, requests: list[JobRequest]) -> None:
    """Defer ``requests`` on ``app`` (an in-memory queue run by ``loop``), from any thread."""

    async def _defer_all() -> None:
        for request in requests:
            try:
                await request.configure(app).defer_async(**request.kwargs)
            except procrastinate_errors.AlreadyEnqueued:
                pass

    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        loop.create_task(_defer_all())
        return
    asyncio.run_coroutine_threadsafe(_defer_all(), loop).result(timeout=10)
