"""Concurrency gates: at most N requests of one CPU-heavy kind in flight per worker process.

Signing and verifying are CPU-bound. Forty request threads signing at once on two cores do not
finish sooner than four would; each just takes ten times as long, and on SQLite the one holding
the write lock holds it ten times as long too. A gate lets ``slots`` requests through and makes
the rest wait up to ``wait_seconds`` for a slot, then answers ``503 service_unavailable`` with
``Retry-After``: overload is a quick, honest answer, never a 500 or a half-minute hang.
Scaling out adds worker processes and hosts, each with its own gates.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from service.core.config import Settings
from service.core.errors import ServiceUnavailable

RETRY_AFTER_SECONDS = 2


class ConcurrencyGate:
    """``slots`` holders at a time; :meth:`slot` waits up to ``wait_seconds`` for one.

    The wait happens on the event loop, never in a worker thread: a request thread blocked on
    the gate would hold one of the thread pool's 40 threads, and once they were all waiting,
    the requests holding the slots could not run their own clean-up (commit, release) in a
    thread, and every request would wait out the timeout.
    """

    def __init__(self, name: str, slots: int, wait_seconds: float) -> None:
        self.name = name
        self.slots = slots
        self.wait_seconds = wait_seconds
        self._semaphore = asyncio.Semaphore(slots)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a slot for the ``async with`` block, or raise :class:`ServiceUnavailable` in time."""
        try:
            await asyncio.wait_for(self._semaphore.acquire(), timeout=self.wait_seconds)
        except TimeoutError:
            raise ServiceUnavailable(
                f"Too much {self.name} work in flight; try again in a moment",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            ) from None
        try:
            yield
        finally:
            self._semaphore.release()


@dataclass(frozen=True)
class Gates:
    """The app's gates, one per kind of CPU-heavy request."""

    issuing: ConcurrencyGate
    verifying: ConcurrencyGate

    @classmethod
    def from_settings(cls, settings: Settings) -> Gates:
        return cls(
            issuing=ConcurrencyGate("issuing", settings.issuing_concurrency, settings.overload_wait_seconds),
            verifying=ConcurrencyGate("verification", settings.verify_concurrency, settings.overload_wait_seconds),
        )


async def _gates(request: Request) -> Gates:
    gates: Gates = request.app.state.gates
    return gates


GatesDep = Annotated[Gates, Depends(_gates)]
"""The app's gates, for a route that takes a slot for part of its work only."""


async def issuing_slot(gates: Annotated[Gates, Depends(_gates)]) -> AsyncIterator[None]:
    """Dependency: hold an issuing slot for the whole request, commit included."""
    async with gates.issuing.slot():
        yield


async def verifying_slot(gates: Annotated[Gates, Depends(_gates)]) -> AsyncIterator[None]:
    """Dependency: hold a verification slot for the whole request."""
    async with gates.verifying.slot():
        yield


IssuingSlot = Depends(issuing_slot, scope="function")
"""Route dependency for requests that sign credentials (list it before the session)."""
VerifyingSlot = Depends(verifying_slot, scope="function")
"""Route dependency for requests that verify submitted credentials."""
