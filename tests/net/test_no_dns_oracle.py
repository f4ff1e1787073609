"""Issue 9, item 6: refusals never echo what a host name resolved to.

An anonymous ``POST /v1/verify`` makes the service resolve the credential's did:web (and its
status list URLs). If the report said "resolves to 127.0.0.1", or told a refused internal name
from one that does not resolve, anyone could map the service's internal DNS. Clients get one
generic reason for both; the log keeps the detail for operators.
"""

from __future__ import annotations

import logging
import socket

import pytest

from service.net.did_web import RemoteDidWebResolver
from service.net.errors import NOT_ALLOWED_OR_UNREACHABLE, BlockedAddress, Unreachable
from service.net.fetch import SafeFetcher
from service.net.status import RemoteStatusListResolver, StatusListUnavailable
from service.vc.errors import KeyResolutionError
from service.vc.jose import decode_vc_jwt_unverified, encode_compact_jws
from service.vc.keys import LocalSigner, generate_ed25519
from tests.credentials.conftest import achievement, issuer  # noqa: F401 (fixtures)
from tests.credentials.helpers import MEDIA_TYPES
from tests.net.local_server import fixed_resolver

pytestmark = pytest.mark.attack

INTERNAL = {"db.internal.example": ["10.20.30.40"], "meta.internal.example": ["169.254.169.254"]}


_resolver = fixed_resolver(INTERNAL)  # any other name: socket.gaierror, as for a name that does not exist


def _reason(call) -> str:
    with pytest.raises((KeyResolutionError, StatusListUnavailable)) as caught:
        call()
    return str(caught.value)


@pytest.mark.parametrize("host", ["db.internal.example", "meta.internal.example", "no-such-name.example"])
def test_a_did_web_on_an_internal_or_unknown_name_gets_the_same_generic_reason(host):
    resolver = RemoteDidWebResolver(SafeFetcher(resolver=_resolver))
    reason = _reason(lambda: resolver.resolve(f"did:web:{host}#key-1"))
    assert NOT_ALLOWED_OR_UNREACHABLE in reason
    for detail in ("10.20.30.40", "169.254.169.254", "resolves", "public address", "is not known"):
        assert detail not in reason


def test_status_list_urls_on_internal_and_unknown_names_read_alike():
    resolver = RemoteStatusListResolver(SafeFetcher(resolver=_resolver))
    internal = _reason(lambda: resolver.resolve("https://db.internal.example/status/1"))
    unknown = _reason(lambda: resolver.resolve("https://no-such-name.example/status/1"))
    assert internal.replace("db.internal", "X") == unknown.replace("no-such-name", "X")
    assert "10.20.30.40" not in internal


def test_the_fetcher_errors_name_no_address_but_the_log_does(caplog):
    fetcher = SafeFetcher(resolver=_resolver)
    with caplog.at_level(logging.INFO, logger="skillcred.net"):
        with pytest.raises(BlockedAddress) as blocked:
            fetcher.fetch("https://db.internal.example/")
        with pytest.raises(Unreachable) as unknown:
            fetcher.fetch("https://no-such-name.example/")
    assert "10.20.30.40" not in str(blocked.value) and "is not known" not in str(unknown.value)
    assert "10.20.30.40" in caplog.text  # operators keep the detail


def test_a_failed_connection_names_no_address():
    closed = SafeFetcher(
        resolver=fixed_resolver({"closed.example": ["127.0.0.1"]}), allowed_networks=[_loopback()], timeout=2
    )
    with pytest.raises(Unreachable) as caught:
        closed.fetch(f"https://closed.example:{_closed_port()}/")
    assert "127.0.0.1" not in str(caught.value)


def _loopback():
    from ipaddress import ip_network

    return ip_network("127.0.0.0/8")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_verify_reports_a_did_web_on_localhost_without_its_address(api, achievement):  # noqa: F811
    issued = api.issue(achievement["id"], {"email": "ada@example.org"})
    token = api.client.get(f"/v1/credentials/{issued['id']}/jwt", headers=api.admin).text
    reports = {}
    for host in ("localhost", "no-such-name.invalid"):
        header, payload = decode_vc_jwt_unverified(token)
        payload["iss"] = f"did:web:{host}"
        stranger = LocalSigner(generate_ed25519(), f"did:web:{host}#key-1")
        forged = encode_compact_jws({"alg": "EdDSA", "kid": f"did:web:{host}#key-1"}, payload, stranger)
        response = api.client.post("/v1/verify", content=forged, headers={"Content-Type": MEDIA_TYPES["jwt"]})
        assert response.status_code == 200, response.text
        assert response.json()["verified"] is False
        reports[host] = response.text
    for address in ("127.0.0.1", "::1", "resolves to", "public address"):
        assert address not in reports["localhost"]
    assert NOT_ALLOWED_OR_UNREACHABLE in reports["localhost"]
    assert NOT_ALLOWED_OR_UNREACHABLE in reports["no-such-name.invalid"]
