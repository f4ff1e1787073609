"""Pinning the vetted IP keeps TLS honest: SNI and the certificate are checked for the host name."""

from ipaddress import ip_network

import pytest

from service.net import BadScheme, SafeFetcher, Unreachable
from tests.net.local_server import LocalServer, fixed_resolver, make_tls_contexts, respond

LOOPBACK_ONLY = [ip_network("127.0.0.1/32")]


@pytest.fixture
def tls_server(tmp_path):
    """An HTTPS server on 127.0.0.1 whose certificate names ``status.test``; its
    ``client_context`` trusts the test CA (and, like the default, verifies host names)."""
    server_context, client_context = make_tls_contexts(tmp_path, "status.test")
    with LocalServer(tls=server_context) as server:
        server.client_context = client_context
        yield server


def fetcher_for(server, names: dict[str, list[str]]) -> SafeFetcher:
    return SafeFetcher(
        resolver=fixed_resolver(names), allowed_networks=LOOPBACK_ONLY, ssl_context=server.client_context
    )


def test_https_to_a_pinned_address_sends_sni_and_verifies_the_certificate_for_the_name(tls_server):
    tls_server.routes["/list"] = respond(200, b"{}")
    result = fetcher_for(tls_server, {"status.test": ["127.0.0.1"]}).fetch(tls_server.url("/list", host="status.test"))
    assert (result.status, result.address) == (200, "127.0.0.1")
    assert tls_server.sni == ["status.test"]
    assert tls_server.requests[0].headers["host"] == f"status.test:{tls_server.port}"


def test_a_certificate_for_another_name_is_refused_even_at_the_right_address(tls_server):
    tls_server.routes["/list"] = respond(200, b"{}")
    fetcher = fetcher_for(tls_server, {"impostor.test": ["127.0.0.1"]})
    with pytest.raises(Unreachable, match="TLS"):
        fetcher.fetch(tls_server.url("/list", host="impostor.test"))
    assert tls_server.requests == []


def test_a_certificate_from_an_untrusted_authority_is_refused(tls_server):
    tls_server.routes["/list"] = respond(200, b"{}")
    fetcher = SafeFetcher(resolver=fixed_resolver({"status.test": ["127.0.0.1"]}), allowed_networks=LOOPBACK_ONLY)
    with pytest.raises(Unreachable, match="TLS"):
        fetcher.fetch(tls_server.url("/list", host="status.test"))


def test_a_redirect_from_https_down_to_http_is_refused(tls_server):
    tls_server.routes["/down"] = respond(302, b"", {"Location": "http://status.test/list"})
    with pytest.raises(BadScheme):
        fetcher_for(tls_server, {"status.test": ["127.0.0.1"]}).fetch(tls_server.url("/down", host="status.test"))
