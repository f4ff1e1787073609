"""The reviewer's pages: the review queue (appeals included), one assessment's evidence beside
its rubric, and the forms that decide it.

Each page admits the roles the API's review routes admit (admins, issuer admins, reviewers) and
calls the service functions those routes call, with the same checks: the queue is
``GET /v1/review-queue``'s, approving is ``POST /v1/assessments/{id}/approve``'s (in one
transaction with the credential, under the issuing gate), rejecting and overriding are
``.../reject`` and ``.../overrides``'s, and the forms are validated with the API's own schemas. An
appeal is decided the way the API decides it: approve (overturn the rejection) or reject (uphold
it), by someone other than the reviewer who rejected. Another issuer's assessment is the service's
404. A refusal (a blank reason, a decision someone else took first, levels below the pass rule)
rolls back and shows the page again with the reason: nothing is changed.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from pydantic import ValidationError
from sqlmodel import Session

from service.api.deps import KeystoreDep, SessionDep, SettingsDep
from service.api.gates import IssuingSlot
from service.api.page_auth import CSRF_FIELD, IdPath, NoticeQuery, PageCaller, StaffPage, redirect, signed_in_page
from service.api.paging import PageDep
from service.assessment import service as assessments
from service.assessment.engine.rubric import Criterion
from service.assessment.schemas import ApproveRequest, LevelOverride, OverrideRequest, RejectRequest
from service.core.config import Settings
from service.core.errors import NotFound, ServiceError
from service.evidence import views as evidence_views
from service.evidence.blobstore import get_blob_store
from service.portal.review import pages
from service.web.markdown import render_markdown

router = APIRouter(tags=["portal"], include_in_schema=False)

FilterQuery = Annotated[str | None, Query(max_length=36)]
NOTICES = {
    "approved": "Approved: the credential was issued to the earner.",
    "rejected": "Rejected: the earner can read your reason.",
    "overridden": "The levels were changed. The assessment is still waiting for a decision.",
}
"""The fixed messages a page shows after a form (the query names one; nothing is echoed)."""
REASON_WORDS = "a reason of up to 4,000 characters, without control characters"
NOTHING_CHANGED = "Choose a different level for at least one criterion, and say why."
BELOW_PASS_RULE = (
    "These levels do not meet the rubric's pass rule. To issue the credential anyway, tick "
    "“Issue even though the levels do not meet the pass rule” and approve again."
)


def _typed(caller: PageCaller) -> dict[str, str]:
    """What the form held, to fill it in again when it is refused (never the CSRF token)."""
    if caller.form is None:
        return {}
    return {name: value for name, value in caller.form.items() if isinstance(value, str) and name != CSRF_FIELD}


# --- the queue --------------------------------------------------------------------------------------


@router.get("/portal/review")
def review_queue(
    request: Request,
    session: SessionDep,
    caller: StaffPage,
    page: PageDep,
    achievement_id: FilterQuery = None,
    issuer_id: FilterQuery = None,
    done: NoticeQuery = None,
) -> Response:
    """The review queue, as ``GET /v1/review-queue`` gives it (reviewers and issuer admins: their
    issuer's; admins: every issuer's, or one with ``issuer_id``; ``achievement_id`` filters),
    oldest first, paged: appeals and first reviews, each with why it waits."""
    shown = pages.queue(session, caller.account, page, achievement_id=achievement_id, issuer_id=issuer_id)
    return signed_in_page(request, "portal/review_queue.html", caller, queue=shown, notice=NOTICES.get(done or "", ""))


# --- one assessment --------------------------------------------------------------------------------


def _review(
    request: Request,
    session: Session,
    settings: Settings,
    caller: PageCaller,
    assessment_id: str,
    *,
    notice: str = "",
    error: str = "",
    status: int = 200,
    typed: dict[str, str] | None = None,
) -> Response:
    shown = pages.review_page(session, settings, get_blob_store(settings), caller.account, assessment_id)
    return signed_in_page(
        request,
        "portal/review_assessment.html",
        caller,
        status=status,
        page=shown,
        notice=notice,
        error=error,
        typed=typed or {},
        markdown=render_markdown,
    )


def _refusal(
    request: Request, session: Session, settings: Settings, caller: PageCaller, assessment_id: str, error: ServiceError
) -> Response:
    """The service refused the form: undo what it did so far, and show the page again saying why
    (with the refusal's status), the form filled in as it was sent."""
    session.rollback()
    message = BELOW_PASS_RULE if error.code == "below_pass_rule" else error.detail
    return _review(
        request, session, settings, caller, assessment_id, error=message, status=error.status_code, typed=_typed(caller)
    )


@router.get("/portal/review/{assessment_id}")
def review_assessment(
    assessment_id: IdPath,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    caller: StaffPage,
    done: NoticeQuery = None,
) -> Response:
    """One assessment as issuer staff read it (``GET /v1/assessments/{id}``): the evidence beside
    the rubric, the assessor's proposed level, confidence and rationale per criterion, the flags
    and findings in plain words, the history; and the forms that decide it."""
    return _review(request, session, settings, caller, assessment_id, notice=NOTICES.get(done or "", ""))


@router.get("/portal/review/{assessment_id}/evidence/{item_id}")
def evidence_content(
    assessment_id: IdPath, item_id: IdPath, session: SessionDep, settings: SettingsDep, caller: StaffPage
) -> Response:
    """An evidence item's stored bytes, as the evidence API serves them to reviewers: a download
    (images inline), markup as ``text/plain``, ``nosniff`` and a sandboxing policy."""
    item, data = pages.download(session, get_blob_store(settings), caller.account, assessment_id, item_id)
    media_type, headers = evidence_views.content_headers(item, public=False)
    return Response(data, media_type=media_type, headers=headers)


@router.post("/portal/review/{assessment_id}/approve", dependencies=[IssuingSlot])
def approve(
    assessment_id: IdPath,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    keystore: KeystoreDep,
    caller: StaffPage,
) -> Response:
    """Approve and issue the credential, as ``POST /v1/assessments/{id}/approve`` does (levels
    below the pass rule only when the box says so; the first decision wins). On an appeal: the
    rejection is overturned."""
    try:
        body = ApproveRequest(
            reason=caller.field("note").strip() or None,
            approve_below_pass_rule=caller.field("approve_below_pass_rule") == "on",
        )
    except ValidationError:
        error = f"The note to the earner is optional, but must be {REASON_WORDS}."
        return _review(request, session, settings, caller, assessment_id, error=error, status=422, typed=_typed(caller))
    try:
        assessments.approve(
            session,
            keystore,
            settings,
            assessment_id,
            reviewer=caller.account,
            reason=body.reason,
            overrides=body.overrides,
            approve_below_pass_rule=body.approve_below_pass_rule,
        )
    except NotFound:
        raise
    except ServiceError as refusal:
        return _refusal(request, session, settings, caller, assessment_id, refusal)
    return redirect("/portal/review?done=approved")


@router.post("/portal/review/{assessment_id}/reject")
def reject(
    assessment_id: IdPath, request: Request, session: SessionDep, settings: SettingsDep, caller: StaffPage
) -> Response:
    """Reject with a reason the earner reads, as ``POST /v1/assessments/{id}/reject`` does (a
    reason is required). On an appeal: the rejection is upheld."""
    try:
        body = RejectRequest(reason=caller.field("reason").strip())
    except ValidationError:
        error = f"Say why you reject it: the earner reads it. Give {REASON_WORDS}."
        return _review(request, session, settings, caller, assessment_id, error=error, status=422, typed=_typed(caller))
    try:
        assessments.reject(session, assessment_id, reviewer=caller.account, reason=body.reason)
    except NotFound:
        raise
    except ServiceError as refusal:
        return _refusal(request, session, settings, caller, assessment_id, refusal)
    return redirect("/portal/review?done=rejected")


class Unexplained(Exception):
    """A level was changed without a (valid) reason: the message names the criterion."""


def _overrides(caller: PageCaller, levels: list[tuple[Criterion, str]]) -> list[LevelOverride]:
    """The criteria whose chosen level differs from the one in force, each with its reason, as
    the API's schema reads them (:class:`Unexplained` names a criterion left without a reason)."""
    chosen = []
    for criterion, level in levels:
        picked = caller.field(f"level-{criterion.id}")
        if not picked or picked == level:
            continue
        try:
            chosen.append(
                LevelOverride(
                    criterion_id=criterion.id, level=picked, reason=caller.field(f"reason-{criterion.id}").strip()
                )
            )
        except ValidationError as error:
            raise Unexplained(f"Say why you changed the level of “{criterion.name}”: give {REASON_WORDS}.") from error
    return chosen


@router.post("/portal/review/{assessment_id}/override")
def override(
    assessment_id: IdPath, request: Request, session: SessionDep, settings: SettingsDep, caller: StaffPage
) -> Response:
    """Change the level of one or more criteria, each with a reason, as
    ``POST /v1/assessments/{id}/overrides`` does: the total and the pass rule are recomputed and
    the assessment stays in the queue."""
    levels = pages.levels_in_force(session, caller.account, assessment_id)  # another issuer's: 404
    try:
        body = OverrideRequest(overrides=_overrides(caller, levels))
    except (Unexplained, ValidationError) as error:
        message = str(error) if isinstance(error, Unexplained) else NOTHING_CHANGED
        return _review(
            request, session, settings, caller, assessment_id, error=message, status=422, typed=_typed(caller)
        )
    try:
        assessments.override_levels(session, assessment_id, body.overrides, reviewer=caller.account)
    except NotFound:
        raise
    except ServiceError as refusal:
        return _refusal(request, session, settings, caller, assessment_id, refusal)
    return redirect(f"{pages.review_path(quote(assessment_id))}?done=overridden")
