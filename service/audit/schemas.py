"""Audit API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEventOut(BaseModel):
    """One audit event: who (account id and role), what (action), when, on which object, and the
    state before and after where the action changed one."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    at: datetime
    actor_id: str | None
    actor_role: str | None
    action: str
    object_type: str
    object_id: str
    issuer_id: str | None
    before: dict[str, Any]
    after: dict[str, Any]
