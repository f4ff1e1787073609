"""The OAuth 2.0 endpoints: token, authorization (the consent page), revocation, introspection,
dynamic client registration and the server metadata.

Their callers authenticate inside the protocol (client credentials, a password, PKCE), so the
routes are ``Public`` to the access rules; the authorization server refuses what it must, with
RFC 6749 error bodies (``{"error": ..., "error_description": ...}``).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlsplit

from authlib.oauth2.rfc6749.errors import OAuth2Error
from fastapi import APIRouter, Body, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel

from service.accounts import service as accounts
from service.accounts import views as account_views
from service.accounts.models import Role
from service.accounts.schemas import TokenResponse
from service.api.auth import Public
from service.api.deps import SessionDep, SettingsDep, TokensDep
from service.api.errors import error_responses
from service.api.ratelimit import LOGIN_BACKOFF, LOGIN_PER_ADDRESS, Policy
from service.api.throttle import Throttle, count, record_failure, record_success, refuse_while_locked
from service.core.errors import BadRequest, Unauthorized
from service.core.templates import render
from service.platforms import scopes as scope_names
from service.platforms.oauth.docs import AUTHORIZE_PARAMETERS, CLIENT_METADATA_BODY, ERROR_PAGE
from service.platforms.oauth.endpoints import Registration, server_metadata
from service.platforms.oauth.models import TokenOwner
from service.platforms.oauth.requests import ProtocolRequest
from service.platforms.oauth.server import (
    AUTHORIZE_PATH,
    INTROSPECT_PATH,
    REGISTER_PATH,
    REVOKE_PATH,
    TOKEN_PATH,
    OAuthServer,
    ProtocolResponse,
)

router = APIRouter(tags=["oauth"])


class OAuthErrorBody(BaseModel):
    """An OAuth 2.0 error (RFC 6749 section 5.2; RFC 7591 section 3.2.2)."""

    error: str
    error_description: str | None = None
    error_uri: str | None = None


def oauth_errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The protocol's own error body for these statuses (429 keeps the service's shape)."""

    answers: dict[int | str, dict[str, Any]] = dict(error_responses(422, 429))
    for status in statuses:
        answers[status] = {"model": OAuthErrorBody, "description": "An OAuth 2.0 error"}
    return answers


#: Token requests of any grant per client address (password sign-ins also count as logins).
TOKEN_PER_ADDRESS = Policy("oauth-token", limit=120, window=60)
#: Client registrations per client address.
REGISTRATIONS_PER_ADDRESS = Policy("oauth-register", limit=20, window=3600)

OptionalForm = Annotated[str | None, Form(max_length=2048)]


def _server(request: Request, session: Any, tokens: Any) -> OAuthServer:
    return OAuthServer(session, tokens, request.app.state.settings.public_url)


def _protocol_request(
    request: Request, path: str, *, form: dict[str, str | None] | None = None, json: Any = None
) -> ProtocolRequest:
    base = request.app.state.settings.public_url.rstrip("/")
    query = str(request.url.query)
    return ProtocolRequest(
        method=request.method,
        uri=base + path + (f"?{query}" if query else ""),
        headers=request.headers,
        form=[(key, value) for key, value in (form or {}).items() if value is not None],
        args=list(request.query_params.multi_items()),
        json=json,
    )


def _respond(answer: ProtocolResponse) -> Response:
    """Authlib's answer as a response. ``invalid_client`` is always 401 with the scheme a client
    authenticates with (RFC 6749 section 5.2 allows it for every client authentication method;
    Authlib sends 400 unless the client used HTTP Basic), so one status means one thing."""
    headers = {key: value for key, value in answer.headers if key.lower() != "content-type"}
    headers.setdefault("Cache-Control", "no-store")
    if answer.status in (301, 302, 303, 307):
        return RedirectResponse(headers.pop("Location"), status_code=302, headers=headers)
    status = answer.status
    if isinstance(answer.body, dict) and answer.body.get("error") == "invalid_client":
        status = 401
        headers.setdefault("WWW-Authenticate", 'Basic realm="SkillCred"')
    return JSONResponse(answer.body, status_code=status, headers=headers)


@router.post(
    TOKEN_PATH,
    response_model=TokenResponse,
    dependencies=[Public, Throttle(TOKEN_PER_ADDRESS)],
    responses=oauth_errors(400, 401),
)
def issue_token(
    request: Request,
    session: SessionDep,
    tokens: TokensDep,
    grant_type: Annotated[str, Form(max_length=64)] = "password",
    username: Annotated[str | None, Form(max_length=320)] = None,
    password: Annotated[str | None, Form(max_length=256)] = None,
    scope: OptionalForm = None,
    client_id: Annotated[str | None, Form(max_length=64)] = None,
    client_secret: Annotated[str | None, Form(max_length=256)] = None,
    code: Annotated[str | None, Form(max_length=256)] = None,
    redirect_uri: OptionalForm = None,
    code_verifier: Annotated[str | None, Form(max_length=128)] = None,
    refresh_token: Annotated[str | None, Form(max_length=256)] = None,
) -> Any:
    """The OAuth 2.0 token endpoint (RFC 6749 section 3.2), one for every grant:

    - `password` (people; the default when `grant_type` is absent): `username` (email) and
      `password`. Sign-ins are limited per client address, and after five wrong passwords for one
      email the next attempt must wait 2 s, then 4, 8 ... up to 15 minutes (429 with
      `Retry-After`), whether or not the account exists and whatever the password.
    - `client_credentials` (an issuer's platform, for itself): client authentication by HTTP Basic
      (`client_secret_basic`) or `client_id` + `client_secret` in the form; `scope` optional (all
      the client holds when absent).
    - `authorization_code` (a platform acting for an earner who consented on `/oauth/authorize`):
      `code`, `redirect_uri`, `code_verifier` (PKCE, S256) and client authentication (`client_id`
      alone for a public client).
    - `refresh_token`: `refresh_token` and client authentication. Every use hands out a new
      refresh token; presenting a used one again revokes the whole grant.

    Errors follow RFC 6749 section 5.2: `{"error": "invalid_client" | "invalid_grant" |
    "invalid_scope" | "unauthorized_client" | "unsupported_grant_type" | "invalid_request",
    "error_description": ...}` with status 400 (401 for `invalid_client`)."""
    if grant_type == "password":
        return _password_grant(request, session, tokens, username, password)
    form = {
        "grant_type": grant_type,
        "scope": scope,
        "client_id": client_id,
        "client_secret": client_secret,
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": code_verifier,
        "refresh_token": refresh_token,
    }
    server = _server(request, session, tokens)
    answer = server.create_token_response(_protocol_request(request, TOKEN_PATH, form=form))
    return _respond(answer)


def _password_grant(
    request: Request, session: Any, tokens: Any, username: str | None, password: str | None
) -> TokenResponse:
    if not username or not password:
        raise BadRequest("The password grant needs username and password", code="invalid_request")
    decision = count(request, LOGIN_PER_ADDRESS, request.client.host if request.client else "unknown")
    if decision is not None:  # the sign-in limit is the one a person meets: its fields are the answer's
        request.state.rate_limit_headers = decision.headers()
    login = f"login:{accounts.normalise_email(username)}"
    refuse_while_locked(request, login)
    account = accounts.authenticate(session, username, password)
    if account is None or account.is_service:
        record_failure(request, login, LOGIN_BACKOFF)
        raise Unauthorized("Wrong email or password", code="invalid_credentials")
    record_success(request, login)
    return account_views.token_view(tokens.issue(account.id, str(account.role)), tokens.ttl)


# --- authorization code: the consent page ------------------------------------------------------


def _mac(request: Request, authorization_request: str) -> str:
    key = request.app.state.keystore.derive_secret("oauth-consent")
    return hmac.new(key, authorization_request.encode(), hashlib.sha256).hexdigest()


def _consent_page(
    request: Request, server: OAuthServer, grant: Any, authorization_request: str, *, error: str = "", email: str = ""
) -> HTMLResponse:
    client = grant.client
    asked = scope_names.parse(grant.request.payload.scope) or (client.scopes & scope_names.EARNER_SCOPES)
    redirect_uri = grant.request.payload.redirect_uri or client.get_default_redirect_uri() or ""
    redirect = urlsplit(redirect_uri)
    html = render(
        "oauth_consent.html",
        client_name=client.row.name,
        client_uri=client.metadata.get("client_uri", ""),
        scopes=[scope_names.DESCRIPTIONS[name] for name in sorted(asked) if name in scope_names.DESCRIPTIONS],
        redirect_host=redirect.netloc,
        authorization_request=authorization_request,
        request_mac=_mac(request, authorization_request),
        action=AUTHORIZE_PATH,
        error=error,
        email=email,
    )
    target = f"{redirect.scheme}://{redirect.netloc}"
    policy = f"default-src 'none'; style-src 'unsafe-inline'; form-action 'self' {target}; frame-ancestors 'none'"
    return HTMLResponse(
        html,
        status_code=401 if error else 200,
        headers={"Content-Security-Policy": policy, "Cache-Control": "no-store", "X-Frame-Options": "DENY"},
    )


def _error_page(error: OAuth2Error) -> Response:
    answer = error()
    status, body, headers = answer
    location = dict(headers).get("Location")
    if location:  # the client and redirect URI are good: the client learns of the error there
        return RedirectResponse(location, status_code=302, headers={"Cache-Control": "no-store"})
    html = render("oauth_error.html", error=error.error, description=error.description or "")
    return HTMLResponse(html, status_code=400, headers={"Cache-Control": "no-store"})


@router.get(
    AUTHORIZE_PATH,
    response_class=HTMLResponse,
    dependencies=[Public],
    responses={302: {"description": "Back to the client's redirect URI with an error"}, 400: ERROR_PAGE},
    openapi_extra={"parameters": AUTHORIZE_PARAMETERS},
)
def authorize_page(request: Request, session: SessionDep, tokens: TokensDep) -> Response:
    """The authorization endpoint (RFC 6749 section 4.1.1): `response_type=code`, `client_id`,
    `redirect_uri` (exactly as registered), `scope`, `state`, and PKCE's `code_challenge` with
    `code_challenge_method=S256` (required). Shows the earner a page naming the client and what it
    asks for, where they sign in and allow or deny. A bad client or redirect URI gets a 400 error
    page here (`invalid_client`, `invalid_request`, `unsupported_response_type`); any other error
    goes back to the redirect URI (`error=...&state=...`)."""
    server = _server(request, session, tokens)
    try:
        grant = server.get_consent_grant(_protocol_request(request, AUTHORIZE_PATH))
    except OAuth2Error as error:
        return _error_page(error)
    return _consent_page(request, server, grant, str(request.url.query))


@router.post(
    AUTHORIZE_PATH,
    response_class=HTMLResponse,
    dependencies=[Public, Throttle(LOGIN_PER_ADDRESS)],
    responses={302: {}, 400: {}, 401: {}, 429: {}},
)
def authorize_decision(
    request: Request,
    session: SessionDep,
    tokens: TokensDep,
    authorization_request: Annotated[str, Form(max_length=8192)],
    request_mac: Annotated[str, Form(max_length=64)],
    decision: Annotated[str, Form(pattern="^(approve|deny)$")],
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    """The consent page's answer: the earner's email and password, and `approve` or `deny`. On
    approval the browser goes to the client's redirect URI with `code` and `state`; on denial with
    `error=access_denied`. A wrong password shows the page again (sign-in backoff applies). A form
    whose authorization request does not match its MAC (altered) is 400 `invalid_request`."""
    if not hmac.compare_digest(_mac(request, authorization_request), request_mac):
        raise BadRequest("The authorization request was altered; start again from the app", code="invalid_request")
    base = request.app.state.settings.public_url.rstrip("/")
    protocol = ProtocolRequest(
        method="GET",
        uri=f"{base}{AUTHORIZE_PATH}?{authorization_request}",
        headers=request.headers,
        args=parse_qsl(authorization_request, keep_blank_values=True),
    )
    server = _server(request, session, tokens)
    try:
        grant = server.get_consent_grant(protocol)
    except OAuth2Error as error:
        return _error_page(error)
    if decision == "deny":
        return _respond(server.create_authorization_response(grant.request, grant_user=None, grant=grant))
    login = f"login:{accounts.normalise_email(email)}"
    refuse_while_locked(request, login)
    account = accounts.authenticate(session, email, password) if email and password else None
    if account is None or account.is_service:
        record_failure(request, login, LOGIN_BACKOFF)
        message = "Wrong email or password"
        return _consent_page(request, server, grant, authorization_request, error=message, email=email)
    record_success(request, login)
    if account.role != Role.earner:
        message = "Only an earner (freelancer) account can connect an app; sign in with yours"
        return _consent_page(request, server, grant, authorization_request, error=message, email=email)
    return _respond(server.create_authorization_response(grant.request, grant_user=TokenOwner(account), grant=grant))


# --- revocation, introspection, registration, metadata -----------------------------------------


def _token_form(
    token: Annotated[str, Form(min_length=1, max_length=4096)],
    token_type_hint: Annotated[Literal["access_token", "refresh_token"] | None, Form()] = None,
    client_id: Annotated[str | None, Form(max_length=64)] = None,
    client_secret: Annotated[str | None, Form(max_length=256)] = None,
) -> dict[str, str | None]:
    """The form of the revocation and introspection endpoints (RFC 7009 and 7662 section 2.1): the
    two token type hints RFC 7009 section 2.1 defines are the ones this server knows."""
    return {"token": token, "token_type_hint": token_type_hint, "client_id": client_id, "client_secret": client_secret}


@router.post(REVOKE_PATH, dependencies=[Public, Throttle(TOKEN_PER_ADDRESS)], responses=oauth_errors(400, 401))
def revoke_token(
    request: Request,
    session: SessionDep,
    tokens: TokensDep,
    form: Annotated[dict[str, str | None], Depends(_token_form)],
) -> Response:
    """Token revocation (RFC 7009) of one of the calling client's tokens (client authentication as
    at the token endpoint). Revoking a refresh or access token revokes its whole grant: refresh
    stops at once, and so do the access tokens (every request checks the grant). Answers 200 also
    for a token that is unknown or already revoked."""
    server = _server(request, session, tokens)
    return _respond(server.create_endpoint_response("revocation", _protocol_request(request, REVOKE_PATH, form=form)))


@router.post(INTROSPECT_PATH, dependencies=[Public, Throttle(TOKEN_PER_ADDRESS)], responses=oauth_errors(400, 401))
def introspect_token(
    request: Request,
    session: SessionDep,
    tokens: TokensDep,
    form: Annotated[dict[str, str | None], Depends(_token_form)],
) -> Response:
    """Token introspection (RFC 7662) of the calling client's own tokens: `active`, `scope`,
    `client_id`, `sub`, `exp`, `iat`, `token_type`. Another client's token, an expired, used or
    revoked one is `{"active": false}`."""
    server = _server(request, session, tokens)
    answer = server.create_endpoint_response("introspection", _protocol_request(request, INTROSPECT_PATH, form=form))
    return _respond(answer)


@router.post(
    REGISTER_PATH,
    status_code=201,
    dependencies=[Public, Throttle(REGISTRATIONS_PER_ADDRESS)],
    responses=oauth_errors(400, 401),
    openapi_extra={"requestBody": CLIENT_METADATA_BODY},
)
def register_client(
    request: Request,
    session: SessionDep,
    tokens: TokensDep,
    metadata: Annotated[dict[str, Any], Body(description="Client metadata (RFC 7591 section 2)")],
) -> Response:
    """Dynamic client registration (RFC 7591, as Open Badges 3.0 section 6.2 profiles it).

    Without an `Authorization` header, anyone may register an app that acts for earners who
    consent: `client_name`, `redirect_uris` (https, or http to a loopback address), `scope` (of the
    Open Badges scopes, `evidence:write` and `assessments:read`), `grant_types`
    (`authorization_code`, `refresh_token`), `token_endpoint_auth_method` (`client_secret_basic`,
    `client_secret_post`, or `none` for a public client), plus `client_uri`, `logo_uri`, `tos_uri`,
    `policy_uri`, `contacts`, `software_id`, `software_version`. With an issuer admin's access token
    as the initial access token, the client belongs to that issuer and may also use the
    `client_credentials` grant and every scope. Answers 201 with the metadata, `client_id` and,
    for a confidential client, `client_secret` (shown this once). Errors: 400 `invalid_request`
    (no metadata), `invalid_client_metadata` or `invalid_redirect_uri`, 401 `access_denied`."""
    server = _server(request, session, tokens)
    endpoint = Registration(server)
    try:
        status, body, headers = endpoint.create_registration_response(
            server.create_json_request(_protocol_request(request, REGISTER_PATH, json=metadata))
        )
    except OAuth2Error as error:
        status, body, headers = error()
        status = 401 if error.error == "access_denied" else status
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


@router.get("/.well-known/oauth-authorization-server", dependencies=[Public])
def authorization_server_metadata(settings: SettingsDep) -> dict[str, Any]:
    """The authorization server's metadata (RFC 8414): its endpoints, the scopes, grants, client
    authentication methods and PKCE methods it supports."""
    return dict(server_metadata(settings.public_url))
