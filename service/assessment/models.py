"""Assessment tables. Both are append-only: the database refuses UPDATE and DELETE on them
(triggers, migrations ``e71de0ce0004`` and ``a55e5a000004``: the one exception is the assessor's
result filling in a queued assessment, once), so what an assessor said and every decision a
person took stay exactly as recorded.

- :class:`Assessment`: one submission of an evidence bundle, judged once by an assessor (in the
  job ``assessment:run``: the row is written at submission and its result filled in once). It holds
  everything needed to know later how the judgement was made: the evidence digests, the rubric
  (its JSON, id, version and hash), the assessor (kind, version; model, endpoint host and prompt
  version for an LLM), each criterion's level, score, confidence, spread, rationale and evidence
  pointers, the flags and the automatic decision.
- :class:`AssessmentEvent`: what happened next, one row per event, numbered per assessment
  (``seq`` 1 is the submission). Each row carries the state the assessment is in after it, so the
  current state is the state of the highest ``seq``: ``queued`` (submitted), ``running``
  (started), then the decision (``assessed``). ``(assessment_id, seq)`` is unique: two
  reviewers deciding at once both try to write the same next number and only the first succeeds.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from service.core.models import created_field, id_field, json_field


class AssessmentState(StrEnum):
    """Where an assessment stands (the state of its latest event)."""

    queued = "queued"  # submitted; the assessor has not started (job ``assessment:run`` waits)
    running = "running"  # the assessor is at work
    pending_review = "pending_review"  # in the review queue
    appealed = "appealed"  # rejected, appealed by the earner: back in the queue
    issued = "issued"  # a credential was issued (automatically or on approval)
    rejected = "rejected"  # rejected (automatically or by a reviewer)


class EventKind(StrEnum):
    """What an :class:`AssessmentEvent` records."""

    submitted = "submitted"  # the earner submitted the bundle (state ``queued``)
    started = "started"  # the assessment job started the assessor (state ``running``)
    assessed = "assessed"  # the assessor ran; the automatic decision
    failed = "failed"  # the automatic assessment failed after its retries: sent to review
    overridden = "overridden"  # a reviewer changed levels (the assessment stays in the queue)
    approved = "approved"  # a reviewer approved: the credential was issued
    rejected = "rejected"  # a reviewer rejected, with a reason
    appealed = "appealed"  # the earner appealed a rejection (once)


PENDING = "pending"
"""``Assessment.decision`` while the assessor has not decided (the row is written at submission
with the evidence digests and the rubric; the assessor's result fills it in once, after which the
database refuses any change: migration ``a55e5a000004``)."""


class Assessment(SQLModel, table=True):
    """One assessor run over one evidence bundle against one rubric. Written at submission; its
    result columns are filled in once, when the assessor has decided; never changed after that."""

    __table_args__ = (UniqueConstraint("bundle_id"),)

    id: str = id_field()
    earner_id: str = Field(foreign_key="account.id", index=True, max_length=36)
    bundle_id: str = Field(foreign_key="evidencebundle.id", max_length=36)
    """One assessment per bundle: a resubmission is a new bundle."""
    achievement_id: str = Field(foreign_key="achievement.id", index=True, max_length=36)
    achievement_version: int
    issuer_id: str = Field(foreign_key="issuer.id", index=True, max_length=36)
    renews_credential_id: str | None = Field(default=None, foreign_key="credential.id", max_length=36)
    """The earner's credential this assessment is meant to renew, when it was asked to."""
    evidence_digests: dict = json_field(dict)
    """``{evidence item id: sha256 hex}`` of exactly the bytes the assessor read."""
    rubric: dict = json_field(dict)
    """The rubric's JSON as the assessor used it (overrides are recomputed against it)."""
    rubric_id: str = Field(max_length=128)
    rubric_version: str = Field(max_length=64)
    rubric_name: str = Field(max_length=200)
    rubric_hash: str = Field(max_length=80)
    assessor_kind: str = Field(max_length=32)
    assessor_version: str = Field(max_length=64)
    model: str | None = Field(default=None, max_length=200)
    """The LLM's model id (LLM judge only)."""
    endpoint_host: str | None = Field(default=None, max_length=255)
    """The host of the LLM endpoint (LLM judge only; never its key or full URL)."""
    prompt_version: str | None = Field(default=None, max_length=64)
    assessor: dict = json_field(dict)
    """Everything else the assessor reported about itself (e.g. the number of samples)."""
    criteria: list = json_field(list)
    """Per criterion: ``criterion_id, level, score, confidence, spread, rationale, evidence``
    (``[{item_id, locator}]``)."""
    total: float
    passed: bool
    flags: list = json_field(list)
    findings: list = json_field(list)
    """What raised each flag: ``[{flag, item_id, reason, excerpt}]`` (for the reviewer)."""
    notes: list = json_field(list)
    """What the assessor could not read or had to cut."""
    decision: str = Field(max_length=16)
    """The automatic decision: ``auto_issue``, ``review`` or ``reject`` (``pending`` until the
    assessor has run)."""
    decision_reasons: list = json_field(list)
    """Why the policy decided so (e.g. ``flagged: prompt_injection``)."""
    sampled: bool = False
    """``auto_with_sampling``: this one was drawn for a human look."""
    assessed_at: datetime = created_field()


class AssessmentEvent(SQLModel, table=True):
    """One thing that happened to an assessment. Never changed; the latest is the current state."""

    __table_args__ = (UniqueConstraint("assessment_id", "seq"),)

    id: str = id_field()
    assessment_id: str = Field(foreign_key="assessment.id", index=True, max_length=36)
    seq: int
    kind: str = Field(max_length=16)
    """An :class:`EventKind`."""
    state: str = Field(max_length=16, index=True)
    """The assessment's state after this event."""
    actor_id: str | None = Field(default=None, foreign_key="account.id", max_length=36)
    """Who: the reviewer, or the earner (submission, appeal); None for the service itself."""
    actor_role: str | None = Field(default=None, max_length=20)
    at: datetime = created_field()
    reason: str | None = Field(default=None, max_length=4000)
    levels: dict = json_field(dict)
    """The levels in force after this event (``{criterion id: level id}``)."""
    overrides: list = json_field(list)
    """Levels a reviewer changed: ``[{criterion_id, from, to, reason}]``."""
    total: float
    passed: bool
    credential_id: str | None = Field(default=None, foreign_key="credential.id", max_length=36)
    """The credential issued by this event (``approved``, or an automatic ``submitted``)."""
