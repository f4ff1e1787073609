"""A reviewer's way through the portal, as a person would click it: the review queue of their
issuer (appeals apart), an assessment's evidence beside its rubric, and the forms that approve
(the credential is issued), reject (a reason is required) and override levels; an appeal decided
by someone other than the reviewer who rejected. And what must never happen: another issuer's
assessment shown or changed, a forged form changing anything, an earner on a review page,
evidence text running as markup."""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import Session, select

from service.credentials.models import Credential
from tests.api_client import Api
from tests.assessment.helpers import RUBRIC, create_achievement_with_rubric, row_counts, run_inline
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.portal.conftest import PASSWORD, signed_in

HIDDEN_IDEA = "zebracorn-hidden-idea"
NARRATIVE = (
    "I wrote a pytest suite for my billing service: every unit test has an assert on the behaviour, "
    "and a workflow runs the tests on each push."
)
_numbers = itertools.count(1)


def _review_rubric() -> dict[str, Any]:
    rubric = copy.deepcopy(RUBRIC)
    rubric["criteria"][1]["key_ideas"] = [HIDDEN_IDEA, "workflow"]
    rubric["policy"] = "review"  # every assessment waits for a reviewer
    return rubric


def _staff(api: Api, role: str, issuer_id: str) -> str:
    """A new staff account of ``role`` for the issuer; its email (the password is PASSWORD)."""
    email = f"{role}-{next(_numbers)}@example.org"
    body = {"email": email, "password": PASSWORD, "role": role, "issuer_id": issuer_id}
    response = api.client.post("/v1/accounts", json=body, headers=api.admin)
    assert response.status_code == 201, response.text
    return email


@dataclass
class InReview:
    """An assessment waiting for a reviewer, its earner's API headers and its evidence item."""

    id: str
    earner: dict[str, str]
    item_id: str


def in_review(app: Any, api: Api, achievement_id: str, text: str = NARRATIVE) -> InReview:
    """A new earner applies with ``text`` through the API; the offline assessor runs inline and
    the rubric's policy sends the assessment to review."""
    earner = api.register_earner(f"earner-{next(_numbers)}@example.org")
    bundle = api.client.post("/v1/evidence/bundles", json={"achievement_id": achievement_id}, headers=earner).json()
    item = api.client.post(
        f"/v1/evidence/bundles/{bundle['id']}/items",
        json={"kind": "text", "text": text, "name": "Billing service write-up"},
        headers=earner,
    ).json()
    submitted = api.client.post("/v1/assessments", json={"bundle_id": bundle["id"]}, headers=earner)
    assert submitted.status_code == 202, submitted.text
    run_inline(app, submitted.json()["id"])
    state = api.client.get(f"/v1/assessments/{submitted.json()['id']}", headers=earner).json()["state"]
    assert state == "pending_review"
    return InReview(submitted.json()["id"], earner, item["id"])


@dataclass
class World:
    """Acme's achievement (policy: review) with two reviewers; Other's with one."""

    acme_achievement: str
    other_achievement: str
    reviewer: str
    second_reviewer: str
    other_reviewer: str


@pytest.fixture
def world(api: Api, app: Any) -> World:
    acme = api.create_issuer("Acme Academy")
    other = api.create_issuer("Other Academy")
    return World(
        acme_achievement=create_achievement_with_rubric(api, app, acme["id"], _review_rubric())["id"],
        other_achievement=create_achievement_with_rubric(api, app, other["id"], _review_rubric())["id"],
        reviewer=_staff(api, "reviewer", acme["id"]),
        second_reviewer=_staff(api, "reviewer", acme["id"]),
        other_reviewer=_staff(api, "reviewer", other["id"]),
    )


def _state(api: Api, case: InReview) -> dict[str, Any]:
    return api.client.get(f"/v1/assessments/{case.id}", headers=case.earner).json()


# --- the queue ------------------------------------------------------------------------------------


def test_the_staff_home_links_to_the_review_queue(world, browser):
    signed_in(browser, world.reviewer)

    home = browser.get("/portal")

    assert home.status_code == 200 and 'href="/portal/review"' in home.text


def test_a_reviewer_sees_their_issuers_queue_and_nothing_of_another_issuers(app, api, world, browser):
    ours = in_review(app, api, world.acme_achievement)
    theirs = in_review(app, api, world.other_achievement)
    signed_in(browser, world.reviewer)

    queue = browser.get("/portal/review")

    assert queue.status_code == 200 and queue.headers["cache-control"] == "no-store"
    assert f'href="/portal/review/{ours.id}"' in queue.text and theirs.id not in queue.text
    assert "The rubric&#39;s policy: a reviewer decides every assessment." in queue.text  # why it waits
    # the API's queue, for the same account, holds the same one
    headers = api.login(world.reviewer, PASSWORD)
    assert [a["id"] for a in api.client.get("/v1/review-queue", headers=headers).json()["items"]] == [ours.id]

    before = row_counts(app)
    page = browser.get(f"/portal/review/{theirs.id}")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert browser.get(f"/portal/review/{theirs.id}/evidence/{theirs.item_id}").status_code == 404
    assert browser.get(f"/portal/review/{ours.id}/evidence/{theirs.item_id}").status_code == 404
    token = browser.form_token("/portal/review")
    for action, form in (("approve", {}), ("reject", {"reason": "Not ours"}), ("override", {"level-ci": "absent"})):
        answer = browser.post(f"/portal/review/{theirs.id}/{action}", data={**form, "csrf_token": token})
        assert answer.status_code == 404, action
    assert row_counts(app) == before and _state(api, theirs)["state"] == "pending_review"


def test_an_admin_sees_every_issuers_queue_and_can_filter_it(app, api, world, browser):
    ours = in_review(app, api, world.acme_achievement)
    theirs = in_review(app, api, world.other_achievement)
    signed_in(browser, ADMIN_EMAIL, ADMIN_PASSWORD)

    everything = browser.get("/portal/review")
    filtered = browser.get(f"/portal/review?achievement_id={world.other_achievement}")

    assert ours.id in everything.text and theirs.id in everything.text and "Other Academy" in everything.text
    assert theirs.id in filtered.text and ours.id not in filtered.text and "Show everything waiting" in filtered.text


# --- one assessment -------------------------------------------------------------------------------


def test_the_review_page_shows_the_evidence_beside_the_rubric_and_the_assessors_proposal(app, api, world, browser):
    case = in_review(app, api, world.acme_achievement)
    signed_in(browser, world.reviewer)

    page = browser.get(f"/portal/review/{case.id}")

    assert page.status_code == 200
    assert "Billing service write-up" in page.text and "every unit test has an assert" in page.text
    assert "Automated tests" in page.text and "Tests cover the behaviour." in page.text  # levels of the rubric
    assert "Assessor's confidence" in page.text and "Assessor's rationale" in page.text
    assert HIDDEN_IDEA in page.text  # staff see the key ideas; earners never do
    assert f'href="/portal/review/{case.id}/evidence/{case.item_id}"' in page.text
    assert "submitted by the earner" in page.text  # the history


def test_approving_issues_the_credential_and_returns_to_the_queue(app, api, world, browser):
    case = in_review(app, api, world.acme_achievement)
    signed_in(browser, world.reviewer)
    path = f"/portal/review/{case.id}"

    approved = browser.submit(path, f"{path}/approve", {"note": "Well evidenced.", "approve_below_pass_rule": "on"})

    assert approved.status_code == 303 and approved.headers["location"] == "/portal/review?done=approved"
    assert "Approved: the credential was issued" in browser.get(approved.headers["location"]).text
    shown = _state(api, case)
    assert shown["state"] == "issued" and shown["credential_id"]
    with Session(app.state.engine) as session:
        credential = session.get(Credential, shown["credential_id"])
        assert credential is not None and credential.state == "active"
    assert case.id not in browser.get("/portal/review").text
    # decided: the page shows the outcome and no longer offers the forms
    decided = browser.get(path)
    assert "✓ Issued" in decided.text and f"{path}/approve" not in decided.text
    # a second decision (a stale page, another reviewer) is refused: the first one stands
    late = browser.post(f"{path}/reject", data={"reason": "Too late.", "csrf_token": browser.form_token(path)})
    assert late.status_code == 409 and "not waiting for a review" in late.text
    assert _state(api, case)["state"] == "issued"


def test_levels_below_the_pass_rule_are_approved_only_when_the_reviewer_says_so(app, api, world, browser):
    case = in_review(app, api, world.acme_achievement)
    signed_in(browser, world.reviewer)
    path = f"/portal/review/{case.id}"
    lowered = browser.submit(path, f"{path}/override", {"level-tests": "none", "reason-tests": "No tests shown."})
    assert lowered.status_code == 303
    before = row_counts(app)

    refused = browser.submit(path, f"{path}/approve", {"note": "Fine by me."})

    assert refused.status_code == 409 and "Issue even though the levels do not meet the pass rule" in refused.text
    assert "Fine by me." in refused.text  # the form comes back as it was sent
    assert row_counts(app) == before and _state(api, case)["state"] == "pending_review"
    approved = browser.submit(path, f"{path}/approve", {"approve_below_pass_rule": "on"})
    assert approved.status_code == 303 and _state(api, case)["state"] == "issued"


def test_rejecting_needs_a_reason_and_a_blank_one_changes_nothing(app, api, world, browser):
    case = in_review(app, api, world.acme_achievement)
    signed_in(browser, world.reviewer)
    path = f"/portal/review/{case.id}"
    before = row_counts(app)

    blank = browser.submit(path, f"{path}/reject", {"reason": "   "})

    assert blank.status_code == 422 and "Nothing was changed" in blank.text and "Say why you reject it" in blank.text
    assert row_counts(app) == before and _state(api, case)["state"] == "pending_review"

    rejected = browser.submit(path, f"{path}/reject", {"reason": "No sign of CI in the evidence."})

    assert rejected.status_code == 303 and rejected.headers["location"] == "/portal/review?done=rejected"
    shown = _state(api, case)
    assert shown["state"] == "rejected" and shown["events"][-1]["reason"] == "No sign of CI in the evidence."
    with Session(app.state.engine) as session:
        assert session.exec(select(Credential)).first() is None


def test_overriding_a_level_needs_a_reason_and_keeps_the_assessment_in_the_queue(app, api, world, browser):
    case = in_review(app, api, world.acme_achievement)
    signed_in(browser, world.reviewer)
    path = f"/portal/review/{case.id}"
    current = {c["criterion_id"]: c["level"] for c in _state(api, case)["criteria"]}
    other_ci = "present" if current["ci"] == "absent" else "absent"
    before = row_counts(app)

    unexplained = browser.submit(path, f"{path}/override", {"level-ci": other_ci, "reason-ci": ""})
    unchanged = browser.submit(path, f"{path}/override", {"level-ci": current["ci"], "reason-ci": "Same"})

    assert unexplained.status_code == 422 and "Say why you changed the level of “Continuous integration”" in (
        unexplained.text
    )
    assert unchanged.status_code == 422 and "Choose a different level" in unchanged.text
    assert row_counts(app) == before

    overridden = browser.submit(
        path, f"{path}/override", {"level-ci": other_ci, "reason-ci": "The workflow file is in the repository."}
    )

    assert overridden.status_code == 303 and overridden.headers["location"] == f"{path}?done=overridden"
    shown = _state(api, case)
    assert shown["state"] == "pending_review"
    assert {c["criterion_id"]: c["level"] for c in shown["criteria"]}["ci"] == other_ci
    page = browser.get(overridden.headers["location"])
    assert "The levels were changed" in page.text and "The workflow file is in the repository." in page.text


def test_a_forged_or_tokenless_decision_changes_nothing(app, api, world, browser):
    case = in_review(app, api, world.acme_achievement)
    signed_in(browser, world.reviewer)
    path = f"/portal/review/{case.id}"
    token = browser.form_token(path)
    before = row_counts(app)

    missing = browser.post(f"{path}/approve", data={})
    wrong = browser.post(f"{path}/reject", data={"reason": "Forged", "csrf_token": "0" * 64})
    cross_site = browser.post(f"{path}/approve", data={"csrf_token": token}, headers={"Sec-Fetch-Site": "cross-site"})

    for answer in (missing, wrong, cross_site):
        assert answer.status_code == 403 and "security token" in answer.text
    assert row_counts(app) == before and _state(api, case)["state"] == "pending_review"


def test_an_earner_gets_403_on_every_review_page(app, api, world, browser):
    case = in_review(app, api, world.acme_achievement)
    earner_email = f"earner-{next(_numbers)}@example.org"
    api.register_earner(earner_email)
    signed_in(browser, earner_email)
    token = browser.form_token("/portal")
    path = f"/portal/review/{case.id}"
    before = row_counts(app)

    for page in ("/portal/review", path, f"{path}/evidence/{case.item_id}"):
        answer = browser.get(page)
        assert answer.status_code == 403 and "Not for your account" in answer.text, page
    for action in ("approve", "reject", "override"):
        answer = browser.post(f"{path}/{action}", data={"csrf_token": token, "reason": "Me"})
        assert answer.status_code == 403, action
    assert row_counts(app) == before


def test_evidence_text_is_shown_as_text_never_as_markup(app, api, world, browser):
    case = in_review(app, api, world.acme_achievement, text="# My tests\n\n<script>alert('pwned')</script> pytest")
    signed_in(browser, world.reviewer)

    page = browser.get(f"/portal/review/{case.id}")

    assert page.status_code == 200
    assert "<script" not in page.text  # the page runs no script at all, least of all the evidence's
    assert "&lt;script&gt;alert('pwned')&lt;/script&gt;" in page.text
    assert "<h4>My tests</h4>" in page.text  # Markdown, rendered and sanitised


def test_a_file_downloads_through_the_staff_route_with_headers_that_keep_it_inert(app, api, world, browser):
    case = in_review(app, api, world.acme_achievement)
    earner = api.register_earner(f"earner-{next(_numbers)}@example.org")
    bundle = api.client.post(
        "/v1/evidence/bundles", json={"achievement_id": world.acme_achievement}, headers=earner
    ).json()
    upload = api.client.post(
        f"/v1/evidence/bundles/{bundle['id']}/files",
        files={"file": ("page.html", b"<html><script>alert(1)</script></html>", "text/html")},
        headers=earner,
    )
    assert upload.status_code == 201, upload.text
    api.client.post(
        f"/v1/evidence/bundles/{bundle['id']}/items",
        json={"kind": "text", "text": NARRATIVE, "name": "Write-up"},
        headers=earner,
    )
    submitted = api.client.post("/v1/assessments", json={"bundle_id": bundle["id"]}, headers=earner).json()
    run_inline(app, submitted["id"])
    signed_in(browser, world.reviewer)

    download = browser.get(f"/portal/review/{submitted['id']}/evidence/{upload.json()['id']}")

    assert download.status_code == 200 and download.content == b"<html><script>alert(1)</script></html>"
    assert download.headers["content-type"].startswith("text/plain")
    assert download.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in download.headers["content-security-policy"]
    assert download.headers["content-disposition"].startswith("attachment;")
    assert case.id != submitted["id"]


# --- appeals ----------------------------------------------------------------------------------------


def test_an_appeal_waits_apart_and_is_decided_by_another_reviewer(app, api, world, browser, other_browser):
    case = in_review(app, api, world.acme_achievement)
    signed_in(browser, world.reviewer)
    path = f"/portal/review/{case.id}"
    assert browser.submit(path, f"{path}/reject", {"reason": "No CI."}).status_code == 303
    appealed = api.client.post(
        f"/v1/assessments/{case.id}/appeal", json={"reason": "The CI log is in the write-up."}, headers=case.earner
    )
    assert appealed.status_code == 200, appealed.text

    queue = browser.get("/portal/review")
    assert 'id="appeals-heading"' in queue.text and case.id in queue.text
    assert "The CI log is in the write-up." in queue.text
    own = browser.get(path)
    assert "Not yours to decide" in own.text and f"{path}/approve" not in own.text
    before = row_counts(app)
    refused = browser.submit(path, f"{path}/approve", {})
    assert refused.status_code == 403 and "different reviewer" in refused.text
    assert row_counts(app) == before and _state(api, case)["state"] == "appealed"

    signed_in(other_browser, world.second_reviewer)
    page = other_browser.get(path)
    assert "Decide the appeal" in page.text and "Overturn and issue" in page.text
    overturned = other_browser.submit(path, f"{path}/approve", {"approve_below_pass_rule": "on"})

    assert overturned.status_code == 303
    assert _state(api, case)["state"] == "issued"
