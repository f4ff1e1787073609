"""Account table."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from service.core.models import created_field, id_field, timestamp_field


class Role(StrEnum):
    """What an account may do. ``issuer_admin`` and ``reviewer`` act for one issuer."""

    earner = "earner"
    reviewer = "reviewer"
    issuer_admin = "issuer_admin"
    admin = "admin"


class Account(SQLModel, table=True):
    """A person who signs in: an earner (freelancer), a reviewer, an issuer admin or an admin."""

    id: str = id_field()
    email: str = Field(max_length=320, unique=True, index=True)
    display_name: str | None = Field(default=None, max_length=100)
    """The name the person chose to be shown by (on their public badge pages, when they allow it)."""
    password_hash: str = Field(max_length=255)
    role: Role = Field(max_length=20)
    issuer_id: str | None = Field(default=None, foreign_key="issuer.id", index=True, max_length=36)
    disabled: bool = False
    is_service: bool = False
    """A platform client's service account (no password, never signs in; it acts only through its
    client's tokens, within their scopes)."""
    email_verified_at: datetime | None = timestamp_field()
    """When the account proved it controls ``email``. Credentials issued to an email address are
    shown to an earner account only once this is set (else anyone could register with someone
    else's address and read their credentials). Accounts created by an admin count as verified."""
    email_verification_hash: str | None = Field(default=None, max_length=64, index=True)
    """sha256 hex of the outstanding one-time verification token (the token itself is not kept)."""
    email_verification_expires: datetime | None = timestamp_field()
    created_at: datetime = created_field()

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None
