"""Recording audit events. There is deliberately no update or delete here."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from service.audit.models import AuditEvent


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
