"""The issuer admin's pages: an overview, achievements (list, create, edit with a rubric editor
and ESCO skill search), credentials (search; revoke, suspend, unsuspend with a reason after a
confirmation step), keys (list, rotate) and the audit log.

The door is the API's: admins (any issuer, picked from a list) and an issuer's admins (their own
issuer); reviewers and earners get a 403 page, another issuer's objects are 404 in the API's
words (:func:`service.api.auth.ensure_issuer_scope`). Each page validates its form with the API's
own schema and calls the service function the API's route calls; a refusal rolls the request's
changes back and shows the form again with the reason.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import ValidationError
from sqlmodel import Session

from service.accounts.models import Role
from service.achievements import service as achievements
from service.achievements.service import AchievementAtVersion
from service.api.deps import ClockDep, KeystoreDep, SessionDep, SettingsDep
from service.api.page_auth import (
    IdPath,
    IssuerAdminPage,
    NoticeQuery,
    PageCaller,
    PageNumberQuery,
    html_page,
    issuer_in_scope,
    redirect,
)
from service.core.errors import NotFound, ServiceError
from service.core.templates import render
from service.credentials.lifecycle import StatusAction, change_status
from service.issuers import service as issuers
from service.issuers.models import Issuer
from service.portal.issuer import pages, rubric_form
from service.portal.issuer.rubric_form import AchievementDraft, DraftErrors
from service.status.schemas import MAX_REASON_LENGTH, StatusChangeIn

router = APIRouter(tags=["portal"], include_in_schema=False)

NOTICES = {
    "saved": "The achievement was saved as a new version.",
    "created": "The achievement was created.",
    "revoked": "The credential was revoked.",
    "suspended": "The credential was suspended.",
    "unsuspended": "The credential's suspension was lifted.",
    "rotated": "The keys were rotated: new credentials are signed with the new keys.",
}
"""The fixed messages a page shows after a form (the query names one; nothing is echoed)."""
RUBRIC_CODES = {"invalid_rubric", "rubric_conflict", "invalid_achievement"}


def _page(
    request: Request, template: str, caller: PageCaller, issuer: Issuer | None, *, status: int = 200, **context: Any
) -> Response:
    html = render(template, account=caller.account, csrf_token=caller.csrf, issuer=issuer, **context)
    return html_page(request, html, status_code=status)


def _base(issuer: Issuer) -> str:
    return f"/portal/issuer/{issuer.id}"


# --- overview ----------------------------------------------------------------------------------


@router.get("/portal/issuer")
def issuer_home(request: Request, session: SessionDep, caller: IssuerAdminPage) -> Response:
    """An issuer admin goes on to their issuer's overview; an admin picks an issuer from the list."""
    account = caller.account
    if account.role != Role.admin and account.issuer_id:
        return redirect(f"/portal/issuer/{account.issuer_id}")
    choices = pages.issuer_choices(session, account)
    return _page(request, "portal/issuer_choose.html", caller, None, issuers=choices)


@router.get("/portal/issuer/{issuer_id}")
def issuer_overview(issuer_id: IdPath, request: Request, session: SessionDep, caller: IssuerAdminPage) -> Response:
    """The issuer's overview: its profile, counts, active keys and links to each page."""
    issuer = issuer_in_scope(session, caller, issuer_id)
    shown = pages.overview(session, caller.account, issuer)
    return _page(request, "portal/issuer_overview.html", caller, issuer, **shown)


# --- achievements ------------------------------------------------------------------------------


@router.get("/portal/issuer/{issuer_id}/achievements")
def achievement_list(
    issuer_id: IdPath,
    request: Request,
    session: SessionDep,
    caller: IssuerAdminPage,
    page: PageNumberQuery = 1,
    done: NoticeQuery = None,
) -> Response:
    """The issuer's achievements at their current versions, newest first, paged."""
    issuer = issuer_in_scope(session, caller, issuer_id)
    found, paging = pages.achievement_list(session, issuer.id, pages.paging(page, {}))
    return _page(
        request,
        "portal/issuer_achievements.html",
        caller,
        issuer,
        achievements=found,
        paging=paging,
        notice=NOTICES.get(done or "", ""),
    )


def _form(
    request: Request,
    caller: PageCaller,
    issuer: Issuer,
    draft: AchievementDraft,
    *,
    current: AchievementAtVersion | None,
    notice: str = "",
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    action = f"{_base(issuer)}/achievements/{current.id if current else 'new'}"
    return _page(
        request,
        "portal/issuer_achievement_form.html",
        caller,
        issuer,
        status=status,
        draft=draft,
        current=current,
        action=action,
        notice=notice,
        errors=errors or {},
        skills_found=pages.skills_found(draft.skill_query),
        skills_chosen=pages.skills_chosen(draft.esco_skills),
        policies=rubric_form.POLICIES,
        max_criteria=rubric_form.MAX_EDITOR_CRITERIA,
        too_large=bool(current and len((current.content.rubric or {}).get("criteria", [])) > len(draft.criteria)),
    )


def _save(
    request: Request, session: Session, caller: PageCaller, issuer: Issuer, current: AchievementAtVersion | None
) -> Response:
    """The form's submit: a non-saving button shows the form again changed; ``save`` validates the
    form as ``AchievementCreate`` and creates (``POST /v1/issuers/{id}/achievements``) or writes
    the next version (``PUT /v1/achievements/{id}``)."""
    draft = rubric_form.read_draft(caller.field)
    action = caller.field("action") or "save"
    if action != "save":
        message = rubric_form.apply_action(draft, action) or ""
        return _form(request, caller, issuer, draft, current=current, notice=message)
    try:
        body = rubric_form.body_of(draft, current=current)
    except DraftErrors as problems:
        return _form(request, caller, issuer, draft, current=current, errors=problems.errors, status=422)
    try:
        if current is None:
            saved = achievements.create_achievement(session, issuer.id, body, actor=caller.account)
        else:
            saved = achievements.update_achievement(session, current.id, body, actor=caller.account)
    except ServiceError as error:
        session.rollback()
        where = "skills" if error.code == "unknown_esco_skill" else "rubric" if error.code in RUBRIC_CODES else "form"
        detail = rubric_form.rubric_problems(error.detail) if where == "rubric" else error.detail
        if current is not None:
            current = pages.achievement_of(session, issuer.id, current.id)
        return _form(request, caller, issuer, draft, current=current, errors={where: detail}, status=error.status_code)
    done = "created" if current is None else "saved"
    return redirect(f"{_base(issuer)}/achievements/{saved.id}?done={done}")


@router.get("/portal/issuer/{issuer_id}/achievements/new")
def new_achievement_form(issuer_id: IdPath, request: Request, session: SessionDep, caller: IssuerAdminPage) -> Response:
    """The form for a new achievement: its description, ESCO skills and a rubric."""
    issuer = issuer_in_scope(session, caller, issuer_id)
    return _form(request, caller, issuer, rubric_form.blank_draft(), current=None)


@router.post("/portal/issuer/{issuer_id}/achievements/new")
def create_achievement(issuer_id: IdPath, request: Request, session: SessionDep, caller: IssuerAdminPage) -> Response:
    """Create the achievement as ``POST /v1/issuers/{id}/achievements`` does (or apply a button of
    the editor: add or remove a criterion, search, add or remove a skill)."""
    issuer = issuer_in_scope(session, caller, issuer_id)
    return _save(request, session, caller, issuer, None)


@router.get("/portal/issuer/{issuer_id}/achievements/{achievement_id}")
def edit_achievement_form(
    issuer_id: IdPath,
    achievement_id: IdPath,
    request: Request,
    session: SessionDep,
    caller: IssuerAdminPage,
    done: NoticeQuery = None,
) -> Response:
    """The achievement's current version in the form; saving writes the next version."""
    issuer = issuer_in_scope(session, caller, issuer_id)
    current = pages.achievement_of(session, issuer.id, achievement_id)
    draft = rubric_form.draft_of(current)
    return _form(request, caller, issuer, draft, current=current, notice=NOTICES.get(done or "", ""))


@router.post("/portal/issuer/{issuer_id}/achievements/{achievement_id}")
def update_achievement(
    issuer_id: IdPath, achievement_id: IdPath, request: Request, session: SessionDep, caller: IssuerAdminPage
) -> Response:
    """Write the next version as ``PUT /v1/achievements/{id}`` does (or apply an editor button)."""
    issuer = issuer_in_scope(session, caller, issuer_id)
    current = pages.achievement_of(session, issuer.id, achievement_id)
    return _save(request, session, caller, issuer, current)


# --- credentials -------------------------------------------------------------------------------


@router.get("/portal/issuer/{issuer_id}/credentials")
def credential_search(
    issuer_id: IdPath,
    request: Request,
    session: SessionDep,
    caller: IssuerAdminPage,
    recipient: Annotated[str, Query(max_length=320)] = "",
    achievement: Annotated[str, Query(max_length=36)] = "",
    state: Annotated[str, Query(pattern="^(|active|suspended|revoked)$")] = "",
    page: PageNumberQuery = 1,
    done: NoticeQuery = None,
) -> Response:
    """The issuer's credentials, newest first, searched by recipient email, achievement and state,
    each with its revoke / suspend / unsuspend links."""
    issuer = issuer_in_scope(session, caller, issuer_id)
    filters = pages.CredentialFilters(recipient.strip(), achievement.strip(), state)
    paging = pages.paging(page, filters.query())
    error, status = "", 200
    try:
        rows, paging = pages.credential_search(session, caller.account, issuer.id, filters, paging)
    except ServiceError as refused:
        rows, error, status = [], refused.detail, refused.status_code
    return _page(
        request,
        "portal/issuer_credentials.html",
        caller,
        issuer,
        status=status,
        credentials=rows,
        paging=paging,
        filters=filters,
        achievements=pages.achievement_names(session, issuer.id),
        notice=NOTICES.get(done or "", ""),
        error=error,
    )


def _action(action: str) -> StatusAction:
    try:
        return StatusAction(action)
    except ValueError:
        raise NotFound("No such page") from None


def _confirm(
    request: Request,
    session: Session,
    caller: PageCaller,
    issuer: Issuer,
    credential_id: str,
    action: StatusAction,
    *,
    reason: str = "",
    error: str = "",
    status: int = 200,
) -> Response:
    credential = pages.credential_of(session, caller.account, issuer.id, credential_id)
    return _page(
        request,
        "portal/issuer_credential_confirm.html",
        caller,
        issuer,
        status=status,
        credential=credential,
        action=action.value,
        words=pages.ACTIONS[action],
        possible=action.value in credential["actions"],
        reason=reason,
        max_reason=MAX_REASON_LENGTH,
        error=error,
    )


@router.get("/portal/issuer/{issuer_id}/credentials/{credential_id}/{action}")
def confirm_status_change(
    issuer_id: IdPath,
    credential_id: IdPath,
    action: IdPath,
    request: Request,
    session: SessionDep,
    caller: IssuerAdminPage,
) -> Response:
    """The confirmation step of ``revoke``, ``suspend`` or ``unsuspend``: the credential, what the
    change does, and the reason to give."""
    issuer = issuer_in_scope(session, caller, issuer_id)
    return _confirm(request, session, caller, issuer, credential_id, _action(action))


@router.post("/portal/issuer/{issuer_id}/credentials/{credential_id}/{action}")
def change_credential_status(
    issuer_id: IdPath,
    credential_id: IdPath,
    action: IdPath,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    caller: IssuerAdminPage,
) -> Response:
    """Revoke, suspend or unsuspend with a reason, as ``POST /v1/credentials/{id}/{action}`` does."""
    issuer = issuer_in_scope(session, caller, issuer_id)
    chosen = _action(action)
    pages.credential_of(session, caller.account, issuer.id, credential_id)  # 404 for another issuer's
    reason = caller.field("reason")
    try:
        body = StatusChangeIn(reason=reason)
    except ValidationError:
        message = f"Give a reason of 1 to {MAX_REASON_LENGTH} characters, without control characters."
        return _confirm(
            request, session, caller, issuer, credential_id, chosen, reason=reason, error=message, status=422
        )
    try:
        change_status(
            session, settings, credential_id, chosen, reason=body.reason, actor=caller.account, now=clock.now()
        )
    except NotFound:
        raise
    except ServiceError as error:
        session.rollback()
        return _confirm(
            request,
            session,
            caller,
            issuer,
            credential_id,
            chosen,
            reason=reason,
            error=error.detail,
            status=error.status_code,
        )
    return redirect(f"{_base(issuer)}/credentials?done={pages.ACTIONS[chosen]['done']}")


# --- keys and the audit log ----------------------------------------------------------------------


def _keys(
    request: Request,
    session: Session,
    caller: PageCaller,
    issuer: Issuer,
    *,
    notice: str = "",
    error: str = "",
    status: int = 200,
) -> Response:
    keys = pages.issuer_keys(session, issuer)
    return _page(
        request, "portal/issuer_keys.html", caller, issuer, status=status, keys=keys, notice=notice, error=error
    )


@router.get("/portal/issuer/{issuer_id}/keys")
def key_list(
    issuer_id: IdPath, request: Request, session: SessionDep, caller: IssuerAdminPage, done: NoticeQuery = None
) -> Response:
    """The issuer's signing keys, oldest first (public parts only), and the rotate button."""
    issuer = issuer_in_scope(session, caller, issuer_id)
    return _keys(request, session, caller, issuer, notice=NOTICES.get(done or "", ""))


@router.post("/portal/issuer/{issuer_id}/keys/rotate")
def rotate_keys(
    issuer_id: IdPath, request: Request, session: SessionDep, keystore: KeystoreDep, caller: IssuerAdminPage
) -> Response:
    """Retire the active keys and make new ones, as ``POST /v1/issuers/{id}/keys/rotate`` does."""
    issuer = issuer_in_scope(session, caller, issuer_id)
    try:
        issuers.rotate_keys(session, keystore, issuer, actor=caller.account)
    except ServiceError as error:
        session.rollback()
        return _keys(request, session, caller, issuer, error=error.detail, status=error.status_code)
    return redirect(f"{_base(issuer)}/keys?done=rotated")


@router.get("/portal/issuer/{issuer_id}/audit")
def audit_log(
    issuer_id: IdPath,
    request: Request,
    session: SessionDep,
    caller: IssuerAdminPage,
    action: Annotated[str, Query(max_length=64)] = "",
    object_id: Annotated[str, Query(max_length=36)] = "",
    page: PageNumberQuery = 1,
) -> Response:
    """The issuer's audit events, newest first, paged, filtered by action and object as ``GET /v1/audit``."""
    issuer = issuer_in_scope(session, caller, issuer_id)
    paging = pages.paging(page, {"action": action.strip(), "object_id": object_id.strip()})
    events, paging = pages.audit_events(
        session, issuer.id, action=action.strip(), object_id=object_id.strip(), page=paging
    )
    return _page(
        request,
        "portal/issuer_audit.html",
        caller,
        issuer,
        events=events,
        paging=paging,
        action=action.strip(),
        object_id=object_id.strip(),
    )
