"""Database engine and sessions: SQLite (WAL, foreign keys on) by default, PostgreSQL in production.

One place commits per request: :func:`unit_of_work`, which ``service.api.deps.SessionDep`` wraps
around each request. Services never commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel, create_engine

#: How long a SQLite writer waits for the write lock, and a request for a pooled connection,
#: before the request is answered 503 (the database is busy) instead of waiting on.
SQLITE_BUSY_TIMEOUT_MS = 5000
POOL_TIMEOUT_SECONDS = 5

# Stable constraint names, so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Writers queue for SQLite's single write lock. Issuing signs before it writes, so each holds the
    # lock for milliseconds; a writer still waiting after this long gets a 503 with Retry-After
    # (service.api.errors) rather than holding a request for half a minute.
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; for a SQLite file its folder is created and WAL/foreign keys turned on.

    SQL parameters are hidden from logs and error messages (sealed keys, password hashes).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        in_memory = not parsed.database or parsed.database == ":memory:"
        if not in_memory:
            Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)
        # One connection per request thread (FastAPI's pool runs 40): never "QueuePool limit reached"
        # while threads remain; past that, a quick 503 (pool_timeout) instead of a 30 s wait. An
        # in-memory database keeps SQLAlchemy's one-connection-per-thread pool.
        pooling: dict[str, Any] = (
            {} if in_memory else {"pool_size": 20, "max_overflow": 30, "pool_timeout": POOL_TIMEOUT_SECONDS}
        )
        engine = create_engine(url, connect_args={"check_same_thread": False}, hide_parameters=True, **pooling)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        pool_timeout=POOL_TIMEOUT_SECONDS,
        hide_parameters=True,
        # a PostgreSQL that stopped answering fails the request in seconds (503), not minutes
        connect_args={"connect_timeout": 5},
    )


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error (CLI, jobs, tests)."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def is_database_busy(error: BaseException) -> bool:
    """Whether ``error`` means "the database cannot serve this now, retry soon": SQLite's write
    lock still held after the busy timeout, no pooled connection free in time, or the database
    server unreachable or restarting. Such a request is answered 503 with ``Retry-After``."""
    from sqlalchemy import exc

    if isinstance(error, exc.TimeoutError):  # the connection pool
        return True
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, exc.OperationalError):
        message = str(error.orig).lower()
        busy = ("database is locked", "database table is locked", "database is busy")
        unreachable = (
            "connection refused",
            "could not connect",
            "server closed the connection",
            "terminating connection",
            "the database system is",
            "connection timeout expired",
            "consuming input failed",
            "server conn crashed",
            "no connection to the server",
        )
        return any(text in message for text in busy + unreachable)
    return False
