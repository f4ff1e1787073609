"""From an assessment to a decision: issue automatically, send to a reviewer, or reject.

Rules, in order (the first that applies wins):

1. Anything flagged (``prompt_injection``, ``hidden_text``, ``rubric_copy``, ``assessor_failed``,
   ``low_confidence``, ...) -> ``review``: a human must look.
2. Policy ``review`` -> ``review``.
3. Any criterion's confidence below ``rubric.min_confidence`` -> ``review``.
4. Policy ``auto_with_sampling`` and ``sample < rubric.sampling_rate`` -> ``review`` (the caller
   draws ``sample`` uniformly in [0, 1) from a CSPRNG, e.g. ``secrets.randbelow(10**9) / 10**9``;
   None means no sampling). Sampling applies to automatic rejections too: a reviewer also checks
   a share of them.
5. The pass rule holds -> ``auto_issue``; it fails -> ``reject`` (a confident, unflagged fail).

The rubric's pass rule is re-evaluated here from the levels, not trusted from the assessment.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.assessment.engine.result import Assessment, Decision
from service.assessment.engine.rubric import Rubric


@dataclass(frozen=True)
class DecisionOutcome:
    """A decision and the reasons for it (shown to the reviewer and recorded)."""

    decision: Decision
    reasons: tuple[str, ...]


def explain(assessment: Assessment, rubric: Rubric, *, sample: float | None = None) -> DecisionOutcome:
    """Decide, and say why (see the module docstring for the rules)."""
    if sample is not None and not 0.0 <= sample <= 1.0:
        raise ValueError("sample must be in [0, 1]")
    if assessment.flags:
        return DecisionOutcome("review", tuple(f"flagged: {flag}" for flag in assessment.flags))
    if rubric.policy == "review":
        return DecisionOutcome("review", ("policy: a reviewer decides every assessment",))
    unsure = [result.criterion_id for result in assessment.criteria if result.confidence < rubric.min_confidence]
    if unsure:
        return DecisionOutcome(
            "review", tuple(f"confidence below {rubric.min_confidence:g}: {criterion}" for criterion in unsure)
        )
    if rubric.policy == "auto_with_sampling" and sample is not None and sample < rubric.sampling_rate:
        return DecisionOutcome("review", (f"sampled for review (rate {rubric.sampling_rate:g})",))
    levels = assessment.levels()
    if rubric.passes(levels):
        return DecisionOutcome(
            "auto_issue",
            (f"pass rule holds: total {rubric.total(levels):g} >= {rubric.min_total:g}, confident, nothing flagged",),
        )
    return DecisionOutcome(
        "reject",
        (
            f"pass rule fails: total {rubric.total(levels):g} "
            f"(needs {rubric.min_total:g}) or a required criterion below its minimum",
        ),
    )


def decide(assessment: Assessment, rubric: Rubric, *, sample: float | None = None) -> Decision:
    """``auto_issue``, ``review`` or ``reject`` for ``assessment`` under ``rubric``'s policy."""
    return explain(assessment, rubric, sample=sample).decision
