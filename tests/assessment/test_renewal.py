"""Renewal with fresh evidence (issue 5): a new assessment whose credential replaces the old one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from service.credentials.models import Credential
from tests.assessment.helpers import audit_actions, create_achievement_with_rubric, row_counts, rubric
from tests.credentials.helpers import assert_error, stored_credential


def issued(cast) -> dict:
    assessment = cast.submitted()
    assert assessment["state"] == "issued"
    return assessment


def test_an_earner_renews_their_credential_with_fresh_evidence(cast, app):
    first = issued(cast)
    old_id = first["credential_id"]
    renewal = cast.submit(cast.bundle(text="Two more years of tested projects.")["id"], renews=old_id)

    assert renewal["state"] == "issued" and renewal["renews_credential_id"] == old_id
    new = stored_credential(app, renewal["credential_id"])
    assert new.replaces_id == old_id and new.id != old_id
    old = stored_credential(app, old_id)
    assert old.state == "active"  # the old one stays valid until its own end
    assert "credential.renew" in audit_actions(app, old_id)


def test_a_renewal_under_review_replaces_the_credential_when_approved(cast, app):
    first = issued(cast)
    pending = _submit_for_review(cast, app, renews=first["credential_id"])
    assert pending["state"] == "pending_review" and pending["renews_credential_id"] == first["credential_id"]
    approved = cast.act(pending["id"], "approve", {})
    assert stored_credential(app, approved["credential_id"]).replaces_id == first["credential_id"]


def _submit_for_review(cast, app, *, renews: str) -> dict:
    # a flagged assessment goes to review whatever the policy
    from service.api.deps import get_assessor

    assessor = app.dependency_overrides[get_assessor]()
    assessor.flags = ("hidden_text",)
    try:
        return cast.submit(cast.bundle()["id"], renews=renews)
    finally:
        assessor.flags = ()


def test_an_expired_credential_can_be_renewed(cast, app):
    first = issued(cast)
    _expire(app, first["credential_id"], datetime.now(UTC) - timedelta(days=1))  # expired yesterday
    renewal = cast.submit(cast.bundle()["id"], renews=first["credential_id"])
    assert renewal["state"] == "issued"
    new = stored_credential(app, renewal["credential_id"])
    assert new.replaces_id == first["credential_id"]


def _expire(app, credential_id: str, when: datetime) -> None:
    """Expiry is a date, not a state: move the credential's validity period into the past."""
    with Session(app.state.engine) as session:
        credential = session.get(Credential, credential_id)
        credential.valid_from, credential.valid_until = when - timedelta(days=365), when
        session.add(credential)
        session.commit()


@pytest.mark.parametrize(("action", "code"), [("revoke", "credential_revoked"), ("suspend", "credential_suspended")])
def test_a_revoked_or_suspended_credential_cannot_be_renewed(cast, app, assessor, action, code):
    first = issued(cast)
    response = cast.client.post(
        f"/v1/credentials/{first['credential_id']}/{action}", headers=cast.issuer_admin, json={"reason": "Misconduct."}
    )
    assert response.status_code == 200, response.text
    bundle = cast.bundle()
    before = row_counts(app)
    response = cast.client.post(
        "/v1/assessments", headers=cast.earner, json={"bundle_id": bundle["id"], "renews": first["credential_id"]}
    )
    assert_error(response, 409, code)
    assert row_counts(app) == before and len(assessor.calls) == 1  # refused before assessing


def test_a_credential_revoked_while_its_renewal_waits_for_review_is_not_replaced(cast, app):
    first = issued(cast)
    pending = _submit_for_review(cast, app, renews=first["credential_id"])
    cast.client.post(
        f"/v1/credentials/{first['credential_id']}/revoke", headers=cast.issuer_admin, json={"reason": "Misconduct."}
    )
    before = row_counts(app)
    assert cast.act(pending["id"], "approve", {}, expect=409)["error"] == "credential_revoked"
    assert row_counts(app) == before


def test_only_the_earners_own_credential_of_the_same_achievement_can_be_renewed(cast, api, app):
    other_persons = cast.submit(cast.bundle(as_=cast.other_earner)["id"], as_=cast.other_earner)
    response = cast.client.post(
        "/v1/assessments",
        headers=cast.earner,
        json={"bundle_id": cast.bundle()["id"], "renews": other_persons["credential_id"]},
    )
    assert_error(response, 404, "not_found")

    other_achievement = create_achievement_with_rubric(api, app, cast.issuer["id"], rubric("auto"))
    elsewhere = cast.submit(cast.bundle(achievement_id=other_achievement["id"])["id"])
    response = cast.client.post(
        "/v1/assessments",
        headers=cast.earner,
        json={"bundle_id": cast.bundle()["id"], "renews": elsewhere["credential_id"]},
    )
    assert_error(response, 422, "renews_other_achievement")
    response = cast.client.post(
        "/v1/assessments", headers=cast.earner, json={"bundle_id": cast.bundle()["id"], "renews": "no-such-credential"}
    )
    assert_error(response, 404, "not_found")
