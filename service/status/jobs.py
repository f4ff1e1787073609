"""The status lists' jobs: publish a change within seconds, refresh every list before it expires.

- ``status:resign_list`` runs a second after a revocation, suspension or reinstatement commits
  (:func:`publish_change`, deferred in that transaction). Its queueing lock coalesces a burst:
  while one job for the list waits, further changes add none, and the one that runs signs them
  all at once.
- ``status:resign_due_lists`` runs every 30 seconds on whichever worker takes it (procrastinate
  defers a periodic job once per period however many workers run; its lock keeps two rounds
  from overlapping) and re-signs every list whose signature is older than the interval.
"""

from __future__ import annotations

import logging
from typing import Any

from procrastinate import Blueprint, RetryStrategy
from sqlmodel import Session

from service.core.db import unit_of_work
from service.jobs.context import services_of
from service.jobs.defer import JobRequest, defer
from service.status import publish

log = logging.getLogger("skillcred.status")


NAMESPACE = "status"
COALESCE_SECONDS = 1.0
"""How long a changed list waits for more changes before it is signed (a burst of revocations
is published with one signature)."""


def publish_change(session: Session, list_id: str) -> None:
    """Ask, in ``session``'s transaction, for list ``list_id`` to be re-signed soon."""
    defer(
        session,
        JobRequest(
            f"{NAMESPACE}:resign_list",
            {"list_id": list_id},
            queueing_lock=f"status-list:{list_id}",
            delay_seconds=COALESCE_SECONDS,
            queue="status",
        ),
    )


def resign_list(context: Any, list_id: str) -> None:
    """Sign list ``list_id`` if it changed since its stored signature (or is due)."""
    services = services_of(context)
    with unit_of_work(services.engine) as session:
        publish.resign(
            session,
            services.keystore,
            services.settings,
            list_id,
            now=services.clock.now(),
            when=publish.is_dirty_or_due,
        )


def resign_due_lists(context: Any, timestamp: int) -> None:
    """Re-sign every list whose signature is older than the interval (one round)."""
    services = services_of(context)
    if not services.settings.status_list_background_resign:
        return
    done, failed = publish.resign_due_lists(services.engine, services.keystore, services.settings)
    if done or failed:
        log.info("status lists re-signed: %d, failed: %d", done, failed)


def blueprint() -> Blueprint:
    """A fresh procrastinate Blueprint of this module's tasks (one per App: procrastinate
    renames a blueprint's tasks when an App takes them)."""
    tasks = Blueprint()
    tasks.task(name="resign_list", pass_context=True, queue="status", retry=RetryStrategy(max_attempts=8, wait=1))(
        resign_list
    )
    tasks.periodic(cron="* * * * * */30", periodic_id="resign")(
        tasks.task(name="resign_due_lists", pass_context=True, queue="status", lock="status-resign-round")(
            resign_due_lists
        )
    )
    return tasks
