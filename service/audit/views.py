"""Audit rows as API responses: the one place an :class:`AuditEvent` becomes an :class:`AuditEventOut`."""

from __future__ import annotations

from service.audit.models import AuditEvent
from service.audit.schemas import AuditEventOut


def audit_event_view(event: AuditEvent) -> AuditEventOut:
    """One audit event as the API shows it: who, what, when, on which object, before and after."""
    return AuditEventOut.model_validate(event)
