"""The catalogue's API output: only what anyone may know about an open achievement.

Built field by field from the stored rows (never a copy of them), so nothing private travels by
accident: no rubric ``key_ideas`` (the offline assessor's hints), no confidence threshold or
sampling rate, no account of the issuer's staff, no internal timestamps beyond the version's."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class CatalogueIssuer(BaseModel):
    """Who awards the achievement: the issuer's public profile."""

    id: str
    name: str
    url: str
    """The issuer's web site, as the issuer gave it."""
    did: str
    """The issuer's `did:web`: where its signing keys are published."""


class CatalogueSkill(BaseModel):
    """A skill the achievement is aligned to (an ESCO skill, or another framework's)."""

    name: str
    url: str
    framework: str | None = None


class CatalogueAchievement(BaseModel):
    """An achievement open for applications, as the catalogue lists it."""

    id: str
    url: str
    """Its public page (HTML for browsers, the Open Badges 3.0 Achievement for machines)."""
    apply_url: str
    """Where an earner applies with their evidence (the portal)."""
    name: str
    description: str
    achievement_type: str | None = None
    tags: list[str] = []
    version: int
    """The current version: what a credential issued now would say."""
    issuer: CatalogueIssuer
    skills: list[CatalogueSkill] = []


class CatalogueLevel(BaseModel):
    """One level of a criterion, lowest first."""

    id: str
    name: str
    description: str
    points: float


class CatalogueCriterion(BaseModel):
    """One rubric criterion: what it judges, its weight, its levels and, for a required one, the
    lowest level that passes."""

    id: str
    name: str
    description: str
    weight: float
    required: bool
    minimum_level: str | None = None
    """For a required criterion: the id of the lowest level that passes."""
    levels: list[CatalogueLevel]


class CatalogueRubric(BaseModel):
    """The rubric evidence is judged by, without the assessor's hints."""

    name: str
    description: str
    version: str
    criteria: list[CatalogueCriterion]
    min_total: float
    """The weighted total (sum of weight x points of each level reached) needed to pass."""
    max_total: float


class CatalogueAssessment(BaseModel):
    """How applications are judged, and how often an earner may try."""

    policy: Literal["auto", "review", "auto_with_sampling"]
    """`review`: a person decides every application; `auto`: an automatic decision when the
    assessment is confident and unflagged, a person otherwise; `auto_with_sampling`: the same, and
    a share of automatic decisions goes to a person too."""
    assessor: Literal["offline", "llm"]
    """Who proposes the levels: `llm`, an AI language model (AI-assisted assessment); `offline`,
    the service's own rule-based assessor."""
    summary: str
    """Who reads the evidence and who decides, in one plain sentence."""
    max_attempts: int
    """Applications one earner may make for the achievement within `attempt_window_days`."""
    attempt_window_days: int
    cooldown_hours: float
    """Least time between two applications by one earner for the achievement."""


class CatalogueAchievementDetail(CatalogueAchievement):
    """An open achievement with everything an applicant needs: criteria, rubric, assessment."""

    criteria: str | None = None
    """What earning it takes, in the issuer's words."""
    validity_days: int | None = None
    """Days a credential stays valid after issue (None: it does not expire)."""
    rubric: CatalogueRubric
    assessment: CatalogueAssessment
