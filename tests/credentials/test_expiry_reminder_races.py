"""``skillcred reminders`` is safe to run twice at once: the reminder ledger's primary key (credential,
kind) and ``INSERT ... ON CONFLICT DO NOTHING`` let exactly one run record each reminder, on
PostgreSQL and SQLite alike.

The races are forced (see :mod:`tests.concurrency`), and each test checks that they happened: the
losing run read the credentials as due and tried to claim every one of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, func, select

from service.credentials.expiry import EXPIRY_REMINDER, record_expiry_reminders
from service.credentials.reminder_models import ExpiryReminder
from tests.concurrency import Contender, Gate, Statements, Worker, started, wait_until_queued
from tests.credentials.helpers import audit_events

CLAIM = f"INSERT INTO {ExpiryReminder.__tablename__} "


def _expiring(api, achievement, count: int) -> list[str]:
    soon = (datetime.now(UTC) + timedelta(days=5)).isoformat()
    return [
        api.issue(achievement["id"], {"email": f"soon{i}@example.org"}, valid_until=soon)["id"] for i in range(count)
    ]


def _ledger(app) -> int:
    with Session(app.state.engine) as session:
        return session.exec(select(func.count()).select_from(ExpiryReminder)).one()


def test_a_run_racing_an_uncommitted_run_records_nothing_twice(app, api, achievement):
    """Run A has recorded its reminders but not committed when run B reads them as due and tries
    to claim them: B's claims queue behind A's uncommitted rows, then find them taken."""
    ids = _expiring(api, achievement, 3)
    now = datetime.now(UTC)
    a_recorded, b_ready = Gate("A has recorded, uncommitted"), Gate("B's transaction", hold=False)

    def run_a() -> list[str]:
        with Session(app.state.engine) as session:
            reminded = record_expiry_reminders(session, app.state.settings, now)
            a_recorded.arrive(Contender(session))  # held here, transaction open, until B is queued
            session.commit()
            return reminded

    def run_b() -> list[str]:
        with Session(app.state.engine) as session:
            b_ready.arrive(Contender(session))
            reminded = record_expiry_reminders(session, app.state.settings, now)
            session.commit()
            return reminded

    with Statements(app.state.engine, CLAIM) as claims:
        (a,) = started(Worker(run_a, name="A"))
        [holder] = a_recorded.wait_for_arrivals(1)
        (b,) = started(Worker(run_b, name="B"))
        [waiter] = b_ready.wait_for_arrivals(1)
        wait_until_queued(holder, waiter)  # B's first claim waits for A's transaction
        a_recorded.open()
        reminded_by_a, reminded_by_b = a.outcome(), b.outcome()
    holder.close(), waiter.close()

    assert sorted(reminded_by_a) == sorted(ids) and reminded_by_b == []
    assert claims.per_thread[b.ident] == 3  # B read all three as due: the race happened, and B lost it
    assert sorted(e.object_id for e in audit_events(app, EXPIRY_REMINDER)) == sorted(ids)
    assert _ledger(app) == 3


def test_two_runs_started_together_record_each_reminder_once(app, api, achievement):
    """Both runs read all four credentials as due before either claims one (a rendezvous at each
    run's first claim); the run that claims the first one first takes them all."""
    ids = _expiring(api, achievement, 4)
    now = datetime.now(UTC)

    def run() -> list[str]:
        with Session(app.state.engine) as session:
            reminded = record_expiry_reminders(session, app.state.settings, now)
            session.commit()
            return reminded

    with Statements(app.state.engine, CLAIM, rendezvous=2) as claims:
        runs = started(Worker(run, name="first"), Worker(run, name="second"))
        results = [worker.outcome() for worker in runs]

    assert claims.met and claims.counts() == [4, 4]  # both read all four as due, both tried to claim them
    assert sorted(results[0] + results[1]) == sorted(ids)
    assert sorted(len(result) for result in results) == [0, 4]  # claims in one order: the loser waited, then got none
    assert sorted(e.object_id for e in audit_events(app, EXPIRY_REMINDER)) == sorted(ids)


def test_the_ledger_remembers_reminders_after_the_window_setting_changes(app, api, achievement):
    ids = _expiring(api, achievement, 1)
    now = datetime.now(UTC)
    for days in (30, 10):
        settings = app.state.settings.model_copy(update={"expiry_reminder_days": days})
        with Session(app.state.engine) as session:
            reminded = record_expiry_reminders(session, settings, now)
            session.commit()
        assert reminded == (ids if days == 30 else [])
    with Session(app.state.engine) as session:
        row = session.exec(select(ExpiryReminder)).one()
    assert row.credential_id == ids[0] and row.kind == "expiry" and row.days_before == 30
