"""The public documents verifiers fetch: did:web DID documents and the JWK Set."""

from __future__ import annotations

from service.vc.constants import DID_V1
from service.vc.did import DocumentKeyResolver, did_web_document_url
from service.vc.multikey import jwk_to_public_key, public_key_to_jwk
from tests.issuers.conftest import HOST_DID


def resolver_for(did: str, document: dict) -> DocumentKeyResolver:
    """Resolve as an outside verifier would: the document filed under the URL did:web names."""
    return DocumentKeyResolver({did_web_document_url(did): document})


def test_the_host_did_document_is_served_at_well_known(client, api):
    issuer = api.create_issuer("Host")
    response = client.get("/.well-known/did.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/did+json")
    assert "max-age=300" in response.headers["cache-control"]
    document = response.json()
    assert document["id"] == issuer["did"] == HOST_DID
    assert did_web_document_url(HOST_DID) == "https://skillcred.example/.well-known/did.json"
    method = resolver_for(HOST_DID, document).resolve(f"{HOST_DID}#key-1")
    assert method.type == "Multikey" and method.controller == HOST_DID
    assert {"assertionMethod", "authentication"} <= method.purposes


def test_a_later_issuers_did_document_is_served_at_its_path(client, api):
    api.create_issuer("Host")
    issuer = api.create_issuer("Path")
    response = client.get(f"/issuers/{issuer['id']}/did.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/did+json")
    assert did_web_document_url(issuer["did"]) == f"https://skillcred.example/issuers/{issuer['id']}/did.json"
    resolver = resolver_for(issuer["did"], response.json())
    assert "assertionMethod" in resolver.resolve(f"{issuer['did']}#key-1").purposes
    rsa_method = resolver.resolve(f"{issuer['did']}#rsa-1")
    assert rsa_method.type == "JsonWebKey" and "assertionMethod" in rsa_method.purposes


def test_did_documents_put_the_did_v1_context_first_and_use_absolute_ids(client, api):
    issuer = api.create_issuer("Host")
    document = client.get("/.well-known/did.json").json()
    assert document["@context"][0] == DID_V1
    ids = [m["id"] for m in document["verificationMethod"]]
    assert ids == [f"{issuer['did']}#key-1", f"{issuer['did']}#rsa-1"]
    assert all(m["controller"] == issuer["did"] for m in document["verificationMethod"])
    assert document["assertionMethod"] == ids


def test_the_did_documents_keys_are_the_keys_the_api_lists(client, api):
    issuer = api.create_issuer("Host")
    keys = client.get(f"/v1/issuers/{issuer['id']}/keys", headers=api.admin).json()
    resolver = resolver_for(issuer["did"], client.get("/.well-known/did.json").json())
    for key in keys:
        assert public_key_to_jwk(resolver.resolve(key["verification_method"]).public_key) == key["public_jwk"]


def test_well_known_did_json_is_404_in_the_error_shape_before_any_issuer_exists(client):
    response = client.get("/.well-known/did.json")
    assert response.status_code == 404 and response.json()["error"] == "not_found"
    assert "/issuers/<id>/did.json" in response.json()["detail"]


def test_the_host_did_issuer_has_no_path_document_and_the_404_says_where_it_is(client, api):
    issuer = api.create_issuer("Host")
    response = client.get(f"/issuers/{issuer['id']}/did.json")
    assert response.status_code == 404 and response.json()["error"] == "not_found"
    assert "https://skillcred.example/.well-known/did.json" in response.json()["detail"]


def test_an_unknown_issuer_has_no_did_document(client, api):
    api.create_issuer("Host")
    response = client.get("/issuers/00000000-0000-4000-8000-000000000000/did.json")
    assert response.status_code == 404 and response.json() == {"error": "not_found", "detail": "No such issuer"}


def test_the_jwks_lists_every_issuers_keys_named_by_their_verification_method(client, api):
    first, second = api.create_issuer("One"), api.create_issuer("Two")
    client.post(f"/v1/issuers/{second['id']}/keys/rotate", headers=api.admin)
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200 and "max-age" in response.headers["cache-control"]
    keys = response.json()["keys"]
    assert [k["kid"] for k in keys] == [
        f"{first['did']}#key-1",
        f"{first['did']}#rsa-1",
        f"{second['did']}#key-1",
        f"{second['did']}#rsa-1",
        f"{second['did']}#key-2",
        f"{second['did']}#rsa-2",
    ]
    for key in keys:
        assert key["use"] == "sig" and key["alg"] == ("EdDSA" if key["kty"] == "OKP" else "RS256")
        public = {k: v for k, v in key.items() if k not in ("kid", "alg", "use")}
        jwk_to_public_key(public)  # a public key, with no private members


def test_the_jwks_and_the_did_document_publish_the_same_keys(client, api):
    issuer = api.create_issuer("Host")
    resolver = resolver_for(issuer["did"], client.get("/.well-known/did.json").json())
    for key in client.get("/.well-known/jwks.json").json()["keys"]:
        published = public_key_to_jwk(resolver.resolve(key["kid"]).public_key)
        assert published == {k: v for k, v in key.items() if k not in ("kid", "alg", "use")}


def test_under_a_public_url_with_a_path_every_issuer_gets_the_path_form(app, db, settings):
    # did:web:example.org:skillcred would resolve to /skillcred/did.json, not to /.well-known
    from service.issuers.resolver import LocalKeyResolver
    from service.issuers.service import create_issuer, did_document_url

    prefixed = settings.model_copy(update={"public_url": "https://example.org/skillcred"})
    with db() as session:
        issuer = create_issuer(session, app.state.keystore, prefixed, name="First", url="https://acme.example")
        assert issuer.did == f"did:web:example.org:skillcred:issuers:{issuer.id}"
        assert did_document_url(prefixed, issuer) == f"https://example.org/skillcred/issuers/{issuer.id}/did.json"
        assert LocalKeyResolver(session, prefixed).resolve(f"{issuer.did}#key-1").controller == issuer.did
