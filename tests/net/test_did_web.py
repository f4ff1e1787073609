"""RemoteDidWebResolver against a real local HTTPS server: fetching, caching and refusing did:web documents."""

from datetime import UTC, datetime
from ipaddress import ip_network

import pytest

from service.net import RemoteDidWebResolver, SafeFetcher
from service.vc import data_integrity
from service.vc.did import PublishedKey, build_did_document
from service.vc.errors import KeyResolutionError
from service.vc.keys import LocalSigner, generate_ed25519
from service.vc.verify import verify
from tests.net.local_server import (
    LocalServer,
    fixed_resolver,
    make_tls_contexts,
    no_dns,
    respond,
    respond_json,
)
from tests.standards import OB3_IMPL_GUIDE, load_json

LOOPBACK_ONLY = [ip_network("127.0.0.1/32")]
HOST = "issuer.test"
NOW = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture
def tls_server(tmp_path):
    """An HTTPS server on 127.0.0.1 whose certificate names ``issuer.test``."""
    server_context, client_context = make_tls_contexts(tmp_path, HOST)
    with LocalServer(tls=server_context) as server:
        server.client_context = client_context
        yield server


@pytest.fixture
def fetcher(tls_server) -> SafeFetcher:
    """May reach 127.0.0.1 (the test-only allowance) for ``issuer.test``, trusting the test CA."""
    return SafeFetcher(
        resolver=fixed_resolver({HOST: ["127.0.0.1"]}),
        allowed_networks=LOOPBACK_ONLY,
        ssl_context=tls_server.client_context,
    )


@pytest.fixture
def did(tls_server) -> str:
    return f"did:web:{HOST}%3A{tls_server.port}"


@pytest.fixture
def key():
    return generate_ed25519()


def document(did: str, key, *, purposes=("assertionMethod", "authentication")) -> dict:
    return build_did_document(did, [PublishedKey("key-1", key.public_key(), purposes)])


def test_a_multikey_method_and_its_purposes_resolve_from_the_well_known_document(tls_server, fetcher, did, key):
    tls_server.routes["/.well-known/did.json"] = respond_json(document(did, key))

    method = RemoteDidWebResolver(fetcher).resolve(f"{did}#key-1")

    assert (method.id, method.type, method.controller) == (f"{did}#key-1", "Multikey", did)
    assert method.public_key.public_bytes_raw() == key.public_key().public_bytes_raw()
    assert method.purposes == {"assertionMethod", "authentication"}
    request = tls_server.requests[0]
    assert request.headers["accept"] == "application/did+json, application/json"
    assert tls_server.sni == [HOST]


def test_a_path_form_did_resolves_from_its_path(tls_server, fetcher, did, key):
    path_did = f"{did}:issuers:x"
    tls_server.routes["/issuers/x/did.json"] = respond_json(document(path_did, key, purposes=("assertionMethod",)))

    method = RemoteDidWebResolver(fetcher).resolve(f"{path_did}#key-1")

    assert method.id == f"{path_did}#key-1" and method.purposes == {"assertionMethod"}
    assert tls_server.hits("/issuers/x/did.json") == 1 and tls_server.hits("/.well-known/did.json") == 0


def test_a_document_is_cached_within_its_ttl_and_fetched_again_after(tls_server, fetcher, did, key):
    tls_server.routes["/.well-known/did.json"] = respond_json(document(did, key))
    clock = [1000.0]
    resolver = RemoteDidWebResolver(fetcher, ttl=60.0, clock=lambda: clock[0])

    resolver.resolve(f"{did}#key-1")
    clock[0] += 59
    resolver.resolve(f"{did}#key-1")
    assert tls_server.hits("/.well-known/did.json") == 1

    clock[0] += 2
    resolver.resolve(f"{did}#key-1")
    assert tls_server.hits("/.well-known/did.json") == 2


def test_failures_are_not_cached(tls_server, fetcher, did, key):
    resolver = RemoteDidWebResolver(fetcher)
    tls_server.routes["/.well-known/did.json"] = respond(503, b"")
    with pytest.raises(KeyResolutionError, match="http_error"):
        resolver.resolve(f"{did}#key-1")

    tls_server.routes["/.well-known/did.json"] = respond_json(document(did, key))
    assert resolver.resolve(f"{did}#key-1").id == f"{did}#key-1"
    assert tls_server.hits("/.well-known/did.json") == 2


def test_a_document_for_another_did_is_refused(tls_server, fetcher, did, key):
    tls_server.routes["/.well-known/did.json"] = respond_json(document("did:web:elsewhere.example", key))

    with pytest.raises(KeyResolutionError, match="did:web:elsewhere.example"):
        RemoteDidWebResolver(fetcher).resolve(f"{did}#key-1")


def test_an_unknown_fragment_is_refused(tls_server, fetcher, did, key):
    tls_server.routes["/.well-known/did.json"] = respond_json(document(did, key))

    with pytest.raises(KeyResolutionError, match="not listed"):
        RemoteDidWebResolver(fetcher).resolve(f"{did}#key-2")


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]"])
def test_a_body_that_is_not_a_json_object_is_refused(tls_server, fetcher, did, body):
    tls_server.routes["/.well-known/did.json"] = respond(200, body)

    with pytest.raises(KeyResolutionError, match="JSON"):
        RemoteDidWebResolver(fetcher).resolve(f"{did}#key-1")


@pytest.mark.parametrize(
    "method_id",
    [
        "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        "https://issuer.test/keys/1",
        "did:web:issuer.test%2Fevil#key-1",
        "did:web:issuer.test%3Fq=1#key-1",
        "did:web:user%40issuer.test#key-1",
        "did:web:issuer.test/path#key-1",
        "did:web:#key-1",
    ],
)
def test_anything_but_a_plain_did_web_is_refused_without_a_request(tls_server, method_id):
    resolver = RemoteDidWebResolver(SafeFetcher(resolver=no_dns, allowed_networks=LOOPBACK_ONLY))

    with pytest.raises(KeyResolutionError):
        resolver.resolve(method_id)
    assert tls_server.requests == []


def test_a_did_web_on_a_private_address_is_refused_by_the_default_fetcher(tls_server, key):
    private_did = f"did:web:127.0.0.1%3A{tls_server.port}"
    tls_server.routes["/.well-known/did.json"] = respond_json(document(private_did, key))

    with pytest.raises(KeyResolutionError, match="not allowed or could not be reached"):
        RemoteDidWebResolver().resolve(f"{private_did}#key-1")
    assert tls_server.requests == []


def test_an_oversized_document_is_refused(tls_server, fetcher, did, key):
    huge = document(did, key) | {"alsoKnownAs": ["https://example.com/" + "x" * 1000] * 300}
    tls_server.routes["/.well-known/did.json"] = respond_json(huge)

    with pytest.raises(KeyResolutionError, match="too_large"):
        RemoteDidWebResolver(fetcher).resolve(f"{did}#key-1")
    assert RemoteDidWebResolver(fetcher, max_bytes=1024 * 1024).resolve(f"{did}#key-1").id == f"{did}#key-1"


def test_the_cache_is_bounded(tls_server, fetcher, did, key):
    path_dids = [f"{did}:issuers:{n}" for n in range(3)]
    for path_did, n in zip(path_dids, range(3), strict=True):
        tls_server.routes[f"/issuers/{n}/did.json"] = respond_json(document(path_did, key))
    resolver = RemoteDidWebResolver(fetcher, max_entries=2)

    for path_did in [*path_dids, path_dids[2], path_dids[0]]:
        resolver.resolve(f"{path_did}#key-1")

    assert [tls_server.hits(f"/issuers/{n}/did.json") for n in range(3)] == [2, 1, 1]


# --- end to end ------------------------------------------------------------------------------


def test_a_credential_from_a_did_web_issuer_verifies_through_its_fetched_document(tls_server, fetcher, did, key):
    credential = load_json(OB3_IMPL_GUIDE / "unsigned-credential.json")
    credential["issuer"]["id"] = did
    signed = data_integrity.sign(credential, LocalSigner(key, f"{did}#key-1"))
    tls_server.routes["/.well-known/did.json"] = respond_json(document(did, key))

    report = verify(signed, key_resolver=RemoteDidWebResolver(fetcher), now=NOW)
    assert report.verified, report.to_dict()
    assert report.check("issuer_key").outcome == "passed"

    tls_server.routes["/.well-known/did.json"] = respond_json(document(did, generate_ed25519()))
    report = verify(signed, key_resolver=RemoteDidWebResolver(fetcher), now=NOW)
    assert not report.verified
    assert "proof" in {c.id for c in report.checks if c.outcome == "failed"}
