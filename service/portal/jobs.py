"""The portal's periodic job: delete browser sessions that have ended (signed out sessions are
deleted at once; these are the ones left idle or past their absolute end)."""

from __future__ import annotations

import logging
from typing import Any

from procrastinate import Blueprint

from service.core.db import unit_of_work
from service.jobs.context import services_of
from service.portal.sessions import sweep_ended

log = logging.getLogger("skillcred.portal")


def sweep_sessions(context: Any, timestamp: int) -> None:
    """Delete the portal sessions past their idle or absolute end (hourly). An ended session is
    refused when used whether or not its row is still here: this only keeps the table small."""
    services = services_of(context)
    with unit_of_work(services.engine) as session:
        deleted = sweep_ended(session, now=services.clock.now())
    if deleted:
        log.info("ended portal sessions deleted: %d", deleted)


def blueprint() -> Blueprint:
    """A fresh procrastinate Blueprint of this module's tasks (one per App: procrastinate
    renames a blueprint's tasks when an App takes them)."""
    tasks = Blueprint()
    tasks.periodic(cron="41 * * * *", periodic_id="sweep_sessions")(
        tasks.task(name="sweep_sessions", pass_context=True, queue="maintenance")(sweep_sessions)
    )
    return tasks
