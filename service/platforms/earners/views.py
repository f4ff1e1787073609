"""Provisioned earners as API responses: the one place a link and its account become an API shape."""

from __future__ import annotations

from service.accounts.models import Account
from service.accounts.service import is_unclaimed
from service.platforms.earners.schemas import PlatformEarnerOut
from service.platforms.models import PlatformEarner


def earner_view(link: PlatformEarner, account: Account) -> PlatformEarnerOut:
    """The earner as its platform sees it (never a password hash or a token)."""
    return PlatformEarnerOut(
        id=account.id,
        external_id=link.external_id,
        email=account.email,
        email_verified=account.email_verified,
        claimed=not is_unclaimed(account),
        issuer_id=link.issuer_id,
        created_at=link.created_at,
    )
