"""Issuers over the API: creating one makes its DID and keys; reading, listing and updating it."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from sqlmodel import select

from service.audit.models import AuditEvent
from service.core.keystore import KeystoreError
from service.issuers.models import Issuer, SigningKey
from service.vc.multikey import jwk_to_public_key
from tests.issuers.conftest import HOST_DID, load_issuer

PROFILE = {
    "name": "Acme Academy",
    "url": "https://acme.example",
    "email": "badges@acme.example",
    "image": "https://acme.example/logo.png",
    "description": "Teaches welding.",
}


# --- create --------------------------------------------------------------------------------------


def test_creating_an_issuer_answers_201_with_its_id_did_and_profile(client, api):
    response = client.post("/v1/issuers", json=PROFILE, headers=api.admin)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"] and body["did"].startswith("did:web:")
    assert {k: body[k] for k in PROFILE} == PROFILE


def test_the_first_issuer_holds_the_host_did_and_later_ones_the_path_form(api):
    first, second, third = api.create_issuer("First"), api.create_issuer("Second"), api.create_issuer("Third")
    assert first["did"] == HOST_DID
    assert first["did_document_url"] == "https://skillcred.example/.well-known/did.json"
    assert second["did"] == f"did:web:skillcred.example:issuers:{second['id']}"
    assert second["did_document_url"] == f"https://skillcred.example/issuers/{second['id']}/did.json"
    assert third["did"] == f"did:web:skillcred.example:issuers:{third['id']}"


def test_a_new_issuer_gets_an_ed25519_key_1_and_an_rsa_3072_rsa_1_sealed_at_rest(api, db, app):
    issuer = api.create_issuer()
    with db() as session:
        keys = {k.fragment: k for k in session.exec(select(SigningKey).where(SigningKey.issuer_id == issuer["id"]))}
    assert set(keys) == {"key-1", "rsa-1"}
    assert keys["key-1"].algorithm == "EdDSA" and keys["rsa-1"].algorithm == "RS256"
    assert isinstance(jwk_to_public_key(keys["key-1"].public_jwk), ed25519.Ed25519PublicKey)
    rsa_public = jwk_to_public_key(keys["rsa-1"].public_jwk)
    assert isinstance(rsa_public, rsa.RSAPublicKey) and rsa_public.key_size == 3072
    assert all(k.retired_at is None for k in keys.values())
    # the sealed private part opens only under the KEK, bound to its own key id
    signer = app.state.keystore.signer(
        keys["rsa-1"].private_sealed, key_id=keys["rsa-1"].id, verification_method=f"{issuer['did']}#rsa-1"
    )
    rsa_public.verify(signer.sign(b"hello"), b"hello", padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(KeystoreError, match="does not open"):
        app.state.keystore.signer(keys["rsa-1"].private_sealed, key_id=keys["key-1"].id, verification_method="x")


def test_creating_an_issuer_is_audited_with_its_did_and_keys(api, db):
    issuer = api.create_issuer("Audited")
    with db() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "issuer.create")).one()
    assert event.object_id == issuer["id"] and event.issuer_id == issuer["id"] and event.actor_role == "admin"
    assert event.after["did"] == issuer["did"] and event.after["name"] == "Audited"
    assert event.after["keys"] == [f"{issuer['did']}#key-1", f"{issuer['did']}#rsa-1"]


# --- bad input -----------------------------------------------------------------------------------

BAD_CREATE_BODIES = {
    "missing name": {"url": "https://acme.example"},
    "missing url": {"name": "Acme"},
    "blank name": {"name": "   ", "url": "https://acme.example"},
    "name too long": {"name": "x" * 201, "url": "https://acme.example"},
    "url not a URL": {"name": "Acme", "url": "not a url"},
    "url not http(s)": {"name": "Acme", "url": "ftp://acme.example/"},
    "javascript image": {"name": "Acme", "url": "https://acme.example", "image": "javascript:alert(1)"},
    "bad email": {"name": "Acme", "url": "https://acme.example", "email": "nobody"},
    "unknown field": {"name": "Acme", "url": "https://acme.example", "colour": "red"},
    "client-chosen DID": {"name": "Acme", "url": "https://acme.example", "did": "did:web:evil.example"},
    "wrong type": {"name": ["Acme"], "url": "https://acme.example"},
    "description too long": {"name": "Acme", "url": "https://acme.example", "description": "x" * 4001},
}


@pytest.mark.parametrize("case", BAD_CREATE_BODIES)
def test_bad_input_to_create_is_a_422_in_the_error_shape_and_creates_nothing(client, api, count, case):
    before = count(Issuer), count(SigningKey), count(AuditEvent)
    response = client.post("/v1/issuers", json=BAD_CREATE_BODIES[case], headers=api.admin)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error" and response.json()["detail"]
    assert (count(Issuer), count(SigningKey), count(AuditEvent)) == before


def test_malformed_json_is_a_422_and_creates_nothing(client, api, count):
    headers = {**api.admin, "Content-Type": "application/json"}
    response = client.post("/v1/issuers", content=b'{"name": "Acme", "url": ', headers=headers)
    assert response.status_code == 422 and response.json()["error"] == "validation_error"
    assert count(Issuer) == 0


# --- read and list -------------------------------------------------------------------------------


def test_an_admin_reads_an_issuer_and_an_unknown_id_is_404(client, api):
    issuer = api.create_issuer("Readable")
    response = client.get(f"/v1/issuers/{issuer['id']}", headers=api.admin)
    assert response.status_code == 200 and response.json() == issuer
    missing = client.get("/v1/issuers/00000000-0000-4000-8000-000000000000", headers=api.admin)
    assert missing.status_code == 404
    assert missing.json() == {"error": "not_found", "detail": "No such issuer"}


def test_an_admin_lists_every_issuer_oldest_first_in_pages(client, api):
    created = [api.create_issuer(f"Issuer {n}")["id"] for n in range(3)]
    first = client.get("/v1/issuers?limit=2", headers=api.admin)
    assert first.status_code == 200
    assert first.headers["X-Total-Count"] == "3" and 'rel="next"' in first.headers["Link"]
    body = first.json()
    assert body["total"] == 3 and body["limit"] == 2 and body["offset"] == 0
    second = client.get("/v1/issuers?limit=2&offset=2", headers=api.admin).json()
    assert [i["id"] for i in body["items"] + second["items"]] == created


def test_an_issuer_admin_lists_only_their_own_issuer(client, api):
    mine, _ = api.create_issuer("Mine"), api.create_issuer("Theirs")
    headers = api.create_account("issuer_admin", mine["id"])
    response = client.get("/v1/issuers", headers=headers)
    assert response.status_code == 200 and response.headers["X-Total-Count"] == "1"
    assert [i["id"] for i in response.json()["items"]] == [mine["id"]]


# --- update --------------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent_and_is_audited_before_and_after(client, api, db):
    issuer = api.create_issuer("Old name", email="old@acme.example")
    response = client.patch(
        f"/v1/issuers/{issuer['id']}", json={"name": "New name", "email": "new@acme.example"}, headers=api.admin
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "New name" and body["email"] == "new@acme.example"
    assert body["url"] == issuer["url"] and body["did"] == issuer["did"]
    assert body["updated_at"] > issuer["updated_at"]
    with db() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "issuer.update")).one()
    assert event.before == {"name": "Old name", "email": "old@acme.example"}
    assert event.after == {"name": "New name", "email": "new@acme.example"}


def test_patch_with_null_clears_optional_fields(client, api):
    issuer = api.create_issuer(image="https://acme.example/logo.png", description="About us")
    response = client.patch(f"/v1/issuers/{issuer['id']}", json={"image": None, "description": None}, headers=api.admin)
    assert response.status_code == 200
    assert response.json()["image"] is None and response.json()["description"] is None


def test_patch_that_changes_nothing_records_nothing(client, api, count):
    issuer = api.create_issuer("Same")
    events = count(AuditEvent)
    response = client.patch(f"/v1/issuers/{issuer['id']}", json={"name": "Same"}, headers=api.admin)
    assert response.status_code == 200 and response.json()["updated_at"] == issuer["updated_at"]
    assert count(AuditEvent) == events


BAD_PATCH_BODIES = {
    "null name": {"name": None},
    "null url": {"url": None},
    "non-URL url": {"url": "acme.example"},
    "name too long": {"name": "x" * 201},
    "the DID": {"did": "did:web:evil.example"},
    "unknown field": {"colour": "red"},
}


@pytest.mark.parametrize("case", BAD_PATCH_BODIES)
def test_bad_input_to_patch_is_a_422_and_changes_nothing(client, api, db, count, case):
    issuer = api.create_issuer("Unchanged")
    events = count(AuditEvent)
    response = client.patch(f"/v1/issuers/{issuer['id']}", json=BAD_PATCH_BODIES[case], headers=api.admin)
    assert response.status_code == 422 and response.json()["error"] == "validation_error"
    stored = load_issuer(db, issuer["id"])
    assert (stored.name, stored.url, stored.did) == ("Unchanged", issuer["url"], issuer["did"])
    assert count(AuditEvent) == events
