"""The bulk issuance jobs.

- ``bulk:run_chunk(job_id, chunk)`` issues one chunk's pending rows (:mod:`service.bulk.issuing`);
  deferred when the file is accepted, one per chunk, so several workers share a file. Re-running
  it is safe: it skips issued rows.
- ``bulk:retry_stalled`` (every 15 seconds, PostgreSQL) puts back in the queue a chunk whose
  worker died (no heartbeat for 30 s): the chunk resumes at its first pending row.
- :func:`recover` re-defers the chunks of unfinished jobs when an in-process worker starts (SQLite).
"""

from __future__ import annotations

import logging
from typing import Any

from procrastinate import Blueprint, RetryStrategy
from sqlmodel import col, select

from service.bulk.issuing import run_chunk as issue_chunk
from service.bulk.models import BulkJob, BulkJobState, BulkRow, BulkRowState
from service.bulk.service import task_request
from service.core.db import unit_of_work
from service.jobs.context import JobServices, services_of
from service.jobs.defer import JobRequest
from service.jobs.runner import is_postgres

log = logging.getLogger("skillcred.bulk")

NAMESPACE = "bulk"
STALLED_AFTER_SECONDS = 30.0


def run_chunk(context: Any, job_id: str, chunk: int) -> None:
    """Issue the pending rows of chunk ``chunk`` of bulk job ``job_id``."""
    services = services_of(context)
    handled = issue_chunk(services.engine, services.keystore, services.settings, services.clock.now, job_id, chunk)
    log.info("bulk job %s chunk %d: %d row(s) handled", job_id, chunk, handled)


async def retry_stalled(context: Any, timestamp: int) -> None:
    """Queue again the chunks whose worker stopped sending heartbeats (killed mid-chunk)."""
    if not is_postgres(services_of(context).settings.database_url):
        return  # the in-process queue dies with its process; recover() re-defers at start-up
    manager = context.app.job_manager
    stalled = await manager.get_stalled_jobs(
        task_name=f"{NAMESPACE}:run_chunk", seconds_since_heartbeat=STALLED_AFTER_SECONDS
    )
    for job in stalled:
        log.warning("bulk chunk job %s stalled (its worker died): queued again", job.id)
        await manager.retry_job(job)


def recover(services: JobServices) -> list[JobRequest]:
    """The chunk jobs unfinished bulk jobs still need (SQLite, whose queue a restart empties)."""
    requests: list[JobRequest] = []
    with unit_of_work(services.engine) as session:
        jobs = session.exec(
            select(BulkJob.id, BulkJob.chunk_size).where(
                col(BulkJob.state).in_((BulkJobState.queued, BulkJobState.running))
            )
        ).all()
        for job_id, chunk_size in jobs:
            chunk = col(BulkRow.seq) // chunk_size
            chunks = session.exec(
                select(chunk).where(BulkRow.job_id == job_id, BulkRow.state == BulkRowState.pending).distinct()
            ).all()
            # no pending row left: one chunk run finishes the job
            requests.extend(task_request(job_id, int(c)) for c in (chunks or [0]))
    return requests


def blueprint() -> Blueprint:
    """A fresh procrastinate Blueprint of this module's tasks (one per App: procrastinate
    renames a blueprint's tasks when an App takes them)."""
    tasks = Blueprint()
    tasks.task(name="run_chunk", pass_context=True, queue="bulk", retry=RetryStrategy(max_attempts=10, wait=2))(
        run_chunk
    )
    tasks.periodic(cron="* * * * * */15", periodic_id="bulk-stalled")(
        tasks.task(name="retry_stalled", pass_context=True, queue="bulk", lock="bulk-retry-stalled")(retry_stalled)
    )
    return tasks
