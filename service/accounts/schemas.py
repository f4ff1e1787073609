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


class RegistrationOut(AccountOut):
    """The new earner account. Credentials issued to its email address become visible once the
    address is verified (``POST /v1/auth/verify-email``)."""

    verification_token: str | None = Field(
        default=None,
        description=(
            "The email verification token, mailed to the address. Development and test deployments "
            "also return it here; production never does."
        ),
    )


class EmailVerificationOut(BaseModel):
    verification_token: str | None = Field(
        default=None, description=("Mailed to the address; also returned here outside production.")
    )


class EmailVerificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=16, max_length=128)
