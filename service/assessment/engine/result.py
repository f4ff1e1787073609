"""What an assessor returns: a level per criterion with score, confidence and evidence pointers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from service.assessment.engine.bundle import EvidenceBundle
from service.assessment.engine.rubric import Rubric

Decision = Literal["auto_issue", "review", "reject"]

# Flags an assessor may raise; any flag sends the assessment to a human reviewer.
FLAG_PROMPT_INJECTION = "prompt_injection"
FLAG_HIDDEN_TEXT = "hidden_text"
FLAG_RUBRIC_COPY = "rubric_copy"
FLAG_LOW_CONFIDENCE = "low_confidence"
FLAG_ASSESSOR_FAILED = "assessor_failed"
FLAG_SAMPLE_DISAGREEMENT = "sample_disagreement"
FLAG_QUOTE_NOT_FOUND = "quote_not_found"
FLAG_ASSESSOR_DISAGREEMENT = "assessor_disagreement"  # the LLM judge and the offline assessor (:mod:`.crosscheck`)
# Gaming: evidence that is not prose or work (see :mod:`.gaming` and :mod:`.semantic` for the signals).
FLAG_KEYWORD_LIST = "keyword_list"
FLAG_REPETITION = "repetition"
FLAG_BOILERPLATE = "boilerplate"
FLAG_OFF_TOPIC = "off_topic"
FLAG_CLAIM_NOT_SUPPORTED = "claim_not_supported"
GAMING_FLAGS = frozenset({FLAG_KEYWORD_LIST, FLAG_REPETITION, FLAG_BOILERPLATE, FLAG_OFF_TOPIC, FLAG_RUBRIC_COPY})
# Evidence kinds that are artefacts (work, or a third party's word), as opposed to self-description.
ARTEFACT_KINDS = frozenset({"file", "repository", "url", "testimonial"})


@dataclass(frozen=True)
class Finding:
    """Why an assessment was flagged: the flag, the item, a reason and an excerpt of the text that
    raised it (for the reviewer; never scored)."""

    flag: str
    item_id: str
    reason: str
    excerpt: str = ""


@dataclass(frozen=True)
class EvidencePointer:
    """Where in the evidence a criterion's judgement comes from: an item id and, when it is a
    quote or a file in a repository, that text or path."""

    item_id: str
    locator: str | None = None


@dataclass(frozen=True)
class CriterionResult:
    """One criterion's judgement. ``score`` is the level's points (unweighted); ``confidence`` is
    0..1; ``spread`` is the number of levels between the lowest and highest sample (LLM judge)."""

    criterion_id: str
    level: str
    score: float
    confidence: float
    rationale: str = ""
    evidence: tuple[EvidencePointer, ...] = ()
    spread: int = 0
    signals: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Assessment:
    """An assessor's whole answer. ``total`` is the rubric's weighted total of the levels;
    ``passed`` is the rubric's pass rule; ``flags`` are reasons a human must look.
    ``assessor``: kind and version (and, for an LLM, ``model``, ``endpoint_host``,
    ``prompt_version``, ``samples``), recorded with the assessment."""

    criteria: tuple[CriterionResult, ...]
    total: float
    passed: bool
    flags: tuple[str, ...]
    assessor: Mapping[str, Any]
    findings: tuple[Finding, ...] = ()
    """What raised each flag (item, reason, excerpt), for the reviewer."""
    notes: tuple[str, ...] = ()
    """What the assessor could not read or had to cut (e.g. a binary file, a long text)."""
    artefacts: tuple[str, ...] | None = None
    """Ids of the items that are artefacts and were read (a file, a repository, a fetched page, a
    testimonial: :data:`ARTEFACT_KINDS`), as opposed to self-description. None when the assessor
    does not say; then :mod:`.decision` cannot apply its artefact rule."""

    def levels(self) -> dict[str, str]:
        return {result.criterion_id: result.level for result in self.criteria}


class Assessor(Protocol):
    """Judges an evidence bundle against a rubric. Same input, same output for the offline one."""

    kind: str
    version: str

    def assess(self, bundle: EvidenceBundle, rubric: Rubric) -> Assessment:
        """Judge ``bundle`` against ``rubric``. Never raises for bad evidence: problems become
        flags (and low confidence) so the decision can route the assessment to a human."""
        ...
