"""Issue 9, item 6: one active credential per recipient and achievement, unless the achievement
allows more; enforced by the database, so parallel requests cannot get past it.

Renewal and reissue take over the slot of the credential they replace (which stays valid but is
superseded: it cannot be renewed or reissued again). Revoked and expired credentials free the
slot; a suspended one keeps it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, func, select

from service.credentials import issuing
from service.credentials.errors import CredentialExists
from service.credentials.issuing import ActiveSlot, IssueRequest, Recipient, issue
from service.credentials.models import Credential
from service.status.models import StatusEntry
from tests.credentials.helpers import assert_error, stored_credential

pytestmark = pytest.mark.attack

ADA = {"email": "ada@example.org"}


def _issue(api, achievement_id: str, recipient: dict, **extra):
    body = {"achievement_id": achievement_id, "recipient": recipient, **extra}
    return api.client.post("/v1/credentials", json=body, headers=api.admin)


def _counts(app) -> tuple[int, int]:
    with Session(app.state.engine) as session:
        credentials = session.exec(select(func.count()).select_from(Credential)).one()
        entries = session.exec(select(func.count()).select_from(StatusEntry)).one()
    return credentials, entries


def _renew(api, credential_id: str):
    return api.client.post(f"/v1/credentials/{credential_id}/renew", json={}, headers=api.admin)


def _set_state(api, credential_id: str, action: str):
    response = api.client.post(f"/v1/credentials/{credential_id}/{action}", json={"reason": "test"}, headers=api.admin)
    assert response.status_code == 200, response.text


def test_a_second_credential_for_the_same_recipient_and_achievement_is_409_and_stores_nothing(app, api, achievement):
    first = api.issue(achievement["id"], ADA)
    before = _counts(app)

    response = _issue(api, achievement["id"], {"email": "  ADA@Example.org "})

    assert_error(response, 409, "credential_exists")
    assert first["id"] in response.json()["detail"]
    assert _counts(app) == before


def test_other_recipients_and_other_achievements_are_unaffected(api, issuer, achievement):
    api.issue(achievement["id"], ADA)
    api.issue(achievement["id"], {"email": "grace@example.org"})
    api.issue(achievement["id"], {"did": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"})
    api.issue(api.create_achievement(issuer["id"], name="Other")["id"], ADA)
    assert_error(
        _issue(api, achievement["id"], {"did": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}),
        409,
        "credential_exists",
    )


def test_an_achievement_can_allow_several_active_credentials(api, issuer):
    several = api.create_achievement(issuer["id"], allow_multiple_active=True)
    assert several["allow_multiple_active"] is True
    assert _issue(api, several["id"], ADA).status_code == 201
    assert _issue(api, several["id"], ADA).status_code == 201


def test_the_setting_is_per_achievement_and_a_put_sets_it_anew(api, issuer, achievement):
    assert achievement["allow_multiple_active"] is False
    update = {"name": "Python testing", "description": "Writes tests.", "criteria": {"narrative": "A repository."}}
    response = api.client.put(
        f"/v1/achievements/{achievement['id']}", json={**update, "allow_multiple_active": True}, headers=api.admin
    )
    assert response.status_code == 200 and response.json()["allow_multiple_active"] is True
    api.issue(achievement["id"], ADA)
    api.issue(achievement["id"], ADA)
    response = api.client.put(f"/v1/achievements/{achievement['id']}", json=update, headers=api.admin)
    assert response.json()["allow_multiple_active"] is False
    # the two issued while it was allowed hold no slot; the next one takes it, and only one
    assert _issue(api, achievement["id"], ADA).status_code == 201
    assert_error(_issue(api, achievement["id"], ADA), 409, "credential_exists")


def test_a_revoked_credential_frees_the_slot(api, achievement):
    old = api.issue(achievement["id"], ADA)
    _set_state(api, old["id"], "revoke")
    assert _issue(api, achievement["id"], ADA).status_code == 201


def test_a_suspended_credential_keeps_the_slot(api, achievement):
    old = api.issue(achievement["id"], ADA)
    _set_state(api, old["id"], "suspend")
    assert_error(_issue(api, achievement["id"], ADA), 409, "credential_exists")


def test_an_expired_credential_does_not_block_a_new_one(app, api, achievement):
    old = api.issue(achievement["id"], ADA, valid_until=(datetime.now(UTC) + timedelta(days=1)).isoformat())
    with Session(app.state.engine) as session:
        row = session.get(Credential, old["id"])
        assert row is not None
        row.valid_until = datetime.now(UTC) - timedelta(minutes=1)
        session.add(row)
        session.commit()

    new = _issue(api, achievement["id"], ADA)

    assert new.status_code == 201, new.text
    assert stored_credential(app, old["id"]).active_key is None
    assert stored_credential(app, new.json()["id"]).active_key is not None


def test_a_renewal_takes_over_the_slot_and_the_old_credential_cannot_be_renewed_again(app, api, achievement):
    old = api.issue(achievement["id"], ADA)
    renewed = _renew(api, old["id"])
    assert renewed.status_code == 201, renewed.text
    before = _counts(app)

    assert_error(_renew(api, old["id"]), 409, "credential_replaced")
    assert_error(_issue(api, achievement["id"], ADA), 409, "credential_exists")
    assert _counts(app) == before
    assert stored_credential(app, old["id"]).state == "active"  # superseded, still valid until its end
    assert _renew(api, renewed.json()["id"]).status_code == 201


def test_parallel_issuances_to_one_recipient_issue_exactly_one_credential(app, api, achievement):
    before = _counts(app)

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(lambda _: _issue(api, achievement["id"], ADA).status_code, range(20)))

    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {201, 409, 503}
    assert _counts(app)[0] == before[0] + 1


def test_the_database_refuses_a_second_holder_even_past_the_checks(app, api, achievement):
    """The unique index is the last word: an issuance that skipped the entry point's check (as a
    request racing another would) still cannot store a second active credential."""
    first = api.issue(achievement["id"], ADA)
    key = stored_credential(app, first["id"]).active_key
    assert key is not None
    with Session(app.state.engine) as session:
        request = IssueRequest(
            achievement_id=achievement["id"], recipient=Recipient(email=ADA["email"]), active_slot=ActiveSlot(key=key)
        )
        with pytest.raises(CredentialExists):
            issue(session, app.state.keystore, app.state.settings, request, now=datetime.now(UTC))
        session.rollback()
    assert _counts(app)[0] == 1


def _has_written(session: Session) -> bool:
    """Whether the session's transaction has written anything yet (on SQLite: holds the lock)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        return bool(connection.connection.driver_connection.in_transaction)
    return connection.exec_driver_sql("SELECT txid_current_if_assigned()").scalar() is not None


def test_a_renewal_writes_nothing_until_its_credential_is_signed(app, api, achievement, monkeypatch):
    """The old credential gives up its slot after the signing, not before: on SQLite the first
    write takes the database's one write lock until the commit, so signing first keeps every
    other writer from waiting on a renewal's signatures."""
    old = api.issue(achievement["id"], ADA)
    written_while_signing: list[bool] = []
    real_sign = issuing.sign

    def watching_sign(session, *args, **kwargs):
        written_while_signing.append(_has_written(session))
        return real_sign(session, *args, **kwargs)

    monkeypatch.setattr(issuing, "sign", watching_sign)
    renewed = _renew(api, old["id"])

    assert renewed.status_code == 201, renewed.text
    assert written_while_signing == [False]
    assert stored_credential(app, old["id"]).active_key is None  # it gave the slot up, at the end
