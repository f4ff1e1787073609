"""The labelled set (samples/manifest.yaml): adversarial evidence never passes automatically and is
always flagged; honest strong evidence scores above honest weak evidence; honest evidence is not
flagged. Run with and without the embedding model."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from service.assessment.engine.decision import decide
from service.assessment.engine.offline import OfflineAssessor
from service.assessment.engine.result import FLAG_HIDDEN_TEXT, FLAG_PROMPT_INJECTION, FLAG_RUBRIC_COPY
from tests.assessment.engine.labelled import rubric, sample_bundle, samples

DEFENCE_FLAGS = {FLAG_PROMPT_INJECTION, FLAG_HIDDEN_TEXT, FLAG_RUBRIC_COPY}


@pytest.fixture(scope="module", params=[True, False], ids=["embeddings", "no-embeddings"])
def results(request, tmp_path_factory):
    assessor = OfflineAssessor(use_embeddings=request.param)
    workdir = tmp_path_factory.mktemp("repositories")
    return {
        sample.id: (sample, assessor.assess(sample_bundle(sample, workdir), rubric(sample.rubric)))
        for sample in samples()
    }


def test_the_set_is_large_varied_and_labelled():
    labelled = samples()
    counts = Counter(sample.label for sample in labelled)
    assert counts["adversarial"] >= 30 and counts["honest"] >= 30
    assert {s.strength for s in labelled if s.label == "honest"} == {"strong", "weak"}
    assert all(s.strength is None and s.technique for s in labelled if s.label == "adversarial")
    assert len({s.rubric for s in labelled}) == 3
    assert len({s.technique for s in labelled if s.label == "adversarial"}) >= 25
    assert len({s.id for s in labelled}) == len(labelled)
    for name in ("webdev", "data", "copy"):
        assert {s.strength for s in labelled if s.rubric == name and s.label == "honest"} == {"strong", "weak"}


def test_no_adversarial_sample_is_issued_automatically_under_any_policy(results):
    for sample, assessment in results.values():
        if sample.label != "adversarial":
            continue
        for policy in ("auto", "auto_with_sampling", "review"):
            lenient = dataclasses.replace(rubric(sample.rubric), policy=policy, min_confidence=0.0)
            assert decide(assessment, lenient, sample=0.99) == "review", (sample.id, policy)


def test_every_adversarial_sample_is_flagged(results):
    unflagged = [
        sample.id
        for sample, assessment in results.values()
        if sample.label == "adversarial" and not DEFENCE_FLAGS & set(assessment.flags)
    ]
    assert unflagged == []


def test_an_attack_never_scores_above_the_honest_evidence_it_was_added_to(results):
    based = [(sample, assessment) for sample, assessment in results.values() if sample.base]
    assert len(based) >= 15
    for sample, assessment in based:
        assert assessment.total <= results[sample.base][1].total, sample.id


def test_honest_strong_samples_score_above_honest_weak_ones(results):
    for name in ("webdev", "data", "copy"):
        strong = {s.id: a.total for s, a in results.values() if s.rubric == name and s.strength == "strong"}
        weak = {s.id: a.total for s, a in results.values() if s.rubric == name and s.strength == "weak"}
        assert min(strong.values()) > max(weak.values()), (name, strong, weak)
    share = {s.id: a.total / rubric(s.rubric).max_total for s, a in results.values() if s.label == "honest"}
    strongest_weak = max(v for k, v in share.items() if results[k][0].strength == "weak")
    assert all(v > strongest_weak for k, v in share.items() if results[k][0].strength == "strong")


def test_honest_samples_raise_no_defence_flag(results):
    false_positives = {
        sample.id: assessment.flags
        for sample, assessment in results.values()
        if sample.label == "honest" and DEFENCE_FLAGS & set(assessment.flags)
    }
    assert false_positives == {}


def test_weak_honest_evidence_is_never_issued_automatically(results):
    for sample, assessment in results.values():
        if sample.strength == "weak":
            assert decide(assessment, rubric(sample.rubric)) != "auto_issue", sample.id


def test_same_input_same_output(tmp_path):
    for sample in samples()[::7]:
        first = OfflineAssessor().assess(sample_bundle(sample, tmp_path), rubric(sample.rubric))
        again = OfflineAssessor().assess(sample_bundle(sample, tmp_path), rubric(sample.rubric))
        assert again == first, sample.id
