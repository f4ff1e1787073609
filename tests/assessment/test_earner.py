"""The earner's side: their own assessments with outcome, levels and explanations, resubmission,
one appeal."""

from __future__ import annotations

import pytest

from tests.assessment.helpers import FAILING, audit_actions, row_counts, rubric
from tests.credentials.helpers import assert_error


@pytest.fixture
def rubric_json():
    return rubric("review")


def rejected_by(cast, reviewer) -> dict:
    assessment = cast.submitted()
    return cast.act(assessment["id"], "reject", {"reason": "No tests in the repository."}, as_=reviewer)


def test_earners_see_their_own_assessments_with_levels_and_explanations(cast):
    mine = cast.submitted()
    cast.submit(cast.bundle(as_=cast.other_earner)["id"], as_=cast.other_earner)

    listed = cast.client.get("/v1/assessments", headers=cast.earner).json()
    assert [a["id"] for a in listed["items"]] == [mine["id"]] and listed["total"] == 1
    seen = cast.get(mine["id"])
    assert seen["state"] == "pending_review"
    assert all(c["explanation"] and c["level_name"] and c["rationale"] is None for c in seen["criteria"])
    assert seen["evidence"] == [] and seen["events"][0]["actor_id"] is None  # reviewers' ids are staff-only
    cast.get(mine["id"], as_=cast.other_earner, expect=404)


def test_the_list_filters_by_state(cast):
    pending = cast.submitted()
    rejected = rejected_by(cast, cast.reviewer)
    by_state = {
        state: [
            a["id"]
            for a in cast.client.get("/v1/assessments", headers=cast.earner, params={"state": state}).json()["items"]
        ]
        for state in ("pending_review", "rejected", "issued")
    }
    assert by_state == {"pending_review": [pending["id"]], "rejected": [rejected["id"]], "issued": []}
    assert_error(cast.client.get("/v1/assessments", headers=cast.earner, params={"state": "bogus"}), 422)


def test_staff_list_their_issuers_assessments(cast):
    assessment = cast.submitted()
    assert [a["id"] for a in cast.client.get("/v1/assessments", headers=cast.reviewer).json()["items"]] == [
        assessment["id"]
    ]
    assert cast.client.get("/v1/assessments", headers=cast.outsider_reviewer).json()["total"] == 0


def test_after_a_rejection_the_earner_resubmits_with_a_new_bundle(cast):
    first = rejected_by(cast, cast.reviewer)
    second = cast.submitted()
    assert second["id"] != first["id"] and second["state"] == "pending_review"
    approved = cast.act(second["id"], "approve", {})
    assert approved["state"] == "issued"


def test_an_appeal_goes_back_to_the_queue_and_a_different_reviewer_decides_it(cast, app):
    rejected = rejected_by(cast, cast.reviewer)
    assert cast.get(rejected["id"])["can_appeal"] is True

    appealed = cast.act(
        rejected["id"], "appeal", {"reason": "The tests are in tests/, please look again."}, as_=cast.earner
    )
    assert appealed["state"] == "appealed" and appealed["can_appeal"] is False
    queued = cast.client.get("/v1/review-queue", headers=cast.second_reviewer).json()["items"]
    assert [(a["id"], a["state"]) for a in queued] == [(rejected["id"], "appealed")]

    refused = cast.act(rejected["id"], "approve", {}, as_=cast.reviewer, expect=403)
    assert refused["error"] == "same_reviewer"
    assert (
        cast.act(rejected["id"], "reject", {"reason": "Still no."}, as_=cast.reviewer, expect=403)["error"]
        == "same_reviewer"
    )

    approved = cast.act(rejected["id"], "approve", {"reason": "Appeal upheld."}, as_=cast.second_reviewer)
    assert approved["state"] == "issued" and approved["credential_id"]
    assert [e["kind"] for e in approved["events"]] == [
        "submitted",
        "started",
        "assessed",
        "rejected",
        "appealed",
        "approved",
    ]
    assert audit_actions(app, rejected["id"]) == [
        "assessment.submit",
        "assessment.assess",
        "assessment.reject",
        "assessment.appeal",
        "assessment.approve",
    ]


def test_an_earner_appeals_once(cast, app):
    rejected = rejected_by(cast, cast.reviewer)
    cast.act(rejected["id"], "appeal", {"reason": "Please look again."}, as_=cast.earner)
    cast.act(rejected["id"], "reject", {"reason": "Upheld: still no tests."}, as_=cast.second_reviewer)
    before = row_counts(app)
    again = cast.act(rejected["id"], "appeal", {"reason": "And again."}, as_=cast.earner, expect=409)
    assert again["error"] == "already_appealed"
    assert row_counts(app) == before and cast.get(rejected["id"])["can_appeal"] is False


@pytest.mark.parametrize("rubric_json", [rubric("auto")])
def test_an_automatic_rejection_is_appealed_to_any_reviewer(cast, assessor):
    assessor.levels = dict(FAILING)
    assessment = cast.submitted()
    assert assessment["state"] == "rejected"
    cast.act(assessment["id"], "appeal", {"reason": "The assessor missed my tests."}, as_=cast.earner)
    decided = cast.act(assessment["id"], "reject", {"reason": "Confirmed."}, as_=cast.reviewer)
    assert decided["state"] == "rejected"


def test_only_a_rejected_assessment_can_be_appealed_and_only_by_its_earner(cast):
    pending = cast.submitted()
    assert (
        cast.act(pending["id"], "appeal", {"reason": "Hurry up."}, as_=cast.earner, expect=409)["error"]
        == "not_rejected"
    )
    rejected = rejected_by(cast, cast.reviewer)
    cast.act(rejected["id"], "appeal", {"reason": "Mine now."}, as_=cast.other_earner, expect=404)
    cast.act(rejected["id"], "appeal", {"reason": "Not mine."}, as_=cast.reviewer, expect=403)
    cast.act(rejected["id"], "appeal", {}, as_=cast.earner, expect=422)
