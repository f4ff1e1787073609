"""The grants SkillCred allows, as Authlib grant classes over the tables.

- client credentials (RFC 6749 section 4.4): an issuer's confidential client, for itself;
- authorization code (section 4.1) with PKCE (RFC 7636), S256 only and required of every client;
- refresh token (section 6), rotated on every use; a used refresh token presented again means it
  leaked, and revokes its whole grant (OAuth 2.0 Security BCP, RFC 9700 section 4.14.2).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError, InvalidScopeError
from authlib.oauth2.rfc7636 import CodeChallenge
from sqlmodel import Session, col, select

from service.accounts.models import Account
from service.core.models import utcnow
from service.platforms import scopes as scope_names
from service.platforms.models import OAuthAuthorizationCode, OAuthClient, OAuthGrant, OAuthRefreshToken
from service.platforms.oauth.models import AuthorizationCode, Client, GrantToken, TokenOwner
from service.platforms.service import revoke_grant, token_hash

AUTHORIZATION_CODE_LIFETIME = timedelta(minutes=5)


def _session(grant: Any) -> Session:
    session: Session = grant.server.session
    return session


def check_scope(client: Client, requested: str | None, *, ceiling: frozenset[str] | None = None) -> None:
    """Refuse (``invalid_scope``) a request for a scope the client does not hold, or beyond
    ``ceiling`` (what the grant can give at all)."""
    asked = scope_names.parse(requested)
    allowed = client.scopes if ceiling is None else client.scopes & ceiling
    beyond = asked - allowed
    if beyond:
        raise InvalidScopeError(f"This client may not ask for: {' '.join(sorted(beyond))}")


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def validate_token_request(self) -> None:
        super().validate_token_request()
        check_scope(self.request.client, self.request.payload.scope)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def validate_authorization_request(self) -> str:
        redirect_uri: str = super().validate_authorization_request()
        check_scope(self.request.client, self.request.payload.scope, ceiling=scope_names.EARNER_SCOPES)
        return redirect_uri

    def save_authorization_code(self, code: str, request: Any) -> None:
        owner: TokenOwner = request.user
        client: Client = request.client
        scope = client.get_allowed_scope(request.payload.scope)
        if not request.payload.scope:
            scope = scope_names.render(client.scopes & scope_names.EARNER_SCOPES)
        _session(self).add(
            OAuthAuthorizationCode(
                code_hash=token_hash(code),
                client_pk=client.row.id,
                account_id=owner.account.id,
                redirect_uri=request.payload.redirect_uri or "",
                scope=scope,
                code_challenge=request.payload.data["code_challenge"],
                code_challenge_method=request.payload.data.get("code_challenge_method", "S256"),
                expires_at=utcnow() + AUTHORIZATION_CODE_LIFETIME,
            )
        )

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        row = (
            _session(self)
            .exec(
                select(OAuthAuthorizationCode)
                .where(col(OAuthAuthorizationCode.code_hash) == token_hash(code))
                .with_for_update()
            )
            .first()
        )
        if row is None or row.client_pk != client.row.id or row.used_at is not None or row.expires_at <= utcnow():
            return None
        return AuthorizationCode(row)

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        row = authorization_code.row
        row.used_at = utcnow()  # kept (not deleted) until the cleanup job, so a replay finds it used
        _session(self).add(row)

    def authenticate_user(self, authorization_code: AuthorizationCode) -> TokenOwner | None:
        account = _session(self).get(Account, authorization_code.row.account_id)
        return TokenOwner(account) if account is not None and not account.disabled else None


class RequiredS256(CodeChallenge):
    """PKCE for every client, confidential ones too, and only with S256 (RFC 9700 section 2.1.1:
    "plain" protects nothing against an attacker who reads the authorization request)."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge (and code_challenge_method=S256)")
        if data.get("code_challenge_method", "S256") != "S256":
            raise InvalidRequestError("Only code_challenge_method=S256 is supported")
        super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge(self, authorization_code: AuthorizationCode) -> str:
        return authorization_code.row.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: AuthorizationCode) -> str:
        return authorization_code.row.code_challenge_method


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> GrantToken | None:
        session = _session(self)
        row = session.exec(
            select(OAuthRefreshToken)
            .where(col(OAuthRefreshToken.token_hash) == token_hash(refresh_token))
            .with_for_update()
        ).first()
        if row is None:
            return None
        grant = session.get(OAuthGrant, row.grant_id)
        client = session.get(OAuthClient, grant.client_pk) if grant is not None else None
        if grant is None or client is None:
            return None
        if row.used_at is not None:
            # a replay: the token was already exchanged, so someone else holds one of the two
            revoke_grant(session, grant, "refresh_token_reused")
            self.server.reused_refresh_token = True
            return None
        if row.expires_at <= utcnow() or grant.revoked_at is not None or client.revoked_at is not None:
            return None
        token = GrantToken(
            grant=grant,
            client=client,
            kind="refresh_token",
            expires_at=int(row.expires_at.timestamp()),
            issued_at=int(row.issued_at.timestamp()),
            subject=grant.account_id,
            row=row,
        )
        return token

    def authenticate_user(self, refresh_token: GrantToken) -> TokenOwner | None:
        account = _session(self).get(Account, refresh_token.grant.account_id)
        if account is None or account.disabled:
            return None
        return TokenOwner(account, refresh_token.grant)

    def revoke_old_credential(self, refresh_token: GrantToken) -> None:
        row = refresh_token.row
        assert row is not None
        row.used_at = utcnow()
        _session(self).add(row)
