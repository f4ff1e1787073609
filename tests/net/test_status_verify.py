"""End to end: verify() reads other issuers' status lists over HTTP through RemoteStatusListResolver."""

from datetime import UTC, datetime

import pytest

from service.net import RemoteStatusListResolver
from service.vc import data_integrity
from service.vc.keys import did_key_signer
from service.vc.status_list import (
    BitstringStatusList,
    build_status_entry,
    build_status_list_credential,
)
from service.vc.verify import verify
from tests.net.local_server import respond, respond_json
from tests.standards import OB3_IMPL_GUIDE, load_json
from tests.vc.conftest import load_key_file

NOW = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def signer():
    return did_key_signer(load_key_file("issuer-ed25519.json"))


@pytest.fixture
def unsigned(signer) -> dict:
    credential = load_json(OB3_IMPL_GUIDE / "unsigned-credential.json")
    credential["issuer"]["id"] = signer.verification_method.split("#")[0]
    return credential


def test_a_bitstring_list_fetched_over_http_revokes_a_credential(server, loopback_fetcher, signer, unsigned):
    list_url = server.url("/status/1")
    bits = BitstringStatusList()
    bits.set(7, 1)
    list_credential = data_integrity.sign(
        build_status_list_credential(
            list_id=list_url,
            issuer=unsigned["issuer"]["id"],
            status_purpose="revocation",
            encoded_list=bits.encode(),
            valid_from="2024-01-01T00:00:00Z",
            ttl_ms=60_000,
        ),
        signer,
    )
    server.routes["/status/1"] = respond_json(list_credential)
    unsigned["credentialStatus"] = build_status_entry(list_credential_url=list_url, index=7, purpose="revocation")
    credential = data_integrity.sign(unsigned, signer)

    report = verify(credential, status_resolver=RemoteStatusListResolver(loopback_fetcher()), now=NOW)
    assert not report.verified and report.check("status.revocation").outcome == "failed"


def test_a_1edtech_revocation_list_fetched_over_http_is_read(server, loopback_fetcher, signer, unsigned):
    list_url = server.url("/revocations")
    unsigned["@context"].append("https://purl.imsglobal.org/spec/ob/v3p0/extensions.json")
    unsigned["credentialStatus"] = {"id": list_url, "type": "1EdTechRevocationList"}
    credential = data_integrity.sign(unsigned, signer)
    resolver = RemoteStatusListResolver(loopback_fetcher())

    server.routes["/revocations"] = respond_json({"id": list_url, "revokedCredentials": []})
    assert verify(credential, status_resolver=resolver, now=NOW).check("status.revocation").outcome == "passed"

    resolver.forget()
    server.routes["/revocations"] = respond_json(
        {"id": list_url, "revokedCredentials": [{"id": credential["id"], "revocationReason": "Withdrawn"}]}
    )
    check = verify(credential, status_resolver=resolver, now=NOW).check("status.revocation")
    assert check.outcome == "failed" and "Withdrawn" in check.reason

    resolver.forget()
    server.routes["/revocations"] = respond(503, b"")
    assert verify(credential, status_resolver=resolver, now=NOW).check("status.revocation").outcome == "warning"
