"""A credential issued through the API verifies with an independent verifier.

digitalbazaar's `@digitalbazaar/vc` + `eddsa-rdfc-2022-cryptosuite` (tests/interop/node) gets the
JSON-LD exactly as the API serves it, and the issuer's DID document exactly as the service
publishes it at its did:web URL: nothing from SkillCred's own verifier is involved.
"""

from __future__ import annotations

import json

import pytest

from tests.credentials.helpers import did_document
from tests.interop.node_verifier import NodeVC, ensure_node_modules

pytestmark = pytest.mark.interop


@pytest.fixture(scope="session")
def node_vc() -> NodeVC:
    ensure_node_modules()
    return NodeVC()


@pytest.mark.parametrize("recipient", [{"email": "ada@example.org"},
                                       {"did": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}])
def test_an_issued_credential_verifies_with_the_javascript_verifier(api, issuer, achievement, node_vc,
                                                                    tmp_path, recipient):
    issued = api.issue(achievement["id"], recipient, valid_until="2099-01-01T00:00:00Z",
                       evidence=[{"id": "https://github.com/ada/tested-project", "name": "Tested project"}],
                       results=[{"result_description": "Grade", "value": "A"}])
    text = api.client.get(f"/v1/credentials/{issued['id']}/jsonld", headers=api.admin).text
    did_json = tmp_path / "did.json"
    did_json.write_text(json.dumps(did_document(api.client, issuer)))

    result = node_vc.verify(text, resolve={issuer["did"]: did_json})

    assert result.verified, result.errors
    assert result.checks.get("signature") is True and result.checks.get("purpose") is True


def test_the_javascript_verifier_rejects_a_tampered_credential(api, issuer, achievement, node_vc, tmp_path):
    issued = api.issue(achievement["id"])
    credential = issued["credential"]
    credential["credentialSubject"]["achievement"]["name"] = "Something else"
    did_json = tmp_path / "did.json"
    did_json.write_text(json.dumps(did_document(api.client, issuer)))

    result = node_vc.verify(credential, resolve={issuer["did"]: did_json})

    assert not result.verified
