"""A credential issued through the API verifies with an independent verifier.

digitalbazaar's `@digitalbazaar/vc` + `eddsa-rdfc-2022-cryptosuite` (tests/interop/node) gets the
JSON-LD exactly as the API serves it, and the issuer's DID document and the credential's two status
lists exactly as the service publishes them: nothing from SkillCred's own verifier is involved.
"""

from __future__ import annotations

import json

import pytest

from tests.credentials.helpers import resolve_map
from tests.interop.node_verifier import NodeVC, ensure_node_modules

pytestmark = pytest.mark.interop


@pytest.fixture(scope="session")
def node_vc() -> NodeVC:
    ensure_node_modules()
    return NodeVC()


@pytest.mark.parametrize(
    "recipient", [{"email": "ada@example.org"}, {"did": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}]
)
def test_an_issued_credential_verifies_with_the_javascript_verifier(
    api, issuer, achievement, node_vc, tmp_path, recipient
):
    issued = api.issue(
        achievement["id"],
        recipient,
        valid_until="2099-01-01T00:00:00Z",
        evidence=[{"id": "https://github.com/ada/tested-project", "name": "Tested project"}],
        results=[{"result_description": "Grade", "value": "A"}],
    )
    text = api.client.get(f"/v1/credentials/{issued['id']}/jsonld", headers=api.admin).text

    result = node_vc.verify(text, resolve=resolve_map(api.client, issuer, json.loads(text), tmp_path))

    assert result.verified, result.errors
    assert result.checks == {"signature": True, "purpose": True, "status": True}


def test_the_javascript_verifier_rejects_a_tampered_credential(api, issuer, achievement, node_vc, tmp_path):
    issued = api.issue(achievement["id"])
    credential = issued["credential"]
    credential["credentialSubject"]["achievement"]["name"] = "Something else"
    result = node_vc.verify(credential, resolve=resolve_map(api.client, issuer, credential, tmp_path))

    assert not result.verified
    assert result.checks["signature"] is False
