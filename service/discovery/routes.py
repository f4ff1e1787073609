"""Skill discovery route: ``POST /v1/evidence/bundles/{bundle_id}/suggestions``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from service.api.auth import EvidenceWriter
from service.api.deps import SessionDep, SettingsDep
from service.api.errors import error_responses
from service.api.ratelimit import SUGGESTIONS_PER_ADDRESS
from service.api.throttle import Throttle
from service.discovery import service
from service.discovery.schemas import SuggestionRequest, Suggestions
from service.discovery.views import suggestions_view
from service.platforms.earners.service import acting_issuer

router = APIRouter(prefix="/v1/evidence", tags=["discovery"])

BundleId = Annotated[str, Path(min_length=1, max_length=36, description="The bundle's id")]


@router.post(
    "/bundles/{bundle_id}/suggestions",
    response_model=Suggestions,
    dependencies=[Throttle(SUGGESTIONS_PER_ADDRESS)],
    responses=error_responses(401, 403, 404, 422, 429),
)
def suggest(
    bundle_id: BundleId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    account: EvidenceWriter,
    body: SuggestionRequest | None = None,
) -> Suggestions:
    """Which open achievements and ESCO skills your bundle's evidence shows, best first, each with
    the passages of your evidence that support it (any bundle, open or submitted; only its
    `ready` items are read). Pick one and apply for it with the same evidence.

    The evidence is screened first, as for an assessment: instructions hidden or addressed to the
    grader or to this suggester, keyword lists and copies of a rubric are set aside and never steer
    the suggestions (`screened_out` says when instructions or hidden text were). Achievements are
    those open for applications (their current version has a rubric); a platform acting for an
    earner (`On-Behalf-Of`) gets its own issuer's only. Scores (0..1) order the suggestions; they
    are not levels, and a rubric's hidden key ideas are never shown. Earners only (and platforms
    with `evidence:write` acting for one); another's bundle is 404. 30 requests per client address
    in 10 minutes."""
    limit = (body or SuggestionRequest()).limit
    found = service.suggest(
        session,
        settings,
        earner=account,
        bundle_id=bundle_id,
        limit=limit,
        platform_issuer=acting_issuer(getattr(request.state, "principal", None)),
    )
    return suggestions_view(bundle_id, found)
