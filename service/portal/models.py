"""The browser session table: one row per signed-in browser, found by the hash of its cookie."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from service.core.models import created_field, id_field, timestamp_field


class PortalSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored, so a copy
    of the database signs nobody in. Deleting the row ends the session at once (sign-out, a
    changed password, a disabled account)."""

    id: str = id_field()
    token_hash: str = Field(max_length=64, unique=True, index=True)
    account_id: str = Field(foreign_key="account.id", index=True, max_length=36)
    password_stamp: str = Field(max_length=64)
    """SHA-256 of the account's password hash at sign-in: once the password changes, it differs
    and the session ends (whatever changed it: the CLI, a claim, a reset)."""
    created_at: datetime = created_field()
    last_seen_at: datetime = created_field()
    """The session ends after an idle spell (:data:`service.portal.sessions.IDLE_TIMEOUT`)."""
    expires_at: datetime = timestamp_field(nullable=False, index=True)
    """The absolute end, however active the session (:data:`service.portal.sessions.ABSOLUTE_LIFETIME`)."""
