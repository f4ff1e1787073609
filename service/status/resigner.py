"""The background re-signer: every worker process runs one, started by the app's lifespan.

It re-signs changed lists whose signature is older than the interval I, so a change is published
within I even if nobody reads the list. It sleeps until the next changed list falls due, but never
longer than I/2 (capped at a minute), so a list that changes after a round is still picked up
within I. Work runs in a thread (signing is CPU and database work); several workers are safe
(see :mod:`service.status.publish`).
"""

from __future__ import annotations

import asyncio
import logging

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


def resign_round(engine: Engine, keystore: Keystore, settings: Settings) -> float:
    """One round: re-sign what is due; return how long to sleep before the next round."""
    poll = poll_seconds(settings)
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
