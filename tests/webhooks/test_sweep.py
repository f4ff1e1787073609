"""The safety net of coalesced fan-out: an event no fan-out job took (its job started just before
the event's transaction committed, or a restart lost it) is fanned out by the minute's sweep; a
subscription receives only what happened after it was made."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import update
from sqlmodel import Session, col, select

from service.core.clock import SystemClock
from service.core.db import unit_of_work
from service.core.models import utcnow
from service.events.models import Event
from service.events.service import emit
from service.jobs.context import SERVICES_KEY, JobServices
from service.webhooks.jobs import STRAGGLER_AFTER, fan_out, sweep_undispatched
from service.webhooks.models import WebhookDelivery, WebhookSubscription


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"jobs_in_process": False, "webhooks_allow_private": True})


def _context(app) -> SimpleNamespace:
    state = app.state
    services = JobServices(state.engine, state.keystore, state.settings, None, SystemClock())
    return SimpleNamespace(additional_context={SERVICES_KEY: services})


def _deliveries(app) -> list[WebhookDelivery]:
    with Session(app.state.engine) as session:
        return list(session.exec(select(WebhookDelivery)).all())


def test_an_event_no_fan_out_job_took_is_delivered_by_the_sweep_and_a_fresh_one_is_left_to_its_job(app, api):
    issuer = api.create_issuer()
    created = api.client.post(
        "/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["credential.issued"], "issuer_id": issuer["id"]},
        headers=api.admin,
    )
    assert created.status_code == 201, created.text
    with unit_of_work(app.state.engine) as session:  # no worker runs here: its fan-out job never runs
        emit(session, issuer_id=issuer["id"], type="credential.issued", data={"credential_id": "missed"})
    sweep_undispatched(_context(app), 0)
    assert _deliveries(app) == []  # too fresh: its own job may still come

    with unit_of_work(app.state.engine) as session:
        session.execute(update(Event).values(occurred_at=utcnow() - STRAGGLER_AFTER - timedelta(seconds=1)))
        # as if the subscription were older still (it was made before the event)
        session.execute(update(WebhookSubscription).values(created_at=utcnow() - timedelta(hours=1)))
    sweep_undispatched(_context(app), 0)
    deliveries = _deliveries(app)
    assert len(deliveries) == 1 and deliveries[0].event_type == "credential.issued"


def test_a_subscription_gets_no_event_from_before_it_was_made(app, api):
    issuer = api.create_issuer()
    with unit_of_work(app.state.engine) as session:
        emit(session, issuer_id=issuer["id"], type="credential.issued", data={"credential_id": "before"})
        session.execute(update(Event).values(occurred_at=utcnow() - timedelta(minutes=5)))
    created = api.client.post(
        "/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["credential.issued"], "issuer_id": issuer["id"]},
        headers=api.admin,
    )
    assert created.status_code == 201
    sweep_undispatched(_context(app), 0)
    assert _deliveries(app) == []
    with Session(app.state.engine) as session:
        assert session.exec(select(Event).where(col(Event.dispatched_at).is_not(None))).first() is not None


def test_a_fan_out_marks_its_events_dispatched_in_one_statement(app, api):
    issuer = api.create_issuer()
    created = api.client.post(
        "/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["credential.revoked"], "issuer_id": issuer["id"]},
        headers=api.admin,
    )
    assert created.status_code == 201, created.text
    with unit_of_work(app.state.engine) as session:
        for number in range(5):
            emit(session, issuer_id=issuer["id"], type="credential.issued", data={"credential_id": f"c{number}"})
        emit(session, issuer_id=issuer["id"], type="credential.revoked", data={"credential_id": "c0"})
    sent: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        # an executemany runs the statement once per parameter set
        sent.extend([" ".join(statement.split())] * (len(parameters) if executemany else 1))

    sa_event.listen(app.state.engine, "before_cursor_execute", count)
    try:
        fan_out(_context(app), issuer["id"])
    finally:
        sa_event.remove(app.state.engine, "before_cursor_execute", count)

    assert len([s for s in sent if s.startswith("UPDATE event")]) == 1, sent  # not one per event
    deliveries = _deliveries(app)
    assert [d.event_type for d in deliveries] == ["credential.revoked"]  # the one type it asked for
    with Session(app.state.engine) as session:
        assert session.exec(select(Event).where(col(Event.dispatched_at).is_(None))).first() is None
