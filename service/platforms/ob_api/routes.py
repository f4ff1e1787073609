"""The Open Badges 3.0 REST API (``/ims/ob/v3p0``), as 1EdTech's OpenAPI document defines it.

Who: an earner (their own token, a platform's token the earner granted through the authorization
code grant, or an issuer's client acting for an earner it provisioned with ``On-Behalf-Of``), or
an issuer (its client's client credentials token, or an issuer admin). Each route also needs its
OB scope on a client token. Every error is an ``Imsx_StatusInfo``; a request the API cannot read
is 400 (``invalid_query_parameter`` or ``invalid_data``), never 422.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse

from service.accounts.models import Account, Role
from service.api.auth import Authenticated, Public
from service.api.deps import ClockDep, KeystoreDep, SessionDep, SettingsDep, VerifierDep
from service.api.gates import VerifyingSlot
from service.api.paging import set_paging_headers
from service.api.ratelimit import PUBLIC_PER_ADDRESS
from service.api.throttle import Throttle
from service.core.errors import Forbidden
from service.core.paging import PageParams
from service.platforms import scopes
from service.platforms.earners.service import acting_issuer
from service.platforms.ob_api import backpack, discovery, profiles, service, views
from service.platforms.ob_api.errors import OB_PREFIX
from service.platforms.ob_api.schemas import GetOpenBadgeCredentialsResponse, ImsxStatusInfo, ProfileIn, ProfileOut
from service.platforms.principals import Principal

router = APIRouter(prefix=OB_PREFIX, tags=["ob-v3p0"])

_PEOPLE = (Role.earner, Role.issuer_admin)
OBCredentialReader = Annotated[Account, Authenticated(*_PEOPLE, scopes={scopes.CREDENTIAL_READONLY})]
# only earners have a backpack (an issuer's client stores into one by acting for its earner)
OBCredentialUpserter = Annotated[Account, Authenticated(Role.earner, scopes={scopes.CREDENTIAL_UPSERT})]
OBProfileReader = Annotated[Account, Authenticated(*_PEOPLE, scopes={scopes.PROFILE_READONLY})]
# nothing of an earner's profile is kept to update: only an issuer's profile is updatable
OBProfileUpdater = Annotated[Account, Authenticated(Role.issuer_admin, scopes={scopes.PROFILE_UPDATE})]

DEFAULT_LIMIT, MAX_LIMIT = 50, 100
JWS_SCHEMA = {"type": "string", "pattern": f"^{backpack.COMPACT_JWS.pattern}$", "description": "A compact JWS (VC-JWT)"}
CREDENTIAL_SCHEMA = {"type": "object", "description": "An AchievementCredential (JSON-LD, embedded proof)"}
_STATUS_TEXT = {
    400: "invalid_data or invalid_query_parameter: the request cannot be read, or the credential is refused",
    401: "unauthorizedrequest: no valid bearer token",
    403: "forbidden: the token's scopes or the account's role do not allow this",
    404: "not_found",
    415: "invalid_data: the Content-Type is not accepted",
    429: "server_busy: too many requests (Retry-After says when to retry)",
    503: "server_busy: too much work in flight (Retry-After says when to retry)",
}


def imsx_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for OB errors: each an ``Imsx_StatusInfo``."""
    return {s: {"model": ImsxStatusInfo, "description": _STATUS_TEXT[s]} for s in statuses}


def _principal(request: Request) -> Principal:
    principal: Principal = request.state.principal
    return principal


async def _raw_body(request: Request) -> bytes:
    return await request.body()


@router.get(
    "/credentials",
    response_class=Response,
    responses={
        200: {
            "model": GetOpenBadgeCredentialsResponse,
            "description": "A page of credentials; `X-Total-Count` and `Link` (first, prev, next, last) describe "
            "the whole list",
        },
        **imsx_responses(400, 401, 403, 404, 429, 503),
    },
)
def get_credentials(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    account: OBCredentialReader,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="At most this many per page")] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Skip this many (zero-based)")] = 0,
    since: Annotated[
        datetime | None, Query(description="Only those issued (or upserted) at or after this time; no zone: UTC")
    ] = None,
) -> Response:
    """getCredentials: the credentials of the authenticated entity, oldest first. An earner's:
    those SkillCred issued to their verified email address and those platforms stored in their
    backpack; an issuer's: the credentials it issued. Each is exactly as issued or upserted: JSON-LD
    (embedded proof) in `credential`, VC-JWT in `compactJwsString`. An issued credential is listed
    once, as JSON-LD (its VC-JWT form is at `/v1/credentials/{id}/jwt`). An issuer's platform acting
    for an earner it provisioned (`On-Behalf-Of`) sees only its issuer's credentials to the earner
    and what its issuer's clients stored."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    params = PageParams(limit=limit, offset=offset)
    platform_issuer = acting_issuer(_principal(request))
    page, total = service.list_credentials(
        session, settings, account, params, since=since, platform_issuer=platform_issuer
    )
    response = Response(views.credentials_body(page), media_type="application/json")
    set_paging_headers(request, response, params, total)
    return response


@router.post(
    "/credentials",
    response_class=Response,
    dependencies=[VerifyingSlot],
    responses={
        200: {
            "description": "Replaced: the body is the credential as sent",
            "content": {"application/json": {"schema": CREDENTIAL_SCHEMA}, "text/plain": {"schema": JWS_SCHEMA}},
        },
        201: {
            "description": "Created: the body is the credential as sent",
            "content": {"application/json": {"schema": CREDENTIAL_SCHEMA}, "text/plain": {"schema": JWS_SCHEMA}},
        },
        **imsx_responses(400, 401, 403, 404, 415, 429, 503),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The credential: an AchievementCredential (JSON-LD) or a compact JWS (VC-JWT).",
            "content": {"application/json": {"schema": CREDENTIAL_SCHEMA}, "text/plain": {"schema": JWS_SCHEMA}},
        }
    },
)
def upsert_credential(
    request: Request,
    body: Annotated[bytes, Depends(_raw_body)],
    session: SessionDep,
    settings: SettingsDep,
    keystore: KeystoreDep,
    verifier: VerifierDep,
    clock: ClockDep,
    account: OBCredentialUpserter,
) -> Response:
    """upsertCredential: store a credential in the earner's backpack, 201 when new, 200 when it
    replaces the one with the same `id`; the answer is the body as sent. It must verify (proof or
    JWT signature, the issuer's key, the OB 3.0 JSON Schema, dates, status), be an
    AchievementCredential, and be about this earner (an `emailAddress` identifier matching their
    verified email address, a `mailto:` id, or their profile id); otherwise 400 `invalid_data`
    naming what failed. Only earners have a backpack: an issuer's token is refused (403); an
    issuer's client stores for one of its provisioned earners with `On-Behalf-Of`."""
    if account.role != Role.earner:
        raise Forbidden(
            "Only an earner has a backpack: store credentials with a token an earner granted, or as your "
            "issuer's client for one of your provisioned earners (On-Behalf-Of)",
            code="no_backpack",
        )
    principal = _principal(request)
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    upserted = backpack.upsert(
        session,
        settings,
        verifier,
        keystore,
        earner=account,
        body=body,
        media_type=media_type,
        client_pk=principal.client.id if principal.client is not None else None,
        now=clock.now(),
        vouched=acting_issuer(principal) is not None,
    )
    return Response(
        body,
        status_code=status.HTTP_201_CREATED if upserted.created else status.HTTP_200_OK,
        media_type="text/plain" if upserted.stored.format == "jwt" else "application/json",
    )


@router.get("/profile", response_model=ProfileOut, responses=imsx_responses(400, 401, 403, 404, 429, 503))
def get_profile(session: SessionDep, account: OBProfileReader) -> JSONResponse:
    """getProfile: the authenticated entity's OB 3.0 Profile. An issuer's account gets the issuer's
    (as its credentials carry it, `id` its DID); an earner gets `id` `urn:uuid:<account id>` and
    their email address once verified."""
    return JSONResponse(profiles.profile_of(session, account))


@router.put("/profile", response_model=ProfileOut, responses=imsx_responses(400, 401, 403, 404, 429, 503))
def put_profile(body: ProfileIn, session: SessionDep, account: OBProfileUpdater) -> JSONResponse:
    """putProfile: replace the issuer's Profile (`name` and `url` required; `email`, `description` and
    `image` left out are cleared; `id`, when sent, must be the issuer's DID; other Profile properties
    are refused). Credentials already issued keep the Profile they were signed with. An earner's
    profile cannot be changed here (403): SkillCred keeps nothing of it but the verified email
    address. An `id` other than the issuer's DID is 400 `invalid_data`, as is a
    body the schema refuses."""
    profiles.replace_profile(session, account, body.fields(), profile_id=body.id)
    return JSONResponse(profiles.profile_of(session, account))


@router.get(
    "/discovery",
    dependencies=[Public, Throttle(PUBLIC_PER_ADDRESS)],
    response_class=Response,
    responses={
        200: {
            "description": "The Service Description Document (OpenAPI 3.0, JSON)",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **imsx_responses(429),
    },
)
def get_service_description(settings: SettingsDep) -> Response:
    """getServiceDescription: this deployment's OB 3.0 Service Description Document, a profiled copy
    of 1EdTech's OpenAPI document with this server's URL and OAuth 2.0 endpoints (dynamic client
    registration, authorization, token and refresh)."""
    return Response(
        discovery.service_description_bytes(settings.public_url, settings.terms_url, settings.privacy_url),
        media_type="application/json",
        headers={"Cache-Control": "public, max-age=3600", "Access-Control-Allow-Origin": "*"},
    )
