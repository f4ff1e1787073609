"""Token revocation (RFC 7009), introspection (RFC 7662), dynamic client registration (RFC 7591)
and the authorization server's metadata (RFC 8414), on Authlib's endpoint classes."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749.errors import AccessDeniedError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7591 import ClientRegistrationEndpoint
from authlib.oauth2.rfc7591.errors import InvalidClientMetadataError, InvalidRedirectURIError
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from sqlmodel import col, select

from service.accounts.models import Account, Role
from service.accounts.security import TOKEN_AUDIENCE
from service.core.errors import ServiceError
from service.platforms import scopes as scope_names
from service.platforms.models import OAuthClient, OAuthGrant, OAuthRefreshToken
from service.platforms.oauth.models import Client, GrantToken
from service.platforms.service import register_client, revoke_grant, token_hash

TOKEN_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
CLIENT_METADATA_KEPT = (
    "client_uri",
    "logo_uri",
    "tos_uri",
    "policy_uri",
    "contacts",
    "software_id",
    "software_version",
)


def find_token(server: Any, value: str, hint: str | None) -> GrantToken | None:
    """The refresh or access token ``value`` names, whatever the hint says (RFC 7009 section 2.1
    lets the server look beyond it), or None."""
    session = server.session
    kinds = ["access_token", "refresh_token"] if hint == "access_token" else ["refresh_token", "access_token"]
    for kind in kinds:
        if kind == "refresh_token" and len(value) <= 256:
            row = session.exec(
                select(OAuthRefreshToken).where(col(OAuthRefreshToken.token_hash) == token_hash(value))
            ).first()
            grant = session.get(OAuthGrant, row.grant_id) if row is not None else None
            client = session.get(OAuthClient, grant.client_pk) if grant is not None else None
            if row is not None and grant is not None and client is not None:
                # a used refresh token is inactive: it expired when its successor was handed out
                expires = int(row.expires_at.timestamp()) if row.used_at is None else 0
                issued = int(row.issued_at.timestamp())
                return GrantToken(grant, client, kind, expires, issued, grant.account_id, row)
        if kind == "access_token":
            claims = server.tokens.claims(value)
            if claims is None or not claims.is_client:
                continue
            grant = session.get(OAuthGrant, claims.grant_id)
            client = session.get(OAuthClient, grant.client_pk) if grant is not None else None
            if grant is None or client is None or client.client_id != claims.client_id:
                continue
            issued = claims.expires_at - int(server.tokens.ttl.total_seconds())
            token = GrantToken(grant, client, kind, claims.expires_at, issued, claims.subject)
            token.scope = " ".join(sorted(claims.scopes))
            return token
    return None


class Revocation(RevocationEndpoint):
    """RFC 7009. Revoking a refresh token or an access token revokes its whole grant: every token of
    the family stops working at once (each request checks the grant)."""

    CLIENT_AUTH_METHODS = TOKEN_AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> GrantToken | None:
        return find_token(self.server, token_string, token_type_hint)

    def revoke_token(self, token: GrantToken, request: Any) -> None:
        revoke_grant(self.server.session, token.grant, f"{token.kind}_revoked")


class Introspection(IntrospectionEndpoint):
    """RFC 7662, for a client's own tokens only (another client's token is ``active: false``)."""

    CLIENT_AUTH_METHODS = TOKEN_AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> GrantToken | None:
        return find_token(self.server, token_string, token_type_hint)

    def check_permission(self, token: GrantToken, client: Client, request: Any) -> bool:
        return token.check_client(client)

    def introspect_token(self, token: GrantToken) -> dict[str, Any]:
        return {
            "active": True,
            "client_id": token.client.client_id,
            "token_type": "Bearer" if token.kind == "access_token" else "refresh_token",
            "scope": token.scope if token.scope is not None else token.grant.scope,
            "sub": token.subject,
            "aud": TOKEN_AUDIENCE,
            "iss": self.server.public_url,
            "exp": token.expires_at,
            "iat": token.issued_at,
        }


class Registrar:
    """Who registers a client: an issuer admin (their issuer's client) or nobody (open registration)."""

    def __init__(self, account: Account | None) -> None:
        self.account = account

    def __bool__(self) -> bool:
        return True

    @property
    def issuer_id(self) -> str | None:
        return self.account.issuer_id if self.account is not None else None


class Registration(ClientRegistrationEndpoint):
    """RFC 7591 as OB 3.0 profiles it (section 6.2.2). Without a bearer token, anyone may register a
    client that acts only for earners who consent (authorization code grant, the earner scopes);
    with an issuer admin's own access token as the initial access token (RFC 7591 section 3), the
    client belongs to that issuer and may also use the client credentials grant."""

    software_statement_alg_values_supported = None

    def authenticate_token(self, request: Any) -> Registrar:
        header = request.headers.get("Authorization") or ""
        if not header:
            return Registrar(None)
        scheme, _, value = header.partition(" ")
        claims = self.server.tokens.claims(value.strip()) if scheme.lower() == "bearer" else None
        account = self.server.session.get(Account, claims.subject) if claims and not claims.is_client else None
        if account is None or account.disabled:
            raise AccessDeniedError("The initial access token is invalid or expired")
        if account.role != Role.issuer_admin or account.issuer_id is None:
            raise AccessDeniedError("Only an issuer admin's access token may register an issuer's client")
        return Registrar(account)

    def get_server_metadata(self) -> dict[str, Any]:
        return server_metadata(self.server.public_url)

    def create_registration_response(self, request: Any) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        registrar = self.authenticate_token(request)
        request.credential = registrar
        metadata = self.extract_client_metadata(request)  # Authlib checks every field (RFC 7591 section 2)
        issuer_id = registrar.issuer_id
        default_scope = scope_names.ALL if issuer_id else scope_names.EARNER_SCOPES
        try:
            registered = register_client(
                self.server.session,
                name=str(metadata.get("client_name") or "Unnamed client")[:200],
                issuer_id=issuer_id,
                scope=metadata.get("scope") or scope_names.render(default_scope),
                redirect_uris=metadata.get("redirect_uris"),
                grant_types=metadata.get("grant_types"),
                token_endpoint_auth_method=metadata.get("token_endpoint_auth_method", "client_secret_basic"),
                extra_metadata={key: metadata[key] for key in CLIENT_METADATA_KEPT if key in metadata},
                actor=registrar.account,
            )
        except ServiceError as error:
            if error.code == "invalid_redirect_uri":
                raise InvalidRedirectURIError(error.detail) from error
            raise InvalidClientMetadataError(error.detail) from error
        client = registered.client
        body: dict[str, Any] = {
            **client.metadata_,
            "client_id": client.client_id,
            "client_id_issued_at": int(client.created_at.timestamp()),
        }
        if registered.secret is not None:
            body.update(client_secret=registered.secret, client_secret_expires_at=0)
        return 201, body, [("Content-Type", "application/json"), ("Cache-Control", "no-store")]


def server_metadata(public_url: str) -> dict[str, Any]:
    """The authorization server's metadata (RFC 8414 section 2)."""
    base = public_url.rstrip("/")
    from service.platforms.oauth.server import AUTHORIZE_PATH, INTROSPECT_PATH, REGISTER_PATH, REVOKE_PATH, TOKEN_PATH

    return AuthorizationServerMetadata(
        issuer=base,
        authorization_endpoint=base + AUTHORIZE_PATH,
        token_endpoint=base + TOKEN_PATH,
        registration_endpoint=base + REGISTER_PATH,
        revocation_endpoint=base + REVOKE_PATH,
        introspection_endpoint=base + INTROSPECT_PATH,
        scopes_supported=sorted(scope_names.ALL),
        response_types_supported=["code"],
        response_modes_supported=["query"],
        grant_types_supported=["authorization_code", "client_credentials", "password", "refresh_token"],
        token_endpoint_auth_methods_supported=TOKEN_AUTH_METHODS,
        revocation_endpoint_auth_methods_supported=TOKEN_AUTH_METHODS,
        introspection_endpoint_auth_methods_supported=TOKEN_AUTH_METHODS,
        code_challenge_methods_supported=["S256"],
        service_documentation=base + "/docs",
    )
