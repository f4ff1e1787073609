"""The independent JavaScript verifier on the W3C Bitstring Status List examples.

Status lists are credentials too (Bitstring Status List v1.0, section 3.2 Validate Algorithm:
"dereference the statusListCredential URL, and ensure that all proofs verify successfully",
https://www.w3.org/TR/vc-bitstring-status-list/#validate-algorithm): dbvc verifies the list's own
proof and issuer before it trusts a bit, and a set revocation bit fails the credential.
"""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from interop_vectors import STATUS_EXAMPLES, load_json, write_json
from node_verifier import NodeVC

pytestmark = pytest.mark.interop

STATUS_LIST_URL = "https://example.com/credentials/status/3"
STATUS_LIST_LENGTH = 131_072
REVOKED_INDEX = 94567  # the index example 4's credentialStatus points at


def encoded_list(set_bits: frozenset[int] = frozenset()) -> str:
    """GZIP + multibase base64url, index 0 the first byte's most significant bit."""
    bitstring = bytearray(STATUS_LIST_LENGTH // 8)
    for index in set_bits:
        bitstring[index // 8] |= 0x80 >> (index % 8)
    compressed = gzip.compress(bytes(bitstring))
    return "u" + base64.urlsafe_b64encode(compressed).decode().rstrip("=")


def decoded_list(encoded: str) -> bytes:
    payload = encoded.removeprefix("u")
    return gzip.decompress(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_status_list_example_5_is_rejected_for_a_bare_did_as_verification_method(
    node_vc: NodeVC,
) -> None:
    # Its verificationMethod is "did:key:z6MkeVw6..." with no fragment: that names the DID
    # document, not a key, and digitalbazaar finds no publicKeyMultibase in it.
    signed = (STATUS_EXAMPLES / "example-5-status-list-vc.eddsa-rdfc-2022.json").read_text()
    assert "#" not in json.loads(signed)["proof"]["verificationMethod"]
    result = node_vc.verify(signed)
    assert not result.verified
    assert result.checks["signature"] is False
    assert result.errors == ['The "publicKeyMultibase" property is required.']


@pytest.fixture
def status_list_file(node_vc: NodeVC, vector_key_file: Path, vector_did: str, tmp_path: Path) -> Path:
    """Example 5 (a revocation list, no bit set) reissued by the vector key."""
    unsigned = load_json(STATUS_EXAMPLES / "example-5-status-list-vc.unsigned.json")
    assert decoded_list(unsigned["credentialSubject"]["encodedList"]) == bytes(STATUS_LIST_LENGTH // 8)
    signed = node_vc.sign({**unsigned, "issuer": vector_did}, vector_key_file)
    return write_json(tmp_path / "status-list.json", signed)


@pytest.fixture
def revocable_credential(node_vc: NodeVC, vector_key_file: Path, vector_did: str) -> dict[str, Any]:
    """Example 4 (status entry 94567 of example 5's list) reissued by the vector key."""
    example = load_json(STATUS_EXAMPLES / "example-4-revocable-vc.unsigned.json")
    assert example["credentialStatus"]["statusListIndex"] == str(REVOKED_INDEX)
    return node_vc.sign({**example, "issuer": vector_did}, vector_key_file)


def test_status_list_example_5_reissued_verifies(node_vc: NodeVC, status_list_file: Path) -> None:
    assert node_vc.verify(status_list_file.read_text()).verified


def test_a_credential_whose_status_bit_is_clear_verifies(
    node_vc: NodeVC, revocable_credential: dict[str, Any], status_list_file: Path
) -> None:
    result = node_vc.verify(revocable_credential, resolve={STATUS_LIST_URL: status_list_file})
    assert result.verified, result.errors
    assert result.checks == {"signature": True, "purpose": True, "status": True}


def test_a_credential_whose_status_list_is_not_supplied_fails(
    node_vc: NodeVC, revocable_credential: dict[str, Any]
) -> None:
    result = node_vc.verify(revocable_credential)
    assert not result.verified
    assert result.checks["status"] is False
    assert result.errors[0].startswith('Could not load "BitstringStatusListCredential"')


def test_a_revoked_credential_fails(
    node_vc: NodeVC,
    revocable_credential: dict[str, Any],
    vector_key_file: Path,
    vector_did: str,
    tmp_path: Path,
) -> None:
    unsigned = load_json(STATUS_EXAMPLES / "example-5-status-list-vc.unsigned.json")
    unsigned["issuer"] = vector_did
    unsigned["credentialSubject"]["encodedList"] = encoded_list(frozenset({REVOKED_INDEX}))
    revoked_list = write_json(tmp_path / "revoked.json", node_vc.sign(unsigned, vector_key_file))
    result = node_vc.verify(revocable_credential, resolve={STATUS_LIST_URL: revoked_list})
    assert not result.verified
    assert result.checks["status"] is False
    assert result.errors == [f"Credential status: revocation bit {REVOKED_INDEX} of {STATUS_LIST_URL} is set."]


def test_a_status_list_edited_after_signing_cannot_clear_or_set_a_bit(
    node_vc: NodeVC, revocable_credential: dict[str, Any], status_list_file: Path, tmp_path: Path
) -> None:
    edited = load_json(status_list_file)
    edited["credentialSubject"]["encodedList"] = encoded_list(frozenset({REVOKED_INDEX}))
    edited_file = write_json(tmp_path / "edited.json", edited)
    result = node_vc.verify(revocable_credential, resolve={STATUS_LIST_URL: edited_file})
    assert not result.verified
    assert any('"BitstringStatusListCredential" not verified' in e for e in result.errors)
