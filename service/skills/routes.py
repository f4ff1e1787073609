"""Skill search: pick the ESCO skills an achievement aligns to (``esco_skills`` on create)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.api.auth import IssuerStaff
from service.api.errors import error_responses
from service.skills import views
from service.skills.schemas import SkillSearchResult
from service.skills.search import DEFAULT_LIMIT, MAX_LIMIT, search_skills

router = APIRouter(prefix="/v1", tags=["skills"])

SkillSearcher = IssuerStaff


@router.get("/skills", response_model=SkillSearchResult, responses=error_responses(401, 403, 422))
def search(
    account: SkillSearcher,
    q: Annotated[str, Query(min_length=1, max_length=200, description="Words of a skill's label")],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> SkillSearchResult:
    """Search the bundled ESCO skills by label, for issuer staff defining achievements (admins,
    issuer admins, reviewers). Case, accents and punctuation are ignored; each word of `q` must
    begin a word of the skill's preferred or alternative labels. Ranked: exact label, exact
    alternative label, label prefix, alternative-label prefix, all words in the label, then
    words across the alternative labels; ties by shorter label, then alphabetically. Pass a
    result's `uri` in an achievement's `esco_skills`. ESCO is (c) European Union (see NOTICE)."""
    return views.search_result_view(q, search_skills(q, limit))
