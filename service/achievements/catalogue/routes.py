"""``/v1/catalogue``: the achievements open for applications, for anyone (no sign-in).

Earners need to find what to apply for, and the issuer-staff routes (``/v1/issuers``,
``/v1/achievements/{id}``) are not theirs; a client or a platform may want the same list. What
is shown here is what the home page and the achievement pages show anyone, so the routes are
public, throttled per client address like the other public documents.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from service.achievements.catalogue import service, views
from service.achievements.catalogue.schemas import CatalogueAchievement, CatalogueAchievementDetail
from service.api.auth import Public
from service.api.deps import ReadSessionDep, SettingsDep
from service.api.errors import error_responses
from service.api.paging import PageDep, set_paging_headers
from service.api.ratelimit import PUBLIC_PER_ADDRESS
from service.api.throttle import Throttle
from service.core.paging import Page

router = APIRouter(prefix="/v1/catalogue", tags=["catalogue"], dependencies=[Public, Throttle(PUBLIC_PER_ADDRESS)])

IssuerQuery = Annotated[
    str | None, Query(min_length=1, max_length=64, description="Only this issuer's achievements (its id)")
]
SearchQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=service.MAX_SEARCH_LENGTH,
        description="Only achievements whose name contains this text (case ignored)",
    ),
]
AchievementId = Annotated[str, Path(min_length=1, max_length=64, description="The achievement's id")]


@router.get(
    "/achievements",
    response_model=Page[CatalogueAchievement],
    responses=error_responses(422, 429),
)
def list_catalogue(
    request: Request,
    response: Response,
    session: ReadSessionDep,
    settings: SettingsDep,
    page: PageDep,
    issuer_id: IssuerQuery = None,
    q: SearchQuery = None,
) -> Page[CatalogueAchievement]:
    """The achievements open for applications (their current version has a rubric), newest
    first, paged (`X-Total-Count`, `Link`), from every issuer or one (`issuer_id`); `q` searches
    their names. Each names its issuer, its aligned skills, its public page (`url`) and where to
    apply (`apply_url`). No sign-in."""
    found, total = service.list_open(session, page, issuer_id=issuer_id, search=q)
    set_paging_headers(request, response, page, total)
    return Page(
        items=[views.catalogue_achievement(settings, entry) for entry in found],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get(
    "/achievements/{achievement_id}",
    response_model=CatalogueAchievementDetail,
    responses=error_responses(404, 422, 429),
)
def get_catalogue_achievement(
    achievement_id: AchievementId, session: ReadSessionDep, settings: SettingsDep
) -> CatalogueAchievementDetail:
    """One achievement open for applications: its criteria, its rubric (criteria, weights and
    levels; without the assessor's hints), how applications are assessed and how often an earner
    may apply. 404 `not_found` for an unknown achievement and, in the same words, for one that is
    not open. No sign-in."""
    return views.catalogue_detail(settings, service.get_open(session, achievement_id))
