"""Revoke, suspend, unsuspend: who may, which transitions are allowed, what is recorded and shown."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.credentials.helpers import assert_error, audit_events, row_counts, stored_credential
from tests.status.helpers import all_entries, all_lists, change, entries

EARNER = "ada@example.org"


@pytest.fixture
def issued(api, achievement):
    return api.issue(achievement["id"], {"email": EARNER})


def _value(app, entry) -> int:
    return next(
        row.value for row in all_entries(app) if (row.list_id, row.status_index) == (entry.list_id, entry.index)
    )


def test_revoking_sets_the_revocation_bit_and_records_state_date_and_reason(app, api, issued):
    before = datetime.now(UTC)

    response = change(api, issued["id"], "revoke", "Evidence found to be plagiarised")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["state"] == "revoked"
    assert body["status_reason"] == "Evidence found to be plagiarised"
    assert before <= datetime.fromisoformat(body["status_changed_at"]) <= datetime.now(UTC)
    found = entries(issued["credential"])
    assert (_value(app, found["revocation"]), _value(app, found["suspension"])) == (1, 0)
    revocation_list = next(s for s in all_lists(app) if s.id == found["revocation"].list_id)
    assert revocation_list.version == 1 and revocation_list.changed_at is not None


def test_suspending_and_unsuspending_flip_the_suspension_bit(app, api, issued):
    suspension = entries(issued["credential"])["suspension"]

    suspended = change(api, issued["id"], "suspend", "Under review")
    assert suspended.status_code == 200 and suspended.json()["state"] == "suspended"
    assert _value(app, suspension) == 1

    restored = change(api, issued["id"], "unsuspend", "Review closed")
    assert restored.status_code == 200 and restored.json()["state"] == "active"
    assert restored.json()["status_reason"] == "Review closed"
    assert _value(app, suspension) == 0


def test_a_suspended_credential_can_be_revoked(api, issued):
    change(api, issued["id"], "suspend")

    assert change(api, issued["id"], "revoke").json()["state"] == "revoked"


@pytest.mark.parametrize(
    ("setup", "action", "code"),
    [
        (["revoke"], "revoke", "credential_revoked"),
        (["revoke"], "suspend", "credential_revoked"),
        (["revoke"], "unsuspend", "credential_revoked"),
        (["suspend", "revoke"], "unsuspend", "credential_revoked"),
        (["suspend"], "suspend", "already_suspended"),
        ([], "unsuspend", "not_suspended"),
        (["suspend", "unsuspend"], "unsuspend", "not_suspended"),
    ],
)
def test_a_transition_that_does_not_apply_is_409_and_changes_nothing(app, api, issued, setup, action, code):
    for step in setup:
        assert change(api, issued["id"], step).status_code == 200
    state = stored_credential(app, issued["id"])
    values = sorted((row.list_id, row.status_index, row.value) for row in all_entries(app))
    counts = row_counts(app)

    assert_error(change(api, issued["id"], action), 409, code)

    assert stored_credential(app, issued["id"]) == state
    assert sorted((row.list_id, row.status_index, row.value) for row in all_entries(app)) == values
    assert row_counts(app) == counts


def test_every_change_writes_an_audit_event_with_the_state_before_and_after(app, api, issued, issuer):
    change(api, issued["id"], "suspend", "Under review")
    change(api, issued["id"], "unsuspend", "Cleared")
    change(api, issued["id"], "revoke", "Withdrawn")

    found = entries(issued["credential"])
    (suspended,) = audit_events(app, "credential.suspend")
    assert suspended.object_id == issued["id"] and suspended.issuer_id == issuer["id"]
    assert suspended.actor_role == "admin" and suspended.actor_id is not None
    assert suspended.before == {"state": "active", "reason": None}
    assert suspended.after == {
        "state": "suspended",
        "reason": "Under review",
        "status_entry": f"{found['suspension'].url}#{found['suspension'].index}",
        "status_value": 1,
    }
    (unsuspended,) = audit_events(app, "credential.unsuspend")
    assert unsuspended.before == {"state": "suspended", "reason": "Under review"}
    assert unsuspended.after["state"] == "active" and unsuspended.after["status_value"] == 0
    (revoked,) = audit_events(app, "credential.revoke")
    assert revoked.before == {"state": "active", "reason": "Cleared"}
    assert revoked.after["status_entry"] == f"{found['revocation'].url}#{found['revocation'].index}"


def test_the_issuer_admin_and_the_earner_see_the_reason_the_public_page_only_the_date(
    app, api, issued, issuer, issuer_admin
):
    earner = _earner_headers(api)
    change(api, issued["id"], "revoke", "Evidence found to be plagiarised", headers=issuer_admin)

    for headers in (issuer_admin, earner, api.admin):
        view = api.client.get(f"/v1/credentials/{issued['id']}", headers=headers).json()
        assert view["state"] == "revoked" and view["status_reason"] == "Evidence found to be plagiarised"
        assert view["status_changed_at"] is not None
    page = api.client.get(f"/credentials/{issued['id']}", headers={"Accept": "text/html"}).text
    changed_at = stored_credential(app, issued["id"]).status_changed_at
    assert f"revoked this credential on {changed_at.day} {changed_at:%B %Y}" in page
    assert "plagiarised" not in page
    public_json = api.client.get(f"/credentials/{issued['id']}", headers={"Accept": "application/vc+ld+json"})
    assert "plagiarised" not in public_json.text


def _earner_headers(api) -> dict[str, str]:
    """The earner of the credential: an account registered with the recipient's email address."""
    return api.register_earner(EARNER)


# --- refused requests change nothing ------------------------------------------------------------


def _refused(app, api, issued, response, status: int, code: str) -> None:
    assert_error(response, status, code)
    assert stored_credential(app, issued["id"]).state == "active"
    assert all(row.value == 0 for row in all_entries(app))
    assert all(status_list.version == 0 for status_list in all_lists(app))
    assert audit_events(app, "credential.revoke") == []


def test_an_unknown_credential_is_404(app, api, issued):
    _refused(app, api, issued, change(api, "00000000-0000-4000-8000-000000000000", "revoke"), 404, "not_found")


def test_another_issuers_credential_is_404_for_an_issuer_admin(app, api, issued):
    other = api.create_issuer("Other Academy")
    other_admin = api.create_account("issuer_admin", other["id"])

    _refused(app, api, issued, change(api, issued["id"], "revoke", headers=other_admin), 404, "not_found")


@pytest.mark.parametrize("role", ["reviewer", "earner"])
def test_reviewers_and_earners_may_not_change_a_status(app, api, issued, issuer, role):
    headers = api.create_account(role, issuer["id"] if role == "reviewer" else None)

    _refused(app, api, issued, change(api, issued["id"], "revoke", headers=headers), 403, "forbidden")


def test_signing_in_is_required(app, api, issued):
    response = api.client.post(f"/v1/credentials/{issued['id']}/revoke", json={"reason": "x"})

    _refused(app, api, issued, response, 401, "unauthorized")


@pytest.mark.parametrize(
    "body",
    [
        {"reason": "x" * 501},
        {"reason": ""},
        {"reason": "   "},
        {},
        {"reason": "ok", "extra": 1},
        {"reason": "bell\u0007"},
        {"reason": 42},
    ],
)
def test_a_bad_reason_is_422(app, api, issued, body):
    response = api.client.post(f"/v1/credentials/{issued['id']}/revoke", json=body, headers=api.admin)

    _refused(app, api, issued, response, 422, "validation_error")


def test_a_reason_of_500_characters_is_accepted(api, issued):
    assert change(api, issued["id"], "suspend", "y" * 500).status_code == 200
