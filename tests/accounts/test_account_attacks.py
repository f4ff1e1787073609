"""Issue 9, item 6 (accounts): a never-verified registration must not squat an address,
registration must not tell whether an address has an account, and no common, breached or
trivially guessable password is accepted (NIST SP 800-63B section 3.1.1.2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, func, select

from service.accounts import service as accounts
from service.accounts.models import Account
from service.accounts.passwords import WeakPassword, check_new_password
from service.audit.models import AuditEvent
from service.cli.admin import new_password, reset_password
from tests.credentials.helpers import assert_error

pytestmark = pytest.mark.attack

PASSWORD = "a-long-enough-password"
OWNER_PASSWORD = "owner-chooses-her-own-phrase"


def _register(client, email: str, password: str = PASSWORD):
    return client.post("/v1/auth/register", json={"email": email, "password": password})


def _login(client, email: str, password: str):
    return client.post("/v1/auth/token", data={"username": email, "password": password})


def _bearer(response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _accounts(app) -> list[Account]:
    with Session(app.state.engine) as session:
        rows = list(session.exec(select(Account).order_by(col(Account.created_at))))
        for row in rows:
            session.expunge(row)
        return rows


def _account_count(app) -> int:
    with Session(app.state.engine) as session:
        return session.exec(select(func.count()).select_from(Account)).one()


# --- a never-verified registration does not squat an address ----------------------------------


def test_an_admin_can_create_the_account_a_never_verified_registration_squats(app, api):
    squat = _register(api.client, "victim@example.org")
    squatter = _bearer(_login(api.client, "victim@example.org", PASSWORD))

    created = api.client.post(
        "/v1/accounts",
        json={"email": "victim@example.org", "password": OWNER_PASSWORD, "role": "earner"},
        headers=api.admin,
    )

    assert created.status_code == 201, created.text
    assert created.json()["email_verified"] is True
    # the squatter's access token, password and verification token all stop working
    assert api.client.get("/v1/me", headers=squatter).status_code == 401
    assert _login(api.client, "victim@example.org", PASSWORD).status_code == 401
    token = squat.json()["verification_token"]
    assert_error(api.client.post("/v1/auth/verify-email", json={"token": token}), 400, "invalid_verification_token")
    owner = _bearer(_login(api.client, "victim@example.org", OWNER_PASSWORD))
    assert api.client.get("/v1/me", headers=owner).json()["id"] == created.json()["id"]


def test_the_owner_registering_replaces_a_never_verified_squatter(app, client):
    squat = _register(client, "mine@example.org")
    squatter = _bearer(_login(client, "mine@example.org", PASSWORD))

    mine = _register(client, "mine@example.org", OWNER_PASSWORD)

    assert mine.status_code == 201, mine.text
    assert client.get("/v1/me", headers=squatter).status_code == 401
    stale = squat.json()["verification_token"]
    assert_error(client.post("/v1/auth/verify-email", json={"token": stale}), 400, "invalid_verification_token")
    assert client.post("/v1/auth/verify-email", json={"token": mine.json()["verification_token"]}).status_code == 200
    owner = _bearer(_login(client, "mine@example.org", OWNER_PASSWORD))
    assert client.get("/v1/me", headers=owner).json()["email_verified"] is True


def test_a_replaced_account_is_parked_disabled_at_a_reserved_address_and_audited(app, client):
    _register(client, "parked@example.org")
    (squatter,) = [a for a in _accounts(app) if a.email == "parked@example.org"]

    _register(client, "parked@example.org", OWNER_PASSWORD)

    rows = {a.id: a for a in _accounts(app)}
    parked = rows[squatter.id]
    assert parked.disabled and parked.email == f"{squatter.id}@replaced.invalid"
    assert parked.email_verification_hash is None
    with Session(app.state.engine) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "account.replace_unverified")).one()
    assert event.object_id == squatter.id and event.before["email"] == "parked@example.org"


def test_a_never_verified_account_expires_with_its_verification_token(app, client):
    _register(client, "late@example.org")
    assert _login(client, "late@example.org", PASSWORD).status_code == 200
    with Session(app.state.engine) as session:
        account = accounts.find_by_email(session, "late@example.org")
        assert account is not None
        assert account.email_verification_expires is not None
        account.email_verification_expires = datetime.now(UTC) - timedelta(seconds=1)
        session.add(account)
        session.commit()

    assert_error(_login(client, "late@example.org", PASSWORD), 401, "invalid_credentials")


def test_the_lifetime_of_a_never_verified_account_is_a_setting(app, client):
    app.state.settings = app.state.settings.model_copy(update={"unverified_account_hours": 2})
    before = datetime.now(UTC)
    _register(client, "twohours@example.org")
    with Session(app.state.engine) as session:
        account = accounts.find_by_email(session, "twohours@example.org")
        assert account is not None and account.email_verification_expires is not None
        expires = account.email_verification_expires.replace(tzinfo=UTC)
    assert before + timedelta(hours=2) <= expires <= datetime.now(UTC) + timedelta(hours=2)


def test_a_verified_account_is_never_replaced(api):
    api.register_earner("kept@example.org", OWNER_PASSWORD)

    taken = api.client.post(
        "/v1/accounts",
        json={"email": "kept@example.org", "password": PASSWORD, "role": "earner"},
        headers=api.admin,
    )

    assert_error(taken, 409, "email_taken")
    assert _login(api.client, "kept@example.org", OWNER_PASSWORD).status_code == 200


# --- registration does not tell whether an account exists ---------------------------------------


def test_registering_a_taken_address_answers_like_a_new_one_and_changes_nothing(app, api):
    api.register_earner("taken@example.org", OWNER_PASSWORD)
    app.state.settings = app.state.settings.model_copy(update={"env": "production"})
    count = _account_count(app)

    fresh = _register(api.client, "fresh@example.org")
    taken = _register(api.client, "Taken@Example.org")

    assert fresh.status_code == taken.status_code == 201
    assert {k: v for k, v in fresh.json().items() if k != "email"} == {
        k: v for k, v in taken.json().items() if k != "email"
    }
    assert fresh.json()["verification_token"] is None
    assert taken.json()["email"] == "taken@example.org"
    assert _account_count(app) == count + 1  # only the fresh address got an account
    assert _login(api.client, "taken@example.org", OWNER_PASSWORD).status_code == 200
    assert _login(api.client, "taken@example.org", PASSWORD).status_code == 401


def test_the_owner_of_a_taken_address_is_mailed_a_notice_not_a_token(app, api):
    api.register_earner("noticed@example.org", OWNER_PASSWORD)
    before = len(app.state.mailer.to("noticed@example.org"))

    response = _register(api.client, "noticed@example.org")

    assert response.status_code == 201 and response.json()["verification_token"] is None
    (notice,) = app.state.mailer.to("noticed@example.org")[before:]
    assert "already has one" in notice.body and "token" not in notice.body.lower()


def test_registration_documents_no_conflict_answer(app):
    responses = app.openapi()["paths"]["/v1/auth/register"]["post"]["responses"]
    assert "409" not in responses


# --- passwords ------------------------------------------------------------------------------------

WEAK = {
    "twelve spaces": " " * 12,
    "tabs and spaces": "\t \t \t \t \t \t ",
    "common password with digits": "password1234",
    "breached list": "qwertyuiop123",
    "repetition": "aaaaaaaaaaaa",
    "sequence": "123456789012",
    "keyboard walk": "qwertyuiopas",
    "the service's name": "skillcred2024",
}


@pytest.mark.parametrize("password", WEAK.values(), ids=WEAK.keys())
def test_registration_refuses_a_weak_password_and_stores_nothing(app, client, password):
    count = _account_count(app)

    assert_error(_register(client, "weak@example.org", password), 422, "weak_password")

    assert _account_count(app) == count
    assert app.state.mailer.to("weak@example.org") == []


def test_the_account_email_is_not_a_password(app, client):
    assert_error(_register(client, "ada.lovelace@example.org", "Ada.Lovelace@example.org"), 422, "weak_password")
    assert_error(_register(client, "ada.lovelace.1815@example.org", "ada.lovelace.1815"), 422, "weak_password")
    assert accounts_named(app, "ada.lovelace") == []


def accounts_named(app, fragment: str) -> list[str]:
    return [a.email for a in _accounts(app) if fragment in a.email]


@pytest.mark.parametrize("password", ["password1234", " " * 12], ids=["common", "whitespace"])
def test_an_admin_created_account_needs_a_strong_password_too(app, api, password):
    count = _account_count(app)
    response = api.client.post(
        "/v1/accounts", json={"email": "staff@example.org", "password": password, "role": "earner"}, headers=api.admin
    )
    assert_error(response, 422, "weak_password")
    assert _account_count(app) == count


def test_a_weak_password_is_refused_before_anything_says_whether_the_address_is_taken(api):
    api.register_earner("strong@example.org", OWNER_PASSWORD)
    assert_error(_register(api.client, "strong@example.org", "password1234"), 422, "weak_password")
    assert_error(_register(api.client, "unused@example.org", "password1234"), 422, "weak_password")


def test_the_length_rules_stay(client):
    assert _register(client, "short@example.org", "Xq7#vL2!pZ").status_code == 422
    assert _register(client, "long@example.org", "Xq7#vL2!pZ" * 26).status_code == 422


def test_strong_passphrases_pass():
    for password in (PASSWORD, OWNER_PASSWORD, "correct horse battery staple", "tR4!n-sp0tt1ng_q"):
        check_new_password(password, email="someone@example.org")


def test_reset_password_refuses_a_weak_password_and_keeps_the_old_one(app, client):
    _register(client, "reset@example.org", OWNER_PASSWORD)
    with Session(app.state.engine) as session:
        account = accounts.find_by_email(session, "reset@example.org")
        assert account is not None
        with pytest.raises(WeakPassword):
            accounts.set_password(session, account, "password1234")
        session.rollback()
    assert _login(client, "reset@example.org", OWNER_PASSWORD).status_code == 200


def test_the_generated_reset_password_passes_the_policy(app, client):
    _register(client, "generated@example.org", OWNER_PASSWORD)
    password = reset_password(app.state.engine, "generated@example.org")
    assert _login(client, "generated@example.org", password).status_code == 200
    for _ in range(200):
        check_new_password(new_password(), email="generated@example.org")
