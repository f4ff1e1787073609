"""The outbox table: one row per event, written in the transaction of the change it reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from service.core.models import UTCDateTime, id_field, json_field, timestamp_field, utcnow


class Event(SQLModel, table=True):
    """Something that happened to one issuer's objects (``type`` e.g. ``credential.issued``),
    with its JSON ``data``. ``dispatched_at`` is set once its deliveries are made (the fan-out
    job), so a restarted worker knows which events still wait for theirs."""

    # the fan-out reads an issuer's undispatched events, oldest first: a partial index holds only
    # those, so the read does not grow with every event ever emitted (alembic b0c5e9000006)
    __table_args__ = (
        Index(
            "ix_event_undispatched",
            "issuer_id",
            "occurred_at",
            "id",
            postgresql_where=text("dispatched_at IS NULL"),
            sqlite_where=text("dispatched_at IS NULL"),
        ),
    )

    id: str = id_field()
    issuer_id: str = Field(index=True, max_length=36)
    type: str = Field(max_length=64)
    data: dict[str, Any] = json_field(dict)
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)
    dispatched_at: datetime | None = timestamp_field()
