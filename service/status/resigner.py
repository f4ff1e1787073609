"""The background re-signer: every worker process runs one, started by the app's lifespan.

It re-signs every list whose signature is older than the interval I, so a change is published
within I and an unchanged list never expires, whoever reads it. It sleeps until the next list
falls due, but never longer than I/2 (capped at a minute). Work runs in a thread (signing is CPU
and database work). On PostgreSQL one worker at a time runs a round (a session advisory lock,
tried and never waited for, per schema): the others skip it, so however many workers run, a
due list is signed once. Were two rounds to meet anyway (SQLite, several processes), only one
signature is stored (see :mod:`service.status.publish`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Engine

from service.core.config import Settings
from service.core.keystore import Keystore
from service.status.publish import resign_due_lists, seconds_until_next_due

log = logging.getLogger("skillcred.status")

MIN_SLEEP_SECONDS = 0.2
MAX_POLL_SECONDS = 60.0


def poll_seconds(settings: Settings) -> float:
    """The longest the re-signer sleeps between rounds."""
    return max(MIN_SLEEP_SECONDS, min(settings.status_list_resign_interval_seconds / 2, MAX_POLL_SECONDS))


_LOCK_KEY = "hashtext(current_schema() || :name)"
_LOCK_NAME = {"name": "/skillcred-status-resigner"}


@contextmanager
def one_round_at_a_time(engine: Engine) -> Iterator[bool]:
    """True inside the block when this process may run a round now: on PostgreSQL, when it got
    the re-signer's advisory lock (held on a connection of its own, outside any transaction,
    until the block ends); elsewhere always."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    with engine.connect() as connection:
        got = bool(connection.execute(text(f"SELECT pg_try_advisory_lock({_LOCK_KEY})"), _LOCK_NAME).scalar())
        connection.commit()
        try:
            yield got
        finally:
            if got:
                connection.execute(text(f"SELECT pg_advisory_unlock({_LOCK_KEY})"), _LOCK_NAME)
                connection.commit()


def resign_round(engine: Engine, keystore: Keystore, settings: Settings) -> float:
    """One round: re-sign what is due (unless another worker's round is running); return how
    long to sleep before the next round."""
    poll = poll_seconds(settings)
    with one_round_at_a_time(engine) as mine:
        if not mine:
            return poll
        _, failed = resign_due_lists(engine, keystore, settings)
    if failed:
        return poll  # do not hammer a list that cannot be signed
    wait = seconds_until_next_due(engine, settings)
    return poll if wait is None else min(poll, max(wait, MIN_SLEEP_SECONDS))


async def run_resigner(engine: Engine, keystore: Keystore, settings: Settings) -> None:
    """Re-sign due lists until cancelled; errors are logged and the loop goes on."""
    while True:
        try:
            sleep_for = await asyncio.to_thread(resign_round, engine, keystore, settings)
        except Exception:
            log.exception("status list re-signing round failed")
            sleep_for = poll_seconds(settings)
        await asyncio.sleep(sleep_for)


def start_resigner(engine: Engine, keystore: Keystore, settings: Settings) -> asyncio.Task[None]:
    """Start :func:`run_resigner` on the running event loop; cancel the task to stop it."""
    return asyncio.get_running_loop().create_task(
        run_resigner(engine, keystore, settings), name="skillcred-status-resigner"
    )
