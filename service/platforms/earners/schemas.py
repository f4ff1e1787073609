"""API shapes of the earners a platform provisions."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from service.core.validation import Email

_NO_CONTROL = r"^[^\x00-\x1f\x7f]+$"


class EarnerProvision(BaseModel):
    """A platform's user to provision as an earner."""

    model_config = ConfigDict(extra="forbid")

    external_id: str = Field(
        min_length=1, max_length=255, pattern=_NO_CONTROL, description="Your platform's own id for this user."
    )
    email: Email = Field(description="The user's address: the claim token is mailed there.")
    display_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        pattern=_NO_CONTROL,
        description="How to greet the user in the claim message (not stored).",
    )
    issuer_id: str | None = Field(
        default=None,
        max_length=36,
        description="Admins only: the issuer whose earner this is (a client or issuer admin acts for its own).",
    )
    client_id: str | None = Field(
        default=None,
        max_length=64,
        description="People only: the issuer's platform client the earner is provisioned for "
        "(a client token provisions for its own client).",
    )


class PlatformEarnerOut(BaseModel):
    """An earner a platform provisioned."""

    id: str = Field(description="The earner's account id: name it in `On-Behalf-Of` to act for them.")
    external_id: str
    email: str
    email_verified: bool = Field(description="Whether the earner proved the address (claimed the account).")
    claimed: bool = Field(description="Whether the earner set a password and can sign in.")
    issuer_id: str
    created_at: datetime = Field(description="When the platform provisioned the earner.")
