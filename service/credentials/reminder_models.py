"""The expiry reminder ledger: one row per credential and reminder kind, ever.

The primary key (credential, kind) is what makes ``skillcred reminders`` safe to run twice at
once: each run inserts with ``ON CONFLICT DO NOTHING`` and writes the reminder's audit event only
for the rows it really inserted (see :mod:`service.credentials.expiry`).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from service.core.models import created_field, timestamp_field


class ExpiryReminder(SQLModel, table=True):
    """A reminder recorded for a credential: ``kind`` names the reminder (``expiry``, the one
    sent N days before ``validUntil``), ``days_before`` the window it was sent with."""

    credential_id: str = Field(foreign_key="credential.id", primary_key=True, max_length=36)
    kind: str = Field(primary_key=True, max_length=32)
    valid_until: datetime | None = timestamp_field()
    days_before: int | None = None
    recorded_at: datetime = created_field()
