"""Emitting events. No FastAPI here, and nothing commits.

:func:`emit` writes the event row in the caller's transaction and, in the same transaction, asks
for the ``webhooks:fan_out`` job of its issuer that makes its deliveries: a rolled-back change leaves neither,
a committed one always has both (on SQLite, the in-process worker's recovery re-defers the
fan-out of events whose ``dispatched_at`` is still empty).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from sqlalchemy import insert
from sqlmodel import Session

from service.core.models import new_id, utcnow
from service.events.models import Event
from service.jobs.defer import JobRequest, defer

EventType = Literal[
    "credential.issued",
    "credential.revoked",
    "credential.suspended",
    "credential.unsuspended",
    "credential.expiring",
    "assessment.completed",
    "assessment.needs_review",
    "endorsement.received",
    "bulk.completed",
]
"""An event type, as subscriptions name it."""

EVENT_TYPES: tuple[str, ...] = get_args(EventType)
"""Every event type, in the order the documentation lists them."""

FAN_OUT_TASK = "webhooks:fan_out"
QUEUE = "webhooks"


def fan_out_request(issuer_id: str) -> JobRequest:
    """The job that makes the deliveries of every event of ``issuer_id`` not yet fanned out. Its
    queueing lock coalesces a burst (a bulk issuance emits one event per credential): while one
    waits, further events add no job, and the one that runs takes them all."""
    lock = f"webhooks-fan-out:{issuer_id}"
    return JobRequest(FAN_OUT_TASK, {"issuer_id": issuer_id}, queueing_lock=lock, queue=QUEUE)


def emit(session: Session, *, issuer_id: str, type: str, data: dict[str, Any]) -> None:
    """Record event ``type`` (e.g. ``credential.issued``) of issuer ``issuer_id`` with its JSON
    ``data``, in ``session``'s transaction; its deliveries are made by a job after the commit.

    Raises ``ValueError`` for a type not in :data:`EVENT_TYPES` (a programming error)."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    event = Event(issuer_id=issuer_id, type=type, data=jsonable(data), occurred_at=utcnow())
    session.add(event)  # written with the transaction's next flush: a burst goes in few statements
    defer(session, fan_out_request(issuer_id))


def emit_many(session: Session, *, issuer_id: str, type: str, data: Sequence[dict[str, Any]]) -> None:
    """:func:`emit` of one event ``type`` of issuer ``issuer_id`` per item of ``data``, with one
    multi-row INSERT and no ORM object (a bulk batch): the rows and the fan-out job :func:`emit`
    would write.

    Raises ``ValueError`` for a type not in :data:`EVENT_TYPES` (a programming error)."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    if not data:
        return
    rows = [
        {
            "id": new_id(),
            "issuer_id": issuer_id,
            "type": type,
            "data": jsonable(item),
            "occurred_at": utcnow(),
            "dispatched_at": None,
        }
        for item in data
    ]
    session.connection().execute(insert(Event.__table__), rows)  # type: ignore[attr-defined]
    defer(session, fan_out_request(issuer_id))


def jsonable(value: Any) -> Any:
    """``value`` with datetimes as RFC 3339 UTC text (``...Z``), so the stored data is JSON."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def payload(event: Event) -> dict[str, Any]:
    """The event as delivered (Standard Webhooks): ``{"id", "type", "timestamp", "data"}``."""
    return {"id": event.id, "type": event.type, "timestamp": jsonable(event.occurred_at), "data": event.data}
