"""``skillcred reminders`` is safe to run twice at once: the reminder ledger's primary key (credential,
kind) and ``INSERT ... ON CONFLICT DO NOTHING`` let exactly one run record each reminder, on
PostgreSQL and SQLite alike."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, func, select

from service.credentials.expiry import EXPIRY_REMINDER, record_expiry_reminders
from service.credentials.reminder_models import ExpiryReminder
from tests.credentials.helpers import audit_events


def _expiring(api, achievement, count: int) -> list[str]:
    soon = (datetime.now(UTC) + timedelta(days=5)).isoformat()
    return [
        api.issue(achievement["id"], {"email": f"soon{i}@example.org"}, valid_until=soon)["id"] for i in range(count)
    ]


def _ledger(app) -> int:
    with Session(app.state.engine) as session:
        return session.exec(select(func.count()).select_from(ExpiryReminder)).one()


def test_a_run_racing_an_uncommitted_run_records_nothing_twice(app, api, achievement):
    """Run A records its reminders but has not committed when run B starts: B waits on the
    database for A's rows, then skips them. Deterministic: B starts while A holds its transaction."""
    ids = _expiring(api, achievement, 3)
    now = datetime.now(UTC)
    results: dict[str, list[str]] = {}
    a_recorded, b_started = threading.Event(), threading.Event()

    def run_a() -> None:
        with Session(app.state.engine) as session:
            results["a"] = record_expiry_reminders(session, app.state.settings, now)
            a_recorded.set()
            b_started.wait(5)
            time.sleep(0.3)  # let B reach the database and block on A's rows
            session.commit()

    def run_b() -> None:
        a_recorded.wait(5)
        with Session(app.state.engine) as session:
            b_started.set()
            results["b"] = record_expiry_reminders(session, app.state.settings, now)
            session.commit()

    threads = [threading.Thread(target=run_a), threading.Thread(target=run_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(results["a"]) == sorted(ids) and results["b"] == []
    assert sorted(e.object_id for e in audit_events(app, EXPIRY_REMINDER)) == sorted(ids)
    assert _ledger(app) == 3


def test_two_runs_started_together_record_each_reminder_once(app, api, achievement):
    ids = _expiring(api, achievement, 4)
    now = datetime.now(UTC)
    barrier = threading.Barrier(2)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with Session(app.state.engine) as session:
                barrier.wait(5)
                results.append(record_expiry_reminders(session, app.state.settings, now))
                session.commit()
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert sorted(results[0] + results[1]) == sorted(ids)
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
