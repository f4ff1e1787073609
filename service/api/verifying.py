"""Verifying a credential someone submitted: what ``POST /v1/verify`` and the verify page
(``POST /verify``) both do with the bytes they were given, so there is one pipeline.

1. A report kept for exactly these bytes, whose every input reads the same again, is answered
   from the cache (:meth:`~service.verification.service.Verifier.fresh_kept`): no signature
   checked, no verification slot taken, and one database read shared by the requests that asked
   meanwhile, started after each of them;
2. otherwise the bytes are verified (format sniffed, a baked image opened, the proof or JWT
   checked, the issuer's key and the status lists resolved) in a worker thread, holding one of
   the app's verification slots (:class:`~service.api.gates.Gates`): a busy server answers
   ``503`` quickly instead of queueing CPU-heavy work without bound.

The API answers the JSON form (a kept report's is made once, when it is kept); the page needs the
report itself to put it into words.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from service.api.deps import get_read_engine
from service.api.gates import Gates
from service.core.config import Settings
from service.core.keystore import Keystore
from service.vc.report import VerificationReport
from service.verification.cache import report_json
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

    async def report_json(self, data: bytes) -> bytes:
        """The report's JSON form (:func:`~service.verification.cache.report_json`) for
        ``POST /v1/verify``: a kept report's is made once, when it is kept."""
        kept = await self.verifier.fresh_kept(self.engine, self.settings, data, now=self.now)
        if kept is not None:
            return kept.json
        return report_json(await self._verify(data))

    async def report(self, data: bytes) -> VerificationReport:
        """The report itself (with the credential it read), for a page that puts it into words."""
        kept = await self.verifier.fresh_kept(self.engine, self.settings, data, now=self.now)
        if kept is not None:
            return copy.deepcopy(kept.report)
        return await self._verify(data)

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
