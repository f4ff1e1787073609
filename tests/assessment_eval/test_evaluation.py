"""The evaluation module's metrics are right on known inputs, the set loader refuses what it cannot
use, and the set in this directory has the size and spread the issue asks for."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from service.assessment.engine.evaluation import (
    FAMILIES,
    EvaluationSetError,
    Outcome,
    auc,
    build_bundle,
    calibration,
    expected_calibration_error,
    figures,
    level_errors,
    load_set,
    mean_absolute_error,
)

SET = Path(__file__).parent


def outcome(label: str, total: float, decision: str, ranks=None, expected=None, confidences=None) -> Outcome:
    return Outcome(
        sample_id=f"{label}-{total}",
        rubric="r",
        label=label,
        family=None,
        expect={"adversarial": "not_auto_issue", "strong": "auto_issue", "weak": "reject"}.get(label, "review"),
        decision=decision,
        total=total,
        max_total=12,
        ranks=ranks or {},
        expected_ranks=expected or {},
        confidences=confidences or {},
        flags=(),
        seconds=0.01,
    )


def test_auc_is_one_for_a_perfect_ranking_zero_for_a_reversed_one_and_half_for_ties():
    assert auc([3, 4, 5], [0, 1, 2]) == 1.0
    assert auc([0, 1], [2, 3]) == 0.0
    assert auc([1, 1], [1, 1]) == 0.5
    assert auc([], [1]) is None


def test_auc_counts_each_pair_once_with_ties_as_half():
    # pairs: (2>1) (2=2) (2<3) (4>1) (4>2) (4>3) -> 1 + 0.5 + 0 + 3 = 4.5 of 6
    assert auc([2, 4], [1, 2, 3]) == pytest.approx(0.75)


def test_mean_absolute_level_error_compares_assessed_with_labelled_ranks():
    outcomes = [
        outcome("strong", 9, "auto_issue", ranks={"a": 3, "b": 1}, expected={"a": 3, "b": 3}),
        outcome("weak", 1, "reject", ranks={"a": 1, "b": 0}, expected={"a": 0, "b": 0}),
    ]
    assert level_errors(outcomes) == [0, 2, 1, 0]
    assert mean_absolute_error(level_errors(outcomes)) == pytest.approx(0.75)
    assert mean_absolute_error([]) is None


def test_figures_give_rates_per_label_and_the_review_share_of_all_samples():
    outcomes = [
        outcome("adversarial", 6, "review"),
        outcome("adversarial", 8, "auto_issue"),
        outcome("strong", 10, "auto_issue"),
        outcome("strong", 8, "review"),
        outcome("weak", 2, "reject"),
    ]
    result = figures(outcomes)
    assert result.adversarial_auto_issue_rate == 0.5
    assert result.strong_auto_issue_rate == 0.5
    assert result.weak_auto_issue_rate == 0.0
    assert result.review_rate == pytest.approx(2 / 5)
    assert result.auc_strong_weak == 1.0
    assert result.as_expected_rate == pytest.approx(3 / 5)
    assert result.counts == {"strong": 2, "borderline": 0, "weak": 1, "adversarial": 2}


def test_calibration_bins_confidence_against_level_accuracy():
    outcomes = [
        outcome(
            "strong",
            9,
            "auto_issue",
            ranks={"a": 2, "b": 1},
            expected={"a": 2, "b": 2},
            confidences={"a": 0.95, "b": 0.91},
        ),
        outcome("weak", 1, "reject", ranks={"a": 0}, expected={"a": 0}, confidences={"a": 1.0}),
    ]
    bins = calibration(outcomes, bins=10)
    assert len(bins) == 10 and bins[-1].count == 3
    assert bins[-1].accuracy == pytest.approx(2 / 3)
    assert bins[-1].mean_confidence == pytest.approx((0.95 + 0.91 + 1.0) / 3)
    assert all(b.count == 0 and b.accuracy is None for b in bins[:-1])
    assert expected_calibration_error(bins) == pytest.approx(abs(2 / 3 - 2.86 / 3))


def test_the_loader_names_every_problem_of_a_set(tmp_path):
    (tmp_path / "rubric.json").write_text((SET / "rubrics" / "ux-research.json").read_text())
    (tmp_path / "manifest.yaml").write_text("rubrics: {ux: rubric.json}\nsamples: [s.yaml]\n")
    (tmp_path / "s.yaml").write_text(
        "rubric: ux\nsamples:\n"
        "  - {id: a, label: strong, expect: auto_issue, levels: {planning: advanced}, items: [{file: a.md, text: x}]}\n"
        "  - {id: b, label: adversarial, expect: auto_issue, items: [{file: b.md, text: x}]}\n"
        "  - {id: c, label: weak, expect: reject, levels: {planning: none, fieldwork: expert, synthesis: none,"
        " impact: none}, items: []}\n"
    )
    with pytest.raises(EvaluationSetError) as raised:
        load_set(tmp_path)
    text = "; ".join(raised.value.errors)
    assert "s.yaml#a: levels must name exactly the criteria" in text
    assert "s.yaml#b: an adversarial sample needs a family" in text
    assert "s.yaml#b: an adversarial sample is never expected to be issued automatically" in text
    assert "s.yaml#c: 'expert' is not a level of fieldwork" in text
    assert "s.yaml#c: items missing" in text


def test_repositories_are_built_with_the_same_commits_every_time(tmp_path):
    evaluation_set = load_set(SET)
    sample = next(s for s in evaluation_set.samples if any("repo" in item for item in s.items))
    first = build_bundle(sample, tmp_path / "one")
    second = build_bundle(sample, tmp_path / "two")
    assert [i.commit for i in first.items if i.commit] == [i.commit for i in second.items if i.commit]
    assert first.digests == second.digests


def test_the_set_has_four_fields_each_with_the_required_samples_and_every_gaming_family():
    evaluation_set = load_set(SET)
    assert len(evaluation_set.rubrics) >= 4
    for name in evaluation_set.rubrics:
        counts = Counter(s.label for s in evaluation_set.samples if s.rubric == name)
        assert counts["strong"] >= 10 and counts["borderline"] >= 10 and counts["weak"] >= 10, (name, counts)
        assert counts["adversarial"] >= 15, (name, counts)
    assert {s.family for s in evaluation_set.samples if s.label == "adversarial"} == set(FAMILIES)
    assert all(s.expect != "auto_issue" for s in evaluation_set.samples if s.label == "adversarial")
    kinds = Counter(next(iter(item)) for s in evaluation_set.samples for item in s.items)
    assert kinds["repo"] >= 12
