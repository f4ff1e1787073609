"""From an assessment to a decision: issue automatically, send to a reviewer, or reject.

Rules, in order (the first that applies wins):

1. Anything flagged (``prompt_injection``, ``hidden_text``, ``rubric_copy``, ``assessor_failed``,
   ``low_confidence``, ...) -> ``review``: a human must look.
2. Policy ``review`` -> ``review``.
3. Doubt that could change the outcome -> ``review``. A criterion whose confidence is below
   ``rubric.min_confidence`` is *uncertain*: its true level may well be one level lower or higher
   (and below half of ``min_confidence`` it could be any level). The decision, not each criterion,
   must be confident:

   - a pass stands only if it still holds with every uncertain criterion taken one level lower at
     once (below half of ``min_confidence``: at its lowest level). If it does not (for example a
     required criterion at its minimum is uncertain, or the total has no room for the doubt) ->
     ``review``; if it does, the verdict does not depend on the doubt and the rules below apply;
   - a fail with any uncertain criterion -> ``review``: a rejection is only made with every
     criterion confident (the assessor tends to under-level partial work, and a reviewer is
     cheaper than a wrong rejection).
4. Policy ``auto_with_sampling`` and ``sample < rubric.sampling_rate`` -> ``review`` (the caller
   draws ``sample`` uniformly in [0, 1) from a CSPRNG, e.g. ``secrets.randbelow(10**9) / 10**9``;
   None means no sampling). Sampling applies to automatic rejections too: a reviewer also checks
   a share of them.
5. The pass rule holds -> ``auto_issue``, provided the judgement cites an artefact: some criterion
   above its lowest level points at an item of ``assessment.artefacts`` (a file, a repository, a
   fetched page, a testimonial). Text-only claims -> ``review``: self-description is not evidence
   enough to issue without a person. (An assessor that does not record its artefacts, ``None``,
   is not held to this rule.) The pass rule fails -> ``reject`` (a confident, unflagged fail).

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
    levels = assessment.levels()
    doubt = _doubt(assessment, rubric, levels)
    if doubt:
        return DecisionOutcome("review", doubt)
    if rubric.policy == "auto_with_sampling" and sample is not None and sample < rubric.sampling_rate:
        return DecisionOutcome("review", (f"sampled for review (rate {rubric.sampling_rate:g})",))
    if rubric.passes(levels):
        if not cites_an_artefact(assessment, rubric):
            return DecisionOutcome(
                "review",
                (
                    "no artefact cited: text-only claims go to a reviewer (automatic issue needs a file, "
                    "a repository, a fetched page or a testimonial that the judgement cites)",
                ),
            )
        uncertain = _uncertain(assessment, rubric)
        return DecisionOutcome(
            "auto_issue",
            (
                f"pass rule holds: total {rubric.total(levels):g} >= {rubric.min_total:g}, nothing flagged, "
                + (
                    "every criterion confident"
                    if not uncertain
                    else f"and still holds with the uncertain criteria one level lower "
                    f"(total {rubric.total(_pessimistic(rubric, levels, uncertain)):g}: "
                    + ", ".join(f"{cid} {confidence:g}" for cid, confidence in uncertain.items())
                    + ")"
                ),
            ),
        )
    return DecisionOutcome(
        "reject",
        (
            f"pass rule fails: total {rubric.total(levels):g} "
            f"(needs {rubric.min_total:g}) or a required criterion below its minimum",
        ),
    )


def _uncertain(assessment: Assessment, rubric: Rubric) -> dict[str, float]:
    """``{criterion id: confidence}`` of the criteria below ``rubric.min_confidence``."""
    return {
        result.criterion_id: result.confidence
        for result in assessment.criteria
        if result.confidence < rubric.min_confidence
    }


def _pessimistic(rubric: Rubric, levels: dict[str, str], uncertain: dict[str, float]) -> dict[str, str]:
    """``levels`` with every uncertain criterion one level lower (at its lowest level when its
    confidence is below half of ``min_confidence``)."""
    lowered = dict(levels)
    for criterion_id, confidence in uncertain.items():
        try:
            criterion = rubric.criterion(criterion_id)
            rank = criterion.rank(levels[criterion_id])
        except (KeyError, ValueError):
            continue  # an unknown criterion or level: the pass rule already fails on it
        drop = rank if confidence < rubric.min_confidence / 2 else 1
        lowered[criterion_id] = criterion.levels[max(0, rank - drop)].id
    return lowered


def _doubt(assessment: Assessment, rubric: Rubric, levels: dict[str, str]) -> tuple[str, ...]:
    """Why the uncertain criteria could change the outcome (rule 3), or ``()`` when they cannot."""
    uncertain = _uncertain(assessment, rubric)
    if not uncertain:
        return ()
    unsure = tuple(
        f"confidence below {rubric.min_confidence:g}: {criterion} ({confidence:g})"
        for criterion, confidence in uncertain.items()
    )
    if not rubric.passes(levels):
        return unsure + ("the pass rule fails, but a fail is rejected only when every criterion is confident",)
    lowered = _pessimistic(rubric, levels, uncertain)
    if rubric.passes(lowered):
        return ()
    return unsure + (
        f"the pass rule fails with the uncertain criteria one level lower: total {rubric.total(lowered):g} "
        f"(needs {rubric.min_total:g}) or a required criterion below its minimum",
    )


def cites_an_artefact(assessment: Assessment, rubric: Rubric) -> bool:
    """Does a criterion judged above its lowest level point at an artefact? True when the
    assessment does not record its artefacts (``None``)."""
    if assessment.artefacts is None:
        return True
    artefacts = set(assessment.artefacts)
    for result in assessment.criteria:
        try:
            above_lowest = rubric.criterion(result.criterion_id).rank(result.level) > 0
        except (KeyError, ValueError):
            continue
        if above_lowest and any(pointer.item_id in artefacts for pointer in result.evidence):
            return True
    return False


def decide(assessment: Assessment, rubric: Rubric, *, sample: float | None = None) -> Decision:
    """``auto_issue``, ``review`` or ``reject`` for ``assessment`` under ``rubric``'s policy."""
    return explain(assessment, rubric, sample=sample).decision
