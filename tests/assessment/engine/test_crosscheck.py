"""The LLM judge is checked by the offline assessor: more than a level apart on any criterion and a
person decides (``assessor_disagreement``); within a level, the judge's assessment stands. Against
the real local chat server, with a reference assessor scripted to known levels."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from service.assessment.engine.crosscheck import CrossCheckedJudge
from service.assessment.engine.decision import decide
from service.assessment.engine.llm import LLMJudge
from service.assessment.engine.result import (
    FLAG_ASSESSOR_DISAGREEMENT,
    FLAG_ASSESSOR_FAILED,
    Assessment,
    CriterionResult,
)
from service.assessment.engine.rubric import Rubric
from tests.assessment.engine.chat_server import ChatServer, Scripted
from tests.assessment.engine.test_llm import BUNDLE, RUBRIC, answer


@dataclass
class ScriptedReference:
    """A reference assessor that gives each criterion the level at ``rank`` from the top."""

    below_top: int
    kind: str = "offline"
    version: str = "test"
    calls: int = 0

    def assess(self, bundle, rubric: Rubric) -> Assessment:
        self.calls += 1
        results = []
        for criterion in rubric.criteria:
            level = criterion.levels[max(0, len(criterion.levels) - 1 - self.below_top)]
            results.append(CriterionResult(criterion.id, level.id, level.points, 1.0))
        levels = {r.criterion_id: r.level for r in results}
        return Assessment(tuple(results), rubric.total(levels), rubric.passes(levels), (), {"kind": self.kind})


@pytest.fixture
def server():
    with ChatServer() as running:
        yield running


def checked(server: ChatServer, reference: ScriptedReference) -> CrossCheckedJudge:
    judge = LLMJudge(server.base_url, "test-model", None, samples=3, timeout_seconds=5, max_backoff_seconds=0.05)
    return CrossCheckedJudge(judge, reference)


def top(criterion) -> str:
    return criterion.levels[-1].id


def script_top_levels(server: ChatServer) -> None:
    """Every criterion's requests answer that criterion's top level (one criterion per request)."""
    for criterion in RUBRIC.criteria:
        server.script(Scripted(answer(top(criterion))), criterion=criterion.id)


def test_two_levels_apart_flags_the_disagreement_and_a_person_decides(server):
    script_top_levels(server)
    result = checked(server, ScriptedReference(below_top=2)).assess(BUNDLE, RUBRIC)

    assert FLAG_ASSESSOR_DISAGREEMENT in result.flags
    assert decide(result, RUBRIC) == "review"
    reasons = [f.reason for f in result.findings if f.flag == FLAG_ASSESSOR_DISAGREEMENT]
    assert len(reasons) == len(RUBRIC.criteria) and "2 levels apart" in reasons[0]
    assert result.assessor["kind"] == "llm" and result.assessor["cross_check"]["kind"] == "offline"


def test_within_a_level_the_judges_assessment_stands(server):
    script_top_levels(server)
    result = checked(server, ScriptedReference(below_top=1)).assess(BUNDLE, RUBRIC)

    assert result.flags == ()
    assert result.levels() == {c.id: top(c) for c in RUBRIC.criteria}
    assert decide(result, RUBRIC) == "auto_issue"


def test_a_failed_judge_is_not_cross_checked_it_goes_to_a_person_anyway(server):
    server.script(Scripted("not json at all"))
    reference = ScriptedReference(below_top=0)
    result = checked(server, reference).assess(BUNDLE, RUBRIC)

    assert FLAG_ASSESSOR_FAILED in result.flags and FLAG_ASSESSOR_DISAGREEMENT not in result.flags
    assert reference.calls == 0
    assert decide(result, RUBRIC) == "review"
