"""Test helper around the HTTP API: sign in, and create the usual objects through the API itself."""

from __future__ import annotations

import itertools
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

_counter = itertools.count(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Api:
    """Calls the API as different accounts. Every method asserts the call worked."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.admin = self.login(ADMIN_EMAIL, ADMIN_PASSWORD)

    def login(self, email: str, password: str) -> dict[str, str]:
        response = self.client.post("/v1/auth/token", data={"username": email, "password": password})
        assert response.status_code == 200, response.text
        return bearer(response.json()["access_token"])

    def create_account(self, role: str, issuer_id: str | None = None, *, as_: dict | None = None) -> dict[str, str]:
        """A new account of ``role``; returns its auth headers."""
        email, password = f"user{next(_counter)}@example.com", "a-long-enough-password"
        body: dict[str, Any] = {"email": email, "password": password, "role": role}
        if issuer_id:
            body["issuer_id"] = issuer_id
        response = self.client.post("/v1/accounts", json=body, headers=as_ or self.admin)
        assert response.status_code == 201, response.text
        return self.login(email, password)

    def register_earner(
        self, email: str, password: str = "a-long-enough-password", *, verify: bool = True
    ) -> dict[str, str]:
        """A freelancer's own account (``POST /v1/auth/register``), its email address verified with
        the token a test deployment returns; returns its auth headers."""
        response = self.client.post("/v1/auth/register", json={"email": email, "password": password})
        assert response.status_code == 201, response.text
        if verify:
            token = response.json()["verification_token"]
            verified = self.client.post("/v1/auth/verify-email", json={"token": token})
            assert verified.status_code == 200, verified.text
        return self.login(email, password)

    def create_issuer(self, name: str = "Test Issuer", **extra: Any) -> dict[str, Any]:
        response = self.client.post(
            "/v1/issuers", json={"name": name, "url": "https://issuer.example", **extra}, headers=self.admin
        )
        assert response.status_code == 201, response.text
        return response.json()

    def create_achievement(self, issuer_id: str, headers: dict | None = None, **extra: Any) -> dict[str, Any]:
        body = {
            "name": "Python testing",
            "description": "Writes meaningful automated tests.",
            "criteria": {"narrative": "A repository with a tested project."},
            **extra,
        }
        response = self.client.post(f"/v1/issuers/{issuer_id}/achievements", json=body, headers=headers or self.admin)
        assert response.status_code == 201, response.text
        return response.json()

    def issue(
        self, achievement_id: str, recipient: dict | None = None, headers: dict | None = None, **extra: Any
    ) -> dict[str, Any]:
        # a fresh recipient unless one is given: one holds one active credential per achievement
        recipient = recipient or {"email": f"earner{next(_counter)}@example.com"}
        body = {"achievement_id": achievement_id, "recipient": recipient, **extra}
        response = self.client.post("/v1/credentials", json=body, headers=headers or self.admin)
        assert response.status_code == 201, response.text
        return response.json()
