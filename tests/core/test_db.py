"""The database engine: every PostgreSQL session carries SkillCred's timeouts and name, the pool is
sized for the request threads, and what a timeout or a broken deadlock raises is "busy" (503)."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from sqlalchemy import exc

from service.core import db
from service.core.db import APPLICATION_NAME, DatabaseLimits, is_database_busy, make_engine
from tests.conftest import POSTGRES_URL, application_name

needs_postgres = pytest.mark.skipif(not POSTGRES_URL, reason="set SKILLCRED_TEST_POSTGRES_URL")


def test_the_pool_holds_a_connection_per_request_thread_plus_room_for_side_transactions():
    limits = DatabaseLimits.for_workers(request_threads=40, issuing_slots=4)

    assert limits.pool_size == 40 + 4 + 2  # the re-signer and one spare
    assert DatabaseLimits.for_maintenance().statement_timeout_ms == 0


def test_a_sqlite_pool_is_the_size_asked_for_and_never_overflows(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.db'}", DatabaseLimits(pool_size=7))
    try:
        assert engine.pool.size() == 7  # type: ignore[attr-defined]
        assert engine.pool._max_overflow == 0  # type: ignore[attr-defined]
    finally:
        engine.dispose()


@needs_postgres
def test_every_postgresql_session_has_the_timeouts_and_the_application_name():
    assert POSTGRES_URL
    engine = make_engine(POSTGRES_URL, DatabaseLimits(lock_timeout_ms=1234, statement_timeout_ms=5678))
    try:
        with engine.connect() as connection:
            shown = {
                name: connection.execute(sa.text(f"SHOW {name}")).scalar_one()
                for name in ("lock_timeout", "statement_timeout", "idle_in_transaction_session_timeout")
            }
            name = connection.execute(sa.text("SHOW application_name")).scalar_one()
    finally:
        engine.dispose()

    assert shown == {
        "lock_timeout": "1234ms",
        "statement_timeout": "5678ms",
        "idle_in_transaction_session_timeout": "15s",
    }
    assert name == APPLICATION_NAME


@needs_postgres
def test_options_in_the_url_are_kept_beside_the_timeouts():
    assert POSTGRES_URL
    separator = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{separator}options=-csearch_path%3Dpg_catalog&application_name={application_name()}"
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.execute(sa.text("SHOW search_path")).scalar_one() == "pg_catalog"
            assert connection.execute(sa.text("SHOW lock_timeout")).scalar_one() == "3s"
            assert connection.execute(sa.text("SHOW application_name")).scalar_one() == application_name()
    finally:
        engine.dispose()


@needs_postgres
def test_a_session_left_idle_in_a_transaction_is_ended_by_the_server_and_reads_as_busy():
    assert POSTGRES_URL
    engine = make_engine(POSTGRES_URL, DatabaseLimits(idle_in_transaction_ms=300))
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))  # a transaction is open now
            time.sleep(1.0)  # ... and idle past the limit
            with pytest.raises(exc.DBAPIError) as caught:
                connection.execute(sa.text("SELECT 1"))
        assert is_database_busy(caught.value)
    finally:
        engine.dispose()


@needs_postgres
def test_a_lock_wait_past_lock_timeout_fails_quickly_and_reads_as_busy():
    assert POSTGRES_URL
    engine = make_engine(POSTGRES_URL, DatabaseLimits(lock_timeout_ms=300))
    table = f"lock_probe_{application_name().replace('-', '_')}"
    try:
        with engine.begin() as setup:
            setup.execute(sa.text(f"CREATE TABLE IF NOT EXISTS {table} (id int primary key)"))
            setup.execute(sa.text(f"INSERT INTO {table} VALUES (1) ON CONFLICT DO NOTHING"))
        with engine.connect() as holder, engine.connect() as waiter:
            holder.begin()
            holder.execute(sa.text(f"UPDATE {table} SET id = 1 WHERE id = 1"))
            started = time.monotonic()
            with pytest.raises(exc.OperationalError) as caught:
                waiter.execute(sa.text(f"UPDATE {table} SET id = 1 WHERE id = 1"))
            assert time.monotonic() - started < 3
            holder.rollback()
        assert is_database_busy(caught.value)
    finally:
        with engine.begin() as cleanup:
            cleanup.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
        engine.dispose()


def _server_pid(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(pid: int) -> None:
    assert POSTGRES_URL
    admin = sa.create_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        admin.dispose()


@needs_postgres
def test_a_pooled_connection_that_died_while_idle_is_replaced_before_use(monkeypatch):
    """A connection idle in the pool past IDLE_PING_SECONDS is pinged on checkout, and one the
    server ended meanwhile is swapped for a new one: the request never sees it."""
    assert POSTGRES_URL
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)
    engine = make_engine(POSTGRES_URL, DatabaseLimits(pool_size=1))
    try:
        first = _server_pid(engine)
        _terminate(first)
        second = _server_pid(engine)  # no error: the dead connection failed its ping, a new one served
    finally:
        engine.dispose()

    assert second != first


@needs_postgres
def test_a_connection_in_steady_use_is_not_pinged_and_a_broken_one_reads_as_busy_once(monkeypatch):
    """No round trip is spent pinging a connection that was just in use; if the server ended it, the
    statement fails as "busy" (a 503 with Retry-After), and the pool reconnects for the next one."""
    assert POSTGRES_URL
    engine = make_engine(POSTGRES_URL, DatabaseLimits(pool_size=1))
    pings: list[object] = []
    monkeypatch.setattr(engine.dialect, "do_ping", lambda connection: pings.append(connection) or True)
    try:
        first = _server_pid(engine)
        _terminate(first)
        with pytest.raises(exc.OperationalError) as caught, engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        second = _server_pid(engine)
    finally:
        engine.dispose()

    assert is_database_busy(caught.value)
    assert second != first
    assert pings == []
