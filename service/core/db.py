"""Database engine and sessions: SQLite (WAL, foreign keys on) by default, PostgreSQL in production.

One place commits per request: :func:`unit_of_work`, which ``service.api.deps.SessionDep`` wraps
around each request. Services never commit.

With ``SKILLCRED_DATABASE_READ_URL`` set, public reads may go to a read replica
(:class:`ReadReplica`): only when the replica is proven to hold every status change and signing-key
change the primary holds (:data:`FRESHNESS_SQL`), so a revocation is never read stale
(``docs/scaling.md``).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, event, exc, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlmodel import Session, SQLModel, create_engine

log = logging.getLogger(__name__)

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


def make_engine(url: str, limits: DatabaseLimits | None = None, *, connect_timeout: int = 5) -> Engine:
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
    engine = create_engine(
        url,
        pool_size=limits.pool_size,
        max_overflow=0,
        pool_timeout=POOL_TIMEOUT_SECONDS,
        hide_parameters=True,
        # a PostgreSQL that stopped answering fails the request in seconds (503), not minutes
        connect_args={
            "connect_timeout": connect_timeout,
            # unless the URL names the application itself (tests tell their processes apart)
            "application_name": parsed.query.get("application_name", APPLICATION_NAME),
            # after any options the URL sets (a search_path, say): connect_args replace them
            "options": " ".join(filter(None, [_url_options(parsed), limits.postgres_options()])),
        },
    )
    event.listen(engine, "checkin", _note_idle)
    event.listen(engine, "checkout", _idle_pinger(engine.dialect))
    return engine


IDLE_PING_SECONDS = 5.0
"""A pooled PostgreSQL connection idle at least this long is pinged before use."""


def _note_idle(dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info["idle_since"] = time.monotonic()


def _idle_pinger(dialect: Any) -> Callable[[Any, Any, Any], None]:
    """A pool ``checkout`` listener that pings a connection that sat in the pool
    :data:`IDLE_PING_SECONDS` or more before handing it out; one that fails is replaced
    (SQLAlchemy's pool tries another connection on ``DisconnectionError``).

    Not SQLAlchemy's ``pool_pre_ping``, which pings on every checkout: a database round trip per
    request, a third of a cached verification's time. A connection in steady use needs no ping:
    if the server goes away under it, the statement fails, the request is answered 503 with
    ``Retry-After`` (:func:`is_database_busy`), and SQLAlchemy invalidates every connection the
    pool opened before the failure, so the next checkouts connect afresh."""

    def ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.get("idle_since") if record is not None else None
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise exc.DisconnectionError(f"a pooled connection failed its ping: {error}") from error
        if not alive:  # pragma: no cover - psycopg's ping raises rather than answering False
            raise exc.DisconnectionError("a pooled connection failed its ping")

    return ping_if_idle


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


_AUTOCOMMITTING: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()
_AUTOCOMMITTING_LOCK = threading.Lock()


def autocommitting(engine: Engine) -> Engine:
    """``engine`` whose connections autocommit each statement: for read-only sessions that must
    hold no transaction open (while a verification computes, or fetches over the network). Made
    once per engine: building the option engine per request cost more than the read it served."""
    found = _AUTOCOMMITTING.get(engine)
    if found is None:
        with _AUTOCOMMITTING_LOCK:
            found = _AUTOCOMMITTING.get(engine)
            if found is None:
                found = _AUTOCOMMITTING[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return found


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error (CLI, jobs, tests)."""
    with committing(Session(engine, expire_on_commit=False)) as session:
        yield session


@contextmanager
def committing(session: Session) -> Iterator[Session]:
    """``session`` committed on success and rolled back on error, then closed."""
    with session:
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


# --- read replica (SKILLCRED_DATABASE_READ_URL) ---------------------------------------------------

FRESHNESS_SQL = text(
    "SELECT (SELECT coalesce(sum(version), 0) FROM statuslist),"
    " (SELECT count(*) FROM signingkey),"
    " (SELECT count(compromised_at) FROM signingkey),"
    " (SELECT count(retired_at) FROM signingkey)"
)
"""What a verdict depends on that changes after issuance, as numbers that only ever grow: the sum
of the status lists' ``version`` (bumped in the transaction that revokes, suspends or unsuspends,
:mod:`service.status.service`) and the signing keys' count, compromised count and retired count. A
replica replays the primary's commits in order, so it holds every such change the primary held
when it was asked exactly when the numbers are equal."""

REPLAY_LAG_SQL = text(
    "SELECT pg_is_in_recovery(), CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
    " ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float END"
)
"""On a PostgreSQL hot standby: whether it is one (in recovery), and its replay lag in seconds: 0
when it has replayed all the WAL it received, else the age of the last transaction it replayed
(PostgreSQL manual, section 9.28.4 "Recovery Control Functions")."""

REPLICA_RETRY_SECONDS = 10.0
"""After the replica failed to answer, reads go to the primary this long before it is tried again."""
REPLICA_CONNECT_TIMEOUT_SECONDS = 2


def freshness(connection: Connection) -> tuple[int, ...]:
    """The :data:`FRESHNESS_SQL` numbers of the database behind ``connection``."""
    row = connection.execute(FRESHNESS_SQL).one()
    return tuple(int(value) for value in row)


class ReplicaSession(Session):
    """A session that reads from the replica and writes to the primary.

    Flushes and DML statements go to the primary (a hot standby refuses writes), and so does
    ``get_bind()`` asked without a statement: code that takes the session's engine to open a
    transaction of its own does so to write (a status list signed for a reader,
    :func:`service.status.publish.published_list`)."""

    def __init__(self, replica: Engine, primary: Engine) -> None:
        super().__init__(replica, expire_on_commit=False)
        self.primary = primary

    def get_bind(self, mapper: Any = None, *, clause: Any = None, **kwargs: Any) -> Any:
        if self._flushing or (mapper is None and clause is None) or getattr(clause, "is_dml", False):
            return self.primary
        return super().get_bind(mapper, clause=clause, **kwargs)


class ReadReplica:
    """The primary and a read replica, and which of the two a public read may use now.

    :meth:`engine_for_read` answers per request: the replica when it answers and its
    :func:`freshness` equals the primary's, read at the start of the request (and, on a real hot
    standby, its last replayed commit is at most ``max_lag_seconds`` old); the primary otherwise.
    A replica that fails to answer is left alone for :data:`REPLICA_RETRY_SECONDS`. ``counts``
    says how many reads went where and why ("replica", "lagging", "down", "stale_replay")."""

    def __init__(
        self,
        primary: Engine,
        replica: Engine,
        *,
        max_lag_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.replica = replica
        self.max_lag_seconds = max_lag_seconds
        self.counts: Counter[str] = Counter()
        self._monotonic = monotonic
        self._down_until = 0.0
        self._lock = threading.Lock()
        self._standby_check = replica.dialect.name == "postgresql"

    @classmethod
    def from_url(cls, primary: Engine, read_url: str, limits: DatabaseLimits, *, max_lag_seconds: float) -> ReadReplica:
        """A replica engine for ``read_url`` with ``limits`` (its own pool, as large as the primary's)."""
        replica = make_engine(read_url, limits, connect_timeout=REPLICA_CONNECT_TIMEOUT_SECONDS)
        return cls(primary, replica, max_lag_seconds=max_lag_seconds)

    @property
    def is_down(self) -> bool:
        return self._monotonic() < self._down_until

    def note(self, reason: str) -> None:
        """Count one read under ``reason`` (``counts``)."""
        with self._lock:
            self.counts[reason] += 1

    def engine_for_read(self) -> Engine:
        """The engine a public read uses now (one small query on each database; the primary's
        errors propagate: without it nothing can be served fresh)."""
        if self.is_down:
            self.note("down")
            return self.primary
        with self.primary.connect() as connection:
            wanted = freshness(connection)
        try:
            with self.replica.connect() as connection:
                held = freshness(connection)
                replay_lag = self._replay_lag(connection)
        except Exception as error:  # any failure of the replica means "read the primary"
            self._down_until = self._monotonic() + REPLICA_RETRY_SECONDS
            log.warning("read replica unavailable, reading from the primary for %ss: %s", REPLICA_RETRY_SECONDS, error)
            self.note("down")
            return self.primary
        if held != wanted:
            self.note("lagging")
            return self.primary
        if replay_lag is not None and replay_lag > self.max_lag_seconds:
            self.note("stale_replay")
            return self.primary
        self.note("replica")
        return self.replica

    def _replay_lag(self, connection: Connection) -> float | None:
        if not self._standby_check:
            return None
        in_recovery, lag = connection.execute(REPLAY_LAG_SQL).one()
        if not in_recovery:
            return None  # not a standby (a copy kept by other means): freshness alone decides
        return float("inf") if lag is None else float(lag)

    def session(self, engine: Engine) -> Session:
        """A session for a read on ``engine`` (as :meth:`engine_for_read` chose): on the replica
        one that still writes to the primary."""
        if engine is self.replica:
            return ReplicaSession(self.replica, self.primary)
        return Session(self.primary, expire_on_commit=False)

    def dispose(self) -> None:
        self.replica.dispose()
