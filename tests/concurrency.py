"""Race tests that force their interleaving and prove it happened, with no sleeps.

A race test built on "start two threads and hope" passes just as well when one thread finishes
before the other starts. These helpers make the interleaving explicit:

- :class:`Worker` runs a contender in a thread and fails the test (never hangs) when it is stuck;
- :class:`Gate` is a checkpoint a contender reaches from a seam (a monkeypatched function): the
  test waits for it to arrive and lets it through when the other contenders are in position;
- :class:`Statements` watches the SQL an engine runs, per thread; with ``rendezvous=n`` it holds
  each thread's first matching statement until ``n`` threads have reached theirs, so all of them
  have done their reads and none has written yet;
- :class:`Contender` and :func:`wait_until_queued` show that one transaction is waiting for
  another one's uncommitted write: on PostgreSQL ``pg_blocking_pids()`` names the holder
  (https://www.postgresql.org/docs/current/functions-info.html); SQLite shows no waiters, so there
  the proof is that the waiter's write statement has started inside SQLite (its trace callback,
  https://docs.python.org/3/library/sqlite3.html#sqlite3.Connection.set_trace_callback) while the
  holder keeps the database's single write lock: it cannot finish before the holder ends.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

TIMEOUT = 10.0
"""Seconds any wait in a race test may take before the test fails (a deadlock fails, not hangs)."""
POLL = 0.005
"""Seconds between two looks at a condition that another thread or the database will make true."""
WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    """Return once ``condition()`` is true; fail the test, naming ``what``, after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting until {what}")
        time.sleep(POLL)


class Worker(threading.Thread):
    """A contender in its own thread, keeping what its target returned or raised."""

    def __init__(self, target: Callable[..., Any], *args: Any, name: str | None = None) -> None:
        super().__init__(name=name, daemon=True)
        self._target_call = target
        self._args = args
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self._target_call(*self._args)
        except BaseException as err:  # handed to the test by outcome()
            self.error = err

    def outcome(self, timeout: float = TIMEOUT) -> Any:
        """Wait for the worker; its result, or its exception raised again. Fails when it is stuck."""
        self.join(timeout)
        if self.is_alive():
            raise AssertionError(f"worker {self.name} is still running after {timeout:g} s (deadlock?)")
        if self.error is not None:
            raise self.error
        return self.result


def started(*workers: Worker) -> tuple[Worker, ...]:
    """Start the workers and return them."""
    for worker in workers:
        worker.start()
    return workers


class Gate:
    """A checkpoint in a race. Contenders call :meth:`arrive` (numbered 1, 2, ... in order of
    arrival); a holding gate keeps each one there until the test calls :meth:`open`."""

    def __init__(self, name: str, *, hold: bool = True) -> None:
        self.name = name
        self.arrivals: list[Any] = []
        self._opened: set[int] = set()
        self._all_open = not hold
        self._changed = threading.Condition()

    def arrive(self, payload: Any = None) -> int:
        """Record this arrival (with ``payload`` for the test) and wait until the gate lets it through."""
        with self._changed:
            self.arrivals.append(payload)
            number = len(self.arrivals)
            self._changed.notify_all()
            let_through = self._changed.wait_for(lambda: self._all_open or number in self._opened, TIMEOUT)
        if not let_through:
            raise AssertionError(f"arrival {number} at gate {self.name!r} was never let through")
        return number

    def wait_for_arrivals(self, count: int) -> list[Any]:
        """The payloads of the first ``count`` arrivals, once they have arrived."""
        with self._changed:
            arrived = self._changed.wait_for(lambda: len(self.arrivals) >= count, TIMEOUT)
            if not arrived:
                raise AssertionError(f"{count} arrivals expected at gate {self.name!r}, saw {len(self.arrivals)}")
            return self.arrivals[:count]

    def open(self, *numbers: int) -> None:
        """Let the given arrivals through (they may not have arrived yet); with none, every arrival."""
        with self._changed:
            if numbers:
                self._opened.update(numbers)
            else:
                self._all_open = True
            self._changed.notify_all()


class Statements:
    """The statements matching ``pattern`` that ``engine`` runs, counted per thread (use as a
    context manager). With ``rendezvous=n``, each thread's first matching statement waits until
    ``n`` threads have reached theirs (threads arriving after that pass straight through); a
    rendezvous that is never complete fails the waiting threads after :data:`TIMEOUT`."""

    def __init__(self, engine: Engine, pattern: str, *, rendezvous: int = 0) -> None:
        self.engine = engine
        self.pattern = re.compile(pattern, re.IGNORECASE)
        self.per_thread: Counter[int] = Counter()
        self.met = False
        self._parties = rendezvous
        self._arrived = 0
        self._lock = threading.Lock()
        self._all_arrived = threading.Event()

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not self.pattern.match(statement):
            return
        with self._lock:
            thread = threading.get_ident()
            self.per_thread[thread] += 1
            waits = self.per_thread[thread] == 1 and self._arrived < self._parties
            if waits:
                self._arrived += 1
                if self._arrived == self._parties:
                    self.met = True
                    self._all_arrived.set()
        if waits and not self._all_arrived.wait(TIMEOUT):
            raise AssertionError(f"{self._arrived} of {self._parties} threads reached the rendezvous")

    def counts(self) -> list[int]:
        """How many matching statements each thread ran, in thread order of first appearance."""
        return list(self.per_thread.values())

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._before)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        self._all_arrived.set()  # release anyone still waiting: the test is over


class Contender:
    """One transaction in a race, as the database knows it: its PostgreSQL server process (``pid``),
    or its SQLite connection with a trace of the write statements that have started inside SQLite.

    Create it from the contender's session before the contender writes; :meth:`close` when done.
    """

    def __init__(self, session: Session) -> None:
        connection = session.connection()
        self.engine: Engine = connection.engine
        self.dialect = connection.dialect.name
        raw = connection.connection.driver_connection
        assert raw is not None  # the session's connection is checked out
        self._raw: Any = raw
        self.pid: int = self._raw.info.backend_pid if self.dialect == "postgresql" else 0
        self._write_started = threading.Event()
        if self.dialect == "sqlite":
            self._raw.set_trace_callback(self._traced)

    def _traced(self, statement: str) -> None:
        if WRITE.match(statement):
            self._write_started.set()

    def write_started(self) -> bool:
        """SQLite: True once a write statement of this connection has started inside SQLite."""
        return self._write_started.is_set()

    def close(self) -> None:
        """Stop tracing (the connection goes back to the pool)."""
        if self.dialect == "sqlite":
            self._raw.set_trace_callback(None)


def blocked_by(holder: Contender) -> set[int]:
    """PostgreSQL: the server processes waiting for ``holder``, directly or behind another waiter
    (the second process waiting for a row lock waits for the first waiter, not for the holder)."""
    with holder.engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT pid, blocking FROM (SELECT pid, pg_blocking_pids(pid) AS blocking FROM pg_stat_activity) AS a"
                " WHERE cardinality(blocking) > 0"
            )
        ).all()
    blockers = {pid: set(blocking) for pid, blocking in rows}
    waiting: set[int] = set()
    reached = {holder.pid}
    while reached:
        reached = {pid for pid, blocking in blockers.items() if blocking & reached} - waiting
        waiting |= reached
    return waiting


def wait_until_queued(holder: Contender, *waiters: Contender, count: int | None = None) -> None:
    """Return once the waiters are queued behind ``holder``'s uncommitted writes.

    PostgreSQL: each waiter's process waits for the holder's, directly or in the queue behind it
    (with no waiters given, ``count`` processes do: ones blocked before the test could know them).
    SQLite: each waiter's write statement has started inside SQLite; while the holder keeps the
    write lock it can only wait (``busy_timeout``) and run after the holder ends.
    """
    if holder.dialect == "postgresql":
        if waiters:
            wanted = {waiter.pid for waiter in waiters}
            wait_until(lambda: wanted <= blocked_by(holder), f"{sorted(wanted)} wait for {holder.pid}")
        else:
            wait_until(lambda: len(blocked_by(holder)) >= (count or 1), f"{count} wait for {holder.pid}")
        return
    assert waiters, "SQLite shows no waiters: name the contenders that should be queued"
    wait_until(lambda: all(waiter.write_started() for waiter in waiters), "the waiters' writes reach SQLite")
