"""RemoteStatusListResolver: fetches lists through the safe fetcher, caches them per ttl, and turns
every failure into StatusListUnavailable (a warning in the report, never a pass)."""

import pytest

from service.net import RemoteStatusListResolver, SafeFetcher
from service.vc.status_list import BitstringStatusList, StatusListUnavailable
from tests.net.local_server import fixed_resolver, respond, respond_json

EMPTY_LIST = BitstringStatusList().encode()


class Clock:
    """A monotonic clock the test moves by hand (seconds)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def status_list(ttl_ms=None) -> dict:
    subject = {
        "id": "https://issuer.example/status/1#list",
        "type": "BitstringStatusList",
        "statusPurpose": "revocation",
        "encodedList": EMPTY_LIST,
    }
    if ttl_ms is not None:
        subject["ttl"] = ttl_ms
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "https://issuer.example/status/1",
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": "did:example:issuer",
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": subject,
    }


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def resolver_for(loopback_fetcher, clock):
    def build(**options) -> RemoteStatusListResolver:
        return RemoteStatusListResolver(loopback_fetcher(), clock=clock, **options)

    return build


def test_it_fetches_the_list_as_json_asking_for_credential_media_types(server, resolver_for):
    server.routes["/status/1"] = respond_json(status_list())
    document = resolver_for().resolve(server.url("/status/1"))
    assert document == status_list()
    accept = server.requests[0].headers["accept"]
    assert "application/vc+ld+json" in accept and "application/json" in accept


def test_within_its_ttl_the_list_comes_from_the_cache_and_after_it_is_fetched_again(server, resolver_for, clock):
    server.routes["/status/1"] = respond_json(status_list(ttl_ms=60_000))
    resolver = resolver_for()
    resolver.resolve(server.url("/status/1"))
    clock.now += 59
    resolver.resolve(server.url("/status/1"))
    assert server.hits("/status/1") == 1
    clock.now += 2
    resolver.resolve(server.url("/status/1"))
    assert server.hits("/status/1") == 2


def test_without_a_ttl_the_default_applies_and_a_ttl_is_never_honoured_past_the_cap(server, resolver_for, clock):
    server.routes["/plain"] = respond_json(status_list())
    server.routes["/forever"] = respond_json(status_list(ttl_ms=10**12))
    resolver = resolver_for(default_ttl=300, max_ttl=3600)
    for path in ("/plain", "/forever"):
        resolver.resolve(server.url(path))
    clock.now += 299
    for path in ("/plain", "/forever"):
        resolver.resolve(server.url(path))
    assert (server.hits("/plain"), server.hits("/forever")) == (1, 1)
    clock.now += 2
    resolver.resolve(server.url("/plain"))
    assert server.hits("/plain") == 2
    clock.now += 3600
    resolver.resolve(server.url("/forever"))
    assert server.hits("/forever") == 2


def test_without_a_ttl_http_freshness_decides(server, resolver_for, clock):
    server.routes["/max-age"] = respond_json({"revokedCredentials": []}, {"Cache-Control": "public, max-age=10"})
    server.routes["/no-store"] = respond_json({"revokedCredentials": []}, {"Cache-Control": "no-store"})
    resolver = resolver_for()
    for _ in range(2):
        resolver.resolve(server.url("/max-age"))
        resolver.resolve(server.url("/no-store"))
    assert (server.hits("/max-age"), server.hits("/no-store")) == (1, 2)
    clock.now += 11
    resolver.resolve(server.url("/max-age"))
    assert server.hits("/max-age") == 2


def test_callers_get_a_copy_they_cannot_use_to_poison_the_cache(server, resolver_for):
    server.routes["/status/1"] = respond_json(status_list(ttl_ms=60_000))
    resolver = resolver_for()
    resolver.resolve(server.url("/status/1"))["credentialSubject"]["encodedList"] = "tampered"
    assert resolver.resolve(server.url("/status/1")) == status_list(ttl_ms=60_000)


@pytest.mark.parametrize(
    "route, reason",
    [
        (respond(404, b"gone"), "http_error"),
        (respond(500, b"oops"), "http_error"),
        (respond(200, b"<html>not json</html>"), "JSON"),
        (respond(200, b"[1, 2, 3]"), "JSON object"),
        (respond(200, b"[" * 100_000), "JSON"),
    ],
)
def test_any_failure_to_obtain_a_json_object_is_unavailable(server, resolver_for, route, reason):
    server.routes["/status/1"] = route
    with pytest.raises(StatusListUnavailable, match=reason):
        resolver_for().resolve(server.url("/status/1"))


def test_an_oversized_list_is_unavailable(server, resolver_for):
    server.routes["/huge"] = respond_json({"padding": "x" * 5000})
    with pytest.raises(StatusListUnavailable, match="too_large"):
        resolver_for(max_bytes=1000).resolve(server.url("/huge"))


def test_failures_are_not_cached(server, resolver_for):
    server.routes["/flaky"] = respond(503, b"")
    resolver = resolver_for()
    with pytest.raises(StatusListUnavailable):
        resolver.resolve(server.url("/flaky"))
    server.routes["/flaky"] = respond_json(status_list())
    assert resolver.resolve(server.url("/flaky"))["id"] == "https://issuer.example/status/1"


def test_the_default_resolver_refuses_private_addresses_and_plain_http():
    resolver = RemoteStatusListResolver(SafeFetcher(resolver=fixed_resolver({"intranet.example": ["10.0.0.7"]})))
    with pytest.raises(StatusListUnavailable, match="not allowed or could not be reached"):
        resolver.resolve("https://intranet.example/status/1")
    with pytest.raises(StatusListUnavailable, match="not allowed or could not be reached"):
        RemoteStatusListResolver().resolve("https://169.254.169.254/latest/meta-data/")
    with pytest.raises(StatusListUnavailable, match="bad_scheme"):
        RemoteStatusListResolver().resolve("http://issuer.example/status/1")
