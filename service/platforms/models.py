"""Tables of the platform integration: OAuth 2.0 clients, their grants (token families), refresh
tokens, authorization codes, the earners a platform provisioned, and the credentials platforms
store in earners' backpacks through the Open Badges 3.0 API.

Secrets are never stored: a client secret is an argon2 hash (as a password), a refresh token and an
authorization code are the sha256 of the value handed out (they are long random strings, so a fast
hash is enough and lets the token endpoint find the row).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.core.models import created_field, id_field, json_field, timestamp_field


class OAuthClient(SQLModel, table=True):
    """A platform app registered to an issuer (its tenant), or an earner-facing app registered
    openly (no issuer: it may only act for earners who consent, through the authorization code
    grant). A confidential client of an issuer acts through its service account, an account of role
    ``issuer_admin`` with no password, bounded by the scopes the client holds."""

    id: str = id_field()
    client_id: str = Field(max_length=64, unique=True, index=True)
    secret_hash: str | None = Field(default=None, max_length=255)
    """argon2 hash of the client secret; None for a public client (PKCE, no secret)."""
    name: str = Field(max_length=200)
    issuer_id: str | None = Field(default=None, foreign_key="issuer.id", index=True, max_length=36)
    account_id: str | None = Field(default=None, foreign_key="account.id", max_length=36)
    """The service account a client credentials token names (None for a client with no issuer)."""
    metadata_: dict = json_field(dict)
    """The registered client metadata (RFC 7591 section 2): redirect_uris, grant_types,
    response_types, token_endpoint_auth_method, scope, client_uri, logo_uri, tos_uri, ..."""
    registered_by: str | None = Field(default=None, foreign_key="account.id", max_length=36)
    created_at: datetime = created_field()
    revoked_at: datetime | None = timestamp_field()


class OAuthGrant(SQLModel, table=True):
    """What one client may do for one account: a token family. Every access token names its grant
    (claim ``fam``) and every request checks it, so revoking a grant, its client or a reused
    refresh token's family stops its access tokens at once."""

    id: str = id_field()
    client_pk: str = Field(foreign_key="oauthclient.id", index=True, max_length=36)
    account_id: str = Field(foreign_key="account.id", index=True, max_length=36)
    scope: str = Field(max_length=2000)
    grant_type: str = Field(max_length=40)
    created_at: datetime = created_field()
    expires_at: datetime | None = timestamp_field(index=True)
    revoked_at: datetime | None = timestamp_field()
    revoked_reason: str | None = Field(default=None, max_length=40)


class OAuthRefreshToken(SQLModel, table=True):
    """One refresh token of a grant. Used once: redeeming it marks ``used_at`` and hands out its
    successor; redeeming a used one again is a replay, and revokes the whole grant."""

    token_hash: str = Field(primary_key=True, max_length=64)
    grant_id: str = Field(foreign_key="oauthgrant.id", index=True, max_length=36)
    issued_at: datetime = created_field()
    expires_at: datetime = timestamp_field(nullable=False)
    used_at: datetime | None = timestamp_field()


class OAuthAuthorizationCode(SQLModel, table=True):
    """An authorization code (RFC 6749 section 4.1) with its PKCE challenge (RFC 7636, S256 only)."""

    code_hash: str = Field(primary_key=True, max_length=64)
    client_pk: str = Field(foreign_key="oauthclient.id", index=True, max_length=36)
    account_id: str = Field(foreign_key="account.id", max_length=36)
    redirect_uri: str = Field(max_length=2048)
    scope: str = Field(max_length=2000)
    code_challenge: str = Field(max_length=128)
    code_challenge_method: str = Field(max_length=10)
    created_at: datetime = created_field()
    expires_at: datetime = timestamp_field(nullable=False, index=True)
    used_at: datetime | None = timestamp_field()


class PlatformEarner(SQLModel, table=True):
    """An earner a platform (an issuer's client) provisioned, under the platform's own id for them.
    The issuer's clients with ``earners:provision`` may act for this earner."""

    __table_args__ = (
        UniqueConstraint("issuer_id", "external_id", name="uq_platformearner_external_id"),
        UniqueConstraint("issuer_id", "account_id", name="uq_platformearner_account_id"),
    )

    id: str = id_field()
    issuer_id: str = Field(foreign_key="issuer.id", index=True, max_length=36)
    account_id: str = Field(foreign_key="account.id", index=True, max_length=36)
    external_id: str = Field(max_length=255)
    client_pk: str = Field(foreign_key="oauthclient.id", max_length=36)
    created_at: datetime = created_field()


class StoredCredential(SQLModel, table=True):
    """A credential a platform stored in an earner's backpack (``POST /ims/ob/v3p0/credentials``),
    kept verbatim: JSON-LD text exactly as received, or the compact JWS string."""

    __table_args__ = (UniqueConstraint("account_id", "credential_key"),)

    id: str = id_field()
    account_id: str = Field(foreign_key="account.id", index=True, max_length=36)
    credential_key: str = Field(max_length=2048)
    """What makes two uploads the same credential (its ``id``, else a digest of its content)."""
    format: str = Field(max_length=10)  # "jsonld" or "jwt"
    text: str = Field(sa_type=Text, nullable=False)
    client_pk: str | None = Field(default=None, foreign_key="oauthclient.id", max_length=36)
    created_at: datetime = created_field()
    updated_at: datetime = created_field()
