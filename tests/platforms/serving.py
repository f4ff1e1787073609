"""A real `skillcred serve` for the platform tests, with an issuer, its admin and an achievement."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.serve import ADMIN, running_server

ISSUER_ADMIN = ("platform-admin@issuer.example", "a-long-issuer-admin-password")


@dataclass(frozen=True)
class PlatformServer:
    base: str
    issuer_id: str
    achievement_id: str


@contextmanager
def platform_server(folder: Path) -> Iterator[PlatformServer]:
    """The server on its embedded SQLite default, with an issuer whose admin is ISSUER_ADMIN."""
    with running_server(f"sqlite:///{folder}/skillcred.db", folder, workers=1) as server:
        with httpx.Client(base_url=server.base, timeout=30) as http:
            token = http.post("/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]}).json()
            admin = {"Authorization": f"Bearer {token['access_token']}"}
            issuer = http.post(
                "/v1/issuers", json={"name": "Acme Skills", "url": "https://acme.example"}, headers=admin
            ).json()
            created = http.post(
                "/v1/accounts",
                json={
                    "email": ISSUER_ADMIN[0],
                    "password": ISSUER_ADMIN[1],
                    "role": "issuer_admin",
                    "issuer_id": issuer["id"],
                },
                headers=admin,
            )
            assert created.status_code == 201, created.text
            achievement = http.post(
                f"/v1/issuers/{issuer['id']}/achievements",
                json={
                    "name": "Accessible front ends",
                    "description": "Builds web pages everyone can use.",
                    "criteria": {"narrative": "A public site that passes an accessibility audit."},
                },
                headers=admin,
            ).json()
        yield PlatformServer(server.base, issuer["id"], achievement["id"])
