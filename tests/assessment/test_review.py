"""The review queue: list, look, override, approve (and issue), reject; the first decision wins."""

from __future__ import annotations

import pytest

from tests.assessment.helpers import ASSESSED, BORDERLINE, FAILING, audit_actions, row_counts, rubric
from tests.credentials.helpers import assert_error

pytestmark = pytest.mark.parametrize("rubric_json", [rubric("review")])

TESTS_UP = {"criterion_id": "tests", "level": "thorough", "reason": "The test suite covers every module."}
TESTS_DOWN = {"criterion_id": "tests", "level": "none", "reason": "The tests assert nothing."}


def queue(cast, headers, **params):
    response = cast.client.get("/v1/review-queue", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response


def test_the_queue_lists_pending_assessments_oldest_first_paged(cast):
    ids = [cast.submitted()["id"] for _ in range(3)]
    response = queue(cast, cast.reviewer, limit=2)
    page = response.json()
    assert page["total"] == 3 and [a["id"] for a in page["items"]] == ids[:2]
    assert response.headers["X-Total-Count"] == "3" and 'rel="next"' in response.headers["Link"]
    assert [a["id"] for a in queue(cast, cast.reviewer, limit=2, offset=2).json()["items"]] == ids[2:]
    assert queue(cast, cast.issuer_admin).json()["total"] == 3
    assert queue(cast, cast.api.admin).json()["total"] == 3


def test_the_queue_filters_by_achievement_and_shows_only_the_reviewers_issuer(cast, api, app):
    from tests.assessment.helpers import create_achievement_with_rubric

    first = cast.submitted()
    other = create_achievement_with_rubric(api, app, cast.issuer["id"], rubric("review"))
    second = cast.submit(cast.bundle(achievement_id=other["id"])["id"])
    assert [a["id"] for a in queue(cast, cast.reviewer, achievement_id=other["id"]).json()["items"]] == [second["id"]]
    assert queue(cast, cast.reviewer, achievement_id=cast.achievement["id"]).json()["items"][0]["id"] == first["id"]
    assert queue(cast, cast.outsider_reviewer).json()["total"] == 0
    assert queue(cast, cast.api.admin, issuer_id=cast.issuer["id"]).json()["total"] == 2


def test_earners_have_no_queue(cast):
    assert_error(cast.client.get("/v1/review-queue", headers=cast.earner), 403, "forbidden")


def test_a_reviewer_sees_the_evidence_and_the_per_criterion_results(cast):
    assessment = cast.submitted()
    seen = cast.get(assessment["id"], as_=cast.reviewer)
    assert [c["criterion_id"] for c in seen["criteria"]] == ["tests", "ci"]
    tests = seen["criteria"][0]
    assert tests["name"] == "Automated tests" and tests["level_name"] == "Thorough"
    assert {"score", "confidence", "spread", "rationale", "evidence"} <= set(tests)
    [item] = seen["evidence"]
    assert item["kind"] == "text" and item["sha256"] == seen["evidence_digests"][item["id"]]
    content = cast.client.get(item["content_url"].removeprefix("https://skillcred.example"), headers=cast.reviewer)
    assert content.status_code == 200 and content.content == b"I wrote tests with pytest."
    assert seen["events"][0]["actor_id"] is not None


def test_staff_of_another_issuer_cannot_see_or_decide(cast, app):
    assessment = cast.submitted()
    cast.get(assessment["id"], as_=cast.outsider_reviewer, expect=404)
    before = row_counts(app)
    for action, body in (("approve", {}), ("reject", {"reason": "no"}), ("overrides", {"overrides": [TESTS_UP]})):
        cast.act(assessment["id"], action, body, as_=cast.outsider_reviewer, expect=404)
    assert row_counts(app) == before


def test_approving_issues_the_credential_with_the_reviewer_recorded(cast, app):
    assessment = cast.submitted()
    approved = cast.act(assessment["id"], "approve", {"reason": "Solid work."})

    assert approved["state"] == "issued" and approved["credential_id"]
    event = approved["events"][-1]
    assert (event["kind"], event["state"], event["reason"]) == ("approved", "issued", "Solid work.")
    assert event["credential_id"] == approved["credential_id"] and event["actor_id"]
    credential = cast.client.get(f"/v1/credentials/{approved['credential_id']}", headers=cast.api.admin).json()
    assert credential["issued_by"] == event["actor_id"]
    assert credential["credential"]["credentialSubject"]["assessment"]["humanReviewed"] is True
    assert audit_actions(app, assessment["id"]) == ["assessment.submit", "assessment.assess", "assessment.approve"]
    assert queue(cast, cast.reviewer).json()["total"] == 0


def test_rejecting_needs_a_reason_and_the_earner_sees_it(cast, app):
    assessment = cast.submitted()
    cast.act(assessment["id"], "reject", {}, expect=422)
    cast.act(assessment["id"], "reject", {"reason": ""}, expect=422)
    rejected = cast.act(assessment["id"], "reject", {"reason": "The repository has no tests."})
    assert rejected["state"] == "rejected" and rejected["credential_id"] is None
    mine = cast.get(assessment["id"])
    assert mine["state"] == "rejected" and mine["events"][-1]["reason"] == "The repository has no tests."
    assert row_counts(app)["Credential"] == 0


def test_overrides_are_recorded_with_reasons_and_recomputed_against_the_pass_rule(cast, assessor):
    assessor.levels = dict(BORDERLINE)
    assessment = cast.submitted()
    overridden = cast.act(assessment["id"], "overrides", {"overrides": [TESTS_UP]})

    assert overridden["state"] == "pending_review" and overridden["total"] == 5
    tests = overridden["criteria"][0]
    assert (tests["level"], tests["assessed_level"]) == ("thorough", "some")
    assert overridden["events"][-1]["overrides"] == [
        {"criterion_id": "tests", "from": "some", "to": "thorough", "reason": TESTS_UP["reason"]}
    ]
    approved = cast.act(assessment["id"], "approve", {})
    credential = cast.client.get(f"/v1/credentials/{approved['credential_id']}", headers=cast.earner).json()
    results = credential["credential"]["credentialSubject"]["result"]
    assert len(results) == 2  # the overridden level is what the credential says (see test_credential)


def test_approving_levels_below_the_pass_rule_is_refused_unless_explicit(cast, app, assessor):
    assessor.levels = dict(BORDERLINE)
    assessment = cast.submitted()
    before = row_counts(app)
    body = cast.act(assessment["id"], "approve", {"overrides": [TESTS_DOWN]}, expect=409)
    assert body["error"] == "below_pass_rule"
    assert row_counts(app) == before and cast.get(assessment["id"])["state"] == "pending_review"

    approved = cast.act(
        assessment["id"],
        "approve",
        {
            "overrides": [TESTS_DOWN],
            "approve_below_pass_rule": True,
            "reason": "Issued on the strength of the write-up.",
        },
    )
    assert approved["state"] == "issued" and approved["passed"] is False


def test_a_failing_assessment_without_overrides_is_not_approved_by_accident(cast, assessor):
    assessor.levels = dict(FAILING)
    assessment = cast.submitted()
    assert cast.act(assessment["id"], "approve", {}, expect=409)["error"] == "below_pass_rule"


def test_a_reject_can_carry_overrides(cast):
    assessment = cast.submitted()
    rejected = cast.act(assessment["id"], "reject", {"reason": "Tests assert nothing.", "overrides": [TESTS_DOWN]})
    assert rejected["criteria"][0]["level"] == "none" and rejected["passed"] is False


@pytest.mark.parametrize(
    "override",
    [
        {"criterion_id": "nope", "level": "none", "reason": "x"},
        {"criterion_id": "tests", "level": "legendary", "reason": "x"},
    ],
)
def test_an_override_the_rubric_does_not_have_is_refused(cast, app, override):
    assessment = cast.submitted()
    before = row_counts(app)
    assert cast.act(assessment["id"], "overrides", {"overrides": [override]}, expect=422)["error"] == "invalid_override"
    assert row_counts(app) == before


def test_an_override_needs_a_reason(cast):
    assessment = cast.submitted()
    cast.act(assessment["id"], "overrides", {"overrides": [{"criterion_id": "tests", "level": "none"}]}, expect=422)
    cast.act(assessment["id"], "overrides", {"overrides": []}, expect=422)
    cast.act(assessment["id"], "overrides", {"overrides": [TESTS_DOWN, TESTS_UP]}, expect=422)


def test_a_decided_assessment_cannot_be_decided_again(cast, app):
    assessment = cast.submitted()
    cast.act(assessment["id"], "approve", {})
    before = row_counts(app)
    for action, body in (("approve", {}), ("reject", {"reason": "late"}), ("overrides", {"overrides": [TESTS_UP]})):
        assert cast.act(assessment["id"], action, body, as_=cast.second_reviewer, expect=409)["error"] == "not_pending"
    assert row_counts(app) == before


@pytest.mark.parametrize("first, second", [("approve", "reject"), ("reject", "approve")])
def test_concurrent_reviewers_the_first_decision_wins(cast, app, monkeypatch, first, second):
    """The second reviewer decides while the first one's decision is in flight. PostgreSQL: the
    second waits for the first one's lock on the assessment, then reads the decision. SQLite: both
    read "pending" before either writes; the second one's event is refused by the unique seq."""
    from service.assessment import review
    from tests.concurrency import Contender, Gate, Worker, started, wait_until_queued

    assessment = cast.submitted()
    bodies = {"approve": {}, "reject": {"reason": "No."}}
    read = Gate("the decider has read the events")
    read_events = review.events_of

    def events_read(session, assessment_id):
        events = read_events(session, assessment_id)
        read.arrive(Contender(session))  # on PostgreSQL the assessment row is locked by now
        return events

    def decide(action: str, headers: dict[str, str]):
        return cast.client.post(f"/v1/assessments/{assessment['id']}/{action}", json=bodies[action], headers=headers)

    monkeypatch.setattr(review, "events_of", events_read)
    (winner,) = started(Worker(decide, first, cast.reviewer, name=first))
    [holder] = read.wait_for_arrivals(1)
    (loser,) = started(Worker(decide, second, cast.second_reviewer, name=second))
    if holder.dialect == "postgresql":
        wait_until_queued(holder, count=1)  # the second decider waits for the row lock
    else:
        read.wait_for_arrivals(2)  # the second decider read "pending" too: a stale read
    read.open(1)
    won = winner.outcome()
    read.open()
    lost = loser.outcome()
    monkeypatch.undo()
    for contender in read.arrivals:
        contender.close()

    assert won.status_code == 200, won.text
    assert lost.status_code == 409 and lost.json()["error"] == "not_pending", lost.text
    assert len(read.arrivals) == 2
    final = cast.get(assessment["id"])
    assert [e["kind"] for e in final["events"]] == [
        *ASSESSED,
        "approved" if first == "approve" else "rejected",
    ]
    assert (final["credential_id"] is not None) == (first == "approve")
    assert row_counts(app)["Credential"] == (1 if first == "approve" else 0)


def test_the_database_refuses_a_second_decision_made_on_a_stale_read(cast, app, monkeypatch):
    """What protects SQLite, where reads take no lock: both deciders read "pending", the second
    one's event takes the same number and the unique (assessment, seq) refuses it."""
    from sqlmodel import Session

    from service.accounts.models import Account
    from service.assessment import review
    from service.core.db import unit_of_work
    from service.core.errors import Conflict

    assessment = cast.submitted()
    me = {
        name: cast.client.get("/v1/me", headers=headers).json()["id"]
        for name, headers in (("first", cast.reviewer), ("second", cast.second_reviewer))
    }
    with Session(app.state.engine) as session:
        stale = review.events_of(session, assessment["id"])
        for event in stale:
            session.expunge(event)
    with unit_of_work(app.state.engine) as session:
        review.reject(session, assessment["id"], reviewer=session.get(Account, me["first"]), reason="First.")

    monkeypatch.setattr(review, "events_of", lambda session, assessment_id: list(stale))
    with pytest.raises(Conflict) as refused, unit_of_work(app.state.engine) as session:
        review.approve(
            session,
            app.state.keystore,
            app.state.settings,
            assessment["id"],
            reviewer=session.get(Account, me["second"]),
        )
    assert refused.value.code == "not_pending"
    monkeypatch.undo()
    final = cast.get(assessment["id"])
    assert [e["kind"] for e in final["events"]] == [*ASSESSED, "rejected"] and final["credential_id"] is None
    assert row_counts(app)["Credential"] == 0
