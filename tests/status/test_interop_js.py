"""End to end with the independent JavaScript verifier (digitalbazaar's `@digitalbazaar/vc` with
`@digitalbazaar/vc-bitstring-status-list`): it gets the credential, the issuer's DID document and
both status lists exactly as the service publishes them, through a local map, never the network.

Issue -> it verifies; revoke -> once the list is re-signed (a 1 s interval here) it rejects.
Suspend -> rejected; unsuspend -> verified again.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from service.vc.status_list import BitstringStatusList
from tests.credentials.helpers import resolve_map
from tests.interop.node_verifier import NodeResult, NodeVC, ensure_node_modules
from tests.status.helpers import Entry, change, entries, resigner_round, served_list

pytestmark = [
    pytest.mark.interop,
    pytest.mark.parametrize("status_settings", [{"status_list_resign_interval_seconds": 1}]),
]


@pytest.fixture(scope="session")
def node_vc() -> NodeVC:
    ensure_node_modules()
    return NodeVC()


@pytest.fixture
def js_verify(api, issuer, node_vc, tmp_path):
    """Verify a credential with the JS verifier, with the lists as published right now."""
    rounds = iter(range(100))

    def run(credential: dict[str, Any]) -> NodeResult:
        folder = tmp_path / f"round-{next(rounds)}"
        folder.mkdir()
        return node_vc.verify(credential, resolve=resolve_map(api.client, issuer, credential, folder))

    return run


def wait_for_republication(api, entry: Entry, etag: str) -> None:
    """Run the re-signer's rounds until it publishes a new signature (the interval is 1 s)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        resigner_round(api.client.app)
        if served_list(api.client, entry).headers["etag"] != etag:
            return
        time.sleep(0.2)
    raise AssertionError(f"{entry.url} was not re-signed")


def test_a_revocation_reaches_the_javascript_verifier_once_the_list_is_re_signed(api, achievement, js_verify):
    issued = api.issue(achievement["id"])
    credential = issued["credential"]
    revocation = entries(credential)["revocation"]
    verified = js_verify(credential)
    assert verified.verified, verified.errors
    assert verified.checks == {"signature": True, "purpose": True, "status": True}

    etag = served_list(api.client, revocation).headers["etag"]
    assert change(api, issued["id"], "revoke", "Issued in error").status_code == 200
    wait_for_republication(api, revocation, etag)
    rejected = js_verify(credential)

    assert not rejected.verified
    assert rejected.checks == {"signature": True, "purpose": True, "status": False}
    assert rejected.errors == [f"Credential status: revocation bit {revocation.index} of {revocation.url} is set."]


def test_a_suspension_is_rejected_and_its_lifting_accepted_by_the_javascript_verifier(api, achievement, js_verify):
    issued = api.issue(achievement["id"])
    credential = issued["credential"]
    suspension = entries(credential)["suspension"]
    assert js_verify(credential).verified

    etag = served_list(api.client, suspension).headers["etag"]
    assert change(api, issued["id"], "suspend", "Under review").status_code == 200
    wait_for_republication(api, suspension, etag)
    rejected = js_verify(credential)
    assert not rejected.verified
    assert rejected.errors == [f"Credential status: suspension bit {suspension.index} of {suspension.url} is set."]

    etag = served_list(api.client, suspension).headers["etag"]
    assert change(api, issued["id"], "unsuspend", "Review closed").status_code == 200
    wait_for_republication(api, suspension, etag)
    restored = js_verify(credential)
    assert restored.verified, restored.errors


def test_a_list_edited_after_signing_is_refused_by_the_javascript_verifier(
    api, issuer, achievement, node_vc, tmp_path: Path
):
    credential = api.issue(achievement["id"])["credential"]
    revocation = entries(credential)["revocation"]
    files = resolve_map(api.client, issuer, credential, tmp_path)
    forged = json.loads(files[revocation.url].read_text())
    bits = BitstringStatusList()
    bits.set(revocation.index, 1)
    forged["credentialSubject"]["encodedList"] = bits.encode()  # "revoked", without the issuer's key
    files[revocation.url].write_text(json.dumps(forged))

    result = node_vc.verify(credential, resolve=files)

    assert not result.verified
    assert any('"BitstringStatusListCredential" not verified' in error for error in result.errors)
