"""An issuer's admins register their platform's confidential client by hand, through the API or
the command line; the secret is shown once and kept only as a hash; revoking stops its tokens."""

from __future__ import annotations

import re

from sqlmodel import Session

from service.cli.main import main
from service.platforms.service import find_client
from tests.platforms.oauth_flow import basic


def test_an_issuer_admin_registers_lists_and_revokes_a_client(client, api, app):
    issuer = api.create_issuer()
    admin = api.create_account("issuer_admin", issuer["id"])
    created = client.post(
        f"/v1/issuers/{issuer['id']}/clients",
        json={"name": "Acme Marketplace", "scope": "credentials:issue earners:provision"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    with Session(app.state.engine) as session:
        row = find_client(session, body["client_id"])
        assert row is not None and row.secret_hash != body["client_secret"]
        assert body["client_secret"] not in str(row.metadata_)
    listed = client.get(f"/v1/issuers/{issuer['id']}/clients", headers=admin).json()
    assert [c["client_id"] for c in listed] == [body["client_id"]] and "client_secret" not in listed[0]
    token = client.post(
        "/v1/auth/token",
        data={"grant_type": "client_credentials"},
        headers=basic(body["client_id"], body["client_secret"]),
    )
    assert token.status_code == 200
    access = {"Authorization": f"Bearer {token.json()['access_token']}"}
    gone = client.delete(f"/v1/issuers/{issuer['id']}/clients/{body['client_id']}", headers=admin)
    assert gone.status_code == 204
    assert client.get("/v1/platform/earners", headers=access).status_code == 401


def test_another_issuers_admin_cannot_see_or_revoke_the_client(client, api):
    issuer, other = api.create_issuer(), api.create_issuer("Other")
    admin = api.create_account("issuer_admin", issuer["id"])
    outsider = api.create_account("issuer_admin", other["id"])
    body = client.post(
        f"/v1/issuers/{issuer['id']}/clients", json={"name": "x", "scope": "credentials:issue"}, headers=admin
    ).json()
    assert client.get(f"/v1/issuers/{issuer['id']}/clients", headers=outsider).status_code == 404
    assert client.delete(f"/v1/issuers/{other['id']}/clients/{body['client_id']}", headers=outsider).status_code == 404


def test_unknown_scopes_are_refused_and_nothing_is_registered(client, api):
    issuer = api.create_issuer()
    admin = api.create_account("issuer_admin", issuer["id"])
    refused = client.post(
        f"/v1/issuers/{issuer['id']}/clients", json={"name": "x", "scope": "everything"}, headers=admin
    )
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_scope"
    assert client.get(f"/v1/issuers/{issuer['id']}/clients", headers=admin).json() == []


def test_the_command_line_registers_and_revokes_a_client(client, api, cli_environment, capsys):
    issuer = api.create_issuer()
    assert main(["clients", "register", "--issuer", issuer["id"], "--name", "CLI", "--scope", "credentials:issue"]) == 0
    out = capsys.readouterr().out
    client_id = re.search(r"client_id: (\S+)", out).group(1)
    secret = re.search(r"client_secret: (\S+)", out).group(1)
    token = client.post("/v1/auth/token", data={"grant_type": "client_credentials"}, headers=basic(client_id, secret))
    assert token.status_code == 200
    assert main(["clients", "revoke", client_id]) == 0
    again = client.post("/v1/auth/token", data={"grant_type": "client_credentials"}, headers=basic(client_id, secret))
    assert again.status_code == 401
    assert main(["clients", "register", "--issuer", "nope", "--name", "x", "--scope", "credentials:issue"]) == 1
