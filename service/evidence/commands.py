"""Command-line entry points for the evidence domain (wired into ``skillcred evidence-sweep``)."""

from __future__ import annotations

from service.core.config import Settings
from service.core.db import make_engine, unit_of_work
from service.evidence.service import get_blob_store, sweep_unreferenced_blobs


def sweep_command(settings: Settings, *, grace_seconds: float = 3600.0) -> list[str]:
    """Delete stored evidence bytes that no item refers to any more (older than the grace
    period, so an upload still on its way is spared); returns the removed digests."""
    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(engine) as session:
            return sweep_unreferenced_blobs(session, get_blob_store(settings), grace_seconds=grace_seconds)
    finally:
        engine.dispose()
