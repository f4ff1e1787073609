"""The bulk issuance jobs.

- ``bulk:run_chunk(job_id, chunk)`` issues one chunk's pending rows (:mod:`service.bulk.issuing`);
  deferred when the file is accepted, one per chunk, so several workers share a file. Re-running
  it is safe: it skips issued rows.
- a chunk whose worker died is put back in the queue by ``jobs:retry_stalled``
  (:mod:`service.jobs.housekeeping`): it resumes at its first pending row.
- :func:`recover` re-defers the chunks of unfinished jobs when an in-process worker starts (SQLite).
"""

from __future__ import annotations

import logging
from typing import Any

from procrastinate import Blueprint, RetryStrategy
from sqlmodel import col, select

from service.bulk.issuing import run_chunk as issue_chunk
from service.bulk.models import BulkJob, BulkJobState, BulkRow, BulkRowState
from service.bulk.service import fail_pending_rows, finish_if_done, task_request
from service.core.db import unit_of_work
from service.jobs.context import JobServices, services_of
from service.jobs.defer import JobRequest

log = logging.getLogger("skillcred.bulk")

NAMESPACE = "bulk"


RETRY = RetryStrategy(max_attempts=10, wait=2)


def run_chunk(context: Any, job_id: str, chunk: int) -> None:
    """Issue the pending rows of chunk ``chunk`` of bulk job ``job_id``. When the service keeps
    failing (its last retry), the chunk's pending rows are marked failed with the reason, so the
    job ends (``failed`` rows can be sent again: external ids keep them from issuing twice)."""
    services = services_of(context)
    try:
        handled = issue_chunk(services.engine, services.keystore, services.settings, services.clock.now, job_id, chunk)
    except Exception as error:
        attempts = getattr(getattr(context, "job", None), "attempts", 0) or 0
        if RETRY.max_attempts is not None and attempts < RETRY.max_attempts:
            log.warning("bulk job %s chunk %d: attempt %d failed (%s); retrying", job_id, chunk, attempts + 1, error)
            raise
        log.exception("bulk job %s chunk %d: giving up after %d attempts", job_id, chunk, attempts + 1)
        reason = f"The service could not issue this row ({type(error).__name__}); send it again"
        with unit_of_work(services.engine) as session:
            fail_pending_rows(session, job_id, chunk, reason)
            finish_if_done(session, job_id, now=services.clock.now())
        return
    log.info("bulk job %s chunk %d: %d row(s) handled", job_id, chunk, handled)


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
    tasks.task(name="run_chunk", pass_context=True, queue="bulk", retry=RETRY)(run_chunk)
    return tasks
