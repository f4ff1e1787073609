"""Credential routes: issue, list and read under /v1 (the public badge URL is in
:mod:`service.web.routes`).

Every format endpoint serves what was stored at issue time: the JSON-LD text byte for byte, the
VC-JWT as signed, and badge images with that same JSON-LD text baked in.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Request, Response, status

from service.api.auth import (
    AnyAccount,
    CredentialIssuer,
    CredentialReader,
    EarnerAccount,
    IssuerManager,
    ensure_issuer_scope,
)
from service.api.deps import ClockDep, KeystoreDep, SessionDep, SettingsDep
from service.api.errors import error_responses
from service.api.gates import IssuingSlot
from service.api.paging import PageDep, set_paging_headers
from service.core.paging import Page
from service.credentials import entry_points, expiry, formats, refresh, service, views
from service.credentials.schemas import (
    CredentialIssue,
    CredentialOut,
    CredentialRefreshOut,
    CredentialRenew,
    CredentialSummary,
    CredentialVisibility,
)
from service.platforms.earners.service import acting_issuer

router = APIRouter(prefix="/v1", tags=["credentials"])

CredentialId = Annotated[str, Path(min_length=1, max_length=36, description="The credential's id")]


def platform_issuer(request: Request) -> str | None:
    """The issuer whose platform acts for the earner (``On-Behalf-Of``): it reads that issuer's
    credentials issued to the earner's address only (verified or not)."""
    return acting_issuer(getattr(request.state, "principal", None))


#: The recipient filter's rule (``service.list_credentials``): a DID, or an email address.
RECIPIENT_FILTER_PATTERN = "^did:|@"


@router.post(
    "/credentials",
    response_model=CredentialOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[IssuingSlot],
    responses=error_responses(401, 403, 404, 409, 413, 422, 503),
)
def issue_credential(
    body: CredentialIssue,
    response: Response,
    session: SessionDep,
    account: CredentialIssuer,
    settings: SettingsDep,
    keystore: KeystoreDep,
    clock: ClockDep,
) -> CredentialOut:
    """Issue the current version of an achievement to a recipient: an email address (published
    only as a salted hash) or a DID. The credential is signed twice, with an embedded
    eddsa-rdfc-2022 proof and as an RS256 VC-JWT, by the issuer's active keys.

    Issuer admins issue only their own issuer's achievements (another issuer's is 404).
    `url` is the public badge URL; `credential` the signed JSON-LD. What the schema cannot say is
    422 `invalid_credential_request`: a `valid_until` not in the future, a result naming no result
    description or level of the achievement, a value outside its allowed values."""
    credential = entry_points.issue_direct(
        session,
        keystore,
        settings,
        actor=account,
        achievement_id=body.achievement_id,
        recipient=body.recipient.as_mapping(),
        valid_until=body.valid_until,
        evidence=body.evidence,
        results=body.results,
        now=clock.now(),
    )
    response.headers["Location"] = f"/v1/credentials/{credential.id}"
    return views.detail(settings, credential, service.recipient_of(session, credential))


@router.post(
    "/credentials/{credential_id}/renew",
    response_model=CredentialOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[IssuingSlot],
    responses=error_responses(401, 403, 404, 409, 413, 422, 503),
)
def renew_credential(
    credential_id: CredentialId,
    response: Response,
    session: SessionDep,
    account: CredentialIssuer,
    settings: SettingsDep,
    keystore: KeystoreDep,
    clock: ClockDep,
    body: Annotated[CredentialRenew | None, Body()] = None,
) -> CredentialOut:
    """Renew a credential: issue a new one to the same recipient for the achievement's current
    version, whose `replaces_id` names the old one. The old credential stays valid until its own
    end unless revoked; a revoked or suspended one cannot be renewed (409).

    `valid_until` defaults to the achievement's validity period, else the old credential's period
    length, else no expiry; `evidence` defaults to the old credential's. Admins, or the issuer's
    own admins (another issuer's credential is 404). A `valid_until` not in the future is 422
    `invalid_credential_request`."""
    body = body or CredentialRenew()
    credential = entry_points.renew(
        session,
        keystore,
        settings,
        credential_id,
        actor=account,
        valid_until=body.valid_until,
        evidence=body.evidence,
        now=clock.now(),
    )
    response.headers["Location"] = f"/v1/credentials/{credential.id}"
    return views.detail(settings, credential, service.recipient_of(session, credential))


@router.get("/credentials", response_model=Page[CredentialSummary], responses=error_responses(401, 422))
def list_credentials(
    request: Request,
    response: Response,
    session: SessionDep,
    account: CredentialReader,
    settings: SettingsDep,
    page: PageDep,
    issuer_id: Annotated[str | None, Query(max_length=36)] = None,
    achievement_id: Annotated[str | None, Query(max_length=36)] = None,
    recipient: Annotated[
        str | None,
        Query(
            max_length=2048,
            pattern=RECIPIENT_FILTER_PATTERN,
            description="An email address (anything with an `@`, compared trimmed and lower-cased) or a DID "
            "(starts with `did:`, compared as written)",
        ),
    ] = None,
) -> Page[CredentialSummary]:
    """Credentials, newest first, filtered by issuer, achievement and recipient. Admins see all;
    issuer admins and reviewers their issuer's; earners those issued to their account's email
    once it is verified. A platform acting for an earner it provisioned (`On-Behalf-Of`) sees its
    own issuer's credentials issued to the earner's address, verified or not, and no other's."""
    rows, total = service.list_credentials(
        session,
        page,
        viewer=account,
        issuer_id=issuer_id,
        achievement_id=achievement_id,
        recipient=recipient,
        platform_issuer=platform_issuer(request),
    )
    set_paging_headers(request, response, page, total)
    return Page(
        items=[views.summary(settings, c, r) for c, r in rows], total=total, limit=page.limit, offset=page.offset
    )


@router.get("/credentials/{credential_id}", response_model=CredentialOut, responses=error_responses(401, 404, 422))
def get_credential(
    credential_id: CredentialId, request: Request, session: SessionDep, account: CredentialReader, settings: SettingsDep
) -> CredentialOut:
    """A credential's metadata and its signed JSON-LD (404 unless the caller may see it)."""
    credential = service.get_credential(
        session, credential_id, viewer=account, platform_issuer=platform_issuer(request)
    )
    return views.detail(settings, credential, service.recipient_of(session, credential))


@router.patch(
    "/credentials/{credential_id}/visibility",
    response_model=CredentialSummary,
    responses=error_responses(401, 403, 404, 422),
)
def set_visibility(
    credential_id: CredentialId,
    body: CredentialVisibility,
    session: SessionDep,
    account: EarnerAccount,
    settings: SettingsDep,
) -> CredentialSummary:
    """Choose who sees one of your credentials: `public` false makes its badge page and signed
    JSON-LD answer 404 to everyone else; `show_name` false keeps your display name off its page
    (only the badge shows). For the earner it was issued to (their verified address); any other
    credential is 404. Audited (`credential.visibility`)."""
    credential = service.set_visibility(
        session, credential_id, earner=account, public=body.public, show_name=body.show_name
    )
    return views.summary(settings, credential, service.recipient_of(session, credential))


@router.get(
    "/credentials/{credential_id}/refresh",
    response_model=CredentialRefreshOut,
    responses={
        200: {
            "content": {formats.JSONLD_MEDIA_TYPE: {"schema": {"type": "object"}}},
            "description": "The current version (JSON envelope, or the signed "
            "credential itself for Accept: application/vc+ld+json)",
        },
        **error_responses(401, 404, 422),
    },
)
def refresh_credential(
    credential_id: CredentialId,
    request: Request,
    session: SessionDep,
    account: AnyAccount,
    settings: SettingsDep,
) -> CredentialRefreshOut | Response:
    """The refresh service every credential names (`refreshService`, type
    `1EdTechCredentialRefresh`): the current version of the credential for its holder, i.e. the
    newest credential in its replacement chain (renewals and reissues), with its state.

    For the earner the credential was issued to (and the issuer's staff, admins); 404 for
    everyone else. `Accept: application/vc+ld+json` returns the current signed credential
    itself, byte for byte, with its id in `Content-Location` and its state in `X-Credential-State`
    (the `Accept` header is content negotiation, described by the response's media types)."""
    requested, chain, current = refresh.current_version(session, credential_id, viewer=account)
    accept = request.headers.get("accept", "")
    if formats.JSONLD_MEDIA_TYPE in accept.lower():
        response = Response(current.jsonld.encode("utf-8"), media_type=formats.JSONLD_MEDIA_TYPE)
        response.headers["Content-Location"] = service.credential_url(settings, current.id)
        response.headers["X-Credential-State"] = str(current.state)
        return response
    return views.refresh_view(settings, requested, chain, current, service.recipient_of(session, current))


@router.get(
    "/issuers/{issuer_id}/expiring",
    response_model=Page[CredentialSummary],
    responses=error_responses(401, 403, 404, 422),
)
def list_expiring(
    issuer_id: Annotated[str, Path(min_length=1, max_length=36)],
    request: Request,
    response: Response,
    session: SessionDep,
    account: IssuerManager,
    settings: SettingsDep,
    clock: ClockDep,
    page: PageDep,
    within_days: Annotated[int, Query(ge=1, le=3650, description="The window, in days from now")] = 30,
) -> Page[CredentialSummary]:
    """An issuer's active credentials whose `valid_until` falls within the next `within_days`
    days, soonest first, paged (`X-Total-Count`, `Link`). Admins, or the issuer's own admins."""
    ensure_issuer_scope(account, issuer_id)
    rows, total = expiry.list_expiring(session, issuer_id, page, now=clock.now(), within_days=within_days)
    set_paging_headers(request, response, page, total)
    return Page(
        items=[views.summary(settings, c, r) for c, r in rows], total=total, limit=page.limit, offset=page.offset
    )


def _download(content: bytes | str, media_type: str, credential_id: str, extension: str) -> Response:
    response = Response(content, media_type=media_type)
    response.headers["Content-Disposition"] = f'inline; filename="credential-{credential_id}.{extension}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@router.get(
    "/credentials/{credential_id}/jsonld",
    response_class=Response,
    responses={
        200: {
            "content": {formats.JSONLD_MEDIA_TYPE: {"schema": {"type": "object"}}},
            "description": "The signed JSON-LD, byte for byte as issued",
        },
        **error_responses(401, 404, 422),
    },
)
def get_jsonld(
    credential_id: CredentialId, request: Request, session: SessionDep, account: CredentialReader
) -> Response:
    """The signed credential with its embedded proof (`application/vc+ld+json`), byte for byte."""
    credential = service.get_credential(
        session, credential_id, viewer=account, platform_issuer=platform_issuer(request)
    )
    return _download(credential.jsonld.encode("utf-8"), formats.JSONLD_MEDIA_TYPE, credential.id, "jsonld")


@router.get(
    "/credentials/{credential_id}/jwt",
    response_class=Response,
    responses={
        200: {
            "content": {formats.JWT_MEDIA_TYPE: {"schema": {"type": "string"}}},
            "description": "The VC-JWT (compact JWS, RS256)",
        },
        **error_responses(401, 404, 422),
    },
)
def get_jwt(credential_id: CredentialId, request: Request, session: SessionDep, account: CredentialReader) -> Response:
    """The credential as an Open Badges 3.0 VC-JWT (`application/vc+jwt`), signed RS256."""
    credential = service.get_credential(
        session, credential_id, viewer=account, platform_issuer=platform_issuer(request)
    )
    return _download(credential.vc_jwt.encode("ascii"), formats.JWT_MEDIA_TYPE, credential.id, "jwt")


@router.get(
    "/credentials/{credential_id}/png",
    response_class=Response,
    responses={200: {"content": {formats.PNG_MEDIA_TYPE: {}}}, **error_responses(401, 404, 422)},
)
def get_png(credential_id: CredentialId, request: Request, session: SessionDep, account: CredentialReader) -> Response:
    """A PNG badge with the signed JSON-LD baked in (`iTXt` chunk `openbadgecredential`)."""
    credential = service.get_credential(
        session, credential_id, viewer=account, platform_issuer=platform_issuer(request)
    )
    return _download(formats.baked_png(credential.jsonld), formats.PNG_MEDIA_TYPE, credential.id, "png")


@router.get(
    "/credentials/{credential_id}/svg",
    response_class=Response,
    responses={200: {"content": {formats.SVG_MEDIA_TYPE: {}}}, **error_responses(401, 404, 422)},
)
def get_svg(credential_id: CredentialId, request: Request, session: SessionDep, account: CredentialReader) -> Response:
    """An SVG badge showing the achievement, with the signed JSON-LD baked in
    (`<openbadges:credential>`)."""
    credential = service.get_credential(
        session, credential_id, viewer=account, platform_issuer=platform_issuer(request)
    )
    response = _download(formats.baked_svg(credential.jsonld), formats.SVG_MEDIA_TYPE, credential.id, "svg")
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response
