"""The queue's own housekeeping: jobs of dead workers are queued again; failed jobs are kept a
week for inspection, then deleted."""

from __future__ import annotations

import logging
from typing import Any

from procrastinate import Blueprint
from procrastinate.testing import InMemoryConnector

FAILED_JOBS_KEPT_HOURS = 7 * 24
STALLED_AFTER_SECONDS = 30.0
"""A worker that sent no heartbeat for this long (procrastinate beats every 10 s) is dead."""

log = logging.getLogger("skillcred.jobs")


async def retry_stalled(context: Any, timestamp: int) -> None:
    """Every 15 s: put back in the queue the jobs a dead worker was running (killed, its host
    lost). procrastinate records each worker's heartbeat but does not do this by itself. Every
    SkillCred job reads its work from its rows, so running it again resumes it. PostgreSQL only:
    an in-process queue dies with its process, and its recovery hooks run at the next start."""
    if isinstance(context.app.connector, InMemoryConnector):
        return
    manager = context.app.job_manager
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_SECONDS):
        log.warning("job %s (%s) was running on a dead worker: queued again", job.id, job.task_name)
        await manager.retry_job(job)


async def prune(context: Any, timestamp: int) -> None:
    """Delete finished jobs older than a week (succeeded jobs are deleted as they finish)."""
    await context.app.job_manager.delete_old_jobs(
        nb_hours=FAILED_JOBS_KEPT_HOURS, include_failed=True, include_cancelled=True, include_aborted=True
    )


def blueprint() -> Blueprint:
    """A fresh procrastinate Blueprint of this module's tasks (one per App: procrastinate
    renames a blueprint's tasks when an App takes them)."""
    tasks = Blueprint()
    tasks.periodic(cron="* * * * * */15", periodic_id="stalled")(
        tasks.task(name="retry_stalled", pass_context=True, queue="maintenance", lock="jobs-retry-stalled")(
            retry_stalled
        )
    )
    tasks.periodic(cron="23 * * * *", periodic_id="prune")(
        tasks.task(name="prune", pass_context=True, queue="maintenance")(prune)
    )
    return tasks
