"""SkillCred's assessment statement and its JSON-LD context: signed, schema-valid, safe-mode strict."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from service.vc import data_integrity, jsonld
from service.vc import openbadges as ob
from service.vc.errors import JsonLdSafeModeError
from service.vc.skillcred import (
    SKILLCRED_V1,
    SKILLCRED_VOCAB,
    AssessmentStatement,
    describe,
    read_assessment,
)
from service.vc.verify import verify

STATEMENT = AssessmentStatement(
    assessor_kind="offline",
    assessor_version="1.0.0",
    human_reviewed=True,
    decision="approved",
    rubric_id="python-testing",
    rubric_name="Python testing",
    rubric_version="3",
    rubric_hash="sha256:" + "ab" * 32,
    assessed_at=datetime(2026, 11, 28, 10, tzinfo=UTC),
    reviewed_at="2026-11-28T11:00:00+00:00",
)
LEVELS = ob.RubricCriterionLevel(id="urn:uuid:6f1e7a52-0000-4000-8000-000000000002", name="Thorough")
CRITERION = ob.ResultDescription(
    id="urn:uuid:6f1e7a52-0000-4000-8000-000000000001",
    name="Automated tests",
    result_type="RubricCriterionLevel",
    rubric_criterion_levels=(LEVELS,),
)


def credential(issuer_did: str, *, assessment: AssessmentStatement | None = STATEMENT) -> dict:
    return ob.build_achievement_credential(
        credential_id="https://skillcred.example/credentials/1",
        issuer=ob.IssuerProfile(id=issuer_did, name="Acme Academy"),
        achievement=ob.Achievement(
            id="https://skillcred.example/achievements/1",
            name="Python testing",
            description="Writes tests.",
            criteria_narrative="A tested project.",
            result_descriptions=(CRITERION,),
        ),
        recipient_did="did:example:ada",
        valid_from="2025-01-01T00:00:00Z",
        results=[ob.Result(result_description=CRITERION.id, achieved_level=LEVELS.id)],
        evidence=[
            {
                "id": "https://skillcred.example/evidence/items/1",
                "type": ["Evidence"],
                "name": "Write-up",
                "digestMultibase": "zQmYtUc4iTCbbfVSDNKvtQqrfyezPPnFvE33wFmutw9PBBk",
            }
        ],
        assessment=assessment,
    )


def test_the_context_is_bundled_under_its_stable_url():
    assert SKILLCRED_V1 in jsonld.bundled_context_urls()
    assert jsonld.DEFAULT_LOADER.document(SKILLCRED_V1)["@context"]["@protected"] is True


def test_the_statement_sits_in_the_subject_and_adds_the_context(issuer_did):
    built = credential(issuer_did)
    assert built["@context"][-1] == SKILLCRED_V1
    assert built["credentialSubject"]["assessment"] == {
        "type": "SkillCredAssessment",
        "assessorKind": "offline",
        "assessorVersion": "1.0.0",
        "humanReviewed": True,
        "decision": "approved",
        "assessedAt": "2026-11-28T10:00:00Z",
        "reviewedAt": "2026-11-28T11:00:00Z",
        "rubric": {
            "type": "SkillCredRubric",
            "rubricId": "python-testing",
            "name": "Python testing",
            "rubricVersion": "3",
            "rubricHash": "sha256:" + "ab" * 32,
        },
    }
    assert SKILLCRED_V1 not in credential(issuer_did, assessment=None)["@context"]


def test_it_passes_the_strict_1edtech_schema_and_expands_to_skillcred_iris(issuer_did):
    built = credential(issuer_did)
    ob.validate_credential_strict(built)
    nquads = jsonld.canonize(built)
    for term in ("assessment", "assessorKind", "humanReviewed", "rubricHash", "SkillCredAssessment"):
        assert f"<{SKILLCRED_VOCAB}{term}>" in nquads, term
    assert '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>' in nquads


def test_signed_it_verifies_and_the_report_says_how_it_was_assessed(issuer_did, issuer_signer):
    signed = data_integrity.sign(credential(issuer_did), issuer_signer, proof_as_list=True)
    report = verify(signed)
    assert report.verified, report.to_text()
    info = report.check("assessment")
    assert info is not None and info.outcome == "info"
    assert info.reason == ("Assessed by offline (1.0.0) against rubric Python testing v3; reviewed by a human: yes")
    assert "[INFO] assessment" in report.to_text()


def test_a_term_the_context_does_not_define_is_refused_not_dropped(issuer_did, issuer_signer):
    built = credential(issuer_did)
    built["credentialSubject"]["assessment"]["confidence"] = 0.93
    with pytest.raises(JsonLdSafeModeError, match="confidence"):
        data_integrity.sign(built, issuer_signer, proof_as_list=True)


def test_without_the_context_the_statement_is_refused(issuer_did, issuer_signer):
    built = credential(issuer_did)
    built["@context"] = built["@context"][:-1]
    with pytest.raises(JsonLdSafeModeError):
        data_integrity.sign(built, issuer_signer, proof_as_list=True)


def test_reading_it_back_is_tolerant_of_credentials_without_it(issuer_did):
    assert read_assessment(credential(issuer_did, assessment=None)) is None
    broken = copy.deepcopy(credential(issuer_did))
    broken["credentialSubject"]["assessment"]["assessorKind"] = 7
    assert read_assessment(broken) is None
    statement = read_assessment(credential(issuer_did))
    assert statement is not None and describe(statement).endswith("reviewed by a human: yes")
    assert read_assessment({"credentialSubject": "nonsense"}) is None
