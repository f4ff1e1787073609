"""The credentials' periodic job: expiry reminders, once a day, on one worker."""

from __future__ import annotations

import logging
from typing import Any

from procrastinate import Blueprint

from service.core.db import unit_of_work
from service.credentials.expiry import record_expiry_reminders
from service.jobs.context import services_of

log = logging.getLogger("skillcred.credentials")


def expiry_reminders(context: Any, timestamp: int) -> None:
    """Record the expiry reminders that are due (hourly; each credential is reminded once,
    whatever the schedule, since the reminder ledger claims it)."""
    services = services_of(context)
    with unit_of_work(services.engine) as session:
        reminded = record_expiry_reminders(session, services.settings, services.clock.now())
    if reminded:
        log.info("expiry reminders recorded: %d", len(reminded))


def blueprint() -> Blueprint:
    """A fresh procrastinate Blueprint of this module's tasks (one per App: procrastinate
    renames a blueprint's tasks when an App takes them)."""
    tasks = Blueprint()
    tasks.periodic(cron="17 * * * *", periodic_id="expiry")(
        tasks.task(
            name="expiry_reminders", pass_context=True, queue="maintenance", lock="credentials-expiry-reminders"
        )(expiry_reminders)
    )
    return tasks
