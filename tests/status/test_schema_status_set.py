"""The 1EdTech schema allows one ``credentialStatus`` object; VCDM 2.0, on which OB 3.0.3 sits,
allows a set. A set whose members are each a valid CredentialStatus passes, without a warning."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from service.vc.schema_validation import validate_credential
from tests.standards import OB3_IMPL_GUIDE, load_json

ENTRY = {
    "id": "https://issuer.example/status/1#7",
    "type": "BitstringStatusListEntry",
    "statusPurpose": "revocation",
    "statusListIndex": "7",
    "statusListCredential": "https://issuer.example/status/1",
}


@pytest.fixture
def credential() -> dict[str, Any]:
    unsigned: dict[str, Any] = load_json(OB3_IMPL_GUIDE / "unsigned-credential.json")
    assert validate_credential(unsigned).valid
    return unsigned


def _with_status(credential: dict[str, Any], status: Any) -> dict[str, Any]:
    return {**copy.deepcopy(credential), "credentialStatus": status}


def test_one_status_object_is_valid(credential):
    report = validate_credential(_with_status(credential, ENTRY))

    assert report.valid and report.warnings == ()


def test_a_set_of_valid_status_entries_is_valid_without_a_warning(credential):
    suspension = {
        **ENTRY,
        "id": "https://issuer.example/status/2#9",
        "statusPurpose": "suspension",
        "statusListIndex": "9",
        "statusListCredential": "https://issuer.example/status/2",
    }

    report = validate_credential(_with_status(credential, [ENTRY, suspension]))

    assert report.valid, report.errors
    assert report.warnings == ()


def test_each_member_of_the_set_is_checked_and_named_by_its_position(credential):
    broken = {key: value for key, value in ENTRY.items() if key != "type"}

    report = validate_credential(_with_status(credential, [ENTRY, broken, "not an object"]))

    assert report.errors == (
        "$.credentialStatus[1].type: required property is missing",
        "$.credentialStatus[2]: expected object, got string",
    )


def test_other_errors_are_still_found_beside_a_status_set(credential):
    document = _with_status(credential, [ENTRY, ENTRY])
    del document["issuer"]

    assert validate_credential(document).errors == ("$.issuer: required property is missing",)


def test_a_one_element_set_reads_as_one_entry_with_the_usual_shape_warning(credential):
    report = validate_credential(_with_status(credential, [ENTRY]))

    assert report.valid
    assert report.warnings == (
        (
            "$.credentialStatus: a one-element array where the schema expects a single "
            "value (accepted: JSON-LD reads both the same)"
        ),
    )


def test_the_original_document_is_not_modified(credential):
    document = _with_status(credential, [ENTRY, ENTRY])
    before = copy.deepcopy(document)

    validate_credential(document)

    assert document == before
