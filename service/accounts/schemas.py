"""Account API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from service.accounts.models import Role
from service.core.validation import SHOWN_NAME, Email

PASSWORD_RULE = (
    "12 to 256 characters, not only whitespace, not the email address, not a common or breached "
    "password, and not easy to guess (a dictionary word, name, date, keyboard pattern or repetition, "
    "as zxcvbn estimates): 422 `weak_password` otherwise"
)
#: Issuer admins and reviewers act for one issuer and name it; admins and earners name none
#: (the service's rule, 400 `issuer_required` / `bad_request`, written into the schema).
_ISSUER_ROLE_RULE: dict[str, Any] = {
    "if": {"properties": {"role": {"enum": [Role.issuer_admin.value, Role.reviewer.value]}}, "required": ["role"]},
    "then": {"required": ["issuer_id"], "properties": {"issuer_id": {"type": "string", "minLength": 1}}},
    "else": {"properties": {"issuer_id": {"type": "null"}}},
}


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class AccountCreate(BaseModel):
    """A new account. ``issuer_id`` names the issuer of an issuer admin or reviewer (an issuer
    that does not exist is 400 `issuer_required`) and is absent or null for other roles."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_ISSUER_ROLE_RULE)

    email: Email
    password: str = Field(min_length=12, max_length=256, description=PASSWORD_RULE)
    role: Role
    issuer_id: str | None = Field(default=None, max_length=36)


DisplayName = Annotated[str, Field(max_length=100), SHOWN_NAME]
"""The name a person is shown by (on their public badge pages, when they allow it): 1 to 100
characters after trimming, on one line, no control or invisible formatting characters."""


class EarnerRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: str = Field(min_length=12, max_length=256, description=PASSWORD_RULE)
    display_name: DisplayName | None = Field(
        default=None, description="The name your badge pages show (when you allow it); you can change it later."
    )


class AccountUpdate(BaseModel):
    """Changes to the signed-in account: its ``display_name`` (null removes it)."""

    model_config = ConfigDict(extra="forbid")

    display_name: DisplayName | None


class AccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    display_name: str | None = None
    role: Role
    issuer_id: str | None
    email_verified: bool
    created_at: datetime


class RegistrationOut(BaseModel):
    """A registration was taken: a verification token is on its way to the address, unless the
    address already has an account (its owner is mailed a notice instead; the answer is the same).
    Credentials issued to the address become visible once it is verified
    (``POST /v1/auth/verify-email``)."""

    email: str = Field(description="The address as stored: trimmed and lower-cased.")
    detail: str = Field(
        default="Check your email: a verification token was sent to this address.",
        description="The same text for every registration.",
    )

    verification_token: str | None = Field(
        default=None,
        description=(
            "The email verification token, mailed to the address. Development and test deployments "
            "also return it here when an account was created; production never does."
        ),
    )


class EmailVerificationOut(BaseModel):
    verification_token: str | None = Field(
        default=None, description=("Mailed to the address; also returned here outside production.")
    )


class EmailVerificationIn(BaseModel):
    """A verification token to redeem; also how the owner of an account a platform provisioned
    claims it: such an account has no password, so ``password`` is required for it (and refused,
    422 `password_not_expected`, for an account that has one)."""

    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=16, max_length=128)
    password: str | None = Field(
        default=None,
        min_length=12,
        max_length=256,
        description="Only when claiming a provisioned account (it has none yet): its new password, " + PASSWORD_RULE,
    )
