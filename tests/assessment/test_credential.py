"""What a credential issued from an assessment says: per-criterion results, evidence with digests,
and how the skill was assessed (in SkillCred's context); shown by the verifier and the badge page."""

from __future__ import annotations

import base64
import hashlib
import html
import json

import pytest

from service.vc.skillcred import SKILLCRED_V1, SKILLCRED_V1_FILE
from tests.assessment.helpers import BORDERLINE, rubric


def credential_of(cast, assessment) -> dict:
    response = cast.client.get(f"/v1/credentials/{assessment['credential_id']}", headers=cast.earner)
    assert response.status_code == 200, response.text
    return response.json()["credential"]


def result_descriptions(cast) -> dict[str, dict]:
    achievement = cast.client.get(f"/v1/achievements/{cast.achievement['id']}", headers=cast.api.admin).json()
    return {d["id"]: d for d in achievement["result_descriptions"]}


def test_results_name_the_achievements_result_descriptions_and_levels(cast):
    credential = credential_of(cast, cast.submitted())
    descriptions = result_descriptions(cast)
    results = credential["credentialSubject"]["result"]
    reached = {
        descriptions[r["resultDescription"]]["name"]: next(
            lv["name"]
            for lv in descriptions[r["resultDescription"]]["rubric_criterion_levels"]
            if lv["id"] == r["achievedLevel"]
        )
        for r in results
    }
    assert reached == {"Automated tests": "Thorough", "Continuous integration": "Present"}
    embedded = {d["id"] for d in credential["credentialSubject"]["achievement"]["resultDescription"]}
    assert {r["resultDescription"] for r in results} <= embedded


@pytest.mark.parametrize("rubric_json", [rubric("review")])
def test_results_carry_a_reviewers_overridden_levels(cast, assessor):
    assessor.levels = dict(BORDERLINE)
    assessment = cast.submitted()
    cast.act(
        assessment["id"],
        "approve",
        {"overrides": [{"criterion_id": "tests", "level": "thorough", "reason": "Full coverage."}]},
    )
    credential = credential_of(cast, cast.get(assessment["id"]))
    descriptions = result_descriptions(cast)
    tests = next(
        r
        for r in credential["credentialSubject"]["result"]
        if descriptions[r["resultDescription"]]["name"] == "Automated tests"
    )
    level = next(
        lv
        for lv in descriptions[tests["resultDescription"]]["rubric_criterion_levels"]
        if lv["id"] == tests["achievedLevel"]
    )
    assert level["name"] == "Thorough"


def test_evidence_entries_carry_the_digest_of_the_stored_bytes(cast):
    bundle = cast.bundle(text="My tested project, explained.")
    response = cast.client.post(
        f"/v1/evidence/bundles/{bundle['id']}/files",
        headers=cast.earner,
        files={"file": ("report.txt", b"coverage: 97%\n", "text/plain")},
    )
    assert response.status_code == 201, response.text
    credential = credential_of(cast, cast.submit(bundle["id"]))
    items = cast.client.get(f"/v1/evidence/bundles/{bundle['id']}", headers=cast.earner).json()["items"]

    evidence = credential["evidence"]
    assert len(evidence) == len(items) == 2
    for entry, item in zip(evidence, items, strict=True):
        digest = bytes.fromhex(item["sha256"])
        assert entry["digestSRI"] == "sha256-" + base64.b64encode(digest).decode()
        assert entry["digestMultibase"].startswith("z")
        assert "Evidence" in entry["type"] and entry["id"].startswith("https://")
    assert evidence[0]["narrative"] == "My tested project, explained."


def test_the_credential_says_how_the_skill_was_assessed(cast):
    assessment = cast.submitted()
    credential = credential_of(cast, assessment)

    assert credential["@context"][-1] == SKILLCRED_V1
    stated = credential["credentialSubject"]["assessment"]
    assert stated["type"] == "SkillCredAssessment"
    assert (stated["assessorKind"], stated["assessorVersion"]) == ("scripted", "0.1")
    assert stated["humanReviewed"] is False and stated["decision"] == "auto_issue"
    assert "reviewedAt" not in stated and stated["assessedAt"].endswith("Z")
    assert stated["rubric"] == {
        "type": "SkillCredRubric",
        "rubricId": "python-testing",
        "name": "Python testing rubric",
        "rubricVersion": "1",
        "rubricHash": assessment["rubric"]["hash"],
    }


@pytest.mark.parametrize("rubric_json", [rubric("review")])
def test_a_reviewed_credential_says_a_human_reviewed_it(cast):
    assessment = cast.submitted()
    cast.act(assessment["id"], "approve", {})
    stated = credential_of(cast, cast.get(assessment["id"]))["credentialSubject"]["assessment"]
    assert stated["humanReviewed"] is True and stated["decision"] == "approved" and "reviewedAt" in stated


def test_verification_reports_how_it_was_assessed_as_information(cast):
    assessment = cast.submitted()
    text = cast.client.get(f"/v1/credentials/{assessment['credential_id']}/jsonld", headers=cast.earner).text
    response = cast.client.post("/v1/verify", content=text, headers={"Content-Type": "application/vc+ld+json"})
    report = response.json()
    assert report["verified"] is True, report
    [info] = [check for check in report["checks"] if check["id"] == "assessment"]
    assert info["outcome"] == "info"
    assert info["reason"] == (
        "Assessed by scripted (0.1) against rubric Python testing rubric v1; reviewed by a human: no"
    )
    assert info["details"]["humanReviewed"] is False


def test_tampering_with_the_assessment_statement_breaks_the_signature(cast):
    assessment = cast.submitted()
    credential = credential_of(cast, assessment)
    credential["credentialSubject"]["assessment"]["humanReviewed"] = True
    report = cast.client.post("/v1/verify", json=credential).json()
    assert report["verified"] is False
    assert next(c for c in report["checks"] if c["id"] == "proof")["outcome"] == "failed"


def test_the_badge_page_shows_how_it_was_assessed(cast):
    assessment = cast.submitted()
    page = cast.client.get(f"/credentials/{assessment['credential_id']}", headers={"Accept": "text/html"}).text
    assert "How this was assessed" in page
    assert (
        html.escape("Assessed by scripted (0.1) against rubric Python testing rubric v1; reviewed by a human: no")
        in page
    )


def test_the_skillcred_context_is_served_byte_for_byte(client):
    response = client.get("/contexts/skillcred-v1.jsonld")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/ld+json"
    assert response.content == SKILLCRED_V1_FILE.read_bytes()
    assert (
        hashlib.sha256(response.content).hexdigest()
        == json.loads((SKILLCRED_V1_FILE.parent.parent / "urlmap.json").read_text())["contexts"][SKILLCRED_V1]["sha256"]
    )
