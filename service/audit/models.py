"""Audit event table (append-only: the service only ever inserts)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from service.core.models import created_field, id_field, json_field


class AuditEvent(SQLModel, table=True):
    """Who did what, when, to which object; with the state before and after where it matters."""

    id: str = id_field()
    at: datetime = created_field()
    actor_id: str | None = Field(default=None, max_length=36, index=True)
    actor_role: str | None = Field(default=None, max_length=20)
    action: str = Field(max_length=64, index=True)
    object_type: str = Field(max_length=32)
    object_id: str = Field(max_length=36, index=True)
    issuer_id: str | None = Field(default=None, max_length=36, index=True)
    before: dict = json_field(dict)
    after: dict = json_field(dict)
