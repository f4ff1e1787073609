"""Assessment API shapes: submissions, review decisions, appeals, and the views the API returns.

Inputs refuse unknown fields and bound every string and list. A reason is required wherever a
person changes an outcome (a rejection, a level override, an appeal).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from service.core.validation import CLEAN_TEXT, JsonBool

MAX_OVERRIDES = 50

Id = Annotated[str, Field(min_length=1, max_length=36)]
Reason = Annotated[str, Field(min_length=1, max_length=4000), CLEAN_TEXT]
RubricRef = Annotated[str, Field(min_length=1, max_length=64)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AssessmentSubmit(_Input):
    """Submit an evidence bundle of yours for assessment against its achievement's rubric.

    ``renews``: one of your credentials for the same achievement (active or expired, not revoked
    or suspended) that the credential issued from this assessment should replace."""

    bundle_id: Id
    renews: Id | None = None


class LevelOverride(_Input):
    """A reviewer's level for one criterion (rubric ids), with the reason for it."""

    criterion_id: RubricRef
    level: RubricRef
    reason: Reason


class OverrideRequest(_Input):
    """Change levels and leave the assessment in the queue."""

    overrides: Annotated[list[LevelOverride], Field(min_length=1, max_length=MAX_OVERRIDES)]


class ApproveRequest(_Input):
    """Approve (and issue). ``overrides`` are applied first; levels that do not meet the rubric's
    pass rule are approved only with ``approve_below_pass_rule: true``."""

    reason: Reason | None = None
    overrides: Annotated[list[LevelOverride], Field(max_length=MAX_OVERRIDES)] = []
    approve_below_pass_rule: JsonBool = False


class RejectRequest(_Input):
    """Reject, saying why (the earner sees the reason). ``overrides`` are recorded first."""

    reason: Reason
    overrides: Annotated[list[LevelOverride], Field(max_length=MAX_OVERRIDES)] = []


class AppealRequest(_Input):
    """Appeal a rejection (once): why the decision is wrong. A different reviewer decides."""

    reason: Reason


# --- views -------------------------------------------------------------------------------------


class EvidencePointerOut(BaseModel):
    """Where in the evidence a judgement comes from: an item and, optionally, a quote or path."""

    item_id: str
    locator: str | None = None


class CriterionOut(BaseModel):
    """One criterion: the level in force (after any override), where it sits on the criterion's
    scale, and an explanation in plain words made from the rubric's level descriptions. What the
    assessor said (``rationale``, ``confidence``, ``spread``, ``evidence`` pointers) is shown to
    issuer staff only: it names the rubric's hidden key ideas and what matched them."""

    criterion_id: str
    name: str
    level: str
    level_name: str
    level_description: str
    """The rubric's description of ``level``."""
    level_rank: int
    """Where ``level`` sits on the criterion's scale: 1 for the lowest."""
    level_count: int
    """How many levels the criterion has (``level_rank`` of ``level_count``)."""
    explanation: str
    """In plain words: the level reached, what the next level up asks for, a required minimum not
    reached, whether a reviewer set it."""
    assessed_level: str
    """The assessor's level (differs from ``level`` when a reviewer overrode it)."""
    score: float
    """The points of ``level`` (unweighted)."""
    confidence: float | None = None
    """The assessor's confidence, 0..1 (issuer staff only)."""
    spread: int | None = None
    """Levels between the lowest and highest sample of an LLM judge (issuer staff only)."""
    rationale: str | None = None
    """The assessor's rationale (issuer staff only)."""
    evidence: list[EvidencePointerOut] = []
    """Where in the evidence the assessor found support (issuer staff only)."""


class EventOut(BaseModel):
    """One recorded event. ``actor_id`` is shown to issuer staff only."""

    seq: int
    kind: str
    state: str
    at: datetime
    actor_id: str | None = None
    actor_role: str | None = None
    reason: str | None = None
    overrides: list[dict[str, Any]] = []
    credential_id: str | None = None


class RubricOut(BaseModel):
    id: str
    version: str
    name: str
    hash: str


class AssessorOut(BaseModel):
    """Who judged: ``kind`` and ``version``; for an LLM judge the model, the endpoint's host and
    the prompt template version."""

    kind: str
    version: str
    model: str | None = None
    endpoint_host: str | None = None
    prompt_version: str | None = None
    details: dict[str, Any] = {}


class EvidenceItemOut(BaseModel):
    """An evidence item as a reviewer sees it: metadata and where to read its content."""

    id: str
    kind: str
    name: str | None = None
    media_type: str | None = None
    size: int | None = None
    sha256: str | None = None
    url: str | None = None
    commit: str | None = None
    content_url: str | None = None


class AssessmentSummary(BaseModel):
    """An assessment in a list."""

    id: str
    state: str
    achievement_id: str
    achievement_version: int
    issuer_id: str
    earner_id: str
    bundle_id: str
    decision: str
    """The automatic decision: ``auto_issue``, ``review`` or ``reject`` (``pending`` while the
    assessment is ``queued`` or ``running``)."""
    flags: list[str]
    """What made the assessor send it to a reviewer (issuer staff only; empty for the earner)."""
    total: float
    passed: bool
    assessed_at: datetime
    updated_at: datetime
    credential_id: str | None = None
    renews_credential_id: str | None = None


class AssessmentOut(AssessmentSummary):
    """An assessment in full: rubric, assessor, per-criterion results, evidence and history."""

    rubric: RubricOut
    assessor: AssessorOut
    """``details`` is shown to issuer staff only."""
    explanation: str
    """Where the assessment stands, in plain words (the outcome and why, in the rubric's terms)."""
    sampled: bool | None = None
    """Drawn at random for a human look (``auto_with_sampling``; issuer staff only)."""
    decision_reasons: list[str]
    """Why the policy decided as it did (e.g. ``flagged: prompt_injection``; issuer staff only)."""
    findings: list[dict[str, Any]]
    """What raised each flag: ``{flag, item_id, reason, excerpt}`` (issuer staff only)."""
    notes: list[str]
    """What the assessor could not read or had to cut."""
    max_total: float
    min_total: float
    criteria: list[CriterionOut]
    evidence_digests: dict[str, str]
    evidence: list[EvidenceItemOut] = []
    events: list[EventOut]
    can_appeal: bool
    """The earner may still appeal (a rejection not yet appealed)."""


# --- assessment quality (GET /v1/assessment-quality) ---------------------------------------------


class DecisionAgreementOut(BaseModel):
    """The assessor's proposed outcome (issue or reject: the policy's decision, or what it would
    have been) against the reviewer's decision."""

    compared: int
    agreed: int
    agreement: float | None
    """``agreed / compared`` (null when nothing was compared)."""
    kappa: float | None
    """Cohen's kappa (null when undefined: nothing compared, or one outcome only on both sides)."""
    issued_but_rejected: int
    """The assessor would have issued; the reviewer rejected."""
    rejected_but_approved: int
    """The assessor would have rejected; the reviewer approved."""


class LevelAgreementOut(BaseModel):
    """The assessor's level of each criterion against the reviewer's final level."""

    compared: int
    """Criterion judgements compared (criteria x assessments)."""
    exact: int
    exact_agreement: float | None
    mean_abs_difference: float | None
    """Mean distance, in levels on the criterion's scale, between the assessor and the reviewer."""
    kappa: float | None = None
    """Cohen's kappa over the level ids (per criterion only; null in the totals)."""


class QualityFiguresOut(BaseModel):
    """What reviewers decided and how far the assessor agreed with them."""

    reviewed: int
    """Assessments a person decided (approved or rejected)."""
    approved: int
    rejected: int
    overridden: int
    """Of those, assessments whose levels a reviewer changed."""
    sampled: int
    """Of those, assessments drawn at random for review (``auto_with_sampling``)."""
    decisions: DecisionAgreementOut
    sampled_decisions: DecisionAgreementOut
    """``decisions`` over the sampled assessments only: the fairest test of automatic decisions."""
    levels: LevelAgreementOut


class QualityPeriodOut(BaseModel):
    """The figures of the assessments judged in ``[start, end)`` (a week from Monday, or a month)."""

    start: date
    end: date
    figures: QualityFiguresOut


class CriterionAgreementOut(BaseModel):
    criterion_id: str
    levels: LevelAgreementOut


class QualityVerdictOut(BaseModel):
    """``insufficient_data`` (fewer reviewed assessments than ``min_reviewed``), ``agrees`` (automatic
    issue looks safe) or ``disagrees``; ``text`` says it in plain words."""

    status: str
    text: str


class QualityRubricOut(BaseModel):
    id: str
    version: str
    name: str


class QualityAssessorOut(BaseModel):
    kind: str
    version: str


class QualityGroupOut(BaseModel):
    """One rubric (id and version) judged by one assessor (kind and version)."""

    rubric: QualityRubricOut
    assessor: QualityAssessorOut
    achievement_ids: list[str]
    """The achievements whose assessments are counted here."""
    figures: QualityFiguresOut
    criteria: list[CriterionAgreementOut]
    periods: list[QualityPeriodOut]
    """Oldest first; periods without a reviewed assessment are left out."""
    verdict: QualityVerdictOut


class AssessmentQualityOut(BaseModel):
    """Agreement between the assessors and human reviewers, per rubric and assessor."""

    issuer_id: str | None
    """The issuer (null: an admin asked for every issuer)."""
    achievement_id: str | None
    rubric_id: str | None
    since: datetime | None
    until: datetime | None
    bucket: str
    min_reviewed: int
    """Fewer reviewed assessments than this: no verdict."""
    groups: list[QualityGroupOut]
