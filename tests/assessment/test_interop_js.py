"""A credential that says how it was assessed verifies with the independent JavaScript verifier.

digitalbazaar's `@digitalbazaar/vc` (tests/interop/node) loads SkillCred's context from the bundled
contexts' URL map, like every other context: nothing is fetched. The assessment statement is part
of what it checks the signature over.
"""

from __future__ import annotations

import json

import pytest

from service.vc.skillcred import SKILLCRED_V1
from tests.credentials.helpers import resolve_map
from tests.interop.node_verifier import NodeVC, ensure_node_modules

pytestmark = pytest.mark.interop


@pytest.fixture(scope="session")
def node_vc() -> NodeVC:
    ensure_node_modules()
    return NodeVC()


def test_an_assessed_credential_verifies_with_the_javascript_verifier(cast, node_vc, tmp_path):
    assessment = cast.submitted()
    text = cast.client.get(f"/v1/credentials/{assessment['credential_id']}/jsonld", headers=cast.earner).text
    credential = json.loads(text)
    assert SKILLCRED_V1 in credential["@context"] and credential["credentialSubject"]["assessment"]
    assert all("digestMultibase" in entry for entry in credential["evidence"])

    files = resolve_map(cast.client, cast.issuer, credential, tmp_path)
    result = node_vc.verify(text, resolve=files)
    assert result.verified, result.errors
    assert result.checks == {"signature": True, "purpose": True, "status": True}

    credential["credentialSubject"]["assessment"]["assessorKind"] = "human expert"
    tampered = node_vc.verify(credential, resolve=files)
    assert not tampered.verified and tampered.checks["signature"] is False
