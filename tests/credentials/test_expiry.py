"""Validity periods: an achievement may say how long its credentials are valid; a credential
issued from it carries ``validUntil`` = ``validFrom`` + that many days, and once that moment has
passed it fails verification with the ``valid_until`` check named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from service.core.clock import FixedClock
from service.verification.service import verify_in_session
from tests.credentials.helpers import assert_error


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_an_achievement_keeps_its_validity_period_per_version(api, issuer):
    created = api.create_achievement(issuer["id"], validity_days=365)
    assert created["validity_days"] == 365

    body = {"name": "Python testing", "description": "Writes tests.", "criteria": {"narrative": "A repo."}}
    updated = api.client.put(f"/v1/achievements/{created['id']}", json=body, headers=api.admin).json()
    assert updated["validity_days"] is None
    first = api.client.get(f"/v1/achievements/{created['id']}?version=1", headers=api.admin).json()
    assert first["validity_days"] == 365


def test_a_validity_period_must_be_between_one_day_and_ten_years(api, issuer):
    base = {"name": "X", "description": "Y", "criteria": {"narrative": "Z"}}
    for bad in (0, 3651, "a year", 1.5):
        response = api.client.post(
            f"/v1/issuers/{issuer['id']}/achievements", json={**base, "validity_days": bad}, headers=api.admin
        )
        assert_error(response, 422)


def test_a_credential_of_an_achievement_with_a_validity_period_expires_after_it(api, issuer):
    achievement = api.create_achievement(issuer["id"], validity_days=30)

    issued = api.issue(achievement["id"])

    signed = issued["credential"]
    assert _parse(signed["validUntil"]) - _parse(signed["validFrom"]) == timedelta(days=30)
    assert _parse(issued["valid_until"]) == _parse(signed["validUntil"])


def test_an_explicit_valid_until_wins_over_the_validity_period(api, issuer):
    achievement = api.create_achievement(issuer["id"], validity_days=30)

    issued = api.issue(achievement["id"], valid_until="2099-01-01T00:00:00Z")

    assert issued["credential"]["validUntil"] == "2099-01-01T00:00:00Z"


def test_without_a_validity_period_a_credential_does_not_expire(api, achievement):
    issued = api.issue(achievement["id"])

    assert "validUntil" not in issued["credential"]
    assert issued["valid_until"] is None


def test_an_expired_credential_fails_verification_on_valid_until(app, api, issuer):
    achievement = api.create_achievement(issuer["id"], validity_days=1)
    issued = api.issue(achievement["id"])
    credential = api.client.get(f"/v1/credentials/{issued['id']}/jsonld", headers=api.admin).content

    with Session(app.state.engine) as session:
        today = verify_in_session(session, app.state.settings, credential, keystore=app.state.keystore)
        later = verify_in_session(
            session,
            app.state.settings,
            credential,
            keystore=app.state.keystore,
            now=datetime.now(UTC) + timedelta(days=2),
        )

    assert today.verified is True
    assert later.verified is False
    expiry = later.check("valid_until")
    assert expiry is not None and expiry.outcome == "failed"
    assert expiry.reason.startswith("Expired on")
    # (two days on, the status lists' own short-lived signatures have lapsed too)


def test_an_expired_credential_fails_post_verify_on_valid_until(app, api, issuer):
    achievement = api.create_achievement(issuer["id"], validity_days=1)
    issued = api.issue(achievement["id"])
    credential = api.client.get(f"/v1/credentials/{issued['id']}/jsonld", headers=api.admin).content

    # the verify API checks against the app's clock: two days on, the credential has expired
    app.state.clock = FixedClock(datetime.now(UTC) + timedelta(days=2))

    report = api.client.post(
        "/v1/verify", content=credential, headers={"Content-Type": "application/vc+ld+json"}
    ).json()

    assert report["verified"] is False
    reasons = {c["id"]: c["reason"] for c in report["checks"] if c["outcome"] == "failed"}
    assert "valid_until" in reasons
    assert reasons["valid_until"].startswith("Expired on")
