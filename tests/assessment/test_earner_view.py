"""No oracle for gamers (issue 14): what an earner reads about an assessment never names the
rubric's hidden key ideas, nor what the assessor matched. The earner reads the level of each
criterion, its place on the scale and the rubric's description of it, what the next level asks for,
and where the assessment stands, in plain words made from the rubric; a flag becomes "sent to a
reviewer". Issuer staff still read everything the assessor said.

Every test checks the whole JSON answer against every key idea of the rubric, after checking that
the staff view of the same assessment does name them (so the check can fail)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from service.assessment.engine.bundle import EvidenceBundle
from service.assessment.engine.result import Assessment as AssessorResult
from service.assessment.engine.result import CriterionResult, EvidencePointer, Finding
from service.assessment.engine.rubric import Rubric
from tests.assessment.helpers import ScriptedAssessor, platform_acting_for_new_earner, wait_decided

KEY_IDEAS = {
    "markup": ["semantic html", "landmark regions", "skip link", "heading outline"],
    "contrast": ["wcag aa", "contrast ratio"],
}
ACCESSIBLE_WEB: dict[str, Any] = {
    "id": "accessible-web",
    "version": "1",
    "name": "Accessible web pages",
    "criteria": [
        {
            "id": "markup",
            "name": "Structure",
            "description": "Pages are built so that assistive technology can navigate them.",
            "weight": 2,
            "required": True,
            "min_level": "proficient",
            "key_ideas": KEY_IDEAS["markup"],
            "levels": [
                {"id": "beginning", "name": "Beginning", "description": "Generic containers only.", "points": 0},
                {"id": "developing", "name": "Developing", "description": "Some structure is present.", "points": 1},
                {"id": "proficient", "name": "Proficient", "description": "Structure is consistent.", "points": 2},
                {"id": "exemplary", "name": "Exemplary", "description": "Structure is tested with users.", "points": 3},
            ],
        },
        {
            "id": "contrast",
            "name": "Colour",
            "description": "Text stays readable for people with low vision.",
            "weight": 1,
            "key_ideas": KEY_IDEAS["contrast"],
            "levels": [
                {"id": "unchecked", "name": "Unchecked", "description": "Colours were never checked.", "points": 0},
                {"id": "checked", "name": "Checked", "description": "Colours were measured and fixed.", "points": 1},
            ],
        },
    ],
    "pass_rule": {"min_total": 5, "min_confidence": 0.6},
    "policy": "auto",
}
EVIDENCE = (
    "I rebuilt the shop's pages with semantic html: landmark regions, a skip link and a clean heading outline. "
    "Every colour pair was measured for wcag aa with a contrast ratio tool."
)


def every_key_idea() -> list[str]:
    return [idea for ideas in KEY_IDEAS.values() for idea in ideas]


def key_ideas_in(answer: Any) -> list[str]:
    """The rubric's key ideas found anywhere in ``answer`` (its JSON text, case-insensitive)."""
    text = json.dumps(answer).lower()
    return [idea for idea in every_key_idea() if idea in text]


@dataclass
class MatchingAssessor(ScriptedAssessor):
    """Answers like the offline assessor does: a rationale naming the key ideas it matched,
    evidence pointers quoting the passages, and a finding for each flag naming what raised it."""

    def assess(self, bundle: EvidenceBundle, rubric: Rubric) -> AssessorResult:
        self.calls.append(bundle)
        item = bundle.items[0].id
        criteria = tuple(
            CriterionResult(
                criterion_id=c.id,
                level=self.levels[c.id],
                score=c.level(self.levels[c.id]).points,
                confidence=self.confidence,
                rationale=f"key ideas {len(c.key_ideas)}/{len(c.key_ideas)} ({', '.join(c.key_ideas)}); "
                f"similarity 0.71; depth 0.64 -> strength 0.70 -> {c.level(self.levels[c.id]).name}",
                evidence=(EvidencePointer(item_id=item, locator=f"Write-up: {EVIDENCE[:120]}"),),
                signals={"ideas_found": list(c.key_ideas)},
            )
            for c in rubric.criteria
        )
        findings = tuple(
            Finding(flag=flag, item_id=item, reason=f"a list of key ideas: {', '.join(every_key_idea())}")
            for flag in self.flags
        )
        return AssessorResult(
            criteria=criteria,
            total=rubric.total(self.levels),
            passed=rubric.passes(self.levels),
            flags=self.flags,
            assessor={"kind": "offline", "version": "test", "ideas": every_key_idea()},
            findings=findings,
        )


@pytest.fixture
def rubric_json() -> dict[str, Any]:
    return ACCESSIBLE_WEB


@pytest.fixture
def assessor() -> MatchingAssessor:
    return MatchingAssessor(levels={"markup": "proficient", "contrast": "checked"})


def submit_evidence(cast) -> dict[str, Any]:
    return cast.submit(cast.bundle(text=EVIDENCE)["id"])


def test_an_earner_never_reads_the_key_ideas_the_reviewer_reads_in_the_rationale(cast, assessor):
    assessor.flags = ("keyword_list",)
    assessment = submit_evidence(cast)

    staff = cast.get(assessment["id"], as_=cast.reviewer)
    assert key_ideas_in(staff["criteria"]) == every_key_idea()  # the rationale names them all
    assert staff["flags"] == ["keyword_list"] and staff["findings"] and staff["decision_reasons"]

    earner = cast.get(assessment["id"])
    assert key_ideas_in(earner) == []
    assert key_ideas_in(cast.client.get("/v1/assessments", headers=cast.earner).json()) == []
    assert "keyword_list" not in json.dumps(earner)  # nor which detector fired
    assert earner["flags"] == [] and earner["findings"] == [] and earner["decision_reasons"] == []
    assert all(
        c["rationale"] is None and c["confidence"] is None and c["spread"] is None and c["evidence"] == []
        for c in earner["criteria"]
    )
    assert earner["assessor"]["details"] == {} and earner["sampled"] is None
    assert earner["explanation"] == "Your evidence was sent to a reviewer, who reads it against the rubric and decides."


def test_a_platform_acting_for_an_earner_reads_what_the_earner_reads(cast, app):
    acting = platform_acting_for_new_earner(cast)
    assessment = cast.submit(cast.bundle(text=EVIDENCE, as_=acting)["id"], as_=acting)

    assert key_ideas_in(cast.get(assessment["id"], as_=cast.reviewer)["criteria"]) == every_key_idea()
    assert key_ideas_in(assessment) == [] and all(c["rationale"] is None for c in assessment["criteria"])
    assert key_ideas_in(cast.client.get("/v1/assessments", headers=acting).json()) == []


@pytest.mark.parametrize("assessor", [None])  # the service's own (offline) assessor
def test_with_the_offline_assessor_the_earner_reads_no_key_idea_either(cast, app):
    assessment = submit_evidence(cast)

    staff = cast.get(assessment["id"], as_=cast.reviewer)
    assert key_ideas_in([c["rationale"] for c in staff["criteria"]])  # "key ideas 4/4 (semantic html, ...)"
    assert key_ideas_in(cast.get(assessment["id"])) == []


def test_the_earner_reads_each_level_on_its_scale_and_what_the_next_level_asks_for(cast, assessor):
    assessment = submit_evidence(cast)
    assert assessment["state"] == "issued"

    markup, contrast = assessment["criteria"]
    assert (markup["level_name"], markup["level_rank"], markup["level_count"]) == ("Proficient", 3, 4)
    assert markup["level_description"] == "Structure is consistent."
    assert markup["explanation"] == (
        "Proficient, 3 of 4: Structure is consistent. "
        "The next level, Exemplary, asks for: Structure is tested with users."
    )
    assert contrast["explanation"] == (
        "Checked, 2 of 2: Colours were measured and fixed. This is the highest level of this criterion."
    )
    assert assessment["explanation"] == (
        "The levels reached meet the rubric's pass rule (total 5 of 7, 5 needed): the credential was issued."
    )


def test_a_rejected_earner_reads_the_pass_rule_and_the_required_criterion_they_fell_short_of(cast, assessor):
    assessor.levels = {"markup": "developing", "contrast": "checked"}
    assessment = submit_evidence(cast)
    assert assessment["state"] == "rejected"

    assert assessment["explanation"] == (
        "The levels reached do not meet the rubric's pass rule "
        "(total 3 of 7, 5 needed; below the required minimum: Structure)."
    )
    assert assessment["criteria"][0]["explanation"].endswith("This criterion is required at Proficient or above.")
    assert key_ideas_in(assessment) == []


def test_a_level_a_reviewer_set_says_so_and_staff_keep_the_assessors_level(cast, assessor):
    assessor.confidence = 0.2  # to the queue
    assessment = submit_evidence(cast)
    cast.act(
        assessment["id"],
        "approve",
        {"overrides": [{"criterion_id": "markup", "level": "exemplary", "reason": "User tests in the repo."}]},
    )

    markup = cast.get(assessment["id"])["criteria"][0]
    assert (markup["level"], markup["assessed_level"]) == ("exemplary", "proficient")
    assert markup["explanation"].endswith("A reviewer set this level.")
    assert cast.get(assessment["id"])["explanation"].endswith("the credential was approved by a reviewer.")


def test_staff_read_what_the_assessor_said(cast, assessor):
    assessment = submit_evidence(cast)
    staff = cast.get(assessment["id"], as_=cast.issuer_admin)
    criterion = staff["criteria"][0]
    assert criterion["rationale"].startswith("key ideas 4/4") and criterion["confidence"] == 0.9
    assert criterion["evidence"][0]["locator"].startswith("Write-up: I rebuilt")
    assert staff["assessor"]["details"] == {"ideas": every_key_idea()} and staff["sampled"] is False


def test_waiting_and_decided_states_read_in_plain_words(cast, app):
    queued = cast.submit(cast.bundle(text=EVIDENCE)["id"], wait=False)
    assert queued["state"] == "queued" and queued["explanation"] == "Your evidence is waiting to be assessed."
    assert wait_decided(app, cast.client, queued["id"], cast.earner)["state"] == "issued"
