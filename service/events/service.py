"""Emitting events. No FastAPI here, and nothing commits."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session


def emit(session: Session, *, issuer_id: str, type: str, data: dict[str, Any]) -> None:
    """Record event ``type`` (e.g. ``credential.issued``) of issuer ``issuer_id`` with its JSON
    ``data``, in ``session``'s transaction; its deliveries are made by a job after the commit."""
    # written by the webhooks work (issue 12): the outbox row and the fan-out job
    return None
