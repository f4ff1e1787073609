"""A change of SKILLCRED_PUBLIC_URL on an existing database: ``skillcred issuers move-dids`` gives the
issuers DIDs under the new URL, and credentials issued before the move still verify."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.cli.admin import dids_to_move, move_issuer_dids
from service.cli.bootstrap import ensure_admin
from service.verification.service import Verifier
from tests.api_client import Api
from tests.conftest import PUBLIC_URL

OLD_HOST_DID = "did:web:skillcred.example"
NEW_URL, NEW_HOST_DID = "https://badges.example", "did:web:badges.example"


def _fetch(api: Api, credential_id: str, fmt: str) -> bytes:
    response = api.client.get(f"/v1/credentials/{credential_id}/{fmt}", headers=api.admin)
    assert response.status_code == 200, response.text
    return response.content


@pytest.fixture
def before_the_move(settings):
    """Two issuers (the host DID and a path-form DID) and a credential of each, made under the old URL."""
    app = create_app(settings)
    ensure_admin(app.state.engine, settings)
    with TestClient(app) as client:
        api = Api(client)
        first, second = api.create_issuer("First"), api.create_issuer("Second")
        assert first["did"] == OLD_HOST_DID and second["did"] == f"{OLD_HOST_DID}:issuers:{second['id']}"
        credentials = {}
        for issuer in (first, second):
            achievement = api.create_achievement(issuer["id"])
            issued = api.issue(achievement["id"], {"email": "ada@example.org"})
            credentials[issuer["id"]] = {fmt: _fetch(api, issued["id"], fmt) for fmt in ("jsonld", "jwt")}
    app.state.engine.dispose()
    return {"first": first, "second": second, "credentials": credentials}


@pytest.fixture
def moved(settings, before_the_move):
    """The app under the new public URL after ``skillcred issuers move-dids``."""
    new_settings = settings.model_copy(update={"public_url": NEW_URL})
    app = create_app(new_settings)
    app.state.verifier = Verifier()  # offline: nothing may be fetched from the old host
    assert [m.new_did for m in dids_to_move(app.state.engine, new_settings)] == [
        NEW_HOST_DID,
        f"{NEW_HOST_DID}:issuers:{before_the_move['second']['id']}",
    ]
    move_issuer_dids(app.state.engine, new_settings)
    assert dids_to_move(app.state.engine, new_settings) == []
    yield app
    app.state.engine.dispose()


def test_without_the_move_the_new_host_has_no_did_document(settings, before_the_move):
    app = create_app(settings.model_copy(update={"public_url": NEW_URL}))
    with TestClient(app) as client:
        response = client.get("/.well-known/did.json")
        assert response.status_code == 404 and "No issuer holds this service's host DID" in response.text
    app.state.engine.dispose()


def test_the_new_did_documents_name_the_old_dids(moved, before_the_move):
    second = before_the_move["second"]["id"]
    with TestClient(moved) as client:
        host = client.get("/.well-known/did.json").json()
        assert host["id"] == NEW_HOST_DID and host["alsoKnownAs"] == [OLD_HOST_DID]
        assert {m["id"] for m in host["verificationMethod"]} == {f"{NEW_HOST_DID}#key-1", f"{NEW_HOST_DID}#rsa-1"}
        path = client.get(f"/issuers/{second}/did.json").json()
        assert path["id"] == f"{NEW_HOST_DID}:issuers:{second}"
        assert path["alsoKnownAs"] == [f"{OLD_HOST_DID}:issuers:{second}"]


def test_under_the_old_host_name_the_old_did_documents_are_served(moved, before_the_move):
    second = before_the_move["second"]["id"]
    with TestClient(moved, base_url=PUBLIC_URL) as old_host:
        host = old_host.get("/.well-known/did.json").json()
        assert host["id"] == OLD_HOST_DID and host["alsoKnownAs"] == [NEW_HOST_DID]
        assert f"{OLD_HOST_DID}#key-1" in host["assertionMethod"]
        path = old_host.get(f"/issuers/{second}/did.json").json()
        assert path["id"] == f"{OLD_HOST_DID}:issuers:{second}"
        assert path["alsoKnownAs"] == [f"{NEW_HOST_DID}:issuers:{second}"]
    with TestClient(moved, base_url=NEW_URL) as new_host:
        assert new_host.get("/.well-known/did.json").json()["id"] == NEW_HOST_DID


@pytest.mark.parametrize(("fmt", "media_type"), [("jsonld", "application/vc+ld+json"), ("jwt", "application/vc+jwt")])
def test_credentials_issued_before_the_move_still_verify(moved, before_the_move, fmt, media_type):
    with TestClient(moved) as client:
        for content in (c[fmt] for c in before_the_move["credentials"].values()):
            response = client.post("/v1/verify", content=content, headers={"Content-Type": media_type})
            report = response.json()
            outcomes = {check["id"]: check["outcome"] for check in report["checks"]}
            assert outcomes["issuer_key"] == "passed", report
            assert report["verified"] is True, report


def test_credentials_issued_after_the_move_name_the_new_did(moved, before_the_move):
    with TestClient(moved) as client:
        api = Api(client)
        achievement = api.create_achievement(before_the_move["first"]["id"])
        issued = api.issue(achievement["id"], {"email": "ada@example.org"})
        credential = client.get(f"/v1/credentials/{issued['id']}/jsonld", headers=api.admin).json()
        assert credential["issuer"]["id"] == NEW_HOST_DID
        report = client.post("/v1/verify", json=credential, headers={"Content-Type": "application/vc+ld+json"}).json()
        assert report["verified"] is True, report
