"""A reissued credential with embedded endorsements, and each endorsement on its own, verify with
the independent JavaScript verifier (digitalbazaar's, tests/interop/node), fed only what the
service publishes (the one the issuer signs on a client's behalf carries SkillCred's
``credentialSubject.endorser`` and a status entry)."""

from __future__ import annotations

import json

import pytest

from tests.credentials.helpers import resolve_map
from tests.endorsements.conftest import accept, endorse_by_email, endorse_with_did
from tests.interop.node_verifier import NodeVC, ensure_node_modules

pytestmark = pytest.mark.interop


@pytest.fixture(scope="session")
def node_vc() -> NodeVC:
    ensure_node_modules()
    return NodeVC()


def test_a_reissued_credential_and_its_endorsements_verify_with_the_javascript_verifier(
    api, issuer, credential, earner, client_key, node_vc, tmp_path
):
    by_email = accept(api, endorse_by_email(api, credential["id"], name="Harvard University Registrar"), earner)
    by_did = accept(api, endorse_with_did(api, credential, client_key), earner)
    assert by_email["endorsement"]["credentialSubject"]["endorser"]["type"] == "SkillCredEndorser"
    reissued = api.client.post(f"/v1/credentials/{credential['id']}/reissue", headers=earner.headers).json()
    text = api.client.get(f"/v1/credentials/{reissued['id']}/jsonld", headers=earner.headers).text
    document = json.loads(text)
    assert len(document["endorsement"]) == 2 and document["refreshService"]["type"] == "1EdTechCredentialRefresh"

    result = node_vc.verify(text, resolve=resolve_map(api.client, issuer, document, tmp_path))
    assert result.verified, result.errors

    for number, endorsement in enumerate((by_email, by_did)):
        served = api.client.get(f"/endorsements/{endorsement['id']}").text
        folder = tmp_path / f"endorsement-{number}"
        folder.mkdir()
        # the issuer's DID document, and the revocation list of the one the issuer signed
        verdict = node_vc.verify(served, resolve=resolve_map(api.client, issuer, json.loads(served), folder))
        assert verdict.verified, verdict.errors
