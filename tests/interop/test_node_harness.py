"""The independent JavaScript verifier (dbvc.mjs) on the standard vectors, before SkillCred.

digitalbazaar's `@digitalbazaar/vc` + `eddsa-rdfc-2022-cryptosuite`, run offline with the
library's default checks. These tests pin what it accepts and rejects without any SkillCred
code, so a later interop failure points at SkillCred, not at the harness.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from interop_vectors import EDDSA_VECTORS, OB3_VECTORS, load_json, write_json
from node_verifier import NODE_DIR, NodeHarnessError, NodeResult, NodeVC

pytestmark = pytest.mark.interop

ISSUER_IS_NOT_KEY_CONTROLLER = "Credential issuer must match the verification method controller."
DID_V1 = "https://www.w3.org/ns/did/v1"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
SECURITY_V2 = "https://w3id.org/security/v2"


@pytest.fixture(scope="module")
def issued_by_vector_key(node_vc: NodeVC, vector_key_file: Path, vector_did: str) -> dict[str, Any]:
    """The W3C unsigned vector, issued by the vector key's did:key."""
    unsigned = load_json(EDDSA_VECTORS / "unsigned.json")
    return node_vc.sign({**unsigned, "issuer": vector_did}, vector_key_file)


# --- the harness itself ------------------------------------------------------------


def test_installed_libraries_are_the_locked_versions(node_modules: Path) -> None:
    declared = load_json(NODE_DIR / "package.json")["dependencies"]
    locked = load_json(NODE_DIR / "package-lock.json")["packages"]
    for name, version in declared.items():
        assert locked[f"node_modules/{name}"]["version"] == version, name
        assert load_json(node_modules / name / "package.json")["version"] == version, name


def test_every_context_both_bundle_is_the_same_json(node_vc: NodeVC) -> None:
    shared = [c for c in node_vc.context_comparison() if c["bundled_by_skillcred"]]
    assert {c["url"] for c in shared} >= {
        "https://www.w3.org/ns/credentials/v2",
        "https://www.w3.org/2018/credentials/v1",
    }
    assert all(c["same_json"] for c in shared), shared


def test_a_context_outside_the_bundle_is_refused_not_fetched(
    node_vc: NodeVC, issued_by_vector_key: dict[str, Any]
) -> None:
    credential = copy.deepcopy(issued_by_vector_key)
    credential["@context"].append("https://vc.example/contexts/unknown/v1")
    result = node_vc.verify(credential)
    assert not result.verified
    assert any("never fetched" in error for error in result.errors), result.errors


def test_did_key_cannot_be_overridden_with_resolve(
    node_vc: NodeVC, issued_by_vector_key: dict[str, Any], vector_did: str, tmp_path: Path
) -> None:
    forged = write_json(tmp_path / "forged.json", {"id": vector_did})
    with pytest.raises(NodeHarnessError, match="did:key resolves itself"):
        node_vc.verify(issued_by_vector_key, resolve={vector_did: forged})


def test_bench_reports_issue_and_verify_rates(node_vc: NodeVC) -> None:
    figures = node_vc.bench(OB3_VECTORS / "unsigned-credential.json", n=5, rounds=1)
    assert figures["n"] == 5
    assert figures["issue_per_s"] > 0
    assert figures["verify_per_s"] > 0
    assert "issuer set to the fresh did:key" in figures["notes"]


# --- the W3C eddsa-rdfc-2022 vector ------------------------------------------------


def test_signing_the_w3c_unsigned_vector_reproduces_its_proof(node_vc: NodeVC, vector_key_file: Path) -> None:
    signed_vector = load_json(EDDSA_VECTORS / "eddsa-rdfc-2022" / "signedDataInt.json")
    unsigned = load_json(EDDSA_VECTORS / "unsigned.json")
    signed = node_vc.sign(unsigned, vector_key_file, created=signed_vector["proof"]["created"])
    assert signed == signed_vector


def test_w3c_vector_signature_verifies_but_its_issuer_is_not_the_key_controller(
    node_vc: NodeVC,
) -> None:
    # The vector is issued by https://vc.example/issuers/5678 yet signed with a did:key;
    # digitalbazaar's CredentialIssuancePurpose requires the key's controller to be the issuer.
    result = node_vc.verify((EDDSA_VECTORS / "eddsa-rdfc-2022" / "signedDataInt.json").read_text())
    assert result.checks == {"signature": True, "purpose": False, "status": None}
    assert result.errors == [ISSUER_IS_NOT_KEY_CONTROLLER]
    assert not result.verified


def test_w3c_vector_with_a_changed_claim_fails_its_signature(node_vc: NodeVC) -> None:
    tampered = load_json(EDDSA_VECTORS / "eddsa-rdfc-2022" / "signedDataInt.json")
    tampered["credentialSubject"]["alumniOf"] = "The School of Forgery"
    result = node_vc.verify(tampered)
    assert not result.verified
    assert result.checks["signature"] is False
    assert "Invalid signature." in result.errors


# --- sign, then verify --------------------------------------------------------------


def test_a_credential_dbvc_signs_verifies(
    node_vc: NodeVC, issued_by_vector_key: dict[str, Any], vector_did: str
) -> None:
    proof = issued_by_vector_key["proof"]
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["verificationMethod"] == f"{vector_did}#{vector_did.removeprefix('did:key:')}"
    result = node_vc.verify(issued_by_vector_key)
    assert result.verified, result.errors
    assert result.errors == []
    assert result.checks == {"signature": True, "purpose": True, "status": None}


def test_verify_reads_the_credential_text_as_given(node_vc: NodeVC, issued_by_vector_key: dict[str, Any]) -> None:
    assert node_vc.verify(json.dumps(issued_by_vector_key, indent=4)).verified
    broken = node_vc.verify(json.dumps(issued_by_vector_key)[:-1])
    assert not broken.verified
    assert broken.errors[0].startswith("input is not JSON")


def test_changing_the_issuer_after_signing_fails(node_vc: NodeVC, issued_by_vector_key: dict[str, Any]) -> None:
    other_did = f"did:key:{load_json(OB3_VECTORS / 'values.json')['publicKeyMultibase']}"
    result = node_vc.verify({**issued_by_vector_key, "issuer": other_did})
    assert not result.verified
    assert result.checks["signature"] is False


def test_a_key_cannot_sign_for_another_issuer(node_vc: NodeVC, vector_key_file: Path) -> None:
    other_did = f"did:key:{load_json(OB3_VECTORS / 'values.json')['publicKeyMultibase']}"
    unsigned = load_json(EDDSA_VECTORS / "unsigned.json")
    signed = node_vc.sign({**unsigned, "issuer": other_did}, vector_key_file)
    result = node_vc.verify(signed)
    assert result.checks == {"signature": True, "purpose": False, "status": None}
    assert result.errors == [ISSUER_IS_NOT_KEY_CONTROLLER]


def test_now_replaces_the_clock_for_validity_dates(node_vc: NodeVC, issued_by_vector_key: dict[str, Any]) -> None:
    result = node_vc.verify(issued_by_vector_key, now="2022-12-31T00:00:00Z")
    assert not result.verified
    assert any('before "validFrom"' in error for error in result.errors), result.errors


# --- did:web and https controller documents via --resolve ---------------------------


def did_web_document(did: str, method_id: str, public_key_multibase: str) -> dict[str, Any]:
    return {
        "@context": [DID_V1, MULTIKEY_V1],
        "id": did,
        "verificationMethod": [
            {
                "id": method_id,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": public_key_multibase,
            }
        ],
        "assertionMethod": [method_id],
    }


def test_a_did_web_issuer_verifies_through_its_mapped_did_document(
    node_vc: NodeVC, vector_key: dict[str, str], vector_key_file: Path, tmp_path: Path
) -> None:
    did = "did:web:issuer.example"
    unsigned = {**load_json(EDDSA_VECTORS / "unsigned.json"), "issuer": did}
    signed = node_vc.sign(unsigned, vector_key_file, verification_method=f"{did}#key-1")
    document = did_web_document(did, f"{did}#key-1", vector_key["publicKeyMultibase"])
    result = node_vc.verify(signed, resolve={did: write_json(tmp_path / "did.json", document)})
    assert result.verified, result.errors


def test_a_did_document_with_relative_method_ids_does_not_resolve(
    node_vc: NodeVC, vector_key: dict[str, str], vector_key_file: Path, tmp_path: Path
) -> None:
    # did-io compares verification method ids with assertionMethod entries as strings, so a
    # relative id ("#key-1") in the DID document never matches the absolute one in the proof
    did = "did:web:issuer.example"
    unsigned = {**load_json(EDDSA_VECTORS / "unsigned.json"), "issuer": did}
    signed = node_vc.sign(unsigned, vector_key_file, verification_method=f"{did}#key-1")
    document = did_web_document(did, "#key-1", vector_key["publicKeyMultibase"])
    result = node_vc.verify(signed, resolve={did: write_json(tmp_path / "did.json", document)})
    assert not result.verified
    assert any("has no verification method with id" in e for e in result.errors), result.errors


def ob3_controller_document(context: list[str], *, lists_the_key: bool = True) -> dict[str, Any]:
    values = load_json(OB3_VECTORS / "values.json")
    method_id = values["verificationMethod"]
    return {
        "@context": context,
        "id": values["controller"],
        "verificationMethod": [
            {
                "id": method_id,
                "type": "Multikey",
                "controller": values["controller"],
                "publicKeyMultibase": values["publicKeyMultibase"],
            }
        ],
        "assertionMethod": [method_id] if lists_the_key else [],
    }


def verify_ob3_vector(node_vc: NodeVC, controller: dict[str, Any], tmp_path: Path) -> NodeResult:
    controller_file = write_json(tmp_path / "controller.json", controller)
    return node_vc.verify(
        (OB3_VECTORS / "signed-credential.json").read_text(),
        resolve={controller["id"]: controller_file},
    )


@pytest.mark.parametrize(
    "context",
    [[DID_V1, MULTIKEY_V1], [SECURITY_V2, MULTIKEY_V1]],
    ids=["did-v1-first", "security-v2-framed"],
)
def test_ob3_vector_verifies_with_its_https_controller_document(
    node_vc: NodeVC, context: list[str], tmp_path: Path
) -> None:
    result = verify_ob3_vector(node_vc, ob3_controller_document(context), tmp_path)
    assert result.verified, result.errors


def test_ob3_vector_needs_its_controller_document(node_vc: NodeVC) -> None:
    result = node_vc.verify((OB3_VECTORS / "signed-credential.json").read_text())
    assert not result.verified
    missing = "no local document for https://example.edu/issuers/565049#"
    assert any(missing in error for error in result.errors), result.errors


def test_an_https_controller_document_must_define_assertion_method_in_its_context(
    node_vc: NodeVC, tmp_path: Path
) -> None:
    # Not a DID document (did v1 not first), so jsonld-signatures frames it with the
    # security v2 context in safe mode; the multikey context alone leaves assertionMethod
    # undefined and the frame fails.
    result = verify_ob3_vector(node_vc, ob3_controller_document([MULTIKEY_V1]), tmp_path)
    assert result.checks == {"signature": True, "purpose": False, "status": None}
    assert result.errors[0].startswith("Safe mode validation error.")
    assert '"property":"assertionMethod"' in result.errors[0]


def test_an_https_controller_document_must_list_the_key_for_assertion(node_vc: NodeVC, tmp_path: Path) -> None:
    controller = ob3_controller_document([DID_V1, MULTIKEY_V1], lists_the_key=False)
    result = verify_ob3_vector(node_vc, controller, tmp_path)
    assert result.checks["purpose"] is False
    assert any("not authorized by controller" in error for error in result.errors)
