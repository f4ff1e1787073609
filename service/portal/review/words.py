"""Why an assessment waits for a reviewer, in plain words: its flags, the decision policy's
reasons, a random draw, an appeal. For issuer staff only (the earner is never told which detector
fired: :mod:`service.assessment.earner_view`). No FastAPI here.
"""

from __future__ import annotations

from collections.abc import Iterable

from service.assessment.engine import result as flags
from service.assessment.models import Assessment, AssessmentEvent, AssessmentState

FLAG_WORDS = {
    flags.FLAG_PROMPT_INJECTION: "The evidence contains text that tries to instruct the assessor (prompt injection).",
    flags.FLAG_HIDDEN_TEXT: "The evidence hides text from human readers (invisible or disguised text).",
    flags.FLAG_RUBRIC_COPY: "The evidence copies the rubric's own wording.",
    flags.FLAG_LOW_CONFIDENCE: "The assessor was not confident of its levels.",
    flags.FLAG_ASSESSOR_FAILED: "The automatic assessment failed: nobody has judged this evidence yet.",
    flags.FLAG_SAMPLE_DISAGREEMENT: "The assessor's samples disagreed with each other about a level.",
    flags.FLAG_QUOTE_NOT_FOUND: "The assessor quoted something that is not in the evidence.",
    flags.FLAG_ASSESSOR_DISAGREEMENT: "Two assessors (the AI judge and the offline one) disagreed.",
    flags.FLAG_KEYWORD_LIST: "The evidence looks like a list of keywords rather than an account of work.",
    flags.FLAG_REPETITION: "The evidence repeats itself heavily.",
    flags.FLAG_BOILERPLATE: "The evidence looks like boilerplate text.",
    flags.FLAG_OFF_TOPIC: "The evidence seems not to be about this achievement.",
    flags.FLAG_CLAIM_NOT_SUPPORTED: "A claim in the narrative is not backed by the other evidence.",
}
"""Each flag the assessment engine raises, as a reviewer should read it."""

SAMPLED = "Drawn at random for a human check (the rubric samples automatic decisions)."
_REASON_PREFIXES = (
    ("policy:", "The rubric's policy: a reviewer decides every assessment."),
    ("sampled for review", SAMPLED),
    ("no artefact cited", "Only text claims: automatic issue needs a file, repository, page or testimonial."),
    ("confidence below", "Low confidence: {rest}"),
    ("the pass rule fails", "Doubt could change the outcome: {reason}"),
)


def flag_words(flag: str) -> str:
    """One flag in plain words (an unknown flag by its name)."""
    return FLAG_WORDS.get(flag, f"Flagged: {flag.replace('_', ' ')}.")


def reason_words(reason: str) -> str | None:
    """One of the decision policy's reasons in plain words; None for a flag (said by the flag)."""
    if reason.startswith("flagged:"):
        return None
    for prefix, words in _REASON_PREFIXES:
        if reason.startswith(prefix):
            return words.format(rest=reason.split(":", 1)[-1].strip(), reason=reason)
    return reason[:1].upper() + reason[1:]


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def why_in_review(assessment: Assessment, current: AssessmentEvent) -> list[str]:
    """Why ``assessment`` (whose latest event is ``current``) is in the queue: the appeal first,
    then each flag, the policy's other reasons and a random draw."""
    found = []
    if current.state == AssessmentState.appealed:
        found.append("Appealed by the earner after a rejection: decide it afresh.")
    found += [flag_words(str(flag)) for flag in assessment.flags]
    found += [words for words in (reason_words(str(r)) for r in assessment.decision_reasons) if words]
    if assessment.sampled:
        found.append(SAMPLED)
    if not found and current.state == AssessmentState.pending_review:
        found.append("The assessor sent it to a reviewer.")
    return _unique(found)
