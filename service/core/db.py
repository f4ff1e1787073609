"""Database engine and sessions: SQLite (WAL, foreign keys on) by default, PostgreSQL in production.

One place commits per request: :func:`unit_of_work`, which ``service.api.deps.SessionDep`` wraps
around each request. Services never commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel, create_engine

#: How long a SQLite writer waits for the write lock, and a request for a pooled connection,
#: before the request is answered 503 (the database is busy) instead of waiting on.
SQLITE_BUSY_TIMEOUT_MS = 5000
POOL_TIMEOUT_SECONDS = 5
APPLICATION_NAME = "skillcred"
"""``application_name`` of every PostgreSQL session SkillCred opens (``pg_stat_activity`` shows it)."""


@dataclass(frozen=True)
class DatabaseLimits:
    """How long one PostgreSQL statement may wait or run, and how many connections a process pools.

    Set on every connection (``SET`` through the startup ``options``), so no code path can forget:

    - ``lock_timeout_ms``: a statement waiting this long for a row or table lock fails (answered
      503 with ``Retry-After``), instead of queueing behind a stuck transaction;
    - ``statement_timeout_ms``: a statement running this long is cancelled (0: no limit, for
      ``skillcred backup``);
    - ``idle_in_transaction_ms``: a session that holds a transaction open and idle this long is
      ended by the server, so a leaked session can never pin row locks or old row versions.

    ``pool_size`` is the most connections the process opens: one per request thread, plus room
    for the issuing path's short side transactions (a status-list reservation, at most one per
    issuing slot) and the background re-signer, so a request never waits for a connection that
    another request holds while it, in turn, waits for a side transaction.
    """

    lock_timeout_ms: int = 3000
    statement_timeout_ms: int = 15000
    idle_in_transaction_ms: int = 15000
    pool_size: int = 48

    @classmethod
    def for_workers(cls, request_threads: int, issuing_slots: int) -> DatabaseLimits:
        """The limits for a server process with ``request_threads`` threads and ``issuing_slots``."""
        return cls(pool_size=request_threads + issuing_slots + 2)

    @classmethod
    def for_maintenance(cls) -> DatabaseLimits:
        """Backup and restore: one long transaction that reads or writes every table, so no
        statement or idle-in-transaction limit (a lock is still waited for only so long)."""
        return cls(statement_timeout_ms=0, idle_in_transaction_ms=0, pool_size=4)

    def postgres_options(self) -> str:
        """The libpq ``options`` string that sets the three timeouts for the session."""
        return (
            f"-c lock_timeout={self.lock_timeout_ms} -c statement_timeout={self.statement_timeout_ms}"
            f" -c idle_in_transaction_session_timeout={self.idle_in_transaction_ms}"
        )


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


def make_engine(url: str, limits: DatabaseLimits | None = None) -> Engine:
    """An engine for ``url``; for a SQLite file its folder is created and WAL/foreign keys turned on.

    SQL parameters are hidden from logs and error messages (sealed keys, password hashes). On
    PostgreSQL every session gets ``limits``' timeouts and the ``application_name`` "skillcred".
    """
    limits = limits or DatabaseLimits()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        in_memory = not parsed.database or parsed.database == ":memory:"
        if not in_memory:
            Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)
        # One connection per request thread and side transaction (DatabaseLimits.pool_size): never
        # "QueuePool limit reached" while threads remain; past that, a quick 503 (pool_timeout)
        # instead of a 30 s wait. An in-memory database keeps SQLAlchemy's per-thread pool.
        pooling: dict[str, Any] = (
            {}
            if in_memory
            else {"pool_size": limits.pool_size, "max_overflow": 0, "pool_timeout": POOL_TIMEOUT_SECONDS}
        )
        engine = create_engine(url, connect_args={"check_same_thread": False}, hide_parameters=True, **pooling)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=limits.pool_size,
        max_overflow=0,
        pool_timeout=POOL_TIMEOUT_SECONDS,
        hide_parameters=True,
        # a PostgreSQL that stopped answering fails the request in seconds (503), not minutes
        connect_args={
            "connect_timeout": 5,
            # unless the URL names the application itself (tests tell their processes apart)
            "application_name": parsed.query.get("application_name", APPLICATION_NAME),
            # after any options the URL sets (a search_path, say): connect_args replace them
            "options": " ".join(filter(None, [_url_options(parsed), limits.postgres_options()])),
        },
    )


RETRYABLE_SQLSTATES = frozenset(
    {
        "55P03",  # lock_not_available: lock_timeout
        "57014",  # query_canceled: statement_timeout
        "40P01",  # deadlock_detected
        "40001",  # serialization_failure
        "25P03",  # idle_in_transaction_session_timeout
    }
)
"""PostgreSQL error codes (Appendix A of its manual) that mean "try the request again shortly"."""


def _url_options(parsed: Any) -> str:
    value = parsed.query.get("options", "")
    return " ".join(value) if isinstance(value, tuple) else str(value)


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
    lock still held after the busy timeout, no pooled connection free in time, a PostgreSQL lock
    or statement timeout, a deadlock or serialization failure the server broke, or the database
    server unreachable or restarting. Such a request is answered 503 with ``Retry-After``."""
    from sqlalchemy import exc

    if isinstance(error, exc.TimeoutError):  # the connection pool
        return True
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, exc.DBAPIError) and getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
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
