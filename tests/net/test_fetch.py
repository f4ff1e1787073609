"""SafeFetcher against a real local server: what it fetches, what it caps, and what it refuses."""

import socket
import time
from ipaddress import ip_network

import pytest

from service.net import (
    BadScheme,
    BadUrl,
    BlockedAddress,
    FetchTimeout,
    HttpError,
    SafeFetcher,
    TooLarge,
    TooManyRedirects,
    Unreachable,
)
from tests.net.local_server import (
    drip,
    echo_host,
    endless,
    fixed_resolver,
    gzipped,
    no_dns,
    redirect,
    respond,
    slow,
)

# --- what it fetches ----------------------------------------------------------------------------


def test_a_fetch_returns_status_headers_body_and_the_address_connected_to(server, loopback_fetcher):
    server.routes["/ok"] = respond(200, b'{"ok": true}', {"Content-Type": "application/json", "X-Two": "a"})
    result = loopback_fetcher().fetch(server.url("/ok"), accept="application/json")
    assert (result.status, result.content, result.address) == (200, b'{"ok": true}', "127.0.0.1")
    assert result.headers["content-type"] == "application/json" and result.headers["x-two"] == "a"
    assert result.url == server.url("/ok")
    sent = server.requests[0].headers
    assert sent["accept"] == "application/json" and sent["accept-encoding"] == "identity"


def test_the_host_header_names_the_host_and_port_of_the_url_not_the_ip(server, loopback_fetcher):
    server.routes["/host"] = echo_host()
    fetcher = loopback_fetcher(resolver=fixed_resolver({"status.test": ["127.0.0.1"]}))
    result = fetcher.fetch(server.url("/host", host="status.test"))
    assert result.content == f"status.test:{server.port}".encode()


def test_dns_is_asked_once_and_the_connection_goes_to_the_address_that_was_checked(server, loopback_fetcher):
    # DNS rebinding: the first answer passes the check, a later one would point elsewhere.
    server.routes["/ok"] = respond(200, b"vetted")
    answers = iter([["127.0.0.1"], ["127.0.0.2"], ["10.0.0.1"]])
    calls = []

    def rebinding(host, port, **kwargs):
        calls.append(host)
        return fixed_resolver({host: next(answers)})(host, port)

    result = loopback_fetcher(resolver=rebinding).fetch(server.url("/ok", host="rebind.test"))
    assert calls == ["rebind.test"]
    assert result.address == "127.0.0.1" and result.content == b"vetted"


def test_when_the_first_vetted_address_refuses_the_next_one_is_tried(server):
    server.routes["/ok"] = respond(200, b"second")
    fetcher = SafeFetcher(
        allow_http=True,
        resolver=fixed_resolver({"two.test": ["127.0.0.2", "127.0.0.1"]}),  # nothing on .2
        allowed_networks=[ip_network("127.0.0.0/30")],
    )
    result = fetcher.fetch(server.url("/ok", host="two.test"))
    assert result.address == "127.0.0.1"


def test_redirects_are_followed_up_to_the_cap_relative_locations_included(server, loopback_fetcher):
    server.routes["/a"] = redirect(server.url("/b"), 301)
    server.routes["/b"] = redirect("/c", 307)
    server.routes["/c"] = redirect("d", 308)
    server.routes["/d"] = respond(200, b"end")
    result = loopback_fetcher(max_redirects=3).fetch(server.url("/a"))
    assert result.content == b"end" and result.url == server.url("/d")


def test_one_redirect_more_than_the_cap_is_refused(server, loopback_fetcher):
    for here, there in [("/1", "/2"), ("/2", "/3"), ("/3", "/4"), ("/4", "/5")]:
        server.routes[here] = redirect(there)
    server.routes["/5"] = respond(200, b"too far")
    with pytest.raises(TooManyRedirects) as caught:
        loopback_fetcher(max_redirects=3).fetch(server.url("/1"))
    assert caught.value.code == "too_many_redirects" and server.hits("/5") == 0


def test_a_redirect_loop_ends_at_the_cap(server, loopback_fetcher):
    server.routes["/loop"] = redirect("/loop")
    with pytest.raises(TooManyRedirects):
        loopback_fetcher().fetch(server.url("/loop"))
    assert server.hits("/loop") == 4  # the first request and three redirects


# --- caps -----------------------------------------------------------------------------------------


def test_a_body_declared_larger_than_the_cap_is_refused(server, loopback_fetcher):
    server.routes["/big"] = respond(200, b"x" * 2048)
    with pytest.raises(TooLarge) as caught:
        loopback_fetcher(max_bytes=1024).fetch(server.url("/big"))
    assert caught.value.code == "too_large"
    assert loopback_fetcher(max_bytes=2048).fetch(server.url("/big")).content == b"x" * 2048


def test_a_per_call_cap_overrides_the_fetchers(server, loopback_fetcher):
    server.routes["/big"] = respond(200, b"x" * 2048)
    with pytest.raises(TooLarge):
        loopback_fetcher().fetch(server.url("/big"), max_bytes=100)


def test_an_endless_body_is_cut_off_just_past_the_cap(server, loopback_fetcher):
    server.routes["/endless"] = endless(server)
    started = time.monotonic()
    with pytest.raises(TooLarge):
        loopback_fetcher(max_bytes=1_000_000, timeout=10).fetch(server.url("/endless"))
    assert time.monotonic() - started < 5


def test_a_gzip_body_is_decoded_and_its_expansion_is_capped(server, loopback_fetcher):
    server.routes["/gz"] = gzipped(b"a" * 10_000)
    assert loopback_fetcher().fetch(server.url("/gz")).content == b"a" * 10_000
    with pytest.raises(TooLarge):
        loopback_fetcher(max_bytes=5_000).fetch(server.url("/gz"))


def test_a_slow_server_times_out_within_the_budget(server, loopback_fetcher):
    server.routes["/slow"] = slow(server, 10)
    started = time.monotonic()
    with pytest.raises(FetchTimeout) as caught:
        loopback_fetcher(timeout=0.5).fetch(server.url("/slow"))
    assert caught.value.code == "timeout" and time.monotonic() - started < 2


def test_a_server_dripping_bytes_cannot_stretch_the_total_time(server, loopback_fetcher):
    server.routes["/drip"] = drip(server, interval=0.05)  # each read succeeds well within any timeout
    started = time.monotonic()
    with pytest.raises(FetchTimeout):
        loopback_fetcher(timeout=0.6).fetch(server.url("/drip"))
    assert time.monotonic() - started < 2


def test_slow_name_resolution_counts_against_the_budget(loopback_fetcher):
    def hanging(host, port, **kwargs):
        time.sleep(3)
        return []

    started = time.monotonic()
    with pytest.raises(FetchTimeout):
        loopback_fetcher(resolver=hanging, timeout=0.3).fetch("http://slow-dns.test/")
    assert time.monotonic() - started < 1.5


# --- failures that are not refusals -------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 500, 304])
def test_a_final_answer_outside_2xx_is_an_http_error_with_its_status(server, loopback_fetcher, status):
    server.routes["/x"] = respond(status, b"")
    with pytest.raises(HttpError) as caught:
        loopback_fetcher().fetch(server.url("/x"))
    assert caught.value.code == "http_error" and caught.value.status == status


def test_a_redirect_without_a_location_is_an_http_error(server, loopback_fetcher):
    server.routes["/nowhere"] = respond(302, b"")
    with pytest.raises(HttpError):
        loopback_fetcher().fetch(server.url("/nowhere"))


def test_a_closed_port_and_an_unknown_host_are_unreachable(loopback_fetcher):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with pytest.raises(Unreachable) as caught:
        loopback_fetcher().fetch(f"http://127.0.0.1:{closed}/")
    assert caught.value.code == "unreachable"
    with pytest.raises(Unreachable):
        loopback_fetcher(resolver=fixed_resolver({})).fetch("http://no-such-host.test/")


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.0.1",
        "192.168.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::]",
        "[fd00::1]",
        "[fe80::1]",
    ],
)
def test_the_default_fetcher_refuses_non_public_address_literals_without_connecting(server, host):
    server.routes["/ok"] = respond(200, b"must not be reached")
    fetcher = SafeFetcher(allow_http=True, resolver=no_dns, timeout=1)
    with pytest.raises(BlockedAddress) as caught:
        fetcher.fetch(f"http://{host}:{server.port}/ok")
    assert caught.value.code == "blocked_address"
    assert server.requests == []


def test_a_host_name_that_resolves_to_a_private_address_is_refused():
    fetcher = SafeFetcher(resolver=fixed_resolver({"internal.example": ["10.1.2.3"]}))
    with pytest.raises(BlockedAddress, match="internal.example is not an allowed host") as caught:
        fetcher.fetch("https://internal.example/status/1")
    assert "10.1.2.3" not in str(caught.value)  # the message never says what the name resolved to


def test_one_private_address_among_public_ones_is_enough_to_refuse():
    resolver = fixed_resolver({"mixed.example": ["93.184.215.14", "2606:4700::1111", "127.0.0.1"]})
    with pytest.raises(BlockedAddress) as caught:
        SafeFetcher(resolver=resolver).fetch("https://mixed.example/")
    assert "127.0.0.1" not in str(caught.value)


@pytest.mark.parametrize(
    "private_target",
    [
        "http://10.1.2.3/secret",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://metadata.internal/",
    ],
)
def test_a_redirect_from_an_allowed_server_to_a_private_address_is_refused(server, loopback_fetcher, private_target):
    server.routes["/hop"] = redirect(private_target)
    resolver = fixed_resolver({"metadata.internal": ["169.254.169.254"]})
    with pytest.raises(BlockedAddress):
        loopback_fetcher(resolver=resolver).fetch(server.url("/hop"))


def test_a_redirect_back_to_loopback_is_refused_when_loopback_is_not_allowed(server):
    # The allowance is per fetcher: an ordinary fetcher refuses every hop into loopback.
    resolver = fixed_resolver({"public.example": ["93.184.215.14"]})
    server.routes["/hop"] = redirect(server.url("/ok"))
    with pytest.raises(BlockedAddress):
        SafeFetcher(allow_http=True, resolver=resolver).fetch(server.url("/hop"))
    assert server.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.org/list.json",
        "gopher://example.org/",
        "data:application/json,{}",
        "javascript:alert(1)",
        "//example.org/no-scheme",
    ],
)
def test_schemes_other_than_https_are_refused_before_any_lookup(url):
    with pytest.raises(BadScheme) as caught:
        SafeFetcher(allow_http=True, resolver=no_dns).fetch(url)
    assert caught.value.code == "bad_scheme"


def test_plain_http_is_refused_unless_allowed():
    with pytest.raises(BadScheme, match="https"):
        SafeFetcher(resolver=no_dns).fetch("http://example.org/status/1")


@pytest.mark.parametrize(
    "url",
    [
        "https://user:secret@example.org/",
        "https://user@example.org/",
        "https:///no-host",
        "https://example.org:99999/",
        "https://exa mple.org/",
        "https://example.org/\r\nX-Injected: 1",
    ],
)
def test_malformed_urls_and_urls_with_credentials_are_refused(url):
    with pytest.raises(BadUrl) as caught:
        SafeFetcher(resolver=no_dns).fetch(url)
    assert caught.value.code == "bad_url"


def test_the_real_resolver_is_used_by_default_and_localhost_is_refused():
    with pytest.raises(BlockedAddress):
        SafeFetcher(timeout=2).fetch("https://localhost/status/1")
