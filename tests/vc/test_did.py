"""DIDs: did:key offline, did:web documents and URLs, resolution through controller documents."""

import pytest

from service.vc.did import (
    ChainedKeyResolver,
    DidKeyResolver,
    DocumentKeyResolver,
    PublishedKey,
    build_did_document,
    did_key,
    did_web_document_url,
    did_web_from_url,
    resolve_did_key,
)
from service.vc.errors import KeyResolutionError
from service.vc.multikey import public_key_to_jwk
from tests.vc.conftest import load_pem


def test_did_key_resolves_offline_to_a_multikey_document(issuer_signer):
    did = did_key(issuer_signer.public_key)
    document = resolve_did_key(did)
    assert document["@context"][0] == "https://www.w3.org/ns/did/v1"
    method = DidKeyResolver().resolve(issuer_signer.verification_method)
    assert method.controller == did and "assertionMethod" in method.purposes
    assert method.public_key == issuer_signer.public_key


def test_did_key_with_a_foreign_fragment_is_refused(issuer_signer, other_signer):
    did = did_key(issuer_signer.public_key)
    with pytest.raises(KeyResolutionError):
        DidKeyResolver().resolve(f"{did}#{other_signer.verification_method.split('#')[1]}")


@pytest.mark.parametrize("bad", ["did:key:", "did:key:zNotAKey", "did:web:example.com", "https://example.com#k"])
def test_did_key_resolver_refuses_what_it_cannot_resolve(bad):
    with pytest.raises(KeyResolutionError):
        DidKeyResolver().resolve(bad)


@pytest.mark.parametrize(
    "url, did, document_url",
    [
        ("https://example.com", "did:web:example.com", "https://example.com/.well-known/did.json"),
        (
            "http://127.0.0.1:8000/issuers/abc",
            "did:web:127.0.0.1%3A8000:issuers:abc",
            "http://127.0.0.1:8000/issuers/abc/did.json",
        ),
    ],
)
def test_did_web_round_trips_between_urls_and_dids(url, did, document_url):
    assert did_web_from_url(url) == did
    scheme = url.split(":")[0]
    assert did_web_document_url(did, scheme=scheme) == document_url


def test_did_web_refuses_path_tricks():
    with pytest.raises(KeyResolutionError):
        did_web_document_url("did:web:example.com:%2F..%2Fadmin")


def test_did_document_lists_ed25519_as_multikey_and_rsa_as_jwk(issuer_signer):
    rsa_key = load_pem("issuer-rsa2048.pem").public_key()
    document = build_did_document(
        "did:web:example.com",
        [
            PublishedKey("key-1", issuer_signer.public_key),
            PublishedKey("rsa-1", rsa_key, ("assertionMethod",)),
        ],
    )
    types = {m["id"]: m["type"] for m in document["verificationMethod"]}
    assert types == {"did:web:example.com#key-1": "Multikey", "did:web:example.com#rsa-1": "JsonWebKey"}
    assert document["assertionMethod"] == ["did:web:example.com#key-1", "did:web:example.com#rsa-1"]
    assert document["verificationMethod"][1]["publicKeyJwk"] == public_key_to_jwk(rsa_key)


def test_document_resolver_finds_did_web_keys_by_their_document_url(issuer_signer):
    document = build_did_document("did:web:example.com", [PublishedKey("key-1", issuer_signer.public_key)])
    resolver = DocumentKeyResolver({"https://example.com/.well-known/did.json": document})
    method = resolver.resolve("did:web:example.com#key-1")
    assert method.public_key == issuer_signer.public_key and method.controller == "did:web:example.com"


def test_document_resolver_refuses_a_document_for_another_id(issuer_signer):
    document = build_did_document("did:web:attacker.example", [PublishedKey("key-1", issuer_signer.public_key)])
    resolver = DocumentKeyResolver({"https://example.com/.well-known/did.json": document})
    with pytest.raises(KeyResolutionError):
        resolver.resolve("did:web:example.com#key-1")


def test_a_key_listed_only_for_authentication_has_no_assertion_purpose(issuer_signer):
    document = build_did_document(
        "did:web:example.com", [PublishedKey("key-1", issuer_signer.public_key, ("authentication",))]
    )
    method = DocumentKeyResolver({"did:web:example.com": document}).resolve("did:web:example.com#key-1")
    assert method.purposes == {"authentication"}


def test_chained_resolver_tries_each_in_turn(issuer_signer):
    document = build_did_document("did:web:example.com", [PublishedKey("key-1", issuer_signer.public_key)])
    chain = ChainedKeyResolver(DidKeyResolver(), DocumentKeyResolver({"did:web:example.com": document}))
    assert chain.resolve("did:web:example.com#key-1").id == "did:web:example.com#key-1"
    assert chain.resolve(issuer_signer.verification_method).type == "Multikey"
    with pytest.raises(KeyResolutionError):
        chain.resolve("did:web:nowhere.example#key-1")


def test_did_key_methods_are_kept_by_exact_string_only(issuer_signer, other_signer):
    resolver = DidKeyResolver()
    first = resolver.resolve(issuer_signer.verification_method)
    assert resolver.resolve(issuer_signer.verification_method) is first  # decoded once
    other = resolver.resolve(other_signer.verification_method)
    assert other.public_key != first.public_key and other.controller != first.controller
    did = issuer_signer.verification_method.split("#")[0]
    assert resolver.resolve(did).id == first.id  # no fragment: the key's own method
    with pytest.raises(KeyResolutionError):  # a failure is not kept: it fails every time
        resolver.resolve(issuer_signer.verification_method + "x")
    with pytest.raises(KeyResolutionError):
        resolver.resolve(issuer_signer.verification_method + "x")


def test_an_overlong_did_key_url_is_resolved_without_being_kept(issuer_signer):
    from service.vc import did as did_module

    before = did_module._did_key_method.cache_info().currsize
    with pytest.raises(KeyResolutionError):
        DidKeyResolver().resolve(issuer_signer.verification_method + "#" + "x" * 600)
    assert did_module._did_key_method.cache_info().currsize == before
