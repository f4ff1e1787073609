"""Recording audit events. There is deliberately no update or delete here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.core.models import new_id, utcnow
from service.core.paging import PageParams, paginate


def record(
    session: Session,
    *,
    action: str,
    object_type: str,
    object_id: str,
    actor: Any = None,
    issuer_id: str | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Append an event in the caller's transaction (so it commits or rolls back with the change)."""
    event = AuditEvent(
        action=action,
        object_type=object_type,
        object_id=object_id,
        actor_id=getattr(actor, "id", None),
        actor_role=str(getattr(actor, "role", "")) or None,
        issuer_id=issuer_id,
        before=before or {},
        after=after or {},
    )
    session.add(event)
    return event


def record_many(session: Session, events: Sequence[Mapping[str, Any]]) -> None:
    """:func:`record` for several events, each given as the mapping of its keyword arguments,
    appended in the caller's transaction with one multi-row INSERT and no ORM object (a bulk
    batch): the rows :func:`record` would write."""
    rows = [
        {
            "id": new_id(),
            "at": utcnow(),
            "actor_id": getattr(event.get("actor"), "id", None),
            "actor_role": str(getattr(event.get("actor"), "role", "")) or None,
            "action": event["action"],
            "object_type": event["object_type"],
            "object_id": event["object_id"],
            "issuer_id": event.get("issuer_id"),
            "before": event.get("before") or {},
            "after": event.get("after") or {},
        }
        for event in events
    ]
    if rows:
        session.connection().execute(insert(AuditEvent.__table__), rows)  # type: ignore[attr-defined]


def list_events(
    session: Session,
    params: PageParams,
    *,
    sees_every_issuer: bool,
    viewer_issuer_id: str | None,
    issuer_id: str | None = None,
    action: str | None = None,
    object_id: str | None = None,
) -> tuple[list[AuditEvent], int]:
    """One page of events, newest first. A viewer who ``sees_every_issuer`` (an admin) sees every
    event, optionally one issuer's (``issuer_id``); any other viewer sees only the events of
    ``viewer_issuer_id``, whatever ``issuer_id`` they ask for, and nothing without an issuer."""
    statement = select(AuditEvent).order_by(col(AuditEvent.at).desc(), col(AuditEvent.id))
    if not sees_every_issuer:
        issuer_id = viewer_issuer_id
        if issuer_id is None:
            return [], 0
    if issuer_id is not None:
        statement = statement.where(AuditEvent.issuer_id == issuer_id)
    if action is not None:
        statement = statement.where(AuditEvent.action == action)
    if object_id is not None:
        statement = statement.where(AuditEvent.object_id == object_id)
    return paginate(session, statement, params)
