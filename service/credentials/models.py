"""Recipient identity and credential tables. The signed JSON-LD is stored verbatim."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Text, text
from sqlmodel import Field, SQLModel

from service.core.models import created_field, id_field, timestamp_field


class CredentialState(StrEnum):
    active = "active"
    suspended = "suspended"
    revoked = "revoked"


class RecipientIdentity(SQLModel, table=True):
    """Who a credential was issued to: an email (kept server-side, only its salted hash is
    published) or a DID."""

    id: str = id_field()
    kind: str = Field(max_length=16)  # "email" | "did"
    email: str | None = Field(default=None, max_length=320, index=True)
    did: str | None = Field(default=None, max_length=2048, index=True)
    created_at: datetime = created_field()


ACTIVE_KEY_INDEX = "uq_credential_active_key"
NOT_REVOKED = text("state != 'revoked'")


class Credential(SQLModel, table=True):
    """One issued OpenBadgeCredential. ``jsonld`` is the signed text, served byte for byte."""

    __table_args__ = (
        # one unrevoked credential per key: an earner's one active credential for an achievement,
        # enforced by the database so parallel issuances cannot get past it (issue 9)
        Index(ACTIVE_KEY_INDEX, "active_key", unique=True, sqlite_where=NOT_REVOKED, postgresql_where=NOT_REVOKED),
    )

    id: str = id_field()
    issuer_id: str = Field(foreign_key="issuer.id", index=True, max_length=36)
    achievement_id: str = Field(foreign_key="achievement.id", index=True, max_length=36)
    achievement_version: int
    recipient_id: str = Field(foreign_key="recipientidentity.id", index=True, max_length=36)
    identity_salt: str | None = Field(default=None, max_length=64)
    jsonld: str = Field(sa_type=Text, nullable=False)
    vc_jwt: str = Field(sa_type=Text, nullable=False)
    issued_at: datetime = created_field()
    valid_from: datetime = created_field()
    valid_until: datetime | None = timestamp_field(index=True)
    state: CredentialState = Field(default=CredentialState.active, max_length=16)
    status_changed_at: datetime | None = timestamp_field()
    """When it was last revoked, suspended or unsuspended."""
    status_reason: str | None = Field(default=None, max_length=500)
    """Why (shown to the issuer's staff and the earner, never on the public page)."""
    issued_by: str | None = Field(default=None, foreign_key="account.id", max_length=36)
    replaces_id: str | None = Field(default=None, foreign_key="credential.id", index=True, max_length=36)
    """The credential this one renews (that one stays valid until its own end unless revoked)."""
    public: bool = Field(default=True, sa_column_kwargs={"server_default": text("true")})
    """The earner's choice: anyone with the link sees the badge page and the JSON-LD; when False
    both answer 404 to everyone but the earner and the issuer's staff."""
    show_name: bool = Field(default=True, sa_column_kwargs={"server_default": text("true")})
    """The earner's choice: the badge page shows their display name, or only the badge."""
    active_key: str | None = Field(default=None, max_length=64)
    """sha256 hex of the achievement and the recipient while this credential is that recipient's
    one active credential for an achievement that allows one (:mod:`service.credentials.entry_points`);
    None once a renewal or reissue replaced it, or when the achievement allows several."""
