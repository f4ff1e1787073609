"""Who is calling: one principal model for people and platform clients.

A bearer token names an account. A person's own token (password grant) carries no scope: the
account's role bounds it. A client's token names its client and grant and carries scopes; it names
either the client's service account (client credentials) or an earner who consented (authorization
code). A client of an issuer may also act for an earner its issuer provisioned, by naming them in
the ``On-Behalf-Of`` header. Every route then checks one thing: the principal's account (its role
and issuer) and, for a client, the principal's scopes.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from service.accounts.models import Account, Role
from service.accounts.security import AccessClaims
from service.core.errors import Forbidden, NotFound, Unauthorized
from service.platforms.models import OAuthClient, OAuthGrant, PlatformEarner

ON_BEHALF_OF = "On-Behalf-Of"
"""The request header naming the provisioned earner (account id) a client acts for."""


@dataclass(frozen=True)
class Principal:
    """The caller of a request: the account it acts as, and for a client its client, grant and
    scopes (None for a person's own token, which is bounded by the account's role alone)."""

    account: Account
    client: OAuthClient | None = None
    grant: OAuthGrant | None = None
    scopes: frozenset[str] | None = None

    @property
    def is_client(self) -> bool:
        return self.client is not None

    @property
    def owner_key(self) -> str:
        """Whose idempotency keys and rate-limit counters these are: the client's, or the person's."""
        return f"client:{self.client.client_id}" if self.client is not None else f"account:{self.account.id}"

    def allows(self, scopes: frozenset[str]) -> bool:
        """Whether this principal may call a route declaring ``scopes`` (any one of them)."""
        return self.scopes is None or bool(self.scopes & scopes)


_INVALID = "The access token is invalid or expired"


def resolve_principal(session: Session, claims: AccessClaims, on_behalf_of: str | None = None) -> Principal:
    """The principal a token's checked claims name, as the database has it now: a disabled
    account, a revoked client or a revoked grant stop the token at once. 401 when it does not
    hold; ``on_behalf_of`` as :func:`act_for` describes."""
    if not claims.is_client:
        account = session.get(Account, claims.subject)
        if account is None or account.disabled or account.is_service:
            raise Unauthorized(_INVALID)
        if on_behalf_of is not None:
            raise Forbidden(f"Only a platform client's token may use {ON_BEHALF_OF}", code="on_behalf_of_refused")
        return Principal(account)
    row = session.execute(
        select(OAuthGrant, OAuthClient, Account)
        .join(OAuthClient, col(OAuthClient.id) == col(OAuthGrant.client_pk))
        .join(Account, col(Account.id) == col(OAuthGrant.account_id))
        .where(col(OAuthGrant.id) == claims.grant_id)
    ).one_or_none()
    if row is None:
        raise Unauthorized(_INVALID)
    grant, client, account = row
    if (
        grant.revoked_at is not None
        or client.revoked_at is not None
        or client.client_id != claims.client_id
        or account.id != claims.subject
        or account.disabled
    ):
        raise Unauthorized(_INVALID)
    principal = Principal(account, client, grant, claims.scopes)
    return principal if on_behalf_of is None else act_for(session, principal, on_behalf_of)


def act_for(session: Session, principal: Principal, earner_id: str) -> Principal:
    """The principal acting for the earner ``earner_id``: only a client of an issuer acting through
    its service account (client credentials), for an earner its issuer provisioned. Another
    issuer's earner, or no such earner, is 404 (nobody learns that it exists)."""
    client = principal.client
    if client is None or client.issuer_id is None or not principal.account.is_service:
        raise Forbidden(
            f"Only a platform's client credentials token may use {ON_BEHALF_OF}", code="on_behalf_of_refused"
        )
    link = session.execute(
        select(col(PlatformEarner.id)).where(
            col(PlatformEarner.issuer_id) == client.issuer_id, col(PlatformEarner.account_id) == earner_id
        )
    ).first()
    earner = session.get(Account, earner_id) if link is not None else None
    if earner is None or earner.role != Role.earner or earner.disabled:
        raise NotFound("No such earner among your platform's earners", code="earner_not_found")
    return Principal(earner, client, principal.grant, principal.scopes)
