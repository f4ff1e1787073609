"""A self-registered earner proves they control their email address before any credential issued
to that address is theirs: otherwise anyone could register as someone else and read their badges."""

from tests.conftest import ADMIN_EMAIL
from tests.credentials.helpers import assert_error

PASSWORD = "a-long-enough-password"


def _register(client, email):
    response = client.post("/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_new_registration_is_unverified_and_a_test_deployment_returns_the_token(client):
    body = _register(client, "new@example.org")
    me = client.get("/v1/me", headers=_login(client, "new@example.org")).json()
    assert me["email_verified"] is False
    assert isinstance(body["verification_token"], str) and len(body["verification_token"]) >= 32


def test_an_unverified_account_does_not_see_credentials_issued_to_its_address(api):
    issuer = api.create_issuer()
    achievement = api.create_achievement(issuer["id"])
    issued = api.issue(achievement["id"], {"email": "victim@example.org"})
    squatter = api.register_earner("victim@example.org", PASSWORD, verify=False)
    assert api.client.get("/v1/credentials", headers=squatter).json()["items"] == []
    assert api.client.get(f"/v1/credentials/{issued['id']}", headers=squatter).status_code == 404


def test_redeeming_the_token_verifies_the_address_and_shows_the_credentials(api):
    issuer = api.create_issuer()
    achievement = api.create_achievement(issuer["id"])
    issued = api.issue(achievement["id"], {"email": "owner@example.org"})
    token = _register(api.client, "owner@example.org")["verification_token"]
    verified = api.client.post("/v1/auth/verify-email", json={"token": token})
    assert verified.status_code == 200 and verified.json()["email_verified"] is True
    owner = api.login("owner@example.org", PASSWORD)
    assert [item["id"] for item in api.client.get("/v1/credentials", headers=owner).json()["items"]] == [issued["id"]]


def test_a_token_works_once_and_a_wrong_one_gets_the_same_answer(client):
    token = _register(client, "once@example.org")["verification_token"]
    assert client.post("/v1/auth/verify-email", json={"token": token}).status_code == 200
    for attempt in (token, "x" * 43):
        assert_error(client.post("/v1/auth/verify-email", json={"token": attempt}), 400, "invalid_verification_token")


def test_resending_replaces_the_token(api):
    first = _register(api.client, "resend@example.org")["verification_token"]
    headers = api.login("resend@example.org", PASSWORD)
    second = api.client.post("/v1/auth/verify-email/resend", headers=headers)
    assert second.status_code == 200
    assert_error(api.client.post("/v1/auth/verify-email", json={"token": first}), 400, "invalid_verification_token")
    assert (
        api.client.post("/v1/auth/verify-email", json={"token": second.json()["verification_token"]}).status_code == 200
    )
    assert_error(api.client.post("/v1/auth/verify-email/resend", headers=headers), 409, "email_already_verified")


def test_accounts_an_admin_creates_are_verified(api):
    assert api.client.get("/v1/me", headers=api.admin).json()["email_verified"] is True
    headers = api.create_account("earner")
    assert api.client.get("/v1/me", headers=headers).json()["email_verified"] is True


def test_production_never_returns_the_token(app, client):
    app.state.settings = app.state.settings.model_copy(update={"env": "production"})
    assert _register(client, "prod@example.org")["verification_token"] is None
    assert ADMIN_EMAIL  # the bootstrap admin is unaffected


def _login(client, email):
    response = client.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
