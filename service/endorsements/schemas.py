"""Endorsement API shapes: the client's request and confirmation, the DID challenge and the
self-signed submission, and the views the API returns."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from service.achievements.schemas import Name, Narrative
from service.core.validation import DateText, Email, character_class, rule, rule_error
from service.credentials.schemas import DID_PATTERN, is_did
from service.endorsements.credential import MAX_ENDORSER_NAME, Engagement, endorser_name_problem
from service.endorsements.self_signed import DID_METHODS
from service.status.schemas import Reason

MAX_ENDORSEMENT_CHARS = 256 * 1024
"""A submitted EndorsementCredential's size cap (its JSON text)."""

ShortLabel = Annotated[str, Field(min_length=1, max_length=200)]


def _refused_in_names(character: str) -> bool:
    """``endorser_name_problem``'s character rule: control, format, surrogate, private-use and
    unassigned characters (category C*), line and paragraph separators."""
    category = unicodedata.category(character)
    return category[0] == "C" or category in ("Zl", "Zp")


#: What an endorser's name must hold: a character that is not a space (then, with nothing refused
#: in it, the name is not blank).
ENDORSER_NAME_PATTERN = f"[^{character_class(lambda c: unicodedata.category(c) == 'Zs')}]"
#: What it must not hold (a JSON Schema ``not``: the same rule as an allowed-characters pattern
#: costs a generator far more).
ENDORSER_NAME_REFUSED_PATTERN = f"[{character_class(_refused_in_names)}]"
_NOT_BLANK = re.compile(ENDORSER_NAME_PATTERN)
_REFUSED = re.compile(ENDORSER_NAME_REFUSED_PATTERN)


def _endorser_name(value: str) -> str:
    value_ok = _NOT_BLANK.search(value) and not _REFUSED.search(value)
    problem = endorser_name_problem(value.strip())
    if not value_ok:  # the schema's rule: the problem names the character
        raise ValueError(problem or "the name is empty")
    if problem is not None:  # a DID or URL, as people read it (NFKC, case-folded)
        raise rule_error("invalid_endorser_name", problem)
    return value.strip()


EndorserName = Annotated[
    str,
    Field(max_length=MAX_ENDORSER_NAME),
    rule(_endorser_name, pattern=ENDORSER_NAME_PATTERN, **{"not": {"pattern": ENDORSER_NAME_REFUSED_PATTERN}}),
]
"""A person's or organisation's name: no control or format characters (bidi overrides,
zero-width), not a DID or a URL (422 ``invalid_endorser_name``). It is published as the
endorser's self-described name, never as the issuer's."""

_METHODS = "|".join(re.escape(method.removeprefix("did:").removesuffix(":")) for method in DID_METHODS)
ENDORSER_DID_PATTERN = f"^did:(?:{_METHODS}):{DID_PATTERN.pattern.split(':', 2)[2]}$"


def _endorser_did(value: str) -> str:
    if not is_did(value):
        raise ValueError("must be a did:key or did:web DID (no path, query or fragment)")
    if not value.startswith(DID_METHODS):
        raise rule_error("unsupported_did_method", "Only did:key and did:web endorsers are supported")
    return value


EndorserDid = Annotated[str, Field(min_length=8, max_length=2048), rule(_endorser_did, pattern=ENDORSER_DID_PATTERN)]
"""The DID of a self-signing endorser: did:key or did:web (the methods this service resolves)."""


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EngagementIn(_Input):
    """The work the endorser hired the earner for. Every part is optional."""

    project_name: Name | None = None
    start_date: DateText | None = None
    end_date: DateText | None = None
    contract_id: ShortLabel | None = Field(default=None, description="The platform's contract id")

    @model_validator(mode="after")
    def _dates_in_order(self) -> EngagementIn:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise rule_error("dates_out_of_order", "end_date is before start_date")
        return self

    def to_engagement(self) -> Engagement:
        return Engagement(
            project_name=self.project_name,
            start_date=self.start_date,
            end_date=self.end_date,
            contract_id=self.contract_id,
        )


class EndorsementRequestIn(_Input):
    """A client asks to endorse a credential, signed by its issuer on their behalf."""

    email: Email = Field(
        description="The endorser's address: a one-time token is sent there to confirm it; "
        "the endorsement publishes only its salted hash"
    )
    name: EndorserName = Field(
        description="The endorser's name, as the endorsement shows it: in `credentialSubject.endorser`, "
        "labelled as the name they gave (never in `issuer`, which is the issuer's own Profile). No control "
        "or format characters, not a DID or URL, not the issuer's own name (422 `invalid_endorser_name`)"
    )
    statement: Narrative = Field(description="What the endorser says about the earner's work")
    engagement: EngagementIn | None = None


class EndorsementRequestOut(BaseModel):
    """A request waiting for its email confirmation."""

    id: str
    credential_id: str
    state: str
    expires_at: datetime
    verification_token: str | None = Field(
        default=None,
        description="Development and test deployments only: the one-time token "
        "that is also mailed to the address. Never returned in production.",
    )


class EndorsementConfirmIn(_Input):
    token: Annotated[str, Field(min_length=16, max_length=128)]


class ChallengeIn(_Input):
    did: EndorserDid = Field(description="The endorser's DID (did:key or did:web)")


class ChallengeOut(BaseModel):
    """What to sign: a compact JWS (EdDSA or ES256) whose header names a key of ``did`` by
    ``kid`` and whose payload is ``{"nonce": nonce, "aud": audience, "iss": did}``."""

    id: str
    did: str
    nonce: str
    audience: str = Field(description="The endorsed credential's id URL (the JWS's aud)")
    expires_at: datetime


class SignedEndorsementIn(_Input):
    """An EndorsementCredential signed by the endorser's own DID, with the proof that they
    control that DID (the challenge, signed)."""

    challenge_id: Annotated[str, Field(min_length=1, max_length=36)]
    proof: Annotated[str, Field(min_length=1, max_length=8192)] = Field(
        description="Compact JWS over the challenge (see the challenge response)"
    )
    endorsement: dict[str, Any] | Annotated[str, Field(max_length=MAX_ENDORSEMENT_CHARS)] = Field(
        description="The signed EndorsementCredential (eddsa-rdfc-2022 Data Integrity proof by a "
        "key of the DID), as a JSON object or as its JSON text (then kept byte for byte)"
    )

    @field_validator("endorsement")
    @classmethod
    def _bounded(cls, value: dict[str, Any] | str) -> dict[str, Any] | str:
        size = len(value) if isinstance(value, str) else len(json.dumps(value))
        if size > MAX_ENDORSEMENT_CHARS:
            raise ValueError(f"the endorsement is over {MAX_ENDORSEMENT_CHARS} characters")
        return value


class EndorsementOut(BaseModel):
    """An endorsement of a credential, as the earner and the issuer's staff see it."""

    id: str
    credential_id: str
    kind: str = Field(
        description="issuer_signed (the issuer signed for a client whose email it "
        "confirmed) or self_signed (signed by the client's own DID)"
    )
    state: str = Field(
        description="pending, accepted or hidden (the earner decides), or revoked (by the issuer's admins: final)"
    )
    endorser_id: str
    endorser_name: str
    comment: str
    issued_at: datetime
    state_changed_at: datetime | None = None
    url: str = Field(description="The public URL of the signed endorsement (once accepted)")
    endorsement: dict[str, Any] | None = Field(
        default=None,
        description="The signed EndorsementCredential, only while the endorsement is accepted: it is "
        "released once the earner accepts it, never before (null while pending, hidden or revoked)",
    )


class EndorsementRevokeIn(_Input):
    """Why the issuer revokes an endorsement (kept in the audit log)."""

    reason: Reason
