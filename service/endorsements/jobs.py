"""The endorsements' periodic job: expire unconfirmed requests, delete spent challenges."""

from __future__ import annotations

import logging
from typing import Any

from procrastinate import Blueprint

from service.core.db import unit_of_work
from service.endorsements.cleanup import delete_spent_challenges, expire_requests
from service.jobs.context import services_of

log = logging.getLogger("skillcred.endorsements")


def cleanup(context: Any, timestamp: int) -> None:
    """Expire pending requests past their expiry and delete spent challenges (every 10 minutes)."""
    services = services_of(context)
    now = services.clock.now()
    with unit_of_work(services.engine) as session:
        expired = expire_requests(session, now)
        deleted = delete_spent_challenges(session, now)
    if expired or deleted:
        log.info("endorsement requests expired: %d, challenges deleted: %d", expired, deleted)


def blueprint() -> Blueprint:
    """A fresh procrastinate Blueprint of this module's tasks (one per App: procrastinate
    renames a blueprint's tasks when an App takes them)."""
    tasks = Blueprint()
    tasks.periodic(cron="*/10 * * * *", periodic_id="cleanup")(
        tasks.task(name="cleanup", pass_context=True, queue="maintenance")(cleanup)
    )
    return tasks
