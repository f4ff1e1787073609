"""What an earner is told about an assessment, in plain words, made from structured data only.

The assessor's own rationale (``Assessment.criteria[].rationale``), its evidence pointers, the
flags, the findings and the policy's reasons say how the evidence was matched: which of a
criterion's hidden ``key_ideas`` were found, how similar a passage was, which detector fired. That
is for reviewers. Shown to the person who submitted the evidence it is an oracle: change a word,
resubmit, read which key idea now counts. So the earner's explanation is built here from what the
earner may know anyway, never from an assessor's strings:

- per criterion, the level reached and where it sits on the criterion's scale (``Some, 2 of 3``),
  that level's description from the rubric, and what the next level up asks for (its description);
  whether a required criterion is below its minimum; whether a reviewer set the level;
- for the whole assessment, where it stands in words: queued, being assessed, with a reviewer
  (one sentence whatever sent it there: a flag, low confidence, the policy or a random sample, so
  nobody learns which detector their text tripped), issued, or rejected with the pass rule's
  figures.

Level descriptions are published with the rubric (the earner's rubric view shows them), so none of
this tells more than the rubric does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from service.assessment.engine.rubric import Criterion, Rubric
from service.assessment.models import AssessmentEvent, AssessmentState, EventKind

WITH_A_REVIEWER = "Your evidence was sent to a reviewer, who reads it against the rubric and decides."


@dataclass(frozen=True)
class CriterionExplanation:
    """One criterion as the earner reads it."""

    level_description: str
    level_rank: int
    """1 for the lowest level of the criterion's scale."""
    level_count: int
    explanation: str


def _numbers(value: float) -> str:
    return f"{value:g}"


def explain_criterion(criterion: Criterion, level_id: str, *, overridden: bool) -> CriterionExplanation:
    """``level_id`` of ``criterion`` in words: the level and its place on the scale, its
    description, what the next level asks for, a required minimum not reached, an override."""
    level = criterion.level(level_id)
    rank = criterion.rank(level_id)
    count = len(criterion.levels)
    parts = [f"{level.name}, {rank + 1} of {count}: {_sentence(level.description)}"]
    if rank + 1 < count:
        upper = criterion.levels[rank + 1]
        parts.append(f"The next level, {upper.name}, asks for: {_sentence(upper.description)}")
    else:
        parts.append("This is the highest level of this criterion.")
    if not criterion.meets_requirement(level_id):
        minimum = criterion.levels[criterion.rank(criterion.min_level) if criterion.min_level else 1]
        parts.append(f"This criterion is required at {minimum.name} or above.")
    if overridden:
        parts.append("A reviewer set this level.")
    return CriterionExplanation(
        level_description=level.description, level_rank=rank + 1, level_count=count, explanation=" ".join(parts)
    )


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def explain_outcome(
    rubric: Rubric, events: Sequence[AssessmentEvent], levels: Mapping[str, str], total: float, passed: bool
) -> str:
    """Where the assessment stands, in words (see the module docstring)."""
    current = max(events, key=lambda event: event.seq)
    state = current.state
    if state == AssessmentState.queued:
        return "Your evidence is waiting to be assessed."
    if state == AssessmentState.running:
        return "Your evidence is being assessed."
    if state == AssessmentState.pending_review:
        return WITH_A_REVIEWER
    if state == AssessmentState.appealed:
        return "Your appeal is with a reviewer other than the one who rejected the assessment; they decide."
    figures = f"total {_numbers(total)} of {_numbers(rubric.max_total)}, {_numbers(rubric.min_total)} needed"
    if state == AssessmentState.issued:
        how = "approved by a reviewer" if current.kind == EventKind.approved else "issued"
        return f"The levels reached meet the rubric's pass rule ({figures}): the credential was {how}."
    if current.kind == EventKind.rejected:  # a reviewer's rejection: their reason is in the history
        return "A reviewer rejected the assessment; their reason is in its history."
    short = [
        criterion.name
        for criterion in rubric.criteria
        if criterion.id in levels and not criterion.meets_requirement(levels[criterion.id])
    ]
    missing = f"; below the required minimum: {', '.join(short)}" if short else ""
    if passed:  # the levels pass but it was rejected: only a person does that
        return "The assessment was rejected."
    return f"The levels reached do not meet the rubric's pass rule ({figures}{missing})."
