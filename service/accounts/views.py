"""Account rows as API responses: the one place an :class:`Account` becomes an API shape."""

from __future__ import annotations

from datetime import timedelta

from service.accounts.models import Account
from service.accounts.schemas import AccountOut, EmailVerificationOut, RegistrationOut, TokenResponse


def account_view(account: Account) -> AccountOut:
    """The account as the API shows it (never its password hash or verification token hash)."""
    return AccountOut.model_validate(account)


def registration_view(email: str, verification_token: str | None) -> RegistrationOut:
    """The answer to a registration, the same whether or not the address had an account, with the
    verification token where the deployment may show it."""
    return RegistrationOut(email=email, verification_token=verification_token)


def verification_view(verification_token: str | None) -> EmailVerificationOut:
    """A restarted email verification, with the token where the deployment may show it."""
    return EmailVerificationOut(verification_token=verification_token)


def token_view(access_token: str, ttl: timedelta) -> TokenResponse:
    """An OAuth 2.0 bearer token response (RFC 6749 section 5.1: ``expires_in`` in seconds)."""
    return TokenResponse(access_token=access_token, expires_in=int(ttl.total_seconds()))
