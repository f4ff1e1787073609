"""An assessment's state, read from its events, and the rules for what may happen next.

No I/O beyond the session reads here, and nothing is written: :mod:`service.assessment.review`
and :mod:`service.assessment.submission` write the events these rules allow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from service.assessment.engine.rubric import Rubric, RubricError, load_rubric
from service.assessment.errors import InvalidAssessmentRequest
from service.assessment.models import Assessment, AssessmentEvent, AssessmentState, EventKind
from service.assessment.schemas import LevelOverride
from service.core.errors import Conflict, Forbidden

REVIEWABLE = (AssessmentState.pending_review, AssessmentState.appealed)


class InvalidOverride(InvalidAssessmentRequest):
    """A level override names a criterion or level the rubric does not have."""

    code = "invalid_override"


def events_of(session: Session, assessment_id: str) -> list[AssessmentEvent]:
    """Every event of an assessment, oldest first."""
    return list(
        session.exec(
            select(AssessmentEvent)
            .where(AssessmentEvent.assessment_id == assessment_id)
            .order_by(col(AssessmentEvent.seq))
        )
    )


def latest(events: Sequence[AssessmentEvent]) -> AssessmentEvent:
    """The event with the highest ``seq``: it holds the current state and levels."""
    return max(events, key=lambda event: event.seq)


def rubric_of_assessment(assessment: Assessment) -> Rubric:
    """The rubric exactly as the assessor used it (stored with the assessment)."""
    try:
        return load_rubric(assessment.rubric)
    except RubricError as err:  # stored after validation; only a hand-edited row gets here
        raise Conflict(f"The assessment's stored rubric is no longer valid: {err}", code="rubric_invalid") from err


@dataclass(frozen=True)
class Levels:
    """Levels in force, their weighted total and whether they meet the pass rule."""

    levels: dict[str, str]
    total: float
    passed: bool
    overrides: list[dict[str, Any]]


def apply_overrides(rubric: Rubric, current: dict[str, str], overrides: Sequence[LevelOverride]) -> Levels:
    """``current`` with ``overrides`` applied, recomputed against the rubric's pass rule.

    Raises :class:`InvalidOverride` for an unknown criterion or level, or a criterion named twice."""
    levels = dict(current)
    changed: list[dict[str, Any]] = []
    seen: set[str] = set()
    for override in overrides:
        try:
            criterion = rubric.criterion(override.criterion_id)
        except KeyError:
            raise InvalidOverride(f"overrides: the rubric has no criterion {override.criterion_id!r}") from None
        if override.criterion_id in seen:
            raise InvalidOverride(f"overrides: criterion {override.criterion_id!r} is named twice")
        seen.add(override.criterion_id)
        try:
            criterion.level(override.level)
        except KeyError:
            known = ", ".join(level.id for level in criterion.levels)
            raise InvalidOverride(
                f"overrides: {override.level!r} is not a level of {criterion.id!r} (one of: {known})"
            ) from None
        changed.append(
            {
                "criterion_id": criterion.id,
                "from": levels.get(criterion.id),
                "to": override.level,
                "reason": override.reason,
            }
        )
        levels[criterion.id] = override.level
    return Levels(levels=levels, total=rubric.total(levels), passed=rubric.passes(levels), overrides=changed)


def ensure_reviewable(event: AssessmentEvent) -> None:
    """Only an assessment in the queue can be decided or overridden (else 409 ``not_pending``:
    someone decided first, or nobody asked for a decision)."""
    if event.state not in REVIEWABLE:
        raise Conflict(
            f"The assessment is {event.state}, not waiting for a review (another reviewer may have decided it first)",
            code="not_pending",
        )


def last_rejection(events: Sequence[AssessmentEvent]) -> AssessmentEvent | None:
    """The most recent rejection (a reviewer's, or the automatic one of the assessor's run)."""
    rejections = [
        e for e in events if e.state == AssessmentState.rejected and e.kind in (EventKind.rejected, EventKind.assessed)
    ]
    return max(rejections, key=lambda e: e.seq) if rejections else None


def was_appealed(events: Sequence[AssessmentEvent]) -> bool:
    return any(event.kind == EventKind.appealed for event in events)


def ensure_may_decide_appeal(events: Sequence[AssessmentEvent], reviewer_id: str) -> None:
    """An appeal is decided by someone other than the reviewer who rejected (403
    ``same_reviewer``)."""
    rejection = last_rejection(events)
    if rejection is not None and rejection.actor_id == reviewer_id:
        raise Forbidden(
            "You rejected this assessment; its appeal must be decided by a different reviewer", code="same_reviewer"
        )


def can_appeal(events: Sequence[AssessmentEvent]) -> bool:
    """Rejected, and not appealed before (an earner appeals once)."""
    return latest(events).state == AssessmentState.rejected and not was_appealed(events)
