"""Renewal: ``POST /v1/credentials/{id}/renew`` issues a new credential to the same recipient for
the achievement's current version, naming the credential it replaces; the old one is left as it
is (valid until its own end unless revoked). A revoked or suspended credential cannot be renewed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.credentials.helpers import assert_error, audit_events, stored_credential

EVIDENCE = [{"id": "https://portfolio.example/ada/project", "name": "Tested project"}]


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _in_days(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@pytest.fixture
def old(api, achievement):
    return api.issue(achievement["id"], {"email": "ada@example.org"}, evidence=EVIDENCE)


def _renew(api, credential_id: str, body: dict | None = None, headers: dict | None = None):
    return api.client.post(f"/v1/credentials/{credential_id}/renew", json=body, headers=headers or api.admin)


def _verify(api, credential_id: str) -> dict:
    content = api.client.get(f"/v1/credentials/{credential_id}/jsonld", headers=api.admin).content
    return api.client.post("/v1/verify", content=content, headers={"Content-Type": "application/vc+ld+json"}).json()


def test_renewing_issues_a_new_credential_that_names_the_one_it_replaces(api, old):
    response = _renew(api, old["id"], {})

    assert response.status_code == 201, response.text
    new = response.json()
    assert response.headers["Location"] == f"/v1/credentials/{new['id']}"
    assert new["id"] != old["id"]
    assert new["replaces_id"] == old["id"]
    assert old["replaces_id"] is None
    assert new["recipient"] == old["recipient"]
    assert new["achievement_id"] == old["achievement_id"]
    assert stored_credential(api.client.app, new["id"]).replaces_id == old["id"]
    fetched = api.client.get(f"/v1/credentials/{new['id']}", headers=api.admin).json()
    assert fetched["replaces_id"] == old["id"]


def test_the_old_credential_stays_active_and_both_verify(api, old):
    new = _renew(api, old["id"]).json()

    assert api.client.get(f"/v1/credentials/{old['id']}", headers=api.admin).json()["state"] == "active"
    assert _verify(api, old["id"])["verified"] is True
    assert _verify(api, new["id"])["verified"] is True


def test_a_body_is_optional(api, old):
    assert _renew(api, old["id"], None).status_code == 201


def test_the_renewal_uses_the_achievements_current_version(api, achievement, old):
    body = {
        "name": "Python testing, 2027 edition",
        "description": "Writes tests.",
        "criteria": {"narrative": "A repository."},
    }
    assert api.client.put(f"/v1/achievements/{achievement['id']}", json=body, headers=api.admin).status_code == 200

    new = _renew(api, old["id"]).json()

    assert old["achievement_version"] == 1
    assert new["achievement_version"] == 2
    assert new["credential"]["credentialSubject"]["achievement"]["name"] == "Python testing, 2027 edition"


def test_the_evidence_is_carried_over_unless_new_evidence_is_given(api, old):
    carried = _renew(api, old["id"]).json()
    fresh = _renew(api, carried["id"], {"evidence": [{"name": "Fresh work sample"}]}).json()

    assert [e["name"] for e in carried["credential"]["evidence"]] == ["Tested project"]
    assert carried["credential"]["evidence"][0]["id"] == EVIDENCE[0]["id"]
    assert [e["name"] for e in fresh["credential"]["evidence"]] == ["Fresh work sample"]


def test_validity_comes_from_the_request_then_the_achievement_then_the_old_period(api, issuer, achievement):
    explicit = api.issue(achievement["id"], valid_until=_in_days(10))
    renewed = _renew(api, explicit["id"], {"valid_until": "2099-01-01T00:00:00Z"}).json()
    assert renewed["credential"]["validUntil"] == "2099-01-01T00:00:00Z"

    another = api.issue(achievement["id"], {"email": "another@example.org"}, valid_until=_in_days(10))
    same_period = _renew(api, another["id"]).json()["credential"]
    period = _parse(same_period["validUntil"]) - _parse(same_period["validFrom"])
    assert timedelta(days=10) - timedelta(seconds=5) <= period <= timedelta(days=10) + timedelta(seconds=1)

    periodic = api.create_achievement(issuer["id"], validity_days=365)
    short = api.issue(periodic["id"], valid_until=_in_days(3))
    renewed = _renew(api, short["id"]).json()["credential"]
    assert _parse(renewed["validUntil"]) - _parse(renewed["validFrom"]) == timedelta(days=365)


def test_a_credential_without_expiry_renews_without_expiry(api, old):
    assert "validUntil" not in _renew(api, old["id"]).json()["credential"]


def test_renewal_is_audited_on_the_old_credential_and_the_new_issue_names_it(app, api, old):
    new = _renew(api, old["id"]).json()

    [renew] = audit_events(app, "credential.renew")
    assert renew.object_id == old["id"]
    assert renew.after["replaced_by"] == new["id"]
    assert renew.before["state"] == "active"
    assert renew.issuer_id == old["issuer_id"]
    issued = {e.object_id: e for e in audit_events(app, "credential.issue")}
    assert issued[new["id"]].after["replaces_id"] == old["id"]


def test_a_revoked_credential_cannot_be_renewed(api, old):
    api.client.post(f"/v1/credentials/{old['id']}/revoke", json={"reason": "fraud"}, headers=api.admin)

    assert_error(_renew(api, old["id"]), 409, "credential_revoked")


def test_a_suspended_credential_cannot_be_renewed_until_unsuspended(api, old):
    api.client.post(f"/v1/credentials/{old['id']}/suspend", json={"reason": "review"}, headers=api.admin)
    assert_error(_renew(api, old["id"]), 409, "credential_suspended")

    api.client.post(f"/v1/credentials/{old['id']}/unsuspend", json={"reason": "cleared"}, headers=api.admin)
    assert _renew(api, old["id"]).status_code == 201


def test_issuer_admins_renew_only_their_own_issuers_credentials(api, issuer, old):
    own = api.create_account("issuer_admin", issuer["id"])
    stranger = api.create_account("issuer_admin", api.create_issuer("Other")["id"])

    assert _renew(api, old["id"], headers=own).status_code == 201
    assert_error(_renew(api, old["id"], headers=stranger), 404)
    assert_error(_renew(api, "00000000-0000-4000-8000-000000000000"), 404)


def test_bad_renewal_requests_are_refused(api, old):
    assert_error(_renew(api, old["id"], {"valid_until": "2001-01-01T00:00:00Z"}), 422)
    assert_error(_renew(api, old["id"], {"valid_until": "2099-01-01T00:00:00"}), 422)
    assert_error(_renew(api, old["id"], {"results": []}), 422)
    assert_error(_renew(api, old["id"], {"evidence": [{}]}), 422)
