"""Achievement routes: versioned definitions under /v1, and the public OB 3.0 Achievement URL."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import HTMLResponse, JSONResponse
from sqlmodel import Session

from service.accounts.models import Account, Role
from service.achievements import service, views
from service.achievements.schemas import AchievementCreate, AchievementView, RubricView
from service.api.auth import AchievementReader, IssuerManager, Public, RubricReader, ensure_issuer_scope
from service.api.deps import SessionDep, SettingsDep
from service.api.errors import error_responses
from service.api.paging import PageDep, set_paging_headers
from service.api.security_headers import page_policy
from service.core.paging import Page
from service.web.achievement_page import achievement_page, wants_page

router = APIRouter(prefix="/v1", tags=["achievements"])
public_router = APIRouter(tags=["achievements"])

VersionQuery = Annotated[
    int | None, Query(ge=1, le=1_000_000, description="A version number; the current one if omitted")
]
TagQuery = Annotated[str | None, Query(max_length=64, description="Only achievements with this tag (case-insensitive)")]


def _scoped(session: Session, account: Account, achievement_id: str) -> None:
    """404 for an unknown achievement and, in the same words, for another issuer's."""
    achievement = service.find_achievement(session, achievement_id)
    ensure_issuer_scope(account, achievement.issuer_id, what="achievement")


@router.post(
    "/issuers/{issuer_id}/achievements",
    response_model=AchievementView,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 404, 413, 422),
)
def create_achievement(
    issuer_id: str, body: AchievementCreate, session: SessionDep, account: IssuerManager
) -> AchievementView:
    """Define an achievement for an issuer (version 1). Admins, or the issuer's own admins.

    The minimal body is `{"name", "description", "criteria": {"narrative"}}`. Result descriptions
    and rubric levels without an `id` get a stable `urn:uuid:` id, kept across versions while
    their name stays the same; credentials' results point at these ids. A `rubric` adds one
    result description per criterion; `esco_skills` adds one ESCO alignment per skill URI.

    Rules the schema cannot express answer 422 with their own code: `invalid_achievement` (a
    `required_level` or `required_value` naming no level or allowed value of its result
    description, a rubric level name or an id given twice), `invalid_rubric` (a rubric that breaks
    `schemas/rubric.schema.json`, every problem listed), `rubric_conflict` (a result description
    sharing a criterion's name or id) and `unknown_esco_skill`."""
    ensure_issuer_scope(account, issuer_id)
    return views.achievement_view(service.create_achievement(session, issuer_id, body, actor=account))


@router.get(
    "/issuers/{issuer_id}/achievements",
    response_model=Page[AchievementView],
    responses=error_responses(401, 403, 404, 422),
)
def list_achievements(
    issuer_id: str,
    request: Request,
    response: Response,
    session: SessionDep,
    page: PageDep,
    account: AchievementReader,
    tag: TagQuery = None,
) -> Page[AchievementView]:
    """An issuer's achievements at their current versions, newest first, paged (`X-Total-Count`,
    `Link`). Admins; the issuer's admins and reviewers."""
    ensure_issuer_scope(account, issuer_id)
    found, total = service.list_achievements(session, issuer_id, page, tag=tag)
    set_paging_headers(request, response, page, total)
    return Page(items=[views.achievement_view(f) for f in found], total=total, limit=page.limit, offset=page.offset)


@router.get(
    "/achievements/{achievement_id}", response_model=AchievementView, responses=error_responses(401, 403, 404, 422)
)
def get_achievement(
    achievement_id: str, session: SessionDep, account: AchievementReader, version: VersionQuery = None
) -> AchievementView:
    """One achievement: its current version, or `?version=N`. Admins; the issuer's admins and
    reviewers."""
    _scoped(session, account, achievement_id)
    return views.achievement_view(service.get_achievement(session, achievement_id, version))


@router.put(
    "/achievements/{achievement_id}",
    response_model=AchievementView,
    responses=error_responses(401, 403, 404, 409, 413, 422),
)
def update_achievement(
    achievement_id: str, body: AchievementCreate, session: SessionDep, account: IssuerManager
) -> AchievementView:
    """Replace an achievement's content (the same body as create): writes a new version and makes
    it current. Credentials already issued keep the version they were issued with.

    Rules the schema cannot express answer 422 with their own code: `invalid_achievement` (a
    `required_level` or `required_value` naming no level or allowed value of its result
    description, a rubric level name or an id given twice), `invalid_rubric` (a rubric that breaks
    `schemas/rubric.schema.json`, every problem listed), `rubric_conflict` (a result description
    sharing a criterion's name or id) and `unknown_esco_skill`."""
    _scoped(session, account, achievement_id)
    return views.achievement_view(service.update_achievement(session, achievement_id, body, actor=account))


@router.get(
    "/achievements/{achievement_id}/versions",
    response_model=Page[AchievementView],
    responses=error_responses(401, 403, 404, 422),
)
def list_versions(
    achievement_id: str,
    request: Request,
    response: Response,
    session: SessionDep,
    page: PageDep,
    account: AchievementReader,
) -> Page[AchievementView]:
    """Every version of an achievement, newest first, paged (`X-Total-Count`, `Link`)."""
    _scoped(session, account, achievement_id)
    found, total = service.list_versions(session, achievement_id, page)
    set_paging_headers(request, response, page, total)
    return Page(items=[views.achievement_view(f) for f in found], total=total, limit=page.limit, offset=page.offset)


@router.get(
    "/achievements/{achievement_id}/rubric", response_model=RubricView, responses=error_responses(401, 404, 422)
)
def get_rubric(
    achievement_id: str, session: SessionDep, account: RubricReader, version: VersionQuery = None
) -> RubricView:
    """The rubric the achievement's evidence is judged by (its current version, or `?version=N`).
    Any signed-in account: earners need to know what they will be judged on before they submit.
    Admins and the issuer's own admins and reviewers get it complete; everyone else without the
    offline assessor's hints (`key_ideas`), which would only help stuff evidence with keywords.
    404 `no_rubric` when the version has none."""
    achievement = service.find_achievement(session, achievement_id)
    complete = account.role == Role.admin or (
        account.role in (Role.issuer_admin, Role.reviewer) and account.issuer_id == achievement.issuer_id
    )
    return views.rubric_view(service.get_rubric_version(session, achievement_id, version), complete=complete)


_OB_ACHIEVEMENT_EXAMPLE: dict[str, Any] = {
    "@context": ["https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
    "id": "https://skillcred.example/achievements/0b6c...",
    "type": ["Achievement"],
    "name": "Python testing",
    "description": "Writes meaningful automated tests.",
    "criteria": {"narrative": "A repository with a tested project."},
    "version": "1",
}


@public_router.get(
    "/achievements/{achievement_id}",
    dependencies=[Public],
    responses={
        200: {
            "description": "An Open Badges 3.0 Achievement (JSON-LD), or its page when `Accept` prefers HTML",
            "content": {
                "application/json": {"example": _OB_ACHIEVEMENT_EXAMPLE},
                "text/html": {"schema": {"type": "string"}},
            },
        },
        **error_responses(404, 422),
    },
)
def public_achievement(
    achievement_id: str, request: Request, session: SessionDep, settings: SettingsDep, version: VersionQuery = None
) -> Response:
    """The Open Badges 3.0 Achievement at this URL, so the achievement ids inside credentials
    resolve: the current version, or `?version=N` (the `version` a credential names). No login.

    A browser (an `Accept` preferring `text/html`) gets the achievement's page instead: criteria,
    rubric, how applications are assessed and where to apply. Anything else, no `Accept` and
    `*/*` included, gets the JSON document as always."""
    if wants_page(request.headers.get("accept")):
        html, status_code = achievement_page(session, settings, achievement_id, version)
        headers = {"Content-Security-Policy": page_policy(), "Vary": "Accept", "Cache-Control": "no-cache"}
        return HTMLResponse(html, status_code=status_code, headers=headers)
    found = service.get_achievement(session, achievement_id, version)
    return JSONResponse(views.public_achievement_document(settings, found), headers={"Vary": "Accept"})
