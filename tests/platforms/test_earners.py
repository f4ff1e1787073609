"""A platform provisions earners for its users (issue 11): an account with no password and an
unverified address, linked to the platform's issuer under the platform's id for the user. The
earner claims it by redeeming the mailed token with a password; an address that already has an
account is never linked silently."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from sqlmodel import Session

from service.accounts.models import Account
from service.platforms import scopes
from tests.credentials.helpers import assert_error
from tests.platforms.clients import client_token

if TYPE_CHECKING:
    from tests.platforms.clients import TestClientApp

EARNERS = "/v1/platform/earners"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def issuer(api) -> dict[str, Any]:
    return api.create_issuer("Gigs Academy")


@pytest.fixture
def platform(app, issuer) -> TestClientApp:
    return client_token(app, issuer["id"], f"{scopes.EARNERS_PROVISION} {scopes.EVIDENCE_WRITE}")


def provision(client, platform: TestClientApp, external_id: str, email: str, expect: int = 201) -> dict[str, Any]:
    response = client.post(EARNERS, headers=platform.headers, json={"external_id": external_id, "email": email})
    assert response.status_code == expect, response.text
    return response.json()


def claim_token(app, email: str) -> str:
    """The token of the latest claim message mailed to ``email``."""
    messages = app.state.mailer.to(email)
    assert messages, f"no mail to {email}"
    found = re.search(r"claim token: (\S+)", messages[-1].body)
    assert found, messages[-1].body
    return found.group(1)


def account_row(app, account_id: str) -> Account:
    with Session(app.state.engine) as session:
        account = session.get(Account, account_id)
        assert account is not None
        session.expunge(account)
        return account


# --- provisioning -------------------------------------------------------------------------------


def test_provisioning_creates_an_unverified_earner_without_a_password_and_mails_a_claim_token(
    app, client, platform, issuer
):
    response = client.post(
        EARNERS,
        headers=platform.headers,
        json={"external_id": "u-1", "email": " Ada@Example.org ", "display_name": "Ada"},
    )
    assert response.status_code == 201, response.text
    earner = response.json()
    assert earner["external_id"] == "u-1" and earner["email"] == "ada@example.org"
    assert earner["email_verified"] is False and earner["claimed"] is False
    assert earner["issuer_id"] == issuer["id"]
    assert response.headers["Location"] == f"{EARNERS}/{earner['id']}"
    row = account_row(app, earner["id"])
    assert row.role == "earner" and row.password_hash == "" and row.email_verified_at is None
    message = app.state.mailer.to("ada@example.org")[-1]
    assert "Gigs Academy" in message.subject and claim_token(app, "ada@example.org")


def test_provisioning_again_with_the_same_external_id_and_email_answers_the_existing_earner(app, client, platform):
    first = provision(client, platform, "u-2", "bo@example.org")
    again = provision(client, platform, "u-2", "BO@example.org", expect=200)
    assert again == first
    assert len(app.state.mailer.to("bo@example.org")) == 1  # the claim token still works: not mailed again


def test_the_same_external_id_with_another_email_is_409_external_id_taken(client, platform):
    provision(client, platform, "u-3", "cy@example.org")
    response = client.post(EARNERS, headers=platform.headers, json={"external_id": "u-3", "email": "dee@example.org"})
    assert_error(response, 409, "external_id_taken")


def test_an_address_already_provisioned_under_another_external_id_is_409_email_provisioned(client, platform):
    earner = provision(client, platform, "u-4", "eve@example.org")
    body = assert_error(
        client.post(EARNERS, headers=platform.headers, json={"external_id": "u-5", "email": "eve@example.org"}),
        409,
        "email_provisioned",
    )
    assert earner["id"] in body["detail"]


def test_an_address_with_an_account_of_its_own_is_never_linked(api, client, platform):
    api.register_earner("own@example.org", PASSWORD)
    body = assert_error(
        client.post(EARNERS, headers=platform.headers, json={"external_id": "u-6", "email": "own@example.org"}),
        409,
        "earner_has_account",
    )
    assert "authorization code grant" in body["detail"]


def test_another_issuers_earner_is_not_linked_either(app, api, client, platform):
    other = client_token(app, api.create_issuer("Other")["id"], scopes.EARNERS_PROVISION)
    provision(client, other, "x-1", "shared@example.org")
    response = client.post(
        EARNERS, headers=platform.headers, json={"external_id": "u-7", "email": "shared@example.org"}
    )
    assert_error(response, 409, "earner_has_account")


def test_a_never_verified_self_registration_does_not_squat_the_address(api, client, platform):
    api.register_earner("squat@example.org", PASSWORD, verify=False)
    assert provision(client, platform, "u-8", "squat@example.org")["email_verified"] is False


def test_a_self_registration_does_not_replace_a_provisioned_earner(api, client, platform):
    earner = provision(client, platform, "u-9", "kept@example.org")
    response = client.post("/v1/auth/register", json={"email": "kept@example.org", "password": PASSWORD})
    assert response.status_code == 201 and response.json()["verification_token"] is None
    got = client.get(f"{EARNERS}/{earner['id']}", headers=platform.headers)
    assert got.status_code == 200 and got.json()["email"] == "kept@example.org"


def test_provisioning_needs_the_earners_provision_scope(app, client, issuer):
    without = client_token(app, issuer["id"], scopes.EVIDENCE_WRITE)
    response = client.post(EARNERS, headers=without.headers, json={"external_id": "u", "email": "n@example.org"})
    assert_error(response, 403, "insufficient_scope")


def test_an_earner_or_a_reviewer_may_not_provision(api, client, issuer):
    for headers in (api.register_earner("someone@example.org", PASSWORD), api.create_account("reviewer", issuer["id"])):
        response = client.post(EARNERS, headers=headers, json={"external_id": "u", "email": "n@example.org"})
        assert_error(response, 403)


def test_an_issuer_admin_provisions_for_one_of_the_issuers_clients(api, client, platform, issuer):
    admin = api.create_account("issuer_admin", issuer["id"])
    body = {"external_id": "p-1", "email": "pat@example.org"}
    assert_error(client.post(EARNERS, headers=admin, json=body), 400, "client_required")
    assert_error(client.post(EARNERS, headers=admin, json={**body, "client_id": "sc_nope"}), 404, "client_not_found")
    created = client.post(EARNERS, headers=admin, json={**body, "client_id": platform.client_id})
    assert created.status_code == 201, created.text
    assert client.get(f"{EARNERS}/{created.json()['id']}", headers=platform.headers).status_code == 200


def test_an_admin_names_the_issuer(api, client, platform, issuer):
    body = {"external_id": "a-1", "email": "al@example.org", "client_id": platform.client_id}
    assert_error(client.post(EARNERS, headers=api.admin, json=body), 400, "issuer_required")
    created = client.post(EARNERS, headers=api.admin, json={**body, "issuer_id": issuer["id"]})
    assert created.status_code == 201, created.text
    assert_error(client.get(EARNERS, headers=api.admin), 400, "issuer_required")
    listed = client.get(EARNERS, headers=api.admin, params={"issuer_id": issuer["id"]}).json()
    assert [e["id"] for e in listed["items"]] == [created.json()["id"]]


# --- reading ------------------------------------------------------------------------------------


def test_the_list_is_paged_newest_first_and_filters_by_external_id(client, platform):
    ids = [provision(client, platform, f"l-{n}", f"l{n}@example.org")["id"] for n in range(3)]
    page = client.get(EARNERS, headers=platform.headers, params={"limit": 2})
    assert page.status_code == 200 and page.headers["X-Total-Count"] == "3"
    assert {e["id"] for e in page.json()["items"]} <= set(ids) and len(page.json()["items"]) == 2
    assert 'rel="next"' in page.headers["Link"]
    one = client.get(EARNERS, headers=platform.headers, params={"external_id": "l-1"}).json()
    assert [e["id"] for e in one["items"]] == [ids[1]]


def test_another_issuers_client_gets_404_for_the_earner_and_does_not_list_it(app, api, client, platform):
    earner = provision(client, platform, "o-1", "only@example.org")
    other = client_token(app, api.create_issuer("Other")["id"], scopes.EARNERS_PROVISION)
    assert_error(client.get(f"{EARNERS}/{earner['id']}", headers=other.headers), 404, "earner_not_found")
    assert client.get(EARNERS, headers=other.headers).json()["items"] == []


# --- claiming -----------------------------------------------------------------------------------


def test_an_unclaimed_earner_cannot_sign_in(client, platform):
    provision(client, platform, "c-1", "unclaimed@example.org")
    for password in (PASSWORD, "x"):  # no password is its password: it has none
        response = client.post("/v1/auth/token", data={"username": "unclaimed@example.org", "password": password})
        assert response.status_code in (400, 401) and "access_token" not in response.json(), response.text


def test_the_earner_claims_the_account_with_the_token_and_a_password_then_signs_in(app, api, client, platform):
    earner = provision(client, platform, "c-2", "claim@example.org")
    token = claim_token(app, "claim@example.org")
    assert_error(client.post("/v1/auth/verify-email", json={"token": token}), 422, "password_required")
    weak = client.post("/v1/auth/verify-email", json={"token": token, "password": "password1234"})
    assert_error(weak, 422, "weak_password")
    claimed = client.post("/v1/auth/verify-email", json={"token": token, "password": PASSWORD})
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["email_verified"] is True and claimed.json()["id"] == earner["id"]
    headers = api.login("claim@example.org", PASSWORD)
    assert client.get("/v1/me", headers=headers).json()["id"] == earner["id"]
    shown = client.get(f"{EARNERS}/{earner['id']}", headers=platform.headers).json()
    assert shown["email_verified"] is True and shown["claimed"] is True
    again = client.post("/v1/auth/verify-email", json={"token": token, "password": PASSWORD})
    assert_error(again, 400, "invalid_verification_token")


def test_a_password_is_refused_with_the_token_of_an_account_that_has_one(client):
    registered = client.post("/v1/auth/register", json={"email": "has@example.org", "password": PASSWORD})
    token = registered.json()["verification_token"]
    response = client.post("/v1/auth/verify-email", json={"token": token, "password": "another fine password here"})
    assert_error(response, 422, "password_not_expected")
    assert client.post("/v1/auth/verify-email", json={"token": token}).status_code == 200


def test_reprovisioning_an_earner_whose_claim_token_expired_mails_a_new_one(app, client, platform):
    earner = provision(client, platform, "c-3", "late@example.org")
    first = claim_token(app, "late@example.org")
    with Session(app.state.engine) as session:
        row = session.get(Account, earner["id"])
        assert row is not None and row.email_verification_expires is not None
        row.email_verification_expires = row.email_verification_expires.replace(year=2000)
        session.add(row)
        session.commit()
    provision(client, platform, "c-3", "late@example.org", expect=200)
    second = claim_token(app, "late@example.org")
    assert second != first
    assert client.post("/v1/auth/verify-email", json={"token": second, "password": PASSWORD}).status_code == 200
