"""The evidence domain's periodic job: expire abandoned bundles, then sweep unreferenced bytes."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from procrastinate import Blueprint

from service.core.db import unit_of_work
from service.evidence.service import expire_bundle, get_blob_store, sweep_unreferenced_blobs, unsubmitted_bundles
from service.jobs.context import services_of

log = logging.getLogger("skillcred.evidence")


SWEEP_GRACE_SECONDS = 3600.0
"""Stored bytes younger than this are spared by the sweep (an upload may still be on its way)."""


def sweep(context: Any, timestamp: int) -> None:
    """Daily: delete bundles never submitted and untouched for
    ``evidence_unsubmitted_bundle_days`` (0: never), each in its own transaction, then the
    stored bytes no item refers to any more."""
    services = services_of(context)
    days = services.settings.evidence_unsubmitted_bundle_days
    expired = 0
    if days > 0:
        untouched_since = services.clock.now() - timedelta(days=days)
        with unit_of_work(services.engine) as session:
            candidates = unsubmitted_bundles(session, untouched_since=untouched_since)
        for bundle_id in candidates:
            with unit_of_work(services.engine) as session:
                expired += bool(expire_bundle(session, bundle_id, untouched_since=untouched_since))
    with unit_of_work(services.engine) as session:
        removed = sweep_unreferenced_blobs(
            session, get_blob_store(services.settings), grace_seconds=SWEEP_GRACE_SECONDS
        )
    if expired or removed:
        log.info("evidence bundles expired: %d, blobs removed: %d", expired, len(removed))


def blueprint() -> Blueprint:
    """A fresh procrastinate Blueprint of this module's tasks (one per App: procrastinate
    renames a blueprint's tasks when an App takes them)."""
    tasks = Blueprint()
    tasks.periodic(cron="41 3 * * *", periodic_id="sweep")(
        tasks.task(name="sweep", pass_context=True, queue="maintenance", lock="evidence-sweep")(sweep)
    )
    return tasks
