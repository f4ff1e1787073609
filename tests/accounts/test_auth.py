"""Sign-in and access tokens."""

from datetime import UTC, datetime, timedelta

from tests.api_client import bearer
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD


def test_password_flow_returns_a_short_lived_bearer_token(client):
    response = client.post("/v1/auth/token", data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and 0 < body["expires_in"] <= 3600
    assert client.get("/v1/me", headers=bearer(body["access_token"])).json()["role"] == "admin"


def test_wrong_password_and_unknown_email_get_the_same_answer(client):
    wrong = client.post("/v1/auth/token", data={"username": ADMIN_EMAIL, "password": "nope-nope-nope"})
    unknown = client.post("/v1/auth/token", data={"username": "ghost@example.com", "password": "nope-nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"error": "invalid_credentials", "detail": "Wrong email or password"}


def test_tokens_for_another_audience_issuer_or_expired_are_refused(app, client):
    from service.accounts.security import TokenIssuer

    good = app.state.tokens
    admin_id = client.get("/v1/me", headers=bearer(good.issue("x", "admin"))).status_code
    assert admin_id == 401  # unknown subject
    me = client.post("/v1/auth/token", data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).json()
    account_id = client.get("/v1/me", headers=bearer(me["access_token"])).json()["id"]
    forged = [
        TokenIssuer(secret=b"x" * 32, issuer=good.issuer, ttl=good.ttl).issue(account_id, "admin"),
        TokenIssuer(secret=good.secret, issuer="https://elsewhere.example", ttl=good.ttl).issue(account_id, "admin"),
        good.issue(account_id, "admin", now=datetime.now(UTC) - timedelta(hours=2)),
    ]
    for token in forged:
        assert client.get("/v1/me", headers=bearer(token)).status_code == 401


def test_earners_can_register_themselves(client):
    response = client.post("/v1/auth/register", json={"email": "Freelancer@Example.com", "password": "long-password-1"})
    assert response.status_code == 201
    assert response.json()["email"] == "freelancer@example.com"
    me = client.get("/v1/me", headers=api_login(client, "freelancer@example.com", "long-password-1")).json()
    assert me["role"] == "earner" and me["email_verified"] is False


def test_issuer_staff_accounts_need_an_existing_issuer(api, client):
    """Reviewers and issuer admins name an issuer that exists: 400 ``issuer_required`` otherwise."""
    for role in ("issuer_admin", "reviewer"):
        for issuer_id in (None, "00000000-0000-4000-8000-000000000000"):
            body = {"email": f"{role}-{issuer_id}@example.com", "password": "a-long-enough-password", "role": role}
            response = client.post("/v1/accounts", json=body | {"issuer_id": issuer_id}, headers=api.admin)
            assert response.status_code == 400, response.text
            assert response.json()["error"] == "issuer_required"
    body = {"email": "earner-with-issuer@example.com", "password": "a-long-enough-password", "role": "earner"}
    response = client.post("/v1/accounts", json=body | {"issuer_id": api.create_issuer()["id"]}, headers=api.admin)
    assert response.status_code == 400 and response.json()["error"] == "bad_request"


def api_login(client, email: str, password: str) -> dict[str, str]:
    response = client.post("/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
