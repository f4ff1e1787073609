"""decide(): flags and doubt go to a reviewer; confident results follow the rubric's policy."""

from __future__ import annotations

import dataclasses

import pytest

from service.assessment.engine.decision import decide, explain
from service.assessment.engine.result import FLAG_PROMPT_INJECTION, Assessment, CriterionResult
from tests.assessment.engine.labelled import rubric

WEBDEV = rubric("webdev")  # policy auto, min_total 7, min_confidence 0.6, "testing" required


def assessment(levels: dict[str, str], *, confidence: float = 0.9, flags: tuple[str, ...] = ()) -> Assessment:
    results = tuple(
        CriterionResult(c.id, levels[c.id], c.level(levels[c.id]).points, confidence) for c in WEBDEV.criteria
    )
    return Assessment(results, WEBDEV.total(levels), WEBDEV.passes(levels), flags, {"kind": "test"})


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
def test_low_confidence_goes_to_review(levels):
    outcome = explain(assessment(levels, confidence=0.59), WEBDEV)
    assert outcome.decision == "review" and "confidence below 0.6" in outcome.reasons[0]


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
