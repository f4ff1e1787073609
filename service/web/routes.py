"""The public badge URL: ``GET /credentials/{id}`` for people and machines, and its badge images.

One URL, two audiences (content negotiation on ``Accept``, :mod:`service.web.negotiation`):

- ``text/html`` (and ``*/*``, what browsers and plain ``curl`` send, or no ``Accept``): an HTML
  page showing the achievement, the issuer, the recipient, the dates, the state, the result of
  verifying the stored credential right now and the accepted endorsements
  (:mod:`service.web.badge_page`);
- ``application/vc+ld+json``, ``application/ld+json`` or ``application/json``: the stored,
  signed JSON-LD, byte for byte, with the Content-Type asked for.

Anything else gets 406. An unknown id is 404: an HTML page for HTML, the error shape otherwise.
The page needs no JavaScript and loads nothing from elsewhere (a Content-Security-Policy says so).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from service.api.auth import Public
from service.api.conditional import etag_matches
from service.api.deps import ClockDep, KeystoreDep, ReadSessionDep, SettingsDep, VerifierDep
from service.api.errors import error_content, error_responses
from service.api.security_headers import inline_hashes, page_policy
from service.core.errors import NotAcceptable, NotFound
from service.core.templates import static_digest, static_files
from service.credentials import formats
from service.credentials.service import get_credential
from service.web.badge_page import render_not_found_page, render_verified_page
from service.web.negotiation import HTML, JSON_TYPES, OFFERS, negotiate
from service.web.page_cache import Page, PageCache, embedded_uris, etag_of, read_rows
from service.web.policy_pages import privacy_page, terms_page

public_router = APIRouter(tags=["credentials"])

CredentialId = Annotated[str, Path(min_length=1, max_length=36, description="The credential's id")]
PAGE_POLICY = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
IMAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'"


def _page_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Vary"] = "Accept"
    return response


def _signed_document(jsonld: str, media_type: str) -> Response:
    response = Response(jsonld.encode("utf-8"), media_type=media_type)
    response.headers["Vary"] = "Accept"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _image(content: bytes, media_type: str, credential_id: str, extension: str) -> Response:
    response = Response(content, media_type=media_type)
    response.headers["Content-Disposition"] = f'inline; filename="badge-{credential_id}.{extension}"'
    response.headers["Content-Security-Policy"] = IMAGE_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@public_router.get(
    "/credentials/{credential_id}",
    dependencies=[Public],
    response_class=HTMLResponse,
    responses={
        200: {
            "description": "The badge page (HTML) or the signed credential (JSON-LD), as `Accept` asks",
            "content": {
                HTML: {"schema": {"type": "string"}},
                **{media_type: {"schema": {"type": "object"}} for media_type in JSON_TYPES},
            },
        },
        304: {"description": "Not modified (the badge page): the `If-None-Match` ETag is the page's current one"},
        404: {
            "description": "not_found: a page saying so when `Accept` asks for HTML, the error otherwise",
            "content": {HTML: {"schema": {"type": "string"}}, **error_content()},
        },
        406: {
            "description": "not_acceptable: `Accept` takes none of " + ", ".join(OFFERS),
            "content": error_content(),
        },
    },
)
def badge_page(
    credential_id: CredentialId,
    request: Request,
    session: ReadSessionDep,
    settings: SettingsDep,
    keystore: KeystoreDep,
    verifier: VerifierDep,
    clock: ClockDep,
) -> Response:
    """The public badge URL (the credential's ``id``): an HTML page for people, the signed
    credential for `Accept: application/vc+ld+json` (or `application/ld+json`, `application/json`),
    byte for byte as issued. The page verifies the credential live and shows every check.

    What is sent is negotiated on the `Accept` header (RFC 9110 section 12.5.1), which OpenAPI
    describes by the media types of each response, not as a parameter: no `Accept`, `*/*` or
    `text/html` gets the page; an `Accept` that takes none of them is 406."""
    chosen = negotiate(request.headers.get("accept"))
    if chosen is None:
        raise NotAcceptable(f"Offered: {', '.join(OFFERS)}")
    now = clock.now()
    pages: PageCache = request.app.state.pages
    if chosen == HTML:
        kept = pages.fresh(session, settings, verifier, credential_id, now)
        if kept is not None:
            return _html_page(kept.html, kept.etag, request)
    try:
        credential = get_credential(session, credential_id)
    except NotFound:
        if chosen == HTML:
            return _page_headers(HTMLResponse(render_not_found_page(), status_code=404))
        raise
    if chosen != HTML:
        return _signed_document(credential.jsonld, chosen)
    # what the page shows of the rows is read before it is rendered: a change made meanwhile
    # differs from them, so the next request renders again (never a stale page kept)
    uris = embedded_uris(credential.jsonld)
    rows = read_rows(session, credential_id, uris)
    report, inputs = verifier.verify_kept(session, settings, credential.jsonld, keystore=keystore, now=now)
    html = render_verified_page(session, settings, credential, report)
    etag = etag_of(html)
    if inputs is not None and rows is not None:
        pages.put((settings.public_url, credential_id), Page(html, etag, credential.jsonld, uris, rows, inputs))
    return _html_page(html, etag, request)


def _html_page(html: str, etag: str, request: Request) -> Response:
    """The page with its ETag; 304 when ``If-None-Match`` names it (RFC 9110 section 13.1.2).
    ``no-cache``: a cache may keep it but asks again every time (a revocation shows at once)."""
    headers = {"ETag": etag, "Cache-Control": "public, no-cache"}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return _page_headers(Response(status_code=304, headers=headers))
    return _page_headers(HTMLResponse(html, headers=headers))


@public_router.get(
    "/credentials/{credential_id}/badge.png",
    dependencies=[Public],
    response_class=Response,
    responses={200: {"content": {formats.PNG_MEDIA_TYPE: {}}}, **error_responses(404)},
)
def badge_png(credential_id: CredentialId, session: ReadSessionDep) -> Response:
    """The badge as a PNG image with the signed credential baked in (OB 3.0 baking)."""
    credential = get_credential(session, credential_id)
    return _image(formats.baked_png(credential.jsonld), formats.PNG_MEDIA_TYPE, credential.id, "png")


@public_router.get(
    "/credentials/{credential_id}/badge.svg",
    dependencies=[Public],
    response_class=Response,
    responses={200: {"content": {formats.SVG_MEDIA_TYPE: {}}}, **error_responses(404)},
)
def badge_svg(credential_id: CredentialId, session: ReadSessionDep) -> Response:
    """The badge as an SVG image showing the achievement, with the signed credential baked in."""
    credential = get_credential(session, credential_id)
    return _image(formats.baked_svg(credential.jsonld), formats.SVG_MEDIA_TYPE, credential.id, "svg")


# --- the pages' own stylesheet and scripts ---------------------------------------------------------

STATIC_TYPES = {"css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8", "svg": "image/svg+xml"}
IMMUTABLE = "public, max-age=31536000, immutable"


@public_router.get("/static/{name}", dependencies=[Public], response_class=Response, include_in_schema=False)
def static_file(name: str, request: Request) -> Response:
    """A file of ``service/web/static`` by name (no paths: the set is fixed). Asked for at the
    versioned URL templates link (``?v=<digest>``) it may be cached for a year; otherwise caches
    revalidate it by its ETag."""
    content = static_files().get(name)
    media_type = STATIC_TYPES.get(name.rsplit(".", 1)[-1])
    if content is None or media_type is None:
        raise NotFound("No such file")
    digest = static_digest(name)
    etag = f'"{digest}"'
    headers = {
        "ETag": etag,
        "Cache-Control": IMMUTABLE if request.query_params.get("v") == digest else "public, no-cache",
        "X-Content-Type-Options": "nosniff",
    }
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(content, media_type=media_type, headers=headers)


# --- the policies the Open Badges discovery document names -------------------------------------

POLICY_CACHE_CONTROL = "public, max-age=3600"


def _policy_page(html: str) -> HTMLResponse:
    """A policy page with a CSP that allows its own inline style by hash and nothing else."""
    policy = page_policy(styles=inline_hashes(html, "style"))
    return HTMLResponse(html, headers={"Content-Security-Policy": policy, "Cache-Control": POLICY_CACHE_CONTROL})


@public_router.get("/terms", dependencies=[Public], response_class=HTMLResponse, include_in_schema=False)
def terms(settings: SettingsDep) -> Response:
    """The terms of service: the operator's (``SKILLCRED_TERMS_URL``, a redirect) or the service's own page."""
    if settings.terms_url:
        return RedirectResponse(settings.terms_url, status_code=302)
    return _policy_page(terms_page(settings))


@public_router.get("/privacy", dependencies=[Public], response_class=HTMLResponse, include_in_schema=False)
def privacy(settings: SettingsDep) -> Response:
    """The privacy policy: the operator's (``SKILLCRED_PRIVACY_URL``, a redirect) or the service's own page."""
    if settings.privacy_url:
        return RedirectResponse(settings.privacy_url, status_code=302)
    return _policy_page(privacy_page(settings))
