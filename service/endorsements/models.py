"""Endorsement tables: the endorsements themselves (signed JSON stored verbatim), the email
verification requests of endorsements SkillCred signs on a client's behalf, and the challenges a
client with their own DID signs to prove control of it.

Personal data: a request keeps the client's email address only while it waits for confirmation
(it is erased when the request is confirmed, expires or locks); endorsements keep only what the
signed credential publishes (the client's name and the salted hash of their address).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.core.models import created_field, id_field, json_field, timestamp_field


class EndorsementKind(StrEnum):
    """Who signed: the credential's issuer on the client's behalf, or the client's own DID key."""

    issuer_signed = "issuer_signed"
    self_signed = "self_signed"


class EndorsementState(StrEnum):
    """The earner's decision: ``pending`` -> ``accepted`` | ``hidden``; either may later become
    the other. Only accepted endorsements are public. The issuer's admins may revoke one in any
    state: ``revoked`` is final (its status bit is set when it has a status entry)."""

    pending = "pending"
    accepted = "accepted"
    hidden = "hidden"
    revoked = "revoked"


class RequestState(StrEnum):
    pending = "pending"
    confirmed = "confirmed"
    expired = "expired"
    locked = "locked"
    """Too many wrong tokens: the request is dead; the client may ask again."""


class Endorsement(SQLModel, table=True):
    """An OB 3.0 EndorsementCredential about one issued credential. ``jsonld`` is the signed text,
    served byte for byte at ``/endorsements/{id}``; the other columns are read from it."""

    __table_args__ = (UniqueConstraint("credential_id", "endorsement_uri"),)

    id: str = id_field()
    credential_id: str = Field(foreign_key="credential.id", max_length=36)  # led by the unique index
    issuer_id: str = Field(foreign_key="issuer.id", index=True, max_length=36)
    """The endorsed credential's issuer (whose staff may read the endorsement)."""
    kind: str = Field(max_length=16)
    """An :class:`EndorsementKind`."""
    state: str = Field(default=EndorsementState.pending, max_length=16)
    """An :class:`EndorsementState`."""
    endorsement_uri: str = Field(max_length=2048)
    """The EndorsementCredential's own ``id``."""
    endorser_id: str = Field(max_length=2048)
    """Its ``issuer`` id: the issuer's DID (issuer_signed) or the client's DID (self_signed)."""
    endorser_name: str = Field(max_length=200)
    comment: str = Field(sa_type=Text, nullable=False)
    jsonld: str = Field(sa_type=Text, nullable=False)
    issued_at: datetime = created_field()
    state_changed_at: datetime | None = timestamp_field()
    request_id: str | None = Field(default=None, foreign_key="endorsementrequest.id", max_length=36)


class EndorsementRequest(SQLModel, table=True):
    """A client's request to endorse a credential, waiting for them to confirm their email
    address with the one-time token sent to it. Only the token's SHA-256 is stored."""

    id: str = id_field()
    credential_id: str = Field(foreign_key="credential.id", index=True, max_length=36)
    state: str = Field(default=RequestState.pending, max_length=16)
    """A :class:`RequestState`."""
    email: str | None = Field(default=None, max_length=320)
    """The address to confirm; erased once the request is no longer pending."""
    open_key: str | None = Field(default=None, max_length=64, unique=True)
    """SHA-256 of (credential, email) while pending, else None: one pending request per email
    address per credential, enforced by the database."""
    endorser_name: str = Field(max_length=200)
    statement: str = Field(sa_type=Text, nullable=False)
    engagement: dict = json_field(dict)
    token_hash: str = Field(max_length=64)
    expires_at: datetime = created_field()
    attempts: int = 0
    created_at: datetime = created_field()
    confirmed_at: datetime | None = timestamp_field()


class EndorsementChallenge(SQLModel, table=True):
    """A random nonce a client signs with a key of ``did`` to prove they control it before they
    submit an endorsement signed by that DID; bound to one credential, short-lived, single use."""

    id: str = id_field()
    credential_id: str = Field(foreign_key="credential.id", index=True, max_length=36)
    did: str = Field(max_length=2048)
    nonce: str = Field(max_length=64, unique=True)
    expires_at: datetime = created_field()
    used_at: datetime | None = timestamp_field()
    created_at: datetime = created_field()
