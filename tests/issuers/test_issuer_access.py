"""Who may do what to issuers: admins everything, issuer admins their own issuer, nobody else."""

from __future__ import annotations

import pytest
from sqlmodel import select

from service.issuers.models import Issuer, SigningKey


def issuer_routes(issuer_id: str) -> list[tuple[str, str, dict | None]]:
    """Every /v1 route about one issuer: (method, path, JSON body)."""
    return [
        ("GET", f"/v1/issuers/{issuer_id}", None),
        ("PATCH", f"/v1/issuers/{issuer_id}", {"name": "Taken over"}),
        ("GET", f"/v1/issuers/{issuer_id}/keys", None),
        ("POST", f"/v1/issuers/{issuer_id}/keys/rotate", None),
    ]


def snapshot(db, issuer_id: str) -> tuple:
    with db() as session:
        issuer = session.get(Issuer, issuer_id)
        keys = session.exec(select(SigningKey).where(SigningKey.issuer_id == issuer_id)).all()
        return issuer.name, sorted((k.fragment, k.retired_at) for k in keys)


def test_an_issuer_admin_gets_404_for_everything_about_another_issuer(client, api, db):
    mine, theirs = api.create_issuer("Mine"), api.create_issuer("Theirs")
    headers = api.create_account("issuer_admin", mine["id"])
    before = snapshot(db, theirs["id"])
    for method, path, body in issuer_routes(theirs["id"]):
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == 404, (method, path)
        assert response.json() == {"error": "not_found", "detail": "No such issuer"}
    assert snapshot(db, theirs["id"]) == before


def test_an_issuer_admin_reads_updates_and_rotates_their_own_issuer(client, api):
    mine = api.create_issuer("Mine")
    headers = api.create_account("issuer_admin", mine["id"])
    for method, path, body in issuer_routes(mine["id"]):
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == 200, (method, path, response.text)


def test_only_an_admin_creates_issuers(client, api, count):
    mine = api.create_issuer("Mine")
    headers = api.create_account("issuer_admin", mine["id"])
    response = client.post("/v1/issuers", json={"name": "Mine too", "url": "https://x.example"}, headers=headers)
    assert response.status_code == 403 and response.json()["error"] == "forbidden"
    assert count(Issuer) == 1


@pytest.mark.parametrize("role", ["reviewer", "earner"])
def test_reviewers_and_earners_get_403_on_every_issuer_route(client, api, db, count, role):
    issuer = api.create_issuer("Guarded")
    headers = api.create_account(role, issuer["id"] if role == "reviewer" else None)
    before = snapshot(db, issuer["id"])
    routes = [
        ("POST", "/v1/issuers", {"name": "X", "url": "https://x.example"}),
        ("GET", "/v1/issuers", None),
        *issuer_routes(issuer["id"]),
    ]
    for method, path, body in routes:
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == 403, (role, method, path)
        assert response.json()["error"] == "forbidden"
    assert snapshot(db, issuer["id"]) == before and count(Issuer) == 1


def test_without_a_token_every_issuer_route_is_401(client, api):
    issuer = api.create_issuer("Guarded")
    routes = [
        ("POST", "/v1/issuers", {"name": "X", "url": "https://x.example"}),
        ("GET", "/v1/issuers", None),
        *issuer_routes(issuer["id"]),
    ]
    for method, path, body in routes:
        response = client.request(method, path, json=body)
        assert response.status_code == 401, (method, path)
        assert response.json()["error"] == "unauthorized"


def test_the_public_documents_need_no_token(client, api):
    api.create_issuer("Host")
    second = api.create_issuer("Path")
    for path in ("/.well-known/did.json", f"/issuers/{second['id']}/did.json", "/.well-known/jwks.json"):
        assert client.get(path).status_code == 200, path
