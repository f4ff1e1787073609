"""Signing keys: the active signer, rotation (old credentials keep verifying), the local key resolver."""

from __future__ import annotations

import pytest
from sqlmodel import select

from service.audit.models import AuditEvent
from service.core.errors import NotFound
from service.issuers.commands import rotate_keys_command
from service.issuers.resolver import LocalKeyResolver
from service.issuers.service import active_signer, issuer_profile
from service.vc import data_integrity, jose
from service.vc.did import DidKeyResolver, KeyResolver, did_key
from service.vc.errors import KeyResolutionError
from service.vc.keys import generate_ed25519
from service.vc.multikey import public_key_to_jwk
from service.vc.verify import verify
from tests.issuers.conftest import HOST_DID, load_issuer, unsigned_badge


def rotate(client, api, issuer_id: str) -> list[dict]:
    response = client.post(f"/v1/issuers/{issuer_id}/keys/rotate", headers=api.admin)
    assert response.status_code == 200, response.text
    return response.json()


def by_fragment(keys: list[dict]) -> dict[str, dict]:
    return {k["fragment"]: k for k in keys}


# --- rotation ------------------------------------------------------------------------------------


def test_rotation_retires_the_active_keys_and_makes_key_2_and_rsa_2(client, api):
    issuer = api.create_issuer()
    keys = by_fragment(rotate(client, api, issuer["id"]))
    assert set(keys) == {"key-1", "rsa-1", "key-2", "rsa-2"}
    assert not keys["key-1"]["active"] and keys["key-1"]["retired_at"] is not None
    assert not keys["rsa-1"]["active"] and keys["rsa-1"]["retired_at"] is not None
    assert keys["key-2"]["active"] and keys["key-2"]["algorithm"] == "EdDSA" and keys["key-2"]["retired_at"] is None
    assert keys["rsa-2"]["active"] and keys["rsa-2"]["algorithm"] == "RS256"
    assert keys["key-2"]["public_jwk"] != keys["key-1"]["public_jwk"]
    assert keys["key-2"]["verification_method"] == f"{issuer['did']}#key-2"
    listed = client.get(f"/v1/issuers/{issuer['id']}/keys", headers=api.admin).json()
    assert by_fragment(listed) == keys


def test_rotating_again_continues_the_numbering(client, api):
    issuer = api.create_issuer()
    rotate(client, api, issuer["id"])
    keys = by_fragment(rotate(client, api, issuer["id"]))
    assert [f for f, k in keys.items() if k["active"]] == ["key-3", "rsa-3"]
    assert len(keys) == 6


def test_retired_keys_stay_in_the_did_document_for_assertions_only(client, api):
    issuer = api.create_issuer()
    rotate(client, api, issuer["id"])
    document = client.get("/.well-known/did.json").json()
    did = issuer["did"]
    assert [m["id"] for m in document["verificationMethod"]] == [
        f"{did}#{f}" for f in ("key-1", "rsa-1", "key-2", "rsa-2")
    ]
    assert set(document["assertionMethod"]) == {f"{did}#{f}" for f in ("key-1", "rsa-1", "key-2", "rsa-2")}
    assert set(document["authentication"]) == {f"{did}#key-2", f"{did}#rsa-2"}


def test_rotation_is_audited_with_the_keys_retired_and_made(client, api, db):
    issuer = api.create_issuer()
    rotate(client, api, issuer["id"])
    with db() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "issuer.keys.rotate")).one()
    did = issuer["did"]
    assert event.object_id == issuer["id"] and event.actor_role == "admin"
    assert event.before == {"active": [f"{did}#key-1", f"{did}#rsa-1"]}
    assert event.after == {"active": [f"{did}#key-2", f"{did}#rsa-2"]}


def test_the_active_signer_uses_the_newest_key_of_each_algorithm(client, api, app, db):
    issuer = api.create_issuer()
    keystore = app.state.keystore
    with db() as session:
        stored = load_issuer(db, issuer["id"])
        assert active_signer(session, keystore, stored, "EdDSA").verification_method == f"{issuer['did']}#key-1"
    keys = by_fragment(rotate(client, api, issuer["id"]))
    with db() as session:
        eddsa = active_signer(session, keystore, stored, "EdDSA")
        rs256 = active_signer(session, keystore, stored, "RS256")
    assert (eddsa.verification_method, eddsa.algorithm) == (f"{issuer['did']}#key-2", "EdDSA")
    assert (rs256.verification_method, rs256.algorithm) == (f"{issuer['did']}#rsa-2", "RS256")
    assert public_key_to_jwk(eddsa.public_key) == keys["key-2"]["public_jwk"]
    assert public_key_to_jwk(rs256.public_key) == keys["rsa-2"]["public_jwk"]
    assert "private" not in repr(eddsa).lower()


def test_credentials_signed_before_a_rotation_still_verify_and_new_ones_use_the_new_keys(
    client, api, app, db, settings
):
    api.create_issuer("Host")
    issuer = api.create_issuer("Path")  # the path-form DID, so both forms are exercised across tests
    stored = load_issuer(db, issuer["id"])
    unsigned = unsigned_badge(stored)
    keystore = app.state.keystore

    def sign_both() -> tuple[dict, str]:
        with db() as session:
            return (
                data_integrity.sign(unsigned, active_signer(session, keystore, stored, "EdDSA"), proof_as_list=True),
                jose.sign_vc_jwt(unsigned, active_signer(session, keystore, stored, "RS256")),
            )

    old_proof, old_jwt = sign_both()
    rotate(client, api, issuer["id"])
    new_proof, new_jwt = sign_both()
    assert new_proof["proof"][0]["verificationMethod"] == f"{issuer['did']}#key-2"
    assert jose.decode_vc_jwt_unverified(new_jwt)[0]["kid"] == f"{issuer['did']}#rsa-2"
    with db() as session:
        resolver = LocalKeyResolver(session, settings)
        for credential in (old_proof, old_jwt, new_proof, new_jwt):
            report = verify(credential, key_resolver=resolver)
            assert report.verified, report.to_dict()
        tampered = {**new_proof, "name": "Something else"}
        assert not verify(tampered, key_resolver=resolver).verified


def test_the_rotate_command_rotates_in_its_own_transaction(api, db, settings):
    issuer = api.create_issuer()
    assert rotate_keys_command(settings, issuer["id"]) == [f"{issuer['did']}#key-2", f"{issuer['did']}#rsa-2"]
    with db() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "issuer.keys.rotate")).one()
    assert event.actor_id is None and event.object_id == issuer["id"]


def test_the_rotate_command_refuses_an_unknown_issuer(settings):
    with pytest.raises(NotFound):
        rotate_keys_command(settings, "00000000-0000-4000-8000-000000000000")


# --- the local key resolver ----------------------------------------------------------------------


def test_the_local_resolver_resolves_current_and_retired_keys_of_host_and_path_dids(client, api, db, settings):
    host, path = api.create_issuer("Host"), api.create_issuer("Path")
    rotate(client, api, path["id"])
    with db() as session:
        resolver = LocalKeyResolver(session, settings)
        assert isinstance(resolver, KeyResolver)
        method = resolver.resolve(f"{HOST_DID}#key-1")
        assert method.controller == HOST_DID and "assertionMethod" in method.purposes
        for fragment in ("key-1", "rsa-1", "key-2", "rsa-2"):
            method = resolver.resolve(f"{path['did']}#{fragment}")
            assert method.id == f"{path['did']}#{fragment}" and "assertionMethod" in method.purposes
    assert host["did"] == HOST_DID


def test_the_local_resolver_refuses_what_this_service_does_not_publish(api, db, settings):
    issuer = api.create_issuer("Host")
    foreign = [
        "did:web:elsewhere.example#key-1",
        "did:web:skillcred.example.evil.example#key-1",
        "did:web:skillcred.example:issuers:00000000-0000-4000-8000-000000000000#key-1",
        f"did:web:skillcred.example:issuers:{issuer['id']}#key-1",  # the host issuer has no path DID
        "did:web:skillcred.example:other:thing#key-1",
        "did:web:skillcred.example:issuers:a:b#key-1",
        f"{HOST_DID}#key-9",
        f"{HOST_DID}#",
        HOST_DID,
        "https://skillcred.example/.well-known/did.json#key-1",
        f"{did_key(generate_ed25519().public_key())}#key-1",
    ]
    with db() as session:
        resolver = LocalKeyResolver(session, settings)
        for method_id in foreign:
            with pytest.raises(KeyResolutionError):
                resolver.resolve(method_id)


def test_the_local_resolver_chains_with_did_key(api, db, settings):
    from service.vc.did import ChainedKeyResolver

    api.create_issuer("Host")
    key = generate_ed25519().public_key()
    did = did_key(key)
    multikey = did.removeprefix("did:key:")
    with db() as session:
        chained = ChainedKeyResolver(LocalKeyResolver(session, settings), DidKeyResolver())
        assert chained.resolve(f"{HOST_DID}#key-1").controller == HOST_DID
        assert chained.resolve(f"{did}#{multikey}").controller == did


def test_the_issuer_profile_in_credentials_is_the_did_and_the_profile(api, db):
    issuer = api.create_issuer("Acme", email="badges@acme.example", description="Teaches welding.")
    profile = issuer_profile(load_issuer(db, issuer["id"]))
    assert (profile.id, profile.name, profile.url) == (issuer["did"], "Acme", issuer["url"])
    assert (profile.email, profile.description, profile.image) == ("badges@acme.example", "Teaches welding.", None)
