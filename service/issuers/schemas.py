"""Issuer API shapes: what clients send (strict, size-limited) and what they get back.

No response shape here carries private key material: keys are described by their public JWK,
verification method id and dates only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from service.core.validation import TRIMMED_TEXT, DateTimeText, Email, HttpUrlText

# Lengths are of the text as sent (the OpenAPI document's maxLength); surrounding whitespace is
# then dropped.
IssuerName = Annotated[str, Field(max_length=200), TRIMMED_TEXT]
Description = Annotated[str, Field(max_length=4000), AfterValidator(str.strip)]


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

    # name and url may be left out but not cleared: null is refused, and the schema says so
    name: IssuerName | SkipJsonSchema[None] = None
    url: HttpUrlText | SkipJsonSchema[None] = None
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
    compromised_at: datetime | None = Field(
        description="From when the issuer reported the key known or suspected compromised (null: it was not); "
        "nothing it signed verifies any more"
    )
    compromise_reason: str | None = Field(description="Why, as the issuer reported it")


class JsonWebKeySet(BaseModel):
    """An RFC 7517 JWK Set: public keys only, ``kid`` = the verification method id."""

    keys: list[dict[str, Any]]


CompromiseReason = Annotated[str, Field(max_length=500), TRIMMED_TEXT]


class KeyCompromiseIn(BaseModel):
    """A report that one of the issuer's keys is known or suspected compromised."""

    model_config = ConfigDict(extra="forbid")

    compromised_at: DateTimeText | None = Field(
        default=None,
        description="From when the key is known or suspected compromised (with a time zone; not in the future). "
        "Default: now. Whatever it says, nothing the key signed verifies any more: a thief can backdate.",
    )
    reason: CompromiseReason = Field(
        description="Why, in a sentence: shown to the issuer's staff and in the verification report of every "
        "credential the key signed (public: the badge page and POST /v1/verify show it)"
    )


class KeyCompromiseOut(BaseModel):
    """The key as now recorded, the key that replaced it (when it was active), and where to list
    what it signed."""

    key: SigningKeyOut
    replacement: SigningKeyOut | None = Field(
        description="The new active key of the same algorithm (null when the compromised key was already retired)"
    )
    status_lists_resigned: int = Field(
        description="The issuer's status lists the key had signed: they are signed again with the active key"
    )
    affected_credentials: str = Field(
        description="The path of the report of the credentials and endorsements the key signed (to reissue them)"
    )


class SignedByKeyOut(BaseModel):
    """A credential or endorsement a key signed, stored by this service."""

    kind: Literal["credential", "endorsement"]
    id: str = Field(description="The credential's or the endorsement's id")
    credential_id: str = Field(description="The credential itself, or the credential the endorsement is about")
    formats: list[Literal["json-ld", "vc-jwt"]] = Field(
        description="The signed forms the key signed: the JSON-LD proof (Ed25519 keys), the VC-JWT (RSA keys)"
    )
    issued_at: datetime
    state: str = Field(description="The credential's state (active, suspended, revoked) or the endorsement's")
