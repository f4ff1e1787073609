"""The queue's own housekeeping: failed jobs are kept a week for inspection, then deleted."""

from __future__ import annotations

from typing import Any

from procrastinate import Blueprint

FAILED_JOBS_KEPT_HOURS = 7 * 24


async def prune(context: Any, timestamp: int) -> None:
    """Delete finished jobs older than a week (succeeded jobs are deleted as they finish)."""
    await context.app.job_manager.delete_old_jobs(
        nb_hours=FAILED_JOBS_KEPT_HOURS, include_failed=True, include_cancelled=True, include_aborted=True
    )


def blueprint() -> Blueprint:
    """A fresh procrastinate Blueprint of this module's tasks (one per App: procrastinate
    renames a blueprint's tasks when an App takes them)."""
    tasks = Blueprint()
    tasks.periodic(cron="23 * * * *", periodic_id="prune")(
        tasks.task(name="prune", pass_context=True, queue="maintenance")(prune)
    )
    return tasks
