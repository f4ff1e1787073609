"""Issuer API shapes: what clients send (strict, size-limited) and what they get back.

No response shape here carries private key material: keys are described by their public JWK,
verification method id and dates only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    model_validator,
)

from service.core.validation import HttpUrlText

IssuerName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
Email = Annotated[EmailStr, StringConstraints(max_length=320)]


class IssuerCreate(BaseModel):
    """A new issuer: the OB 3.0 Profile fields. The DID and the keys are made by the service."""

    model_config = ConfigDict(extra="forbid")

    name: IssuerName
    url: HttpUrlText
    email: Email | None = None
    image: HttpUrlText | None = None
    description: Description | None = None


class IssuerUpdate(BaseModel):
    """A partial update: only the fields sent change; ``null`` clears email, image or description."""

    model_config = ConfigDict(extra="forbid")

    name: IssuerName | None = None
    url: HttpUrlText | None = None
    email: Email | None = None
    image: HttpUrlText | None = None
    description: Description | None = None

    @model_validator(mode="after")
    def _required_fields_stay_set(self) -> IssuerUpdate:
        for name in ("name", "url"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be cleared")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, with their new values."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class IssuerOut(BaseModel):
    """An issuer: its Profile, its did:web and where that DID's document is served."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    did: str
    did_document_url: str
    name: str
    url: str
    email: str | None
    image: str | None
    description: str | None
    created_at: datetime
    updated_at: datetime


class SigningKeyOut(BaseModel):
    """The public part of an issuer key; retired keys stay published so old credentials verify."""

    id: str
    verification_method: str = Field(description="The DID URL proofs and JWT `kid` headers name")
    fragment: str
    algorithm: Literal["EdDSA", "RS256"]
    public_jwk: dict[str, Any]
    active: bool
    created_at: datetime
    retired_at: datetime | None


class JsonWebKeySet(BaseModel):
    """An RFC 7517 JWK Set: public keys only, ``kid`` = the verification method id."""

    keys: list[dict[str, Any]]
