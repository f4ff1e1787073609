"""eddsa-rdfc-2022 reproduces the W3C and 1EdTech vectors byte for byte; legacy suites verify."""

import hashlib

import pytest

from service.vc import data_integrity
from service.vc.did import DidKeyResolver, DocumentKeyResolver
from service.vc.errors import JsonLdSafeModeError, ProofError
from service.vc.keys import LocalSigner, load_ed25519_key_file
from service.vc.multikey import multibase_encode
from tests.standards import OB3_IMPL_GUIDE, VC_DI_EDDSA, load_json

W3C_KEY = load_ed25519_key_file(load_json(VC_DI_EDDSA / "keyPair.json"))

SUITE_VECTORS = {
    # folder: (file suffix, document context taken from the proof config?)
    "eddsa-rdfc-2022": "DataInt",
    "Ed25519Signature2020": "EdSig",
}


def text(path) -> str:
    return path.read_text(encoding="utf-8")


@pytest.fixture(params=sorted(SUITE_VECTORS))
def w3c_vector(request):
    folder, suffix = request.param, SUITE_VECTORS[request.param]
    base = VC_DI_EDDSA / folder
    config = load_json(base / f"proofConfig{suffix}.json")
    document = load_json(VC_DI_EDDSA / "unsigned.json")
    document["@context"] = config["@context"]  # Ed25519Signature2020 adds its suite context
    return base, suffix, document, config


def test_w3c_vectors_canonical_document_and_proof_config_match_byte_for_byte(w3c_vector):
    base, suffix, document, config = w3c_vector
    inputs = data_integrity.proof_inputs(document, config)
    assert inputs.canonical_document == text(base / f"canonDoc{suffix}.txt")
    assert inputs.canonical_proof_config == text(base / f"proofCanon{suffix}.txt")


def test_w3c_vectors_hashes_and_signature_match(w3c_vector):
    base, suffix, document, config = w3c_vector
    inputs = data_integrity.proof_inputs(document, config)
    assert hashlib.sha256(inputs.canonical_document.encode()).hexdigest() == text(base / f"docHash{suffix}.txt").strip()
    assert (
        hashlib.sha256(inputs.canonical_proof_config.encode()).hexdigest()
        == text(base / f"proofHash{suffix}.txt").strip()
    )
    assert inputs.hash_data.hex() == text(base / f"combinedHash{suffix}.txt").strip()
    signature = W3C_KEY.sign(inputs.hash_data)
    assert signature.hex() == text(base / f"sigHex{suffix}.txt").strip()
    assert multibase_encode(signature) == text(base / f"sigBTC58{suffix}.txt").strip()


def test_create_proof_reproduces_the_w3c_eddsa_rdfc_2022_signed_vector():
    signed = load_json(VC_DI_EDDSA / "eddsa-rdfc-2022" / "signedDataInt.json")
    signer = LocalSigner(W3C_KEY, signed["proof"]["verificationMethod"])
    unsigned = load_json(VC_DI_EDDSA / "unsigned.json")
    assert data_integrity.sign(unsigned, signer, created=signed["proof"]["created"]) == signed


@pytest.mark.parametrize(
    "path, deprecated",
    [
        ("eddsa-rdfc-2022/signedDataInt.json", False),
        ("Ed25519Signature2020/signedEdSig.json", True),
        ("proof-set-chain/signedProofSet1.json", False),
        ("proof-set-chain/signedProofSet2.json", False),
        ("proof-set-chain/signedProofChain1.json", False),
        ("proof-set-chain/signedProofChain2.json", False),
    ],
)
def test_signed_w3c_vectors_verify(path, deprecated):
    # The W3C vectors are not signed by their issuer's key, so no controller is expected here.
    results = data_integrity.verify_proofs(load_json(VC_DI_EDDSA / path), DidKeyResolver())
    assert results and all(r.verified for r in results), [r.reason for r in results]
    assert {r.deprecated for r in results} == {deprecated}


def test_ob3_implementation_guide_vector_matches_byte_for_byte():
    values = load_json(OB3_IMPL_GUIDE / "values.json")
    inputs = data_integrity.proof_inputs(
        load_json(OB3_IMPL_GUIDE / "unsigned-credential.json"), load_json(OB3_IMPL_GUIDE / "proof.json")
    )
    assert inputs.canonical_document == text(OB3_IMPL_GUIDE / "document-canon.txt")
    assert inputs.canonical_proof_config == text(OB3_IMPL_GUIDE / "proof-canon.txt")
    assert hashlib.sha256(inputs.canonical_document.encode()).hexdigest() == values["documentHashHex"]
    assert hashlib.sha256(inputs.canonical_proof_config.encode()).hexdigest() == values["proofHashHex"]
    assert inputs.hash_data.hex() == values["dataToSignHex"]
    key = load_ed25519_key_file({"secretKeyMultibase": values["secretKeyMultibase"]})
    assert key.sign(inputs.hash_data).hex() == values["signatureHex"]
    assert multibase_encode(key.sign(inputs.hash_data)) == values["proofValue"]


def ob3_controller_document(values: dict) -> dict:
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": values["controller"],
        "verificationMethod": [
            {
                "id": values["verificationMethod"],
                "type": "Multikey",
                "controller": values["controller"],
                "publicKeyMultibase": values["publicKeyMultibase"],
            }
        ],
        "assertionMethod": [values["verificationMethod"]],
    }


def test_ob3_signed_vector_verifies_when_its_https_key_is_resolved_through_its_controller():
    values = load_json(OB3_IMPL_GUIDE / "values.json")
    resolver = DocumentKeyResolver({values["controller"]: ob3_controller_document(values)})
    signed = load_json(OB3_IMPL_GUIDE / "signed-credential.json")
    [result] = data_integrity.verify_proofs(signed, resolver, expected_controller=values["controller"])
    assert result.verified, result.reason


def test_an_https_key_url_that_merely_looks_like_a_multikey_is_not_trusted():
    # Without the controller document, https://issuer/keys#z6Mk... is not a key: a key is trusted
    # only through resolution (https://www.w3.org/TR/cid-1.0/#retrieve-verification-method).
    signed = load_json(OB3_IMPL_GUIDE / "signed-credential.json")
    [result] = data_integrity.verify_proofs(signed, DidKeyResolver())
    assert not result.verified and result.code == "key_resolution_failed"


def test_legacy_eddsa_2022_proof_verifies_and_is_marked_deprecated(unsigned_credential, issuer_signer, issuer_did):
    proof = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-2022",
        "created": "2023-01-01T00:00:00Z",
        "verificationMethod": issuer_signer.verification_method,
        "proofPurpose": "assertionMethod",
    }
    inputs = data_integrity.proof_inputs(unsigned_credential, proof)
    proof["proofValue"] = multibase_encode(issuer_signer.sign(inputs.hash_data))
    [result] = data_integrity.verify_proofs(
        {**unsigned_credential, "proof": proof}, DidKeyResolver(), expected_controller=issuer_did
    )
    assert result.verified and result.deprecated and result.suite == "eddsa-2022"


def test_proof_set_verifies_when_one_proof_is_from_the_issuer(signed_credential, other_signer, issuer_did):
    both = data_integrity.sign(signed_credential, other_signer)
    results = data_integrity.verify_proofs(both, DidKeyResolver(), expected_controller=issuer_did)
    assert [r.verified for r in results] == [True, False]
    assert results[1].code == "controller_mismatch"


def test_a_proof_by_a_key_the_issuer_does_not_control_fails(unsigned_credential, other_signer, issuer_did):
    signed = data_integrity.sign(unsigned_credential, other_signer)
    [result] = data_integrity.verify_proofs(signed, DidKeyResolver(), expected_controller=issuer_did)
    assert not result.verified and result.code == "controller_mismatch"


def test_unknown_cryptosuite_is_reported_not_raised(signed_credential):
    signed_credential["proof"]["cryptosuite"] = "ecdsa-sd-2023"
    [result] = data_integrity.verify_proofs(signed_credential, DidKeyResolver())
    assert not result.verified and result.code == "unsupported_cryptosuite"


def test_undefined_terms_cannot_be_signed(unsigned_credential, issuer_signer):
    unsigned_credential["credentialSubject"]["favouriteColour"] = "blue"
    with pytest.raises(JsonLdSafeModeError) as err:
        data_integrity.sign(unsigned_credential, issuer_signer)
    assert "favouriteColour" in str(err.value)


def test_eddsa_rdfc_2022_refuses_a_non_ed25519_signer(unsigned_credential):
    from tests.vc.conftest import load_pem

    rsa_signer = LocalSigner(load_pem("issuer-rsa2048.pem"), "did:example:rsa#1")
    with pytest.raises(ProofError):
        data_integrity.sign(unsigned_credential, rsa_signer)


def test_signing_does_not_modify_its_input(unsigned_credential, issuer_signer):
    before = repr(unsigned_credential)
    data_integrity.sign(unsigned_credential, issuer_signer)
    assert repr(unsigned_credential) == before


@pytest.mark.parametrize(
    "name", ["example-4-revocable-vc.eddsa-rdfc-2022.json", "example-5-status-list-vc.eddsa-rdfc-2022.json"]
)
def test_signed_w3c_bitstring_status_list_examples_verify(name):
    # Signed by the REC's tooling with a bare did:key as verificationMethod; their issuer is a
    # did:example, so (like the vc-di-eddsa vectors) no issuer binding is asked of them here.
    from tests.standards import STATUS_EXAMPLES

    [result] = data_integrity.verify_proofs(load_json(STATUS_EXAMPLES / name), DidKeyResolver())
    assert result.verified, result.reason
