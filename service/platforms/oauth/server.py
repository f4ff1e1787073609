"""The authorization server: Authlib's ``AuthorizationServer`` bound to one database session.

Built per request (registering grants is a few list appends), so every protocol step reads and
writes through the request's unit of work and commits with it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from authlib.oauth2 import AuthorizationServer
from sqlmodel import Session

from service.accounts.models import Account
from service.accounts.security import TokenIssuer
from service.core.models import utcnow
from service.platforms import scopes as scope_names
from service.platforms.oauth import endpoints
from service.platforms.oauth.grants import (
    AuthorizationCodeGrant,
    ClientCredentialsGrant,
    RefreshTokenGrant,
    RequiredS256,
)
from service.platforms.oauth.models import Client, TokenOwner
from service.platforms.oauth.requests import BodyJsonRequest, FormRequest, ProtocolRequest
from service.platforms.service import find_client, mint_access_token, open_grant, store_refresh_token

TOKEN_PATH = "/v1/auth/token"
AUTHORIZE_PATH = "/oauth/authorize"
REVOKE_PATH = "/oauth/revoke"
INTROSPECT_PATH = "/oauth/introspect"
REGISTER_PATH = "/oauth/register"


@dataclass(frozen=True)
class ProtocolResponse:
    """What an endpoint answers: the route turns it into an HTTP response."""

    status: int
    body: Any
    headers: list[tuple[str, str]]


class OAuthServer(AuthorizationServer):
    """Authlib's authorization server over SkillCred's clients, grants and tokens."""

    def __init__(self, session: Session, tokens: TokenIssuer, public_url: str) -> None:
        super().__init__(scopes_supported=sorted(scope_names.ALL))
        self.session = session
        self.tokens = tokens
        self.public_url = public_url.rstrip("/")
        self.reused_refresh_token = False
        self.register_grant(ClientCredentialsGrant)
        self.register_grant(AuthorizationCodeGrant, [RequiredS256(required=True)])
        self.register_grant(RefreshTokenGrant)
        self.register_endpoint(endpoints.Revocation)
        self.register_endpoint(endpoints.Introspection)

    # --- storage ---------------------------------------------------------------------------------

    def query_client(self, client_id: str) -> Client | None:
        row = find_client(self.session, client_id) if isinstance(client_id, str) and len(client_id) <= 64 else None
        return Client(row) if row is not None else None

    def generate_token(
        self,
        grant_type: str,
        client: Client,
        user: TokenOwner | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        """An access token (a signed JWT naming client, grant and scopes) and, for the
        authorization code and refresh grants, a refresh token (random, stored hashed)."""
        if user is None:  # client credentials: the client's own service account
            account = self.session.get(Account, client.row.account_id) if client.row.account_id else None
            if account is None or account.disabled:
                from authlib.oauth2.rfc6749.errors import UnauthorizedClientError

                raise UnauthorizedClientError("This client acts for no issuer")
            user = TokenOwner(account)
        if user.grant is None:
            granted = scope_names.render(scope_names.parse(scope)) or client.get_allowed_scope(None)
            user.grant = open_grant(self.session, client.row, user.account.id, granted, grant_type, expires_at=None)
        else:  # a refresh may ask for fewer of the grant's scopes (RFC 6749 section 6), never more
            granted = scope_names.render(scope_names.parse(scope) & scope_names.parse(user.grant.scope))
            granted = granted or user.grant.scope
        access = mint_access_token(self.tokens, client.row, user.grant, user.account, now=utcnow(), scope=granted)
        token: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": access,
            "expires_in": int(self.tokens.ttl / timedelta(seconds=1)),
            "scope": granted,
        }
        if include_refresh_token and client.check_grant_type("refresh_token") and grant_type != "client_credentials":
            token["refresh_token"] = secrets.token_urlsafe(32)
        self.current_grant = user.grant
        return token

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        refresh = token.get("refresh_token")
        if refresh:
            store_refresh_token(self.session, self.current_grant, refresh, now=utcnow())

    # --- HTTP adaptation -------------------------------------------------------------------------

    def create_oauth2_request(self, request: Any) -> FormRequest:
        return request if isinstance(request, FormRequest) else FormRequest(request)

    def create_json_request(self, request: ProtocolRequest) -> BodyJsonRequest:
        return BodyJsonRequest(request)

    def handle_response(self, status: int, body: Any, headers: Any) -> ProtocolResponse:
        return ProtocolResponse(status, body, list(headers or []))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None
