"""The public badge URL: ``GET /credentials/{id}`` for people and machines, its badge images and
files, and the page's two forms.

One URL, two audiences (content negotiation on ``Accept``, :mod:`service.web.negotiation`):

- ``text/html`` (and ``*/*``, what browsers and plain ``curl`` send, or no ``Accept``): an HTML
  page showing the achievement, the earner (as they chose), the issuer, the result of verifying
  the stored credential right now in plain words, the skill, the evidence, endorsements, sharing
  and downloads (:mod:`service.web.badge_page`);
- ``application/vc+ld+json``, ``application/ld+json`` or ``application/json``: the stored,
  signed JSON-LD, byte for byte, with the Content-Type asked for.

Anything else gets 406. An unknown id is 404: an HTML page for HTML, the error shape otherwise; a
credential its earner made private answers exactly the same, here and on every file below.
The page loads nothing from elsewhere (its Content-Security-Policy allows this origin only, and no
inline script or style); its one script is an enhancement, every form works without it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from service.api.auth import Public
from service.api.conditional import etag_matches
from service.api.deps import (
    ClockDep,
    ReadSessionDep,
    SettingsDep,
    get_read_engine,
    open_read_session,
)
from service.api.errors import error_content, error_responses
from service.api.ratelimit import Policy
from service.api.security_headers import inline_hashes, page_policy
from service.api.throttle import Throttle
from service.core.config import Settings
from service.core.db import committing
from service.core.errors import NotAcceptable, NotFound
from service.core.keystore import Keystore
from service.core.templates import render, static_digest, static_files
from service.credentials import formats
from service.credentials.models import Credential
from service.credentials.service import get_credential
from service.net.fetch import SafeFetcher
from service.verification.service import Verifier
from service.web.badge_evidence import recheckable
from service.web.badge_page import render_not_found_page, render_verified_page
from service.web.badge_share import qr_svg
from service.web.evidence_check import Fetcher, check_evidence
from service.web.negotiation import HTML, JSON_TYPES, OFFERS, negotiate
from service.web.page_cache import Page, PageCache, embedded_uris, etag_of, read_rows
from service.web.policy_pages import privacy_page, terms_page
from service.web.preview import preview_of
from service.web.preview_image import preview_png
from service.web.recipient import MAX_EMAIL_CHARS, email_matches

public_router = APIRouter(tags=["credentials"])

CredentialId = Annotated[str, Path(min_length=1, max_length=36, description="The credential's id")]
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
"""The badge page's policy: stricter than :func:`page_policy` (nothing by default), this origin's
stylesheets, script and images only, forms posting to this origin only."""
IMAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
FILE_CACHE_CONTROL = "public, no-cache"
"""A file of a credential may be kept, but is asked for again (its earner may make it private)."""
IDENTITY_CHECKS_PER_ADDRESS = Policy("identity-check", limit=20, window=600)
EVIDENCE_CHECKS_PER_ADDRESS = Policy("evidence-check", limit=10, window=600)
EVIDENCE_CHECK_TIMEOUT_SECONDS = 10.0


def _page_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Vary"] = "Accept"
    return response


def public_credential(session: Session, credential_id: str) -> Credential:
    """The credential when its earner lets anyone see it; NotFound otherwise, as for an unknown id."""
    credential = get_credential(session, credential_id)
    if not credential.public:
        raise NotFound("No such credential")
    return credential


def _signed_document(jsonld: str, media_type: str) -> Response:
    response = Response(jsonld.encode("utf-8"), media_type=media_type)
    response.headers["Vary"] = "Accept"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _file(content: bytes, media_type: str, filename: str, *, disposition: str = "inline") -> Response:
    response = Response(content, media_type=media_type)
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response.headers["Content-Security-Policy"] = IMAGE_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = FILE_CACHE_CONTROL
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
            "description": "not_found: a page saying so when `Accept` asks for HTML, the error otherwise "
            "(also for a credential its earner keeps private)",
            "content": {HTML: {"schema": {"type": "string"}}, **error_content()},
        },
        406: {
            "description": "not_acceptable: `Accept` takes none of " + ", ".join(OFFERS),
            "content": error_content(),
        },
    },
)
async def badge_page(credential_id: CredentialId, request: Request) -> Response:
    """The public badge URL (the credential's ``id``): an HTML page for people, the signed
    credential for `Accept: application/vc+ld+json` (or `application/ld+json`, `application/json`),
    byte for byte as issued. The page verifies the credential live and says what it found in
    plain words. A credential its earner keeps private is 404, as an unknown one.

    What is sent is negotiated on the `Accept` header (RFC 9110 section 12.5.1), which OpenAPI
    describes by the media types of each response, not as a parameter: no `Accept`, `*/*` or
    `text/html` gets the page; an `Accept` that takes none of them is 406."""
    chosen = negotiate(request.headers.get("accept"))
    if chosen is None:
        raise NotAcceptable(f"Offered: {', '.join(OFFERS)}")
    # the app's parts read here, not as one dependency each: each costs on every request, and a
    # kept page is served in well under a millisecond of the server's time
    state = request.app.state
    settings: Settings = state.settings
    keystore: Keystore = state.keystore
    verifier: Verifier = state.verifier
    pages: PageCache = state.pages
    now = state.clock.now()
    engine = await get_read_engine(request)
    if chosen == HTML:
        # a kept page still current: two statements, in a worker-thread hop shared with the
        # requests asking meanwhile (each read starts after every request it answers)
        kept = await pages.fresh(engine, settings, verifier, credential_id, now)
        if kept is not None:
            return _html_page(kept.html, kept.etag, request)

    def answer() -> Response:
        with committing(open_read_session(request, engine)) as session:
            return _badge_answer(session, request, settings, keystore, verifier, pages, credential_id, chosen, now)

    def render_once() -> Response:
        with pages.rendering((settings.public_url, credential_id)):
            kept = pages.fresh_blocking(engine, settings, verifier, credential_id, now)  # rendered while this waited
            return _html_page(kept.html, kept.etag, request) if kept is not None else answer()

    return await run_in_threadpool(render_once if chosen == HTML else answer)


def _badge_answer(
    session: Session,
    request: Request,
    settings: Settings,
    keystore: Keystore,
    verifier: Verifier,
    pages: PageCache,
    credential_id: str,
    chosen: str,
    now: datetime,
) -> Response:
    """The badge URL's answer when no kept page is current: the signed document, or the page
    rendered from a new verification (and kept)."""
    try:
        credential = public_credential(session, credential_id)
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
        page = Page(credential_id, html, etag, credential.jsonld, uris, rows, inputs)
        pages.put((settings.public_url, credential_id), page)
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
    credential = public_credential(session, credential_id)
    return _file(formats.baked_png(credential.jsonld), formats.PNG_MEDIA_TYPE, f"badge-{credential.id}.png")


@public_router.get(
    "/credentials/{credential_id}/badge.svg",
    dependencies=[Public],
    response_class=Response,
    responses={200: {"content": {formats.SVG_MEDIA_TYPE: {}}}, **error_responses(404)},
)
def badge_svg(credential_id: CredentialId, session: ReadSessionDep) -> Response:
    """The badge as an SVG image showing the achievement, with the signed credential baked in."""
    credential = public_credential(session, credential_id)
    return _file(formats.baked_svg(credential.jsonld), formats.SVG_MEDIA_TYPE, f"badge-{credential.id}.svg")


@public_router.get(
    "/credentials/{credential_id}/credential.jsonld",
    dependencies=[Public],
    response_class=Response,
    responses={200: {"content": {formats.JSONLD_MEDIA_TYPE: {}}}, **error_responses(404)},
)
def credential_jsonld(credential_id: CredentialId, session: ReadSessionDep) -> Response:
    """The signed credential (JSON-LD, byte for byte as issued) as a file to download."""
    credential = public_credential(session, credential_id)
    content = credential.jsonld.encode("utf-8")
    return _file(content, formats.JSONLD_MEDIA_TYPE, f"credential-{credential.id}.jsonld", disposition="attachment")


@public_router.get(
    "/credentials/{credential_id}/credential.jwt",
    dependencies=[Public],
    response_class=Response,
    responses={200: {"content": {formats.JWT_MEDIA_TYPE: {}}}, **error_responses(404)},
)
def credential_jwt(credential_id: CredentialId, session: ReadSessionDep) -> Response:
    """The credential as a VC-JWT (OB 3.0 section 8.2), signed when it was issued, as a file."""
    credential = public_credential(session, credential_id)
    content = credential.vc_jwt.encode("ascii")
    return _file(content, formats.JWT_MEDIA_TYPE, f"credential-{credential.id}.jwt", disposition="attachment")


@public_router.get(
    "/credentials/{credential_id}/qr.svg",
    dependencies=[Public],
    response_class=Response,
    responses={200: {"content": {formats.SVG_MEDIA_TYPE: {}}}, **error_responses(404)},
)
def badge_qr(credential_id: CredentialId, session: ReadSessionDep, settings: SettingsDep) -> Response:
    """A QR code (SVG, made here) of the badge page's address."""
    credential = public_credential(session, credential_id)
    return _file(qr_svg(f"{settings.public_url}/credentials/{credential.id}"), formats.SVG_MEDIA_TYPE, "qr.svg")


@public_router.get(
    "/credentials/{credential_id}/preview.png",
    dependencies=[Public],
    response_class=Response,
    responses={200: {"content": {formats.PNG_MEDIA_TYPE: {}}}, **error_responses(404)},
)
def badge_preview(credential_id: CredentialId, session: ReadSessionDep, clock: ClockDep) -> Response:
    """The page's link-preview image (1200x630 PNG, `og:image`): the achievement, the issuer, the
    earner's name when the page shows it, and "Revoked", "Suspended" or "Expired" when so."""
    credential = public_credential(session, credential_id)
    image = preview_png(preview_of(session, credential, now=clock.now()))
    return _file(image, formats.PNG_MEDIA_TYPE, f"preview-{credential.id}.png")


# --- the page's forms, answered without JavaScript ---------------------------------------------


def _result_page(name: str, back: str, heading: str, tone: str, headline: str, sentence: str, detail: str) -> Response:
    html = render(
        "badge_result.html",
        badge_name=name,
        back=back,
        heading=heading,
        tone=tone,
        headline=headline,
        sentence=sentence,
        detail=detail,
    )
    response = _page_headers(HTMLResponse(html))
    response.headers["Cache-Control"] = "no-store"
    return response


def _name_of(document: dict) -> str:
    subject = document.get("credentialSubject")
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    name = achievement.get("name") if isinstance(achievement, dict) else None
    return name if isinstance(name, str) and name else "Open Badge"


@public_router.post(
    "/credentials/{credential_id}/identity",
    dependencies=[Public, Throttle(IDENTITY_CHECKS_PER_ADDRESS)],
    response_class=HTMLResponse,
    responses=error_responses(404, 422, 429),
)
def check_identity(
    credential_id: CredentialId,
    email: Annotated[str, Form(min_length=1, max_length=MAX_EMAIL_CHARS)],
    session: ReadSessionDep,
) -> Response:
    """ "Is this you?" without JavaScript: whether the email address sent (a form field `email`)
    is the one the credential was issued to, compared with its hashed identity. The address is
    neither stored nor logged. Rate-limited per client address."""
    credential = public_credential(session, credential_id)
    document = json.loads(credential.jsonld)
    if email_matches(document, email):
        tone, headline, sentence = "ok", "Yes, it matches", "This badge was issued to that email address."
    else:
        tone, headline = "warn", "No, it does not match"
        sentence = "This badge was not issued to that email address. Check the spelling, or ask the freelancer."
    return _result_page(_name_of(document), f"../{credential.id}", "Is this you?", tone, headline, sentence, "")


def evidence_fetcher(settings: SettingsDep) -> Fetcher:
    """The SSRF-safe fetcher of "check this evidence again" (https, public addresses only, bounded
    in time and size; a dependency, so tests can swap it)."""
    return SafeFetcher(
        timeout=min(settings.evidence_fetch_timeout_seconds, EVIDENCE_CHECK_TIMEOUT_SECONDS),
        max_bytes=settings.evidence_max_file_bytes,
    )


EvidenceFetcher = Annotated[Fetcher, Depends(evidence_fetcher)]


@public_router.post(
    "/credentials/{credential_id}/evidence/{index}/check",
    dependencies=[Public, Throttle(EVIDENCE_CHECKS_PER_ADDRESS)],
    response_class=HTMLResponse,
    responses=error_responses(404, 422, 429),
)
def check_evidence_again(
    credential_id: CredentialId,
    index: Annotated[int, Path(ge=0, le=999, description="The evidence entry's position in the credential")],
    session: ReadSessionDep,
    settings: SettingsDep,
    fetcher: EvidenceFetcher,
) -> Response:
    """ "Check this evidence again": fetch the web page the credential's evidence entry `index`
    names, now (SSRF-safe, bounded in time and size), and say whether its bytes still match the
    digest in the credential. Only web pages with a digest are checked (404 otherwise).
    Rate-limited per client address."""
    credential = public_credential(session, credential_id)
    document = json.loads(credential.jsonld)
    entries = document.get("evidence") if isinstance(document.get("evidence"), list) else []
    entry = entries[index] if index < len(entries) and isinstance(entries[index], dict) else None
    if entry is None or not recheckable(entry, settings):
        raise NotFound("No evidence entry of this credential that can be checked again")
    outcome = check_evidence(entry, fetcher, max_bytes=settings.evidence_max_file_bytes)
    tone, headline = {
        True: ("ok", "The evidence is unchanged"),
        False: ("warn", "The evidence has changed"),
        None: ("warn", "The evidence could not be compared"),
    }[outcome.matches]
    return _result_page(
        _name_of(document),
        f"../../../{credential.id}#evidence-heading",
        "Check this evidence again",
        tone,
        headline,
        outcome.sentence,
        f"{outcome.url}\n{outcome.detail}".strip(),
    )


# --- the pages' own stylesheet and scripts ---------------------------------------------------------

STATIC_TYPES = {
    "css": "text/css; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "svg": "image/svg+xml",
    "png": "image/png",
}
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
