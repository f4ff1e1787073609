"""Verifying a credential someone submitted: what ``POST /v1/verify`` and the verify page
(``POST /verify``) both do with the bytes they were given, so there is one pipeline.

1. A report kept for exactly these bytes, whose every input reads the same again, is answered
   from the cache (:class:`~service.verification.service.Verifier`): one database statement, no
   signature checked, and no verification slot taken;
2. otherwise the bytes are verified (format sniffed, a baked image opened, the proof or JWT
   checked, the issuer's key and the status lists resolved) in a worker thread, holding one of
   the app's verification slots (:class:`~service.api.gates.Gates`): a busy server answers
   ``503`` quickly instead of queueing CPU-heavy work without bound.

The API answers the JSON form (the kept report's parts are shared, not copied); the page needs
the report itself to put it into words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from service.api.deps import get_read_engine
from service.api.gates import Gates
from service.core.config import Settings
from service.core.db import autocommitting
from service.core.keystore import Keystore
from service.vc.report import VerificationReport
from service.verification.service import Verifier


@dataclass(frozen=True)
class SubmittedCredentials:
    """Verifies submitted credential bytes (JSON-LD, a compact VC-JWT, a baked PNG or SVG) as of
    ``now``, with the app's shared verifier and its verification gate."""

    engine: Engine
    settings: Settings
    keystore: Keystore
    verifier: Verifier
    gates: Gates
    now: datetime

    async def report_json(self, data: bytes) -> dict[str, Any]:
        """The report's JSON form (:meth:`VerificationReport.to_dict`) for ``POST /v1/verify``."""
        kept = await run_in_threadpool(
            self.verifier.kept_report_json_with_engine, self.engine, self.settings, data, now=self.now
        )
        if kept is not None:
            return kept
        return (await self._verify(data)).to_dict()

    async def report(self, data: bytes) -> VerificationReport:
        """The report itself (with the credential it read), for a page that puts it into words."""
        kept = await run_in_threadpool(self._kept_report, data)
        if kept is not None:
            return kept
        return await self._verify(data)

    def _kept_report(self, data: bytes) -> VerificationReport | None:
        # a read-only session of this worker thread's own; nothing is fetched while it is open
        with Session(autocommitting(self.engine)) as session:
            return self.verifier.kept_report(session, self.settings, data, now=self.now)

    async def _verify(self, data: bytes) -> VerificationReport:
        async with self.gates.verifying.slot():
            return await run_in_threadpool(
                self.verifier.verify_with_engine,
                self.engine,
                self.settings,
                data,
                keystore=self.keystore,
                now=self.now,
                kept=False,  # just looked up: not kept, or no longer current
            )


async def submitted_credentials(request: Request) -> SubmittedCredentials:
    """The request's :class:`SubmittedCredentials` (``now`` read once, from the app's clock).

    One dependency reading ``app.state`` rather than one per part: each dependency FastAPI solves
    costs on every request, and this is the path of ``POST /v1/verify``."""
    state = request.app.state
    engine = await get_read_engine(request)
    return SubmittedCredentials(engine, state.settings, state.keystore, state.verifier, state.gates, state.clock.now())


SubmittedCredentialsDep = Annotated[SubmittedCredentials, Depends(submitted_credentials)]
