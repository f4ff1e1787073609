"""Submitting a bundle: locked and queued at once; the job assesses it, decides by the rubric's
policy and records the decision (and any credential) in one transaction."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from service.assessment.engine.result import FLAG_PROMPT_INJECTION
from service.assessment.models import Assessment, AssessmentEvent
from service.credentials.models import Credential
from tests.assessment.helpers import (
    BORDERLINE,
    FAILING,
    RETRY_ATTEMPTS,
    audit_actions,
    bundle_row,
    row_counts,
    rubric,
)
from tests.credentials.helpers import assert_error


def test_a_confident_passing_assessment_under_policy_auto_issues_the_credential_at_once(cast, app, assessor):
    bundle = cast.bundle()
    assessment = cast.submit(bundle["id"])

    assert assessment["state"] == "issued" and assessment["decision"] == "auto_issue"
    assert assessment["credential_id"] and assessment["passed"] is True and assessment["total"] == 5
    assert [(e["kind"], e["state"]) for e in assessment["events"]] == [
        ("submitted", "queued"),
        ("started", "running"),
        ("assessed", "issued"),
    ]
    credential = cast.client.get(f"/v1/credentials/{assessment['credential_id']}", headers=cast.earner).json()
    assert credential["recipient"]["email"] == cast.earner_email
    stored = bundle_row(app, bundle["id"])
    assert stored.state == "locked" and stored.credential_id == assessment["credential_id"]
    assert len(assessor.calls) == 1 and [i.id for i in assessor.calls[0].items] == [
        item["id"]
        for item in cast.client.get(f"/v1/evidence/bundles/{bundle['id']}", headers=cast.earner).json()["items"]
    ]
    assert audit_actions(app, assessment["id"]) == ["assessment.submit", "assessment.assess"]
    assert "credential.issue" in audit_actions(app, assessment["credential_id"])


def test_the_assessment_records_how_the_judgement_was_made(cast, app):
    assessment = cast.get(cast.submitted()["id"], as_=cast.reviewer)  # what the assessor said is for staff
    with Session(app.state.engine) as session:
        row = session.get(Assessment, assessment["id"])
    assert row.evidence_digests and all(len(d) == 64 for d in row.evidence_digests.values())
    assert (row.rubric_id, row.rubric_version, row.rubric_name) == ("python-testing", "1", "Python testing rubric")
    assert row.rubric_hash.startswith("sha256:") and row.rubric["criteria"][0]["id"] == "tests"
    assert (row.assessor_kind, row.assessor_version) == ("scripted", "0.1")
    first = row.criteria[0]
    assert set(first) >= {"criterion_id", "level", "score", "confidence", "spread", "rationale", "evidence"}
    assert first["evidence"][0]["locator"] == "README.md"
    assert assessment["rubric"]["hash"] == row.rubric_hash
    assert assessment["decision_reasons"] and assessment["criteria"][0]["rationale"].startswith("Automated tests")


@pytest.mark.parametrize("rubric_json", [rubric("review")])
def test_policy_review_sends_every_assessment_to_the_queue(cast, app):
    assessment = cast.submitted()
    assert assessment["state"] == "pending_review" and assessment["credential_id"] is None
    assert row_counts(app)["Credential"] == 0


def test_a_flagged_assessment_goes_to_review_even_under_policy_auto(cast, assessor):
    assessor.flags = (FLAG_PROMPT_INJECTION,)
    assessment = cast.get(cast.submitted()["id"], as_=cast.reviewer)
    assert assessment["state"] == "pending_review"
    assert assessment["flags"] == [FLAG_PROMPT_INJECTION]
    assert any("prompt_injection" in reason for reason in assessment["decision_reasons"])


def test_low_confidence_goes_to_review(cast, assessor):
    assessor.confidence = 0.2
    assert cast.submitted()["state"] == "pending_review"


def test_a_confident_fail_is_rejected_automatically(cast, assessor):
    assessor.levels = dict(FAILING)
    assessment = cast.submitted()
    assert assessment["state"] == "rejected" and assessment["passed"] is False
    assert assessment["can_appeal"] is True


@pytest.mark.parametrize("rubric_json", [rubric("auto_with_sampling", sampling_rate=1.0)])
def test_sampling_sends_a_share_of_automatic_decisions_to_review(cast, assessor):
    assessor.levels = dict(BORDERLINE)
    assessment = cast.get(cast.submitted()["id"], as_=cast.reviewer)
    assert assessment["state"] == "pending_review" and assessment["sampled"] is True, assessment


@pytest.mark.parametrize("rubric_json", [rubric("auto_with_sampling", sampling_rate=0.0)])
def test_with_a_zero_sampling_rate_nothing_is_sampled(cast):
    assessment = cast.get(cast.submitted()["id"], as_=cast.reviewer)
    assert assessment["state"] == "issued" and assessment["sampled"] is False


@pytest.mark.parametrize("rubric_json", [None])
def test_an_achievement_without_a_rubric_cannot_be_assessed(cast, app, assessor):
    bundle = cast.bundle()
    before = row_counts(app)
    response = cast.client.post("/v1/assessments", json={"bundle_id": bundle["id"]}, headers=cast.earner)
    assert_error(response, 422, "no_rubric")
    assert row_counts(app) == before and assessor.calls == []
    assert bundle_row(app, bundle["id"]).state == "open"


def test_only_the_bundles_earner_may_submit_it(cast, app):
    bundle = cast.bundle()
    response = cast.client.post("/v1/assessments", json={"bundle_id": bundle["id"]}, headers=cast.other_earner)
    assert_error(response, 404, "not_found")
    response = cast.client.post("/v1/assessments", json={"bundle_id": bundle["id"]}, headers=cast.reviewer)
    assert_error(response, 403, "forbidden")
    assert bundle_row(app, bundle["id"]).state == "open"


def test_a_bundle_is_submitted_once(cast, app):
    bundle = cast.bundle()
    cast.submit(bundle["id"])
    before = row_counts(app)
    response = cast.client.post("/v1/assessments", json={"bundle_id": bundle["id"]}, headers=cast.earner)
    assert_error(response, 409, "already_submitted")
    assert row_counts(app) == before


def test_an_empty_bundle_is_refused(cast, app):
    bundle = cast.bundle(text="")
    response = cast.client.post("/v1/assessments", json={"bundle_id": bundle["id"]}, headers=cast.earner)
    assert_error(response, 409, "evidence_bundle_empty")


def test_bad_input_is_a_clear_error(cast):
    for body in ({}, {"bundle_id": ""}, {"bundle_id": "x" * 37}, {"bundle_id": "b", "extra": 1}):
        response = cast.client.post("/v1/assessments", json=body, headers=cast.earner)
        assert_error(response, 422, "validation_error")
    response = cast.client.post("/v1/assessments", json={"bundle_id": "no-such-bundle"}, headers=cast.earner)
    assert_error(response, 404, "not_found")


def test_a_failure_while_issuing_writes_nothing_and_after_the_retries_a_reviewer_decides(
    cast, app, assessor, monkeypatch
):
    from service.vc import data_integrity
    from service.vc.errors import VCError

    def refuse(*args, **kwargs):
        raise VCError("signing refused for the test")

    bundle = cast.bundle()
    monkeypatch.setattr(data_integrity, "sign", refuse)
    assessment = cast.submit(bundle["id"])

    assert assessment["state"] == "pending_review" and assessment["credential_id"] is None
    assert [e["kind"] for e in assessment["events"]] == ["submitted", "started", "failed"]
    reason = assessment["events"][-1]["reason"]
    assert "automatic assessment failed" in reason and "signing refused" in reason
    assert cast.get(assessment["id"], as_=cast.reviewer)["decision_reasons"] == [reason]
    assert len(assessor.calls) == RETRY_ATTEMPTS  # tried, retried, then handed to a person
    assert row_counts(app)["Credential"] == 0
    stored = bundle_row(app, bundle["id"])
    assert stored.state == "locked" and stored.credential_id is None
    assert "assessment.fail" in audit_actions(app, assessment["id"])


def test_an_unexpected_failure_after_the_credential_writes_no_credential(cast, app, monkeypatch):
    from service.assessment import running

    real = running.issue_for_assessment

    def issue_then_fail(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("the audit log is unavailable")

    monkeypatch.setattr(running, "issue_for_assessment", issue_then_fail)
    before = row_counts(app)
    assessment = cast.submitted()

    assert assessment["state"] == "pending_review" and assessment["credential_id"] is None
    assert "RuntimeError" in assessment["events"][-1]["reason"]
    assert "unavailable" not in assessment["events"][-1]["reason"]  # no internals for the earner
    after = row_counts(app)
    assert after["Credential"] == before["Credential"] and after["StatusEntry"] == before["StatusEntry"]


def test_the_bundle_is_locked_at_submission_so_the_assessor_judges_what_was_submitted(cast, app, assessor):
    bundle = cast.bundle()
    queued = cast.submit(bundle["id"], wait=False)
    assert queued["state"] in ("queued", "running", "issued")
    response = cast.client.post(
        f"/v1/evidence/bundles/{bundle['id']}/items",
        headers=cast.earner,
        json={"kind": "text", "text": "Added after submitting.", "name": "Late"},
    )
    assert response.status_code == 409, response.text
    assessment = cast.decided(queued["id"])
    assert assessment["state"] == "issued"
    assert [i.id for i in assessor.calls[0].items] == list(queued["evidence_digests"])


def test_the_assessment_and_its_events_are_all_stored(cast, app):
    assessment = cast.submitted()
    with Session(app.state.engine) as session:
        events = list(
            session.exec(
                select(AssessmentEvent)
                .where(AssessmentEvent.assessment_id == assessment["id"])
                .order_by(AssessmentEvent.seq)
            )
        )
        credential = session.get(Credential, assessment["credential_id"])
    assert [(e.seq, e.kind, e.state) for e in events] == [
        (1, "submitted", "queued"),
        (2, "started", "running"),
        (3, "assessed", "issued"),
    ]
    assert events[2].credential_id == credential.id and events[0].actor_id is not None
    assert events[1].actor_id is None and events[2].actor_id is None  # the service's own steps
