"""Command-line entry points for the evidence domain (wired into ``skillcred evidence-sweep``)."""

from __future__ import annotations

from datetime import timedelta

from service.core.config import Settings
from service.core.db import make_engine, unit_of_work
from service.core.models import utcnow
from service.evidence.service import expire_bundle, get_blob_store, sweep_unreferenced_blobs, unsubmitted_bundles


def sweep_command(settings: Settings, *, grace_seconds: float = 3600.0) -> list[str]:
    """Delete stored evidence bytes that no item refers to any more (older than the grace
    period, so an upload still on its way is spared); returns the removed digests."""
    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(engine) as session:
            return sweep_unreferenced_blobs(session, get_blob_store(settings), grace_seconds=grace_seconds)
    finally:
        engine.dispose()


def expire_command(settings: Settings, *, days: int | None = None) -> list[str]:
    """Delete the bundles never submitted for assessment and untouched for ``days`` (default
    ``settings.evidence_unsubmitted_bundle_days``; 0 expires nothing), with their items; returns
    their ids. Each bundle is deleted in its own short transaction, so the job never holds the
    database for long. Run :func:`sweep_command` after it to remove the bytes."""
    days = settings.evidence_unsubmitted_bundle_days if days is None else days
    if days <= 0:
        return []
    untouched_since = utcnow() - timedelta(days=days)
    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(engine) as session:
            candidates = unsubmitted_bundles(session, untouched_since=untouched_since)
        expired = []
        for bundle_id in candidates:
            with unit_of_work(engine) as session:
                if expire_bundle(session, bundle_id, untouched_since=untouched_since):
                    expired.append(bundle_id)
        return expired
    finally:
        engine.dispose()
