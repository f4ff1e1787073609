"""The evidence domain's jobs: ``evidence:fetch_item(item_id)`` fetches a URL or clones a
repository an earner added (:mod:`service.evidence.fetching`), off the request thread; the daily
``evidence:sweep`` expires abandoned bundles, then sweeps unreferenced bytes. On SQLite, where the
queue lives in the serving process, :func:`recover` re-defers the items a restart left
``fetching``."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from procrastinate import Blueprint, RetryStrategy
from sqlmodel import Session

from service.core.config import Settings
from service.core.db import unit_of_work
from service.core.errors import ServiceError
from service.evidence import fetching
from service.evidence.intake import EvidenceFetchers, EvidenceLimits, is_retryable
from service.evidence.service import expire_bundle, get_blob_store, sweep_unreferenced_blobs, unsubmitted_bundles
from service.jobs.context import JobServices, services_of
from service.jobs.defer import JobRequest, defer

log = logging.getLogger("skillcred.evidence")


SWEEP_GRACE_SECONDS = 3600.0
"""Stored bytes younger than this are spared by the sweep (an upload may still be on its way)."""


NAMESPACE = "evidence"
QUEUE = "evidence"
FETCH_RETRY = RetryStrategy(max_attempts=2, wait=1, linear_wait=2)
"""A fetch that fails on the network (unreachable, timed out) is tried twice more, after about
1 and 3 seconds, before the item is marked ``failed``."""


class FetchFailedForNow(Exception):
    """A fetch failed on the network; the job is retried (:data:`FETCH_RETRY`)."""


def fetch_request(item_id: str) -> JobRequest:
    """The job that fetches item ``item_id``."""
    return JobRequest(
        f"{NAMESPACE}:fetch_item",
        {"item_id": item_id},
        queueing_lock=f"evidence-item:{item_id}",
        lock=f"evidence-item:{item_id}",
        queue=QUEUE,
    )


def defer_fetch(session: Session, item_id: str) -> None:
    """Ask, in ``session``'s transaction, for item ``item_id`` to be fetched."""
    defer(session, fetch_request(item_id))


def fetchers_for(settings: Settings) -> EvidenceFetchers:
    """The fetchers the job uses: the production ones of ``settings`` (tests replace this
    function, as they replace the route's ``evidence_fetchers`` dependency)."""
    return EvidenceFetchers.from_settings(settings)


def _attempts(context: Any) -> int:
    return getattr(getattr(context, "job", None), "attempts", 0) or 0


def fetch_item(context: Any, item_id: str) -> None:
    """Fetch the URL or clone the repository of item ``item_id`` (with no transaction open) and
    store the outcome: ``ready`` with the bytes, or ``failed`` with the reason. A network failure
    is retried (:data:`FETCH_RETRY`) before it counts."""
    services = services_of(context)
    final = FETCH_RETRY.max_attempts is None or _attempts(context) >= FETCH_RETRY.max_attempts
    run_fetch(services, item_id, final_attempt=final)


def run_fetch(services: JobServices, item_id: str, *, final_attempt: bool = True) -> str | None:
    """One attempt: read (short transaction), fetch (no transaction), store (short transaction).
    Returns the item's new state, or None when there was nothing to do."""
    limits = EvidenceLimits.from_settings(services.settings)
    with unit_of_work(services.engine) as session:
        plan = fetching.fetch_plan(session, item_id, limits)
    if plan is None:
        return None
    try:
        prepared = fetching.fetch(plan, fetchers_for(services.settings), limits)
    except ServiceError as error:
        if is_retryable(error) and not final_attempt:
            log.info("evidence item %s: %s; retrying", item_id, error)
            raise FetchFailedForNow(fetching.describe(error)) from None
        with unit_of_work(services.engine) as session:
            fetching.mark_failed(session, item_id, fetching.describe(error))
        return "failed"
    except Exception as error:
        if not final_attempt:
            raise
        log.exception("evidence item %s: the fetch failed for good", item_id)
        with unit_of_work(services.engine) as session:
            fetching.mark_failed(session, item_id, f"fetch_error: {type(error).__name__}")
        return "failed"
    with unit_of_work(services.engine) as session:
        return fetching.store_fetched(session, get_blob_store(services.settings), item_id, prepared, limits)


def recover(services: JobServices) -> list[JobRequest]:
    """The fetches a restart interrupted: every item still ``fetching`` (SQLite)."""
    with unit_of_work(services.engine) as session:
        ids = fetching.fetching_items(session)
    return [fetch_request(item_id) for item_id in ids]


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
    tasks.task(name="fetch_item", pass_context=True, queue=QUEUE, retry=FETCH_RETRY)(fetch_item)
    tasks.periodic(cron="41 3 * * *", periodic_id="sweep")(
        tasks.task(name="sweep", pass_context=True, queue="maintenance", lock="evidence-sweep")(sweep)
    )
    return tasks
