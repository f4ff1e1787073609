"""decide(): flags and doubt go to a reviewer; confident results follow the rubric's policy."""

from __future__ import annotations

import dataclasses

import pytest

from service.assessment.engine.decision import decide, explain
from service.assessment.engine.result import (
    FLAG_KEYWORD_LIST,
    FLAG_PROMPT_INJECTION,
    Assessment,
    CriterionResult,
    EvidencePointer,
)
from tests.assessment.engine.labelled import rubric

WEBDEV = rubric("webdev")  # policy auto, min_total 7, min_confidence 0.6, "testing" required


def assessment(
    levels: dict[str, str],
    *,
    confidence: float = 0.9,
    flags: tuple[str, ...] = (),
    cites: str = "item",
    artefacts: tuple[str, ...] | None = None,
) -> Assessment:
    results = tuple(
        CriterionResult(
            c.id, levels[c.id], c.level(levels[c.id]).points, confidence, evidence=(EvidencePointer(cites),)
        )
        for c in WEBDEV.criteria
    )
    return Assessment(
        results, WEBDEV.total(levels), WEBDEV.passes(levels), flags, {"kind": "test"}, artefacts=artefacts
    )


PASSING = {"semantics": "proficient", "responsive": "proficient", "javascript": "developing", "testing": "proficient"}
FAILING = {"semantics": "developing", "responsive": "developing", "javascript": "none", "testing": "developing"}
REQUIRED_MISSING = {"semantics": "advanced", "responsive": "advanced", "javascript": "advanced", "testing": "none"}


def with_policy(policy: str, **changes) -> object:
    return dataclasses.replace(WEBDEV, policy=policy, **changes)


def test_auto_issues_a_confident_unflagged_pass():
    assert decide(assessment(PASSING), WEBDEV) == "auto_issue"


def test_auto_rejects_a_confident_unflagged_fail():
    assert decide(assessment(FAILING), WEBDEV) == "reject"
    assert decide(assessment(REQUIRED_MISSING), WEBDEV) == "reject"


@pytest.mark.parametrize("levels", [PASSING, FAILING])
def test_any_flag_goes_to_review_whatever_the_score(levels):
    outcome = explain(assessment(levels, flags=(FLAG_PROMPT_INJECTION,)), WEBDEV)
    assert outcome.decision == "review" and outcome.reasons == ("flagged: prompt_injection",)


@pytest.mark.parametrize("levels", [PASSING, FAILING])
def test_low_confidence_that_could_change_the_outcome_goes_to_review(levels):
    """PASSING totals exactly 7 of 7 and FAILING is a fail: doubt about any criterion matters."""
    outcome = explain(assessment(levels, confidence=0.59), WEBDEV)
    assert outcome.decision == "review" and "confidence below 0.6" in outcome.reasons[0]


def uncertain(judged: Assessment, confidences: dict[str, float]) -> Assessment:
    return dataclasses.replace(
        judged,
        criteria=tuple(
            dataclasses.replace(r, confidence=confidences.get(r.criterion_id, r.confidence)) for r in judged.criteria
        ),
    )


CLEAR_PASS = {"semantics": "advanced", "responsive": "advanced", "javascript": "proficient", "testing": "proficient"}


def test_a_pass_that_holds_with_the_uncertain_criteria_one_level_lower_is_issued():
    """Total 10 of 7 needed: two uncertain criteria one level lower still leave 8."""
    judged = uncertain(assessment(CLEAR_PASS), {"semantics": 0.5, "javascript": 0.45})
    outcome = explain(judged, WEBDEV)
    assert outcome.decision == "auto_issue"
    assert "still holds with the uncertain criteria one level lower (total 8" in outcome.reasons[0]


def test_a_pass_that_an_uncertain_criterion_could_undo_goes_to_review():
    """Total 7 of 7: one uncertain criterion one level lower makes it 6."""
    outcome = explain(uncertain(assessment(PASSING), {"javascript": 0.5}), WEBDEV)
    assert outcome.decision == "review"
    assert outcome.reasons[0] == "confidence below 0.6: javascript (0.5)"
    assert "pass rule fails with the uncertain criteria one level lower: total 6" in outcome.reasons[1]


def test_an_uncertain_required_criterion_at_its_minimum_goes_to_review_whatever_the_total():
    """ "testing" is required at developing; judged developing with doubt, it could be none."""
    levels = {"semantics": "advanced", "responsive": "advanced", "javascript": "advanced", "testing": "developing"}
    assert WEBDEV.passes(levels)
    assert decide(assessment(levels), WEBDEV) == "auto_issue"
    assert decide(uncertain(assessment(levels), {"testing": 0.55}), WEBDEV) == "review"
    assert decide(uncertain(assessment(levels), {"semantics": 0.55}), WEBDEV) == "auto_issue"


def test_all_uncertain_criteria_are_lowered_together_not_one_at_a_time():
    """Total 10: any one uncertain criterion lowered leaves 9, all four together leave 6."""
    judged = uncertain(assessment(CLEAR_PASS), dict.fromkeys(CLEAR_PASS, 0.5))
    assert decide(judged, WEBDEV) == "review"


def test_a_criterion_below_half_the_minimum_confidence_could_be_at_any_level():
    """Advanced semantics at confidence 0.2 is taken at none: 10 - 3 = 7 still passes, but the same
    doubt on two criteria leaves 4."""
    assert decide(uncertain(assessment(CLEAR_PASS), {"semantics": 0.2}), WEBDEV) == "auto_issue"
    assert decide(uncertain(assessment(CLEAR_PASS), {"semantics": 0.2, "responsive": 0.29}), WEBDEV) == "review"
    assert decide(uncertain(assessment(CLEAR_PASS), {"semantics": 0.3, "responsive": 0.3}), WEBDEV) == "auto_issue"


def test_a_fail_with_any_uncertain_criterion_goes_to_review_not_to_rejection():
    """A rejection needs every criterion confident, however far below the pass rule the total is."""
    hopeless = {"semantics": "none", "responsive": "none", "javascript": "none", "testing": "none"}
    outcome = explain(uncertain(assessment(hopeless), {"semantics": 0.5}), WEBDEV)
    assert (
        outcome.decision == "review"
        and "a fail is rejected only when every criterion is confident" in outcome.reasons[-1]
    )
    assert decide(assessment(hopeless), WEBDEV) == "reject"


def test_doubt_that_does_not_matter_still_leaves_flags_artefacts_and_sampling_in_force():
    judged = uncertain(assessment(CLEAR_PASS), {"semantics": 0.5})
    assert decide(dataclasses.replace(judged, flags=(FLAG_KEYWORD_LIST,)), WEBDEV) == "review"
    assert decide(uncertain(assessment(CLEAR_PASS, cites="write-up", artefacts=()), {"semantics": 0.5}), WEBDEV) == (
        "review"
    )
    sampled = with_policy("auto_with_sampling", sampling_rate=0.1)
    assert decide(judged, sampled, sample=0.05) == "review"
    assert decide(judged, sampled, sample=0.5) == "auto_issue"


@pytest.mark.parametrize("levels", [PASSING, FAILING])
def test_policy_review_always_reviews(levels):
    assert decide(assessment(levels, confidence=1.0), with_policy("review")) == "review"


def test_sampling_sends_a_share_to_review_and_none_means_no_sampling():
    sampled = with_policy("auto_with_sampling", sampling_rate=0.1)
    assert decide(assessment(PASSING), sampled, sample=0.05) == "review"
    assert decide(assessment(FAILING), sampled, sample=0.05) == "review"
    assert decide(assessment(PASSING), sampled, sample=0.1) == "auto_issue"
    assert decide(assessment(PASSING), sampled, sample=None) == "auto_issue"
    assert decide(assessment(PASSING), WEBDEV, sample=0.0) == "auto_issue"  # policy auto ignores samples


def test_the_pass_rule_is_recomputed_not_trusted():
    lying = dataclasses.replace(assessment(FAILING), passed=True, total=99.0)
    assert decide(lying, WEBDEV) == "reject"


def test_a_sample_outside_the_unit_interval_is_refused():
    with pytest.raises(ValueError):
        decide(assessment(PASSING), WEBDEV, sample=1.5)


def test_a_pass_that_cites_no_artefact_goes_to_review():
    """Text-only claims: the judgement cites only the earner's own text."""
    outcome = explain(assessment(PASSING, cites="write-up", artefacts=("repo",)), WEBDEV)
    assert outcome.decision == "review" and outcome.reasons[0].startswith("no artefact cited")
    assert decide(assessment(PASSING, cites="write-up", artefacts=()), WEBDEV) == "review"


def test_a_pass_that_cites_an_artefact_is_issued():
    assert decide(assessment(PASSING, cites="repo", artefacts=("repo",)), WEBDEV) == "auto_issue"


def test_an_artefact_cited_only_at_the_lowest_level_does_not_count():
    levels = {"semantics": "advanced", "responsive": "advanced", "javascript": "none", "testing": "proficient"}
    judged = assessment(levels, cites="write-up", artefacts=("repo",))
    assert WEBDEV.passes(levels)
    cited_at_none = dataclasses.replace(
        judged,
        criteria=tuple(
            dataclasses.replace(r, evidence=(EvidencePointer("repo"),)) if r.level == "none" else r
            for r in judged.criteria
        ),
    )
    assert decide(cited_at_none, WEBDEV) == "review"


def test_a_text_only_fail_is_still_rejected():
    assert decide(assessment(FAILING, cites="write-up", artefacts=()), WEBDEV) == "reject"


def test_an_assessor_that_does_not_record_artefacts_is_not_held_to_the_artefact_rule():
    assert decide(assessment(PASSING, cites="write-up", artefacts=None), WEBDEV) == "auto_issue"


def test_a_gaming_flag_goes_to_review_like_any_flag():
    outcome = explain(assessment(PASSING, flags=(FLAG_KEYWORD_LIST,), cites="repo", artefacts=("repo",)), WEBDEV)
    assert outcome.decision == "review" and outcome.reasons == ("flagged: keyword_list",)
