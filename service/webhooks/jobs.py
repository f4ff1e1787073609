"""The webhooks' jobs.

- ``webhooks:fan_out(issuer_id)``: deferred by :func:`service.events.service.emit` in the
  transaction of the change (one waiting job per issuer: a burst coalesces); makes one delivery
  per subscriber of each event not yet fanned out, in order, and defers each one's first attempt.
- ``webhooks:deliver(delivery_id, manual)``: one attempt (:mod:`service.webhooks.delivery`); a
  failed one defers the next itself, with its delay, in the transaction that logs it.

Both read what to do from rows, so running one twice does no harm; on SQLite :func:`recover`
re-defers what a restart dropped from the in-memory queue.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from procrastinate import Blueprint, RetryStrategy
from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from service.core.db import unit_of_work
from service.events.models import Event
from service.events.service import QUEUE, fan_out_request
from service.jobs.context import JobServices, services_of
from service.jobs.defer import JobRequest
from service.webhooks import delivery, service
from service.webhooks.models import DeliveryState, WebhookDelivery

log = logging.getLogger("skillcred.webhooks")

RECOVERY_WINDOW = timedelta(days=3)
"""Events older than this that never fanned out (a restart lost their job) are left alone."""
RECOVERY_LIMIT = 10_000


FAN_OUT_BATCH = 500
"""Events fanned out per transaction."""
_EVENT = Event.__table__  # type: ignore[attr-defined]  # set by SQLModel's metaclass, not in its hints
_WAITING_EVENTS = (
    sa_select(_EVENT.c.id, _EVENT.c.type, _EVENT.c.occurred_at)
    .where(_EVENT.c.issuer_id == bindparam("issuer_id"), _EVENT.c.dispatched_at.is_(None))
    .order_by(_EVENT.c.occurred_at, _EVENT.c.id)
    .limit(FAN_OUT_BATCH)
    .with_for_update(skip_locked=True)
)
"""An issuer's events not yet fanned out, oldest first; those another fan-out holds are skipped."""


def fan_out(context: Any, issuer_id: str) -> None:
    """Make the deliveries of every event of issuer ``issuer_id`` not yet fanned out, oldest
    first, :data:`FAN_OUT_BATCH` per transaction."""
    services = services_of(context)
    made = 0
    while True:
        with unit_of_work(services.engine) as session:
            # the partial index on undispatched events makes this a short range read, however
            # many events the issuer has had (a 100,000-row bulk file emits as many)
            # only the columns a fan-out reads, as rows: not the events' data, no ORM objects
            waiting = session.execute(_WAITING_EVENTS, {"issuer_id": issuer_id}).all()
            if waiting:
                subscriptions = service.active_subscriptions(session, issuer_id)
                made += len(service.fan_out_events(session, waiting, subscriptions, services.clock.now()))
        if len(waiting) < FAN_OUT_BATCH:
            break
    if made:
        log.info("issuer %s: %d webhook deliveries", issuer_id, made)


STRAGGLER_AFTER = timedelta(seconds=30)


def sweep_undispatched(context: Any, timestamp: int) -> None:
    """Every minute: fan out the events no fan-out job took (one coalesced job can start just
    before the transaction of a later event commits, and so miss it)."""
    services = services_of(context)
    cutoff = services.clock.now() - STRAGGLER_AFTER
    with unit_of_work(services.engine) as session:
        issuers = session.exec(
            select(Event.issuer_id)
            .where(col(Event.dispatched_at).is_(None), col(Event.occurred_at) <= cutoff)
            .distinct()
            .limit(RECOVERY_LIMIT)
        ).all()
    for issuer_id in issuers:
        log.info("events of issuer %s waited for their fan-out: sweeping", issuer_id)
        fan_out(context, issuer_id)


def deliver(context: Any, delivery_id: str, manual: bool = False) -> None:
    """Make one attempt of delivery ``delivery_id`` (``manual``: asked for by a person)."""
    outcome = delivery.attempt(services_of(context), delivery_id, manual=manual)
    log.info("webhook delivery %s: %s", delivery_id, outcome)


def recover(services: JobServices) -> list[JobRequest]:
    """The jobs unfinished rows still need: fan-outs of recent events never dispatched, and the
    next attempt of every pending delivery (due now, or at its ``next_attempt_at``)."""
    now = services.clock.now()
    requests: list[JobRequest] = []
    with unit_of_work(services.engine) as session:
        issuers = session.exec(
            select(Event.issuer_id)
            .where(col(Event.dispatched_at).is_(None), col(Event.occurred_at) > now - RECOVERY_WINDOW)
            .distinct()
        ).all()
        requests += [fan_out_request(issuer_id) for issuer_id in issuers]
        pending = session.exec(
            select(WebhookDelivery.id, WebhookDelivery.next_attempt_at)
            .where(WebhookDelivery.state == DeliveryState.pending)
            .limit(RECOVERY_LIMIT)
        ).all()
        for delivery_id, due in pending:
            delay = max((due - now).total_seconds(), 0.0) if due is not None else 0.0
            requests.append(service.deliver_request(delivery_id, delay_seconds=delay or None))
    return requests


def blueprint() -> Blueprint:
    """A fresh procrastinate Blueprint of this module's tasks (one per App: procrastinate
    renames a blueprint's tasks when an App takes them)."""
    tasks = Blueprint()
    # procrastinate's own retries only cover a crash inside the job (a database hiccup); the
    # delivery schedule is the domain's, in the delivery row
    tasks.task(name="fan_out", pass_context=True, queue=QUEUE, retry=RetryStrategy(max_attempts=5, wait=2))(fan_out)
    tasks.task(name="deliver", pass_context=True, queue=QUEUE, retry=RetryStrategy(max_attempts=3, wait=5))(deliver)
    tasks.periodic(cron="* * * * *", periodic_id="sweep")(
        tasks.task(name="sweep_undispatched", pass_context=True, queue=QUEUE, lock="webhooks-sweep")(sweep_undispatched)
    )
    return tasks
