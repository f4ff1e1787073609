"""Issuer and signing-key tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.core.models import created_field, id_field, json_field, timestamp_field


class Issuer(SQLModel, table=True):
    """An issuing organisation: its OB 3.0 Profile and its did:web."""

    id: str = id_field()
    name: str = Field(max_length=200)
    url: str = Field(max_length=2048)
    email: str | None = Field(default=None, max_length=320)
    image: str | None = Field(default=None, max_length=2048)
    description: str | None = Field(default=None, max_length=4000)
    did: str = Field(max_length=512, unique=True)
    created_at: datetime = created_field()
    updated_at: datetime = created_field()


class SigningKey(SQLModel, table=True):
    """One issuer key. The private part is sealed by the keystore; retired keys stay published.

    A key reported compromised (``compromised_at`` set) never signs again and is published as
    revoked: nothing it signed verifies any more, whatever dates it carries."""

    __table_args__ = (UniqueConstraint("issuer_id", "fragment"),)

    id: str = id_field()
    issuer_id: str = Field(foreign_key="issuer.id", index=True, max_length=36)
    algorithm: str = Field(max_length=16)  # "EdDSA" (Ed25519) or "RS256" (RSA)
    fragment: str = Field(max_length=64)  # the DID URL fragment: did:web:...#<fragment>
    public_jwk: dict = json_field(dict)
    private_sealed: bytes = Field(sa_type=LargeBinary, nullable=False)
    created_at: datetime = created_field()
    retired_at: datetime | None = timestamp_field()
    compromised_at: datetime | None = timestamp_field()
    """From when the key is known or suspected to be compromised (the issuer's word)."""
    compromise_reason: str | None = Field(default=None, max_length=500)
    """Why, as the issuer reported it (shown to the issuer's staff and in this service's verifier)."""


class IssuerDidAlias(SQLModel, table=True):
    """A did:web an issuer held before the public URL changed (``skillcred issuers move-dids``).

    The DID document of an alias lists the same keys under the old DID, so credentials signed
    before the move still resolve their issuer and ``kid``."""

    did: str = Field(primary_key=True, max_length=512)
    issuer_id: str = Field(foreign_key="issuer.id", index=True, max_length=36)
    moved_at: datetime = created_field()
