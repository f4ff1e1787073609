"""The client registry and the grants behind every platform token. No FastAPI here, no commit.

A client of an issuer gets a service account (role ``issuer_admin`` of that issuer, no password,
``is_service``): its client credentials tokens name that account, so every route and service
scopes it to its issuer exactly as it scopes a person of that issuer, and the token's scopes bound
what it may call on top.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select, update

from service.accounts.models import Account, Role
from service.accounts.security import TokenIssuer, hash_password, verify_password
from service.audit.service import record
from service.core.errors import BadRequest, NotFound
from service.core.models import utcnow
from service.platforms import scopes as scope_names
from service.platforms.models import OAuthClient, OAuthGrant, OAuthRefreshToken

CLIENT_GRANT_TYPES = frozenset({"client_credentials", "authorization_code", "refresh_token"})
AUTH_METHODS = frozenset({"client_secret_basic", "client_secret_post", "none"})
REFRESH_TOKEN_LIFETIME = timedelta(days=30)
"""How long a refresh token stays usable (each use hands out a successor with a new lifetime)."""


class InvalidClientMetadata(BadRequest):
    code = "invalid_client_metadata"


@dataclass(frozen=True)
class RegisteredClient:
    """A newly registered client and its secret, shown this once (only its hash is kept)."""

    client: OAuthClient
    secret: str | None


def token_hash(value: str) -> str:
    """The stored form of a refresh token or authorization code (long random values: sha256)."""
    return hashlib.sha256(value.encode()).hexdigest()


def register_client(
    session: Session,
    *,
    name: str,
    issuer_id: str | None,
    scope: str,
    redirect_uris: list[str] | None = None,
    grant_types: list[str] | None = None,
    token_endpoint_auth_method: str = "client_secret_basic",
    extra_metadata: dict | None = None,
    actor: Account | None = None,
) -> RegisteredClient:
    """Register a client. With ``issuer_id`` it may use every grant and every scope; without one it
    acts only for earners who consent (authorization code grant, the earner scopes). A public
    client (``token_endpoint_auth_method`` ``none``) gets no secret and must use PKCE."""
    requested = scope_names.parse(scope)
    default_grants = ["client_credentials"] if issuer_id else ["authorization_code", "refresh_token"]
    grant_types = list(grant_types or default_grants)
    unknown = requested - scope_names.ALL
    if unknown:
        raise InvalidClientMetadata(f"Unknown scopes: {' '.join(sorted(unknown))}", code="invalid_scope")
    if not requested:
        raise InvalidClientMetadata("Name at least one scope", code="invalid_scope")
    if set(grant_types) - CLIENT_GRANT_TYPES:
        raise InvalidClientMetadata(f"grant_types may hold only {', '.join(sorted(CLIENT_GRANT_TYPES))}")
    if token_endpoint_auth_method not in AUTH_METHODS:
        raise InvalidClientMetadata(f"token_endpoint_auth_method must be one of {', '.join(sorted(AUTH_METHODS))}")
    if issuer_id is None:
        if requested - scope_names.EARNER_SCOPES:
            raise InvalidClientMetadata(
                "A client registered without an issuer may only hold the earner scopes: "
                + " ".join(sorted(scope_names.EARNER_SCOPES)),
                code="invalid_scope",
            )
        if "client_credentials" in grant_types:
            raise InvalidClientMetadata("Only an issuer's client may use the client credentials grant")
    if "client_credentials" in grant_types and token_endpoint_auth_method == "none":
        raise InvalidClientMetadata("The client credentials grant needs a confidential client (a secret)")
    if "authorization_code" in grant_types and not redirect_uris:
        raise InvalidClientMetadata("The authorization code grant needs redirect_uris", code="invalid_redirect_uri")
    for uri in redirect_uris or []:
        check_redirect_uri(uri)
    client_id = "sc_" + secrets.token_urlsafe(18)
    secret = None if token_endpoint_auth_method == "none" else secrets.token_urlsafe(32)
    account_id = None
    if issuer_id is not None:
        service_account = Account(
            email=f"{client_id.lower().replace('_', '-')}@clients.skillcred.invalid",
            password_hash="",
            role=Role.issuer_admin,
            issuer_id=issuer_id,
            is_service=True,
            email_verified_at=utcnow(),
        )
        session.add(service_account)
        session.flush()
        account_id = service_account.id
    metadata = dict(extra_metadata or {})
    metadata.update(
        client_name=name,
        scope=scope_names.render(requested),
        grant_types=grant_types,
        response_types=["code"] if "authorization_code" in grant_types else [],
        redirect_uris=list(redirect_uris or []),
        token_endpoint_auth_method=token_endpoint_auth_method,
    )
    client = OAuthClient(
        client_id=client_id,
        secret_hash=hash_password(secret) if secret else None,
        name=name,
        issuer_id=issuer_id,
        account_id=account_id,
        metadata_=metadata,
        registered_by=actor.id if actor is not None else None,
    )
    session.add(client)
    session.flush()
    record(
        session,
        action="client.register",
        object_type="oauth_client",
        object_id=client.id,
        actor=actor,
        issuer_id=issuer_id,
        after={"client_id": client_id, "name": name, "scope": metadata["scope"], "grant_types": grant_types},
    )
    return RegisteredClient(client, secret)


def check_redirect_uri(uri: str) -> None:
    """A redirect URI must be absolute, https (or http to a loopback address, RFC 8252 section 7.3),
    and carry no fragment (RFC 6749 section 3.1.2)."""
    from urllib.parse import urlsplit

    parts = urlsplit(uri)
    loopback = parts.scheme == "http" and parts.hostname in {"127.0.0.1", "localhost", "::1"}
    if not (parts.scheme == "https" or loopback) or not parts.hostname or parts.fragment or len(uri) > 2048:
        raise InvalidClientMetadata(
            f"Redirect URI {uri!r} must be an absolute https URL (http only to a loopback address), with no fragment",
            code="invalid_redirect_uri",
        )


def find_client(session: Session, client_id: str) -> OAuthClient | None:
    """The active client with this ``client_id``, or None (unknown or revoked)."""
    client = session.exec(select(OAuthClient).where(col(OAuthClient.client_id) == client_id)).first()
    return client if client is not None and client.revoked_at is None else None


def check_client_secret(client: OAuthClient, secret: str) -> bool:
    """Constant-work check of a client secret against its argon2 hash."""
    return verify_password(client.secret_hash, secret)


def list_clients(session: Session, issuer_id: str) -> list[OAuthClient]:
    """An issuer's clients, newest first (revoked ones included, marked)."""
    return list(
        session.exec(
            select(OAuthClient)
            .where(col(OAuthClient.issuer_id) == issuer_id)
            .order_by(col(OAuthClient.created_at).desc(), col(OAuthClient.id))
        )
    )


def get_issuer_client(session: Session, issuer_id: str, client_id: str) -> OAuthClient:
    """An issuer's client by its ``client_id``; 404 for another issuer's or none."""
    client = session.exec(
        select(OAuthClient).where(col(OAuthClient.client_id) == client_id, col(OAuthClient.issuer_id) == issuer_id)
    ).first()
    if client is None:
        raise NotFound("No such client", code="client_not_found")
    return client


def revoke_client(session: Session, client: OAuthClient, *, actor: Account | None = None) -> OAuthClient:
    """Revoke a client: its tokens stop working at once (every request checks the client), its
    grants are revoked and its service account disabled."""
    now = utcnow()
    if client.revoked_at is None:
        client.revoked_at = now
        session.add(client)
        session.exec(
            update(OAuthGrant)
            .where(col(OAuthGrant.client_pk) == client.id, col(OAuthGrant.revoked_at).is_(None))
            .values(revoked_at=now, revoked_reason="client_revoked")
        )
        if client.account_id is not None:
            account = session.get(Account, client.account_id)
            if account is not None:
                account.disabled = True
                session.add(account)
        record(
            session,
            action="client.revoke",
            object_type="oauth_client",
            object_id=client.id,
            actor=actor,
            issuer_id=client.issuer_id,
        )
    return client


def open_grant(
    session: Session, client: OAuthClient, account_id: str, scope: str, grant_type: str, *, expires_at: datetime | None
) -> OAuthGrant:
    """A new grant (token family) of ``client`` for ``account_id``."""
    grant = OAuthGrant(
        client_pk=client.id, account_id=account_id, scope=scope, grant_type=grant_type, expires_at=expires_at
    )
    session.add(grant)
    session.flush()
    return grant


def revoke_grant(session: Session, grant: OAuthGrant, reason: str) -> None:
    """Revoke a grant: its refresh tokens and access tokens stop working at once."""
    if grant.revoked_at is None:
        grant.revoked_at = utcnow()
        grant.revoked_reason = reason
        session.add(grant)


def store_refresh_token(session: Session, grant: OAuthGrant, token: str, *, now: datetime) -> None:
    """Keep the hash of a refresh token handed out for ``grant``."""
    expires = now + REFRESH_TOKEN_LIFETIME
    session.add(OAuthRefreshToken(token_hash=token_hash(token), grant_id=grant.id, issued_at=now, expires_at=expires))
    grant.expires_at = expires
    session.add(grant)


def mint_access_token(
    tokens: TokenIssuer,
    client: OAuthClient,
    grant: OAuthGrant,
    account: Account,
    *,
    now: datetime | None = None,
    scope: str | None = None,
) -> str:
    """An access token of ``client`` for ``account`` under ``grant``, carrying ``scope`` (the
    grant's scopes, or fewer of them)."""
    scope = grant.scope if scope is None else scope
    role = str(account.role)
    return tokens.issue(account.id, role, now=now, client_id=client.client_id, grant_id=grant.id, scope=scope)
