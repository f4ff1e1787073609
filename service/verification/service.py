"""Verifying credentials for the API and the public badge page. No FastAPI here.

Keys resolve without any network: ``did:key`` offline, this deployment's own ``did:web`` issuers
from the database (:class:`~service.issuers.resolver.LocalKeyResolver`, the same DID documents the
public routes serve). A foreign ``did:web`` is not fetched: the report's ``issuer_key`` check says
that its key could not be resolved.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.config import Settings
from service.issuers.resolver import LocalKeyResolver
from service.vc.did import ChainedKeyResolver, DidKeyResolver, KeyResolver
from service.vc.report import VerificationReport
from service.vc.verify import verify


def key_resolver(session: Session, settings: Settings) -> KeyResolver:
    """did:key offline, then this deployment's did:web issuers from ``session``."""
    return ChainedKeyResolver(DidKeyResolver(), LocalKeyResolver(session, settings))


def verify_in_session(session: Session, settings: Settings, source: Mapping[str, Any] | str | bytes,
                      *, now: datetime | None = None) -> VerificationReport:
    """Verify ``source`` (JSON-LD, a compact VC-JWT or baked image bytes); never raises for bad input."""
    return verify(source, key_resolver=key_resolver(session, settings), now=now)


def verify_with_engine(engine: Engine, settings: Settings, source: Mapping[str, Any] | str | bytes,
                       *, now: datetime | None = None) -> VerificationReport:
    """Like :func:`verify_in_session` with a read-only session of its own, opened and closed here
    (so it can run in a worker thread: the session never crosses threads)."""
    with Session(engine) as session:
        return verify_in_session(session, settings, source, now=now)
