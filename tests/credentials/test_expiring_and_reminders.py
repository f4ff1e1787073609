"""Upcoming expiries and expiry reminders.

``GET /v1/issuers/{id}/expiring?within_days=N`` lists an issuer's active credentials whose
``validUntil`` falls within the next N days, soonest first. ``record_expiry_reminders`` (run by
``skillcred reminders``) writes one ``credential.expiry_reminder`` event per credential entering
the reminder window, and never a second one for the same credential.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from service.cli.main import main
from service.credentials.expiry import EXPIRY_REMINDER, record_expiry_reminders
from tests.credentials.helpers import assert_error, audit_events

NOW = datetime.now(UTC)


def _in_days(days: int) -> str:
    return (NOW + timedelta(days=days)).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@pytest.fixture
def expiring(api, issuer, achievement):
    """Credentials of ``issuer`` expiring in 5, 20 and 40 days, one that does not expire, and one
    expiring in 10 days that is revoked; plus another issuer's, expiring in 3 days."""
    made = {
        days: api.issue(achievement["id"], {"email": f"in{days}@example.org"}, valid_until=_in_days(days))
        for days in (20, 5, 40)
    }
    made["never"] = api.issue(achievement["id"], {"email": "never@example.org"})
    made["revoked"] = api.issue(achievement["id"], {"email": "revoked@example.org"}, valid_until=_in_days(10))
    response = api.client.post(
        f"/v1/credentials/{made['revoked']['id']}/revoke", json={"reason": "issued in error"}, headers=api.admin
    )
    assert response.status_code == 200, response.text
    other = api.create_issuer("Other Academy")
    other_achievement = api.create_achievement(other["id"])
    made["other"] = api.issue(other_achievement["id"], {"email": "other@example.org"}, valid_until=_in_days(3))
    made["other_issuer"] = other
    return made


def _expiring(api, issuer_id: str, headers: dict | None = None, **query):
    return api.client.get(f"/v1/issuers/{issuer_id}/expiring", params=query, headers=headers or api.admin)


def test_lists_the_issuers_active_credentials_expiring_within_the_window_soonest_first(api, issuer, expiring):
    response = _expiring(api, issuer["id"], within_days=30)

    assert response.status_code == 200, response.text
    page = response.json()
    assert [item["id"] for item in page["items"]] == [expiring[5]["id"], expiring[20]["id"]]
    assert page["total"] == 2 and response.headers["X-Total-Count"] == "2"


def test_the_window_defaults_to_30_days_and_can_be_narrowed_or_widened(api, issuer, expiring):
    default = _expiring(api, issuer["id"]).json()
    narrow = _expiring(api, issuer["id"], within_days=7).json()
    wide = _expiring(api, issuer["id"], within_days=60).json()

    assert [i["id"] for i in default["items"]] == [expiring[5]["id"], expiring[20]["id"]]
    assert [i["id"] for i in narrow["items"]] == [expiring[5]["id"]]
    assert [i["id"] for i in wide["items"]] == [expiring[d]["id"] for d in (5, 20, 40)]


def test_the_list_is_paged(api, issuer, expiring):
    response = _expiring(api, issuer["id"], within_days=60, limit=2, offset=2)

    assert [i["id"] for i in response.json()["items"]] == [expiring[40]["id"]]
    assert response.headers["X-Total-Count"] == "3"


def test_an_issuer_admin_sees_their_own_issuers_expiries_and_nobody_elses(api, issuer, expiring):
    own = api.create_account("issuer_admin", issuer["id"])

    assert _expiring(api, issuer["id"], own).status_code == 200
    assert_error(_expiring(api, expiring["other_issuer"]["id"], own), 404)


def test_bad_windows_and_unknown_issuers_are_refused(api, issuer):
    for bad in (0, 3651, "soon"):
        assert_error(_expiring(api, issuer["id"], within_days=bad), 422)
    assert_error(_expiring(api, "00000000-0000-4000-8000-000000000000"), 404)


def _remind(app, now: datetime, **settings_changes) -> list[str]:
    settings = app.state.settings.model_copy(update=settings_changes)
    with Session(app.state.engine) as session:
        reminded = record_expiry_reminders(session, settings, now)
        session.commit()
    return reminded


def test_a_reminder_is_recorded_for_each_active_credential_entering_the_window(app, expiring):
    reminded = _remind(app, NOW)

    assert reminded == [expiring["other"]["id"], expiring[5]["id"], expiring[20]["id"]]
    events = {event.object_id: event for event in audit_events(app, EXPIRY_REMINDER)}
    assert set(events) == set(reminded)
    event = events[expiring[5]["id"]]
    assert event.object_type == "credential"
    assert event.issuer_id == expiring[5]["issuer_id"]
    assert event.after["valid_until"] == expiring[5]["credential"]["validUntil"]
    assert event.after["reminder_days"] == 30
    assert event.actor_id is None


def test_a_credential_is_never_reminded_about_twice(app, expiring):
    first = _remind(app, NOW)
    again = _remind(app, NOW)
    two_weeks_on = _remind(app, NOW + timedelta(days=15))

    assert len(first) == 3
    assert again == []
    assert two_weeks_on == [expiring[40]["id"]]  # only the one that has now entered the window
    ids = [event.object_id for event in audit_events(app, EXPIRY_REMINDER)]
    assert len(ids) == len(set(ids)) == 4


def test_the_reminder_window_is_configurable(app, expiring):
    assert _remind(app, NOW, expiry_reminder_days=4) == [expiring["other"]["id"]]


def test_expired_credentials_get_no_reminder(app, expiring):
    assert _remind(app, NOW + timedelta(days=25)) == [expiring[40]["id"]]


def test_skillcred_reminders_records_the_due_reminders_once(app, expiring, monkeypatch, capsys):
    monkeypatch.setattr("service.core.config.get_settings", lambda: app.state.settings)

    assert main(["reminders"]) == 0
    assert main(["reminders"]) == 0

    out = capsys.readouterr().out.splitlines()
    assert out == ["3 expiry reminder(s) recorded", "0 expiry reminder(s) recorded"]
    assert len(audit_events(app, EXPIRY_REMINDER)) == 3
