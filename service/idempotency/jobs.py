"""The idempotency keys' periodic job: delete the records past their expiry."""

from __future__ import annotations

import logging
from typing import Any

from procrastinate import Blueprint

from service.core.db import unit_of_work
from service.idempotency.service import delete_expired
from service.jobs.context import services_of

log = logging.getLogger("skillcred.idempotency")


def cleanup(context: Any, timestamp: int) -> None:
    """Delete the ``Idempotency-Key`` records (and the answers they keep) past their expiry (hourly)."""
    services = services_of(context)
    with unit_of_work(services.engine) as session:
        deleted = delete_expired(session, services.clock.now())
    if deleted:
        log.info("expired idempotency records deleted: %d", deleted)


def blueprint() -> Blueprint:
    """A fresh procrastinate Blueprint of this module's tasks (one per App: procrastinate
    renames a blueprint's tasks when an App takes them)."""
    tasks = Blueprint()
    tasks.periodic(cron="37 * * * *", periodic_id="cleanup")(
        tasks.task(name="cleanup", pass_context=True, queue="maintenance")(cleanup)
    )
    return tasks
