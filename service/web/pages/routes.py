"""The public pages: ``/`` (home and the catalogue of open achievements) and ``/verify`` (verify
any Open Badges 3.0 credential by URL, pasted JSON or JWT, or a file).

``POST /verify`` is the verify API's pipeline behind a form (:mod:`service.api.verifying`): the
same format sniffing, baked-image reading and verifier, the same per-address budget
(``VERIFY_PER_ADDRESS``, shared with ``POST /v1/verify``) and the same concurrency gate. Its body
is bounded (:func:`service.web.verify_input.page_body_limit`, enforced by the body-size
middleware); a pasted URL is fetched only over the SSRF-safe client. Problems are answered as the
page, with the form and a sentence saying what went wrong, never as JSON. It needs no CSRF token:
it is anonymous, sets no cookie and changes nothing.

The pages carry their own Content-Security-Policy: this origin only, no inline script or style.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from service.api.auth import Public
from service.api.deps import ReadEngineDep, ReadSessionDep, SettingsDep
from service.api.docs import DOCS_URL, REDOC_URL
from service.api.ratelimit import VERIFY_PER_ADDRESS
from service.api.security_headers import page_policy
from service.api.throttle import client_address, limiter_of
from service.api.verifying import SubmittedCredentialsDep
from service.core.config import Settings
from service.core.errors import ServiceError
from service.net import SafeFetcher
from service.verification.fetching import credential_fetcher
from service.web.home_page import MAX_QUERY, DeveloperLinks, render_home_page
from service.web.verify_input import MAX_TEXT_BYTES, Submission, credential_bytes
from service.web.verify_page import render_verify_page, too_large_message

router = APIRouter()

# Swagger UI deep link to an operation: #/<tag>/<operationId> (operation ids are "<tag>-<function>").
VERIFY_OPERATION = "#/verification/verification-verify_credential"


def page(html: str, status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    """An HTML page with its policy: scripts, styles and images from this origin only."""
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    response.headers["Content-Security-Policy"] = page_policy()
    response.headers["Cache-Control"] = "no-cache"
    return response


# --- home ------------------------------------------------------------------------------------------


@router.get("/", dependencies=[Public], response_class=HTMLResponse, include_in_schema=False)
def home(
    session: ReadSessionDep,
    settings: SettingsDep,
    q: Annotated[str, Query(max_length=MAX_QUERY)] = "",
) -> HTMLResponse:
    """What SkillCred is, the issuers and their open achievements (``?q=`` searches their names),
    and links to verify, to sign in and to the API documents."""
    docs = settings.api_docs_enabled
    links = DeveloperLinks(
        docs=DOCS_URL if docs else None,
        redoc=REDOC_URL if docs else None,
        verify_operation=DOCS_URL + VERIFY_OPERATION if docs else None,
    )
    return page(render_home_page(session, query=q, links=links))


# --- verify ----------------------------------------------------------------------------------------


def verify_fetcher(settings: SettingsDep) -> SafeFetcher:
    """The client that fetches pasted URLs: the production one (tests override this dependency
    with one that may reach a local server)."""
    return credential_fetcher(settings)


FetcherDep = Annotated[SafeFetcher, Depends(verify_fetcher)]


@router.get("/verify", dependencies=[Public], response_class=HTMLResponse, include_in_schema=False)
def verify_form(settings: SettingsDep) -> HTMLResponse:
    """The verify page: paste a badge URL, a credential or a token, or choose a file."""
    return page(render_verify_page(settings))


@router.post("/verify", dependencies=[Public], response_class=HTMLResponse, include_in_schema=False)
async def verify_submitted(
    request: Request,
    settings: SettingsDep,
    engine: ReadEngineDep,
    fetcher: FetcherDep,
    submitted: SubmittedCredentialsDep,
) -> HTMLResponse:
    """Verify what the form carries and show the report in plain words, or the form again with
    what went wrong."""
    refused = await _over_budget(request, settings)
    if refused is not None:
        return refused
    try:
        submission = await _read_form(request, settings)
    except _PageProblem as problem:
        return page(render_verify_page(settings, error=problem.message), problem.status_code)
    try:
        data = await run_in_threadpool(credential_bytes, engine, settings, fetcher, submission)
        report = await submitted.report(data)
    except ServiceError as err:  # a refused URL, a bad submission, a busy server (503)
        return page(render_verify_page(settings, text=submission.text, error=err.detail), err.status_code, err.headers)
    return page(render_verify_page(settings, report=report))


class _PageProblem(Exception):
    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.message, self.status_code = message, status_code


async def _over_budget(request: Request, settings: Settings) -> HTMLResponse | None:
    """Count the request against the verify budget of its address (the API's, shared); the page
    saying so with ``Retry-After`` when it is spent, else None."""
    limiter = limiter_of(request)
    if limiter is None:
        return None
    address = client_address(request)
    decision = (
        limiter.hit(VERIFY_PER_ADDRESS, address)
        if limiter.in_process
        else await run_in_threadpool(limiter.hit, VERIFY_PER_ADDRESS, address)
    )
    request.state.rate_limit_headers = decision.headers()
    if decision.allowed:
        return None
    seconds = max(1, decision.reset_after)
    message = f"Too many verifications from your address just now; try again in {seconds} seconds."
    return page(render_verify_page(settings, error=message), 429, decision.headers())


async def _read_form(request: Request, settings: Settings) -> Submission:
    """The form's pasted text and file, bounded: a file over the upload limit or text over
    :data:`MAX_TEXT_BYTES` is refused in words (the body-size middleware bounds the whole)."""
    try:
        async with request.form(max_files=1, max_fields=4, max_part_size=MAX_TEXT_BYTES) as form:
            text = form.get("credential")
            upload = form.get("file")
            content: bytes | None = None
            name: str | None = None
            if isinstance(upload, UploadFile) and (upload.filename or upload.size):
                content = await upload.read(settings.max_upload_bytes + 1)
                name = upload.filename
                if len(content) > settings.max_upload_bytes:
                    raise _PageProblem(too_large_message(settings), 413)
    except HTTPException as err:  # a broken multipart body, a field over its size, too many parts
        raise _PageProblem(f"The form could not be read ({err.detail}). Reload the page and try again.", 400) from None
    return Submission(text=text if isinstance(text, str) else "", file=content, file_name=name)
