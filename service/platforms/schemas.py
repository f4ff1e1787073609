"""API shapes of the client registry (the admin routes; dynamic registration speaks RFC 7591)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ClientCreate(BaseModel):
    """A confidential client of this issuer, registered by hand (an issuer admin's platform)."""

    name: str = Field(min_length=1, max_length=200)
    scope: str = Field(
        min_length=1, max_length=2000, description="Space-separated scopes the client may hold (see the metadata)"
    )
    grant_types: list[str] = Field(
        default_factory=lambda: ["client_credentials"],
        max_length=3,
        description="`client_credentials`, `authorization_code`, `refresh_token`",
    )
    redirect_uris: list[str] = Field(default_factory=list, max_length=10)


class ClientOut(BaseModel):
    client_id: str
    name: str
    issuer_id: str | None
    scope: str
    grant_types: list[str]
    redirect_uris: list[str]
    created_at: datetime
    revoked_at: datetime | None


class ClientCreated(ClientOut):
    client_secret: str = Field(description="Shown this once; only its hash is kept")
