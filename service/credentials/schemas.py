"""Credential API shapes: the issue request (strict, size-limited) and the views the API returns.

A recipient is exactly one of an email address (published only as a salted hash) or a DID.
Evidence and results are bounded lists of bounded strings; result descriptions and rubric levels
are named by the ids (or names) the achievement gives them.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

# the achievements' text types: bounded, no control characters (PostgreSQL cannot store NUL, the
# SVG badge's XML cannot carry the others), ids that are http(s) URLs or URNs
from service.achievements.schemas import Name, Narrative, Text, Value
from service.core.validation import DateTimeText, Email, Iri, JsonBool, any_of_set, one_of_set, rule

MAX_EVIDENCE = 20
MAX_RESULTS = 50

# DID Core 1.0 section 3.1: did:<method-name>:<method-specific-id>; a DID, not a DID URL
# (no path, query or fragment).
_DID_CHAR = r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})"
DID_PATTERN = re.compile(rf"did:[a-z0-9]+:(?:{_DID_CHAR}*:)*{_DID_CHAR}+")

# OB 3.0 ResultStatusType
RESULT_STATUSES = ("Completed", "Enrolled", "Failed", "InProgress", "OnHold", "Provisional", "Withdrew")


def is_did(value: str) -> bool:
    """True for a syntactically valid DID (DID Core 1.0), e.g. ``did:key:z6Mk...``."""
    return DID_PATTERN.fullmatch(value) is not None


def _did(value: str) -> str:
    if not is_did(value):
        raise ValueError("must be a DID such as did:key:z6Mk... or did:web:example.com (no path, query or fragment)")
    return value


Did = Annotated[str, Field(min_length=8, max_length=2048), rule(_did, pattern=f"^{DID_PATTERN.pattern}$")]
"""A DID (``is_did``), documented by its pattern."""
EvidenceId = Iri
Reference = Annotated[str, Field(min_length=1, max_length=2048)]
"""The id or name of a result description or rubric level of the achievement."""


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RecipientIn(_Input):
    """Who receives the credential: exactly one of ``email`` or ``did``.

    An email is published only as a salted SHA-256 ``IdentityObject`` (the salt is per credential);
    the address itself stays on the server. A DID becomes ``credentialSubject.id``.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra=one_of_set("email", "did"))

    email: Email | None = None
    did: Did | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> RecipientIn:
        if (self.email is None) == (self.did is None):
            raise ValueError("give exactly one of email or did")
        return self

    def as_mapping(self) -> dict[str, str]:
        return {"email": self.email} if self.email is not None else {"did": str(self.did)}


class EvidenceIn(_Input):
    """Something that supports the award: a portfolio item, a report, an assessment record."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra=any_of_set("id", "name", "description", "narrative", "genre", "audience")
    )

    id: EvidenceId | None = None
    name: Name | None = None
    description: Text | None = None
    narrative: Narrative | None = None
    genre: Name | None = None
    audience: Name | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> EvidenceIn:
        if all(getattr(self, name) is None for name in type(self).model_fields):
            raise ValueError("evidence needs at least one of id, name, description, narrative, genre, audience")
        return self


class ResultIn(_Input):
    """The earner's result for one of the achievement's result descriptions.

    ``result_description`` and ``achieved_level`` name a result description of the achievement
    (and one of its rubric levels) by ``id`` or by ``name``.
    """

    result_description: Reference
    value: Value | None = None
    achieved_level: Reference | None = None
    status: Literal[RESULT_STATUSES] | None = None  # type: ignore[valid-type]


class CredentialIssue(_Input):
    """Issue the current version of an achievement to a recipient."""

    achievement_id: Annotated[str, Field(min_length=1, max_length=36)]
    recipient: RecipientIn
    valid_until: DateTimeText | None = Field(
        default=None, description="When the credential expires (with a time zone; must be in the future)"
    )
    evidence: Annotated[list[EvidenceIn], Field(max_length=MAX_EVIDENCE)] = []
    results: Annotated[list[ResultIn], Field(max_length=MAX_RESULTS)] = []


class CredentialRenew(_Input):
    """Renew a credential: a new credential of the achievement's current version to the same
    recipient. Every field is optional."""

    valid_until: DateTimeText | None = Field(
        default=None,
        description="When the new credential expires (with a time zone; in the future). "
        "Default: the achievement's validity period, else the old credential's period length, else never",
    )
    evidence: Annotated[list[EvidenceIn], Field(max_length=MAX_EVIDENCE)] | None = Field(
        default=None, description="The new credential's evidence; default: the old credential's"
    )


# --- output ---------------------------------------------------------------------------------


class RecipientOut(BaseModel):
    """The recipient as the service knows it (the credential itself carries only a hash of an email)."""

    type: Literal["email", "did"]
    email: str | None = None
    did: str | None = None


class CredentialLinks(BaseModel):
    """Where to fetch the credential in each format."""

    jsonld: str
    jwt: str
    png: str
    svg: str
    public_png: str
    public_svg: str


class CredentialSummary(BaseModel):
    """An issued credential's metadata (list items)."""

    id: str
    url: str = Field(description="The public badge URL: an HTML page for people, the credential for machines")
    issuer_id: str
    achievement_id: str
    achievement_version: int
    recipient: RecipientOut
    issued_at: datetime
    valid_from: datetime
    valid_until: datetime | None
    state: str = Field(description="active, suspended or revoked")
    status_changed_at: datetime | None = Field(description="When it was last revoked, suspended or unsuspended")
    status_reason: str | None = Field(
        description="Why (shown to the issuer's staff and the earner; never on the public page)"
    )
    issued_by: str | None
    replaces_id: str | None = Field(
        default=None, description="The credential this one renews (it stays valid until its own end unless revoked)"
    )
    public: bool = Field(
        default=True, description="The earner's choice: anyone with the link sees it (else its page answers 404)"
    )
    show_name: bool = Field(default=True, description="The earner's choice: its page shows their display name")
    links: CredentialLinks


class CredentialVisibility(BaseModel):
    """The earner's choice for one of their credentials: ``public`` (anyone with the link sees its
    page and JSON-LD; false: they answer 404 to others) and ``show_name`` (its page shows the
    earner's display name, or only the badge)."""

    model_config = ConfigDict(extra="forbid")

    public: JsonBool
    show_name: JsonBool


class CredentialOut(CredentialSummary):
    """An issued credential: its metadata and the signed JSON-LD credential."""

    credential: dict[str, Any] = Field(
        description="The signed Open Badges 3.0 credential (the same JSON as GET .../jsonld)"
    )


class CredentialRefreshOut(BaseModel):
    """The answer of the refresh service: the current version of the credential asked about."""

    requested_id: str = Field(description="The credential the refresh was asked for")
    replaced: bool = Field(description="True when a newer credential (a renewal or reissue) replaces it")
    chain: list[str] = Field(description="Credential ids from the one asked about to the current one")
    current: CredentialOut = Field(description="The current version, with its state and signed JSON-LD")
