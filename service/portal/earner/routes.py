"""The earner's pages: home (credentials and their visibility, assessments), applying for an
achievement with evidence, and following an assessment.

Each page calls the service functions the API's routes call, with the same account checks, and
validates its forms with the API's own schemas: a page can do no more than the API lets the same
account do. A refusal (a ``ServiceError``: a quota, a locked bundle, a resubmission limit) rolls
the request's changes back and shows the page again with the reason; a page that does not exist
for this account is the service's 404, as the API answers.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response
from pydantic import BaseModel, ValidationError
from sqlmodel import Session
from starlette.datastructures import UploadFile

from service.accounts import service as accounts
from service.accounts.models import Role
from service.accounts.schemas import AccountUpdate
from service.api.deps import ClockDep, MailerDep, SessionDep, SettingsDep
from service.api.gates import IssuingSlot
from service.api.page_auth import AnyPage, EarnerPage, IdPath, NoticeQuery, PageCaller, redirect, signed_in_page
from service.api.ratelimit import SUGGESTIONS_PER_ADDRESS, TOKEN_ATTEMPTS_PER_ADDRESS, Policy
from service.api.throttle import client_address, count
from service.assessment import service as assessments
from service.assessment.schemas import AppealRequest, AssessmentSubmit
from service.core.config import Settings
from service.core.errors import NotFound, ServiceError
from service.core.mail import deliver, verification_message
from service.credentials import formats
from service.credentials import service as credentials
from service.discovery import service as discovery
from service.discovery.schemas import Suggestions
from service.discovery.views import suggestions_view
from service.endorsements import service as endorsement_service
from service.endorsements.models import EndorsementState
from service.evidence import intake
from service.evidence import jobs as evidence_jobs
from service.evidence import service as evidence
from service.evidence.blobstore import get_blob_store
from service.evidence.intake import EvidenceFetchers, EvidenceLimits
from service.evidence.schemas import RepositoryItemIn, TextItemIn, UrlItemIn
from service.portal.earner import pages

router = APIRouter(tags=["portal"], include_in_schema=False)

FETCH_WINDOW_SECONDS = 3600
NOTICES = {
    "visibility": "Your choice was saved.",
    "name": "Your display name was saved.",
    "sent": "A new verification link is on its way to your inbox.",
    "added": "Added to your evidence.",
    "fetching": "Added: we are fetching it now (reload in a moment to see it ready).",
    "removed": "Removed from your evidence.",
    "appealed": "Your appeal was sent: a reviewer other than the one who decided reads it.",
    "endorsement": "Your decision on the endorsement was saved.",
    "retargeted": "Your evidence now applies to this achievement.",
}
"""The fixed messages a page shows after a form (the query names one; nothing is echoed)."""
SUGGESTIONS_SHOWN = 5
ENDORSEMENT_DECISIONS = {"accept": EndorsementState.accepted, "hide": EndorsementState.hidden}
DOWNLOAD_TYPES = {
    "jsonld": formats.JSONLD_MEDIA_TYPE,
    "jwt": formats.JWT_MEDIA_TYPE,
    "png": formats.PNG_MEDIA_TYPE,
    "svg": formats.SVG_MEDIA_TYPE,
}


def _refused(session: Session, error: ServiceError) -> str:
    """Undo what the refused form did so far, and say why in words."""
    session.rollback()
    return error.detail


def _invalid(error: ValidationError) -> str:
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem["loc"]) or "the form"
    return f"Check {where}: {problem['msg']}."


# --- home --------------------------------------------------------------------------------------


def _home(
    request: Request, session: Session, settings: Settings, caller: PageCaller, *, notice: str = "", error: str = ""
) -> Response:
    account = caller.account
    if account.role != Role.earner:
        return signed_in_page(request, "portal/staff.html", caller)
    shown = pages.home(session, settings, account, now=request.app.state.clock.now())
    return signed_in_page(request, "portal/home.html", caller, notice=notice, error=error, **shown)


@router.get("/portal")
def portal_home(
    request: Request, session: SessionDep, settings: SettingsDep, caller: AnyPage, done: NoticeQuery = None
) -> Response:
    """The signed-in home: for an earner, their address's state, their credentials (visibility,
    share, downloads), their assessments and the applications they started."""
    return _home(request, session, settings, caller, notice=NOTICES.get(done or "", ""))


@router.post("/portal/verify-email/resend")
def resend_verification(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    mailer: MailerDep,
    background: BackgroundTasks,
    caller: AnyPage,
) -> Response:
    """Mail a new verification link, as ``POST /v1/auth/verify-email/resend`` does."""
    try:
        decision = count(request, TOKEN_ATTEMPTS_PER_ADDRESS, client_address(request))
        if decision is not None:
            request.state.rate_limit_headers = decision.headers()
        token = accounts.start_email_verification(
            session, caller.account, ttl=timedelta(hours=settings.unverified_account_hours)
        )
    except ServiceError as error:
        return _home(request, session, settings, caller, error=_refused(session, error))
    message = verification_message(
        caller.account.email, token, settings.public_url, valid_hours=settings.unverified_account_hours
    )
    background.add_task(deliver, mailer, message)
    return redirect("/portal?done=sent")


@router.post("/portal/profile")
def update_profile(request: Request, session: SessionDep, settings: SettingsDep, caller: AnyPage) -> Response:
    """Change the display name, as ``PATCH /v1/me`` does (empty: shown by the badge only)."""
    try:
        body = AccountUpdate(display_name=caller.field("display_name") or None)
    except ValidationError as error:
        return _home(request, session, settings, caller, error=_invalid(error))
    accounts.set_display_name(session, caller.account, body.display_name)
    return redirect("/portal?done=name")


@router.post("/portal/credentials/{credential_id}/visibility")
def credential_visibility(
    credential_id: IdPath, request: Request, session: SessionDep, settings: SettingsDep, caller: EarnerPage
) -> Response:
    """Switch who sees a credential and whether its page shows the earner's name, as
    ``PATCH /v1/credentials/{id}/visibility`` does (another's credential: 404)."""
    credentials.set_visibility(
        session,
        credential_id,
        earner=caller.account,
        public=caller.field("public") == "on",
        show_name=caller.field("show_name") == "on",
    )
    return redirect("/portal?done=visibility")


@router.get("/portal/credentials/{credential_id}/download/{kind}")
def download_credential(credential_id: IdPath, kind: str, session: SessionDep, caller: EarnerPage) -> Response:
    """The earner's own credential as a file: ``jsonld``, ``jwt`` or a baked ``png`` / ``svg``."""
    media_type = DOWNLOAD_TYPES.get(kind)
    if media_type is None:
        raise NotFound("No such download")
    credential = credentials.get_credential(session, credential_id, viewer=caller.account)
    content: bytes
    if kind == "jsonld":
        content = credential.jsonld.encode("utf-8")
    elif kind == "jwt":
        content = credential.vc_jwt.encode("ascii")
    elif kind == "png":
        content = formats.baked_png(credential.jsonld)
    else:
        content = formats.baked_svg(credential.jsonld)
    response = Response(content, media_type=media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="credential-{credential.id}.{kind}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


# --- applying ------------------------------------------------------------------------------------


def _apply(
    request: Request,
    session: Session,
    caller: PageCaller,
    achievement_id: str,
    *,
    notice: str = "",
    error: str = "",
    status: int = 200,
    renews: str | None = None,
    suggestions: Suggestions | None = None,
) -> Response:
    page = pages.apply_page(session, caller.account, achievement_id)
    if suggestions is not None:
        page = dataclasses.replace(page, suggestions=suggestions)
    return signed_in_page(
        request, "portal/apply.html", caller, status=status, page=page, notice=notice, error=error, renews=renews
    )


@router.get("/portal/apply/{achievement_id}")
def apply_form(
    achievement_id: IdPath,
    request: Request,
    session: SessionDep,
    caller: EarnerPage,
    done: NoticeQuery = None,
    renews: Annotated[str | None, Query(min_length=1, max_length=36)] = None,
) -> Response:
    """Apply for an achievement: its rubric (as earners see it: no assessor hints), the evidence
    gathered so far, forms to add a narrative, links, repositories and files, and submit;
    ``renews``: the credential of the earner's that the new one is to replace (checked on submit)."""
    return _apply(request, session, caller, achievement_id, notice=NOTICES.get(done or "", ""), renews=renews)


@router.post("/portal/apply/{achievement_id}/suggestions")
def suggest_achievements(
    achievement_id: IdPath, request: Request, session: SessionDep, settings: SettingsDep, caller: EarnerPage
) -> Response:
    """What the evidence gathered so far shows: open achievements and ESCO skills with the passages
    that support them, as ``POST /v1/evidence/bundles/{id}/suggestions`` answers (the same screens
    and the same per-address limit)."""
    bundle = pages.open_bundle_for(session, caller.account, achievement_id)
    if bundle is None:
        return _apply(request, session, caller, achievement_id, error="Add some evidence first.", status=409)
    try:
        decision = count(request, SUGGESTIONS_PER_ADDRESS, client_address(request))
        if decision is not None:
            request.state.rate_limit_headers = decision.headers()
        found = discovery.suggest(
            session, settings, earner=caller.account, bundle_id=bundle.id, limit=SUGGESTIONS_SHOWN
        )
    except NotFound:
        raise
    except ServiceError as error:
        message = _refused(session, error)
        return _apply(request, session, caller, achievement_id, error=message, status=error.status_code)
    return _apply(request, session, caller, achievement_id, suggestions=suggestions_view(bundle.id, found))


@router.post("/portal/apply/{achievement_id}/retarget")
def retarget(achievement_id: IdPath, request: Request, session: SessionDep, caller: EarnerPage) -> Response:
    """Apply for another achievement (one a suggestion named) with the same evidence, as
    ``PATCH /v1/evidence/bundles/{id}`` does while the bundle is open."""
    bundle = pages.open_bundle_for(session, caller.account, achievement_id)
    target = caller.field("achievement_id").strip()
    if bundle is None or not target or len(target) > 36:
        return _apply(request, session, caller, achievement_id, error="Choose an achievement.", status=422)
    try:
        evidence.retarget_bundle(session, owner=caller.account, bundle_id=bundle.id, achievement_id=target)
    except NotFound:
        raise
    except ServiceError as error:
        message = _refused(session, error)
        return _apply(request, session, caller, achievement_id, error=message, status=error.status_code)
    return redirect(f"/portal/apply/{quote(target)}?done=retargeted")


def _bundle_id(session: Session, settings: Settings, caller: PageCaller, achievement_id: str) -> str:
    """The open bundle for the achievement, started now (as ``POST /v1/evidence/bundles``) if needed."""
    bundle = pages.open_bundle_for(session, caller.account, achievement_id)
    if bundle is None:
        bundle = evidence.create_bundle(
            session, owner=caller.account, achievement_id=achievement_id, limits=EvidenceLimits.from_settings(settings)
        )
    return bundle.id


def _item(caller: PageCaller) -> BaseModel:
    """The form as the API's item schema (the same bounds and patterns)."""
    kind = caller.field("kind")
    name = caller.field("name").strip() or None
    if kind == "url":
        return UrlItemIn(kind="url", url=caller.field("url").strip(), name=name)
    if kind == "repository":
        return RepositoryItemIn(
            kind="repository", url=caller.field("url").strip(), commit=caller.field("commit").strip(), name=name
        )
    return TextItemIn(kind="text", text=caller.field("text"), name=name)


def _count_fetch(request: Request, settings: Settings, account_id: str) -> None:
    """A URL fetch or clone counts against the account's hourly allowance, as in the API."""
    policy = Policy("evidence-fetch", limit=settings.evidence_account_fetches_per_hour, window=FETCH_WINDOW_SECONDS)
    decision = count(request, policy, account_id)
    if decision is not None:
        request.state.rate_limit_headers = decision.headers()


@router.post("/portal/apply/{achievement_id}/items")
def add_item(
    achievement_id: IdPath, request: Request, session: SessionDep, settings: SettingsDep, caller: EarnerPage
) -> Response:
    """Add a narrative (text), a link (fetched by a job) or a repository at a commit (cloned by a
    job), as ``POST /v1/evidence/bundles/{id}/items`` does."""
    try:
        body = _item(caller)
    except ValidationError as error:
        return _apply(request, session, caller, achievement_id, error=_invalid(error), status=422)
    limits = EvidenceLimits.from_settings(settings)
    blobs = get_blob_store(settings)
    try:
        bundle_id = _bundle_id(session, settings, caller, achievement_id)
        bundle, _room = evidence.admit(session, bundle_id, owner=caller.account, limits=limits)
        if isinstance(body, UrlItemIn | RepositoryItemIn):
            _count_fetch(request, settings, caller.account.id)
            fetchers = EvidenceFetchers.from_settings(settings)
            if isinstance(body, UrlItemIn):
                intake.check_url(fetchers.urls, body.url)
                prepared = intake.pending_url(body.url, name=body.name)
            else:
                intake.check_repository(fetchers.repositories, body.url, body.commit)
                prepared = intake.pending_repository(body.url, body.commit, name=body.name)
            item = evidence.add_item(session, blobs, bundle.id, prepared, owner=caller.account, limits=limits)
            evidence_jobs.defer_fetch(session, item.id)
            return redirect(f"/portal/apply/{quote(achievement_id)}?done=fetching")
        assert isinstance(body, TextItemIn)
        prepared = intake.prepare_text(body.text, limits, name=body.name)
        evidence.add_item(session, blobs, bundle.id, prepared, owner=caller.account, limits=limits)
    except NotFound:
        raise
    except ServiceError as error:
        message = _refused(session, error)
        return _apply(request, session, caller, achievement_id, error=message, status=error.status_code)
    return redirect(f"/portal/apply/{quote(achievement_id)}?done=added")


@router.post("/portal/apply/{achievement_id}/files")
def upload_file(
    achievement_id: IdPath, request: Request, session: SessionDep, settings: SettingsDep, caller: EarnerPage
) -> Response:
    """Upload a file, as ``POST /v1/evidence/bundles/{id}/files`` does (sniffed, bounded)."""
    upload = caller.form.get("file") if caller.form is not None else None
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _apply(request, session, caller, achievement_id, error="Choose a file to upload.", status=422)
    limits = EvidenceLimits.from_settings(settings)
    try:
        name = caller.field("name").strip()[:200] or None
        bundle_id = _bundle_id(session, settings, caller, achievement_id)
        bundle, room = evidence.admit(session, bundle_id, owner=caller.account, limits=limits)
        if upload.size is not None and upload.size > room.max_bytes:
            raise room.refusal
        data = upload.file.read(room.max_bytes + 1)
        if len(data) > room.max_bytes:
            raise room.refusal
        prepared = intake.prepare_file(
            data, limits, file_name=upload.filename, content_type=upload.content_type, name=name
        )
        evidence.add_item(session, get_blob_store(settings), bundle.id, prepared, owner=caller.account, limits=limits)
    except NotFound:
        raise
    except ServiceError as error:
        message = _refused(session, error)
        return _apply(request, session, caller, achievement_id, error=message, status=error.status_code)
    return redirect(f"/portal/apply/{quote(achievement_id)}?done=added")


@router.post("/portal/apply/{achievement_id}/items/{item_id}/delete")
def remove_item(
    achievement_id: IdPath, item_id: IdPath, request: Request, session: SessionDep, caller: EarnerPage
) -> Response:
    """Remove an item from the open bundle, as ``DELETE /v1/evidence/bundles/{id}/items/{item}`` does."""
    bundle = pages.open_bundle_for(session, caller.account, achievement_id)
    if bundle is None:
        raise NotFound("No such evidence item")
    try:
        evidence.delete_item(session, bundle.id, item_id, owner=caller.account)
    except NotFound:
        raise
    except ServiceError as error:
        message = _refused(session, error)
        return _apply(request, session, caller, achievement_id, error=message, status=error.status_code)
    return redirect(f"/portal/apply/{quote(achievement_id)}?done=removed")


@router.post("/portal/apply/{achievement_id}/submit", dependencies=[IssuingSlot])
def submit(
    achievement_id: IdPath,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    caller: EarnerPage,
) -> Response:
    """Submit the open bundle for assessment, as ``POST /v1/assessments`` does (the same locks,
    readiness checks and resubmission limits); then follow it on its page."""
    bundle = pages.open_bundle_for(session, caller.account, achievement_id)
    if bundle is None:
        return _apply(request, session, caller, achievement_id, error="Add some evidence first.", status=409)
    try:
        body = AssessmentSubmit(bundle_id=bundle.id, renews=caller.field("renews").strip() or None)
    except ValidationError as error:
        return _apply(request, session, caller, achievement_id, error=_invalid(error), status=422)
    try:
        assessment, _ = assessments.submit_assessment(
            session,
            earner=caller.account,
            bundle_id=body.bundle_id,
            renews=body.renews,
            now=clock.now(),
            limits=assessments.AttemptLimits.from_settings(settings),
        )
    except NotFound:
        raise
    except ServiceError as error:
        message = _refused(session, error)
        response = _apply(
            request, session, caller, achievement_id, error=message, status=error.status_code, renews=body.renews
        )
        if "Retry-After" in error.headers:
            response.headers["Retry-After"] = error.headers["Retry-After"]
        return response
    return redirect(f"/portal/assessments/{assessment.id}")


# --- following an assessment ----------------------------------------------------------------------


def _assessment(
    request: Request,
    session: Session,
    settings: Settings,
    caller: PageCaller,
    assessment_id: str,
    *,
    notice: str = "",
    error: str = "",
    status: int = 200,
) -> Response:
    shown = pages.assessment_page(session, settings, caller.account, assessment_id)
    return signed_in_page(request, "portal/assessment.html", caller, status=status, notice=notice, error=error, **shown)


@router.get("/portal/assessments/{assessment_id}")
def assessment_page(
    assessment_id: IdPath,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    caller: EarnerPage,
    done: NoticeQuery = None,
) -> Response:
    """An assessment as its earner may read it: queued, running or decided, each criterion's
    level on its scale with the explanation in plain words, the history; appeal or apply again."""
    return _assessment(request, session, settings, caller, assessment_id, notice=NOTICES.get(done or "", ""))


@router.post("/portal/assessments/{assessment_id}/appeal")
def appeal(
    assessment_id: IdPath, request: Request, session: SessionDep, settings: SettingsDep, caller: EarnerPage
) -> Response:
    """Appeal a rejection once, saying why, as ``POST /v1/assessments/{id}/appeal`` does."""
    try:
        body = AppealRequest(reason=caller.field("reason"))
    except ValidationError as error:
        return _assessment(request, session, settings, caller, assessment_id, error=_invalid(error), status=422)
    try:
        assessments.appeal(session, assessment_id, earner=caller.account, reason=body.reason)
    except NotFound:
        raise
    except ServiceError as error:
        message = _refused(session, error)
        return _assessment(request, session, settings, caller, assessment_id, error=message, status=error.status_code)
    return redirect(f"/portal/assessments/{quote(assessment_id)}?done=appealed")


# --- endorsements ---------------------------------------------------------------------------------


@router.post("/portal/endorsements/{endorsement_id}/{decision}")
def decide_endorsement(
    endorsement_id: IdPath, decision: str, session: SessionDep, clock: ClockDep, caller: EarnerPage
) -> Response:
    """Accept (show on the badge page) or hide an endorsement of one of the earner's credentials,
    as ``POST /v1/endorsements/{id}/accept`` and ``/hide`` do (another's: 404; a withdrawn one: 409)."""
    state = ENDORSEMENT_DECISIONS.get(decision)
    if state is None:
        raise NotFound("No such decision")
    endorsement_service.decide(session, endorsement_id, state, viewer=caller.account, now=clock.now())
    return redirect("/portal?done=endorsement")
