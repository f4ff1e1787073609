"""Authlib's model interfaces (ClientMixin, TokenMixin, AuthorizationCodeMixin) over the rows.

The rows stay plain SQLModel tables; these thin wrappers answer Authlib's questions about them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin

from service.accounts.models import Account
from service.platforms import scopes as scope_names
from service.platforms.models import OAuthAuthorizationCode, OAuthClient, OAuthGrant, OAuthRefreshToken


class Client(ClientMixin):
    """A registered client as Authlib sees it."""

    def __init__(self, row: OAuthClient) -> None:
        self.row = row
        self.metadata = row.metadata_

    @property
    def client_id(self) -> str:
        return self.row.client_id

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> str | None:
        uris = self.metadata.get("redirect_uris") or []
        return uris[0] if len(uris) == 1 else None

    @property
    def scopes(self) -> frozenset[str]:
        return scope_names.parse(self.metadata.get("scope"))

    def get_allowed_scope(self, scope: str | None) -> str:
        """Everything the client holds when it asks for nothing; else what it asked for, all of
        which it must hold (the grant refuses the request otherwise, see ``check_scope``)."""
        if not scope:
            return scope_names.render(self.scopes)
        return scope_names.render(scope_names.parse(scope) & self.scopes)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # exact string comparison (RFC 6749 section 3.1.2.3; OAuth 2.0 Security BCP 4.1.3)
        return redirect_uri in (self.metadata.get("redirect_uris") or [])

    def check_client_secret(self, client_secret: str) -> bool:
        from service.platforms.service import check_client_secret

        return check_client_secret(self.row, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.metadata.get("token_endpoint_auth_method", "client_secret_basic")

    def check_response_type(self, response_type: str) -> bool:
        return response_type in (self.metadata.get("response_types") or [])

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in (self.metadata.get("grant_types") or [])


@dataclass
class TokenOwner:
    """The account a token is for, and the grant (token family) it continues, if any."""

    account: Account
    grant: OAuthGrant | None = None

    def get_user_id(self) -> str:
        return self.account.id


class AuthorizationCode(AuthorizationCodeMixin):
    def __init__(self, row: OAuthAuthorizationCode) -> None:
        self.row = row

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope


@dataclass
class GrantToken(TokenMixin):
    """A refresh or access token, found by its value, as revocation and introspection see it."""

    grant: OAuthGrant
    client: OAuthClient
    kind: str  # "refresh_token" or "access_token"
    expires_at: int
    issued_at: int
    subject: str
    row: OAuthRefreshToken | None = None
    """The refresh token's row (None for an access token)."""
    scope: str | None = None
    """An access token's own scopes (the grant's, or fewer); None: the grant's."""

    def check_client(self, client: Client) -> bool:
        return client.row.id == self.client.id

    def get_scope(self) -> str:
        return self.scope if self.scope is not None else self.grant.scope

    def get_expires_in(self) -> int:
        return max(0, self.expires_at - self.issued_at)

    def is_expired(self) -> bool:
        return self.expires_at <= time.time()

    def is_revoked(self) -> bool:
        return self.grant.revoked_at is not None or self.client.revoked_at is not None

    def get_user(self) -> str:
        return self.subject

    def get_client(self) -> Client:
        return Client(self.client)
