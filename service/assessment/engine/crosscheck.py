"""The LLM judge checked by the offline assessor: when the two disagree on a criterion by more than
one level, a person decides.

A language model can be wrong with confidence (a persuasive narrative, a model that drifts between
versions); the offline assessor is cheap, deterministic and judges the same evidence against the
same rubric. :class:`CrossCheckedJudge` runs both and returns the judge's assessment, with
``assessor_disagreement`` flagged (and a finding per criterion, naming both levels) when any
criterion's levels are more than one level apart. A flag sends the assessment to a reviewer
(:mod:`.decision`), so an automatic issue needs both assessors within a level of each other on every
criterion. When the judge itself failed (``assessor_failed``) the check adds nothing: it goes to a
person already.
"""

from __future__ import annotations

from dataclasses import replace

from service.assessment.engine.bundle import EvidenceBundle
from service.assessment.engine.result import (
    FLAG_ASSESSOR_DISAGREEMENT,
    FLAG_ASSESSOR_FAILED,
    Assessment,
    Assessor,
    Finding,
)
from service.assessment.engine.rubric import Rubric

MAX_LEVEL_GAP = 1
"""Levels the two assessors may differ by on a criterion before a person must decide."""


class CrossCheckedJudge:
    """An assessor (the LLM judge) whose every assessment the ``reference`` assessor (the offline
    one) checks; it records itself as the judge, with the reference's kind and levels beside."""

    def __init__(self, judge: Assessor, reference: Assessor) -> None:
        self.judge = judge
        self.reference = reference
        self.kind = judge.kind
        self.version = judge.version

    def assess(self, bundle: EvidenceBundle, rubric: Rubric) -> Assessment:
        judged = self.judge.assess(bundle, rubric)
        if FLAG_ASSESSOR_FAILED in judged.flags:
            return judged
        reference = self.reference.assess(bundle, rubric)
        findings = disagreements(judged, reference, rubric)
        assessor = {
            **judged.assessor,
            "cross_check": {"kind": reference.assessor.get("kind"), "levels": reference.levels()},
        }
        if not findings:
            return replace(judged, assessor=assessor)
        return replace(
            judged,
            flags=tuple(sorted({*judged.flags, FLAG_ASSESSOR_DISAGREEMENT})),
            findings=(*judged.findings, *findings),
            assessor=assessor,
        )


def disagreements(judged: Assessment, reference: Assessment, rubric: Rubric) -> tuple[Finding, ...]:
    """A finding for each criterion on which ``judged`` and ``reference`` are more than
    :data:`MAX_LEVEL_GAP` levels apart."""
    theirs = reference.levels()
    found = []
    for result in judged.criteria:
        other = theirs.get(result.criterion_id)
        if other is None:
            continue
        criterion = rubric.criterion(result.criterion_id)
        gap = abs(criterion.rank(result.level) - criterion.rank(other))
        if gap > MAX_LEVEL_GAP:
            found.append(
                Finding(
                    FLAG_ASSESSOR_DISAGREEMENT,
                    "",
                    f"{criterion.name}: the LLM judge gave {result.level}, the offline assessor {other}"
                    f" ({gap} levels apart)",
                )
            )
    return tuple(found)
