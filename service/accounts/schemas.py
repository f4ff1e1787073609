"""Account API shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from service.accounts.models import Role


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: str = Field(min_length=12, max_length=256)
    role: Role
    issuer_id: str | None = Field(default=None, max_length=36)


class EarnerRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: str = Field(min_length=12, max_length=256)


class AccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
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
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=16, max_length=128)
