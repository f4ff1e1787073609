"""digitalbazaar's JavaScript verifier accepts the DID documents the service serves.

The documents hold an Ed25519 Multikey, an RSA JsonWebKey and, after a rotation, retired keys:
credentials signed before and after the rotation must verify through the document as served at
the URL did:web resolution fetches (the verifier's loader maps that DID to the served JSON).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.issuers.service import active_signer
from service.vc import data_integrity
from tests.interop.node_verifier import NodeVC, ensure_node_modules
from tests.issuers.conftest import load_issuer, unsigned_badge

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def node_vc() -> NodeVC:
    ensure_node_modules()
    return NodeVC()


def test_js_verifies_credentials_signed_before_and_after_a_rotation_through_the_served_documents(
    client, api, app, db, node_vc, tmp_path: Path
):
    host, path = api.create_issuer("Host"), api.create_issuer("Path")
    served_at = {host["id"]: "/.well-known/did.json", path["id"]: f"/issuers/{path['id']}/did.json"}
    for issuer in (host, path):
        stored = load_issuer(db, issuer["id"])
        unsigned = unsigned_badge(stored)

        def sign(stored=stored, unsigned=unsigned) -> dict:
            with db() as session:
                signer = active_signer(session, app.state.keystore, stored, "EdDSA")
            return data_integrity.sign(unsigned, signer, proof_as_list=True)

        before = sign()
        assert client.post(f"/v1/issuers/{issuer['id']}/keys/rotate", headers=api.admin).status_code == 200
        after = sign()
        document = client.get(served_at[issuer["id"]]).json()
        assert len(document["verificationMethod"]) == 4  # key-1, rsa-1 (retired), key-2, rsa-2
        did_json = tmp_path / f"{issuer['id']}.json"
        did_json.write_text(json.dumps(document))
        for signed, fragment in ((before, "key-1"), (after, "key-2")):
            assert signed["proof"][0]["verificationMethod"] == f"{issuer['did']}#{fragment}"
            result = node_vc.verify(signed, resolve={issuer["did"]: did_json})
            assert result.verified, result.raw
        # and the retired key is what keeps the old credential valid: without it, it fails
        old = f"{issuer['did']}#key-1"
        pruned = {
            **document,
            "verificationMethod": [m for m in document["verificationMethod"] if m["id"] != old],
            "assertionMethod": [m for m in document["assertionMethod"] if m != old],
        }
        did_json.write_text(json.dumps(pruned))
        assert not node_vc.verify(before, resolve={issuer["did"]: did_json}).verified
