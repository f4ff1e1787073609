"""Open Badges 3.0: the AchievementCredential builder, recipient identities, schema validation."""

from __future__ import annotations

import copy
import hashlib
import json
import socket
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft201909Validator
from referencing.exceptions import Unresolvable, Unretrievable

from service.vc.errors import DocumentLoaderError, SchemaValidationError
from service.vc.openbadges import (
    ACHIEVEMENT_CREDENTIAL_SCHEMA_URL,
    Achievement,
    Alignment,
    CredentialBuildError,
    Evidence,
    Image,
    IssuerProfile,
    Result,
    ResultDescription,
    RubricCriterionLevel,
    build_achievement_credential,
    hashed_email_identity,
    identity_matches,
    validate_credential,
    validate_credential_strict,
)
from service.vc.schema_validation import refuse_remote_schema, schema_registry, schemas_directory

SHARED = Path(__file__).resolve().parents[1] / "fixtures" / "standards"
SPEC_EXAMPLES = sorted((SHARED / "examples" / "ob3-spec").glob("*.json"))
SIGNED_VECTOR = SHARED / "vectors" / "ob3-impl-guide" / "signed-credential.json"

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_EXTENSIONS = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"

ISSUER = IssuerProfile(
    id="did:web:skillcred.example",
    name="SkillCred",
    url="https://skillcred.example",
    email="badges@skillcred.example",
    image=Image("https://skillcred.example/logo.png", caption="SkillCred logo"),
    description="Credentials for self-taught freelancers.",
)
RUBRIC_ID = "urn:uuid:4f0b2f84-8a1c-4a8e-9a4b-2c5f3c1d0e01"
PROFICIENT = "urn:uuid:4f0b2f84-8a1c-4a8e-9a4b-2c5f3c1d0e02"
SCORE_ID = "urn:uuid:4f0b2f84-8a1c-4a8e-9a4b-2c5f3c1d0e03"
ACHIEVEMENT = Achievement(
    id="https://skillcred.example/achievements/prompt-engineering",
    name="Prompt Engineering",
    description="Designs, tests and documents prompts for production LLM features.",
    criteria_narrative="A portfolio of three shipped prompt designs, assessed against the rubric.",
    criteria_id="https://skillcred.example/achievements/prompt-engineering/criteria",
    image="https://skillcred.example/achievements/prompt-engineering.png",
    alignments=(
        Alignment(
            target_name="Prompt engineering",
            target_url="https://skills.example/esco/prompt-engineering",
            target_code="S-PE-1",
            target_framework="ESCO",
            target_type="ext:EscoSkill",
            target_description="Writing instructions for generative AI models.",
        ),
    ),
    result_descriptions=(
        ResultDescription(
            id=RUBRIC_ID,
            name="Portfolio rubric",
            result_type="RubricCriterionLevel",
            required_level=PROFICIENT,
            rubric_criterion_levels=(RubricCriterionLevel(id=PROFICIENT, name="Proficient", level="3", points="3"),),
        ),
        ResultDescription(id=SCORE_ID, name="Assessment score", result_type="Percent", value_min="0", value_max="100"),
    ),
    tags=("ai", "prompting"),
    achievement_type="Competency",
    version="1.0",
    creator=IssuerProfile(id="did:web:skillcred.example", name="SkillCred"),
)
VALID_FROM = "2025-03-01T09:30:00Z"
RECIPIENT_DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
STATUS_ENTRY = {
    "id": "https://skillcred.example/status/1#94567",
    "type": "BitstringStatusListEntry",
    "statusPurpose": "revocation",
    "statusListIndex": "94567",
    "statusListCredential": "https://skillcred.example/status/1",
}


def build(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "credential_id": "urn:uuid:0c4e3a1e-2f4b-4c1e-9a55-7d1c2b3a4f50",
        "issuer": ISSUER,
        "achievement": ACHIEVEMENT,
        "recipient_did": RECIPIENT_DID,
        "valid_from": VALID_FROM,
    }
    arguments.update(overrides)
    return build_achievement_credential(**arguments)


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def empty_values(node: Any, path: str = "$") -> list[str]:
    """JSON paths of every null, empty list or empty object in ``node``."""
    if node is None or node == [] or node == {}:
        return [path]
    if isinstance(node, dict):
        return [p for key, value in node.items() for p in empty_values(value, f"{path}.{key}")]
    if isinstance(node, list):
        return [p for i, value in enumerate(node) for p in empty_values(value, f"{path}[{i}]")]
    return []


# --- builder ------------------------------------------------------------------------------------


def test_a_credential_for_a_did_recipient_passes_the_schema_without_warnings() -> None:
    credential = build()

    report = validate_credential(credential)

    assert report.valid, report.errors
    assert report.warnings == ()
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["credentialSubject"]["id"] == RECIPIENT_DID
    assert credential["credentialSubject"]["type"] == ["AchievementSubject"]
    assert "identifier" not in credential["credentialSubject"]
    assert credential["name"] == "Prompt Engineering"  # defaults to the achievement's name
    assert credential["validFrom"] == VALID_FROM


def test_credential_schema_comes_with_the_extensions_context_that_defines_its_type() -> None:
    credential = build()

    assert credential["@context"] == [VC_V2, OB_CONTEXT, OB_EXTENSIONS]
    assert credential["credentialSchema"] == [
        {"id": ACHIEVEMENT_CREDENTIAL_SCHEMA_URL, "type": "1EdTechJsonSchemaValidator2019"}
    ]


def test_without_credential_schema_only_the_two_base_contexts_are_used() -> None:
    credential = build(credential_schema=False)

    assert credential["@context"] == [VC_V2, OB_CONTEXT]
    assert "credentialSchema" not in credential
    assert validate_credential(credential).valid


def test_a_hashed_email_recipient_with_evidence_results_and_status_passes_the_schema() -> None:
    identity = hashed_email_identity("earner@example.com", salt="pepper-123")
    credential = build(
        recipient_did=None,
        recipient_identity=identity,
        valid_until="2027-03-01T09:30:00Z",
        name="Prompt Engineering: Ada Lovelace",
        description="Awarded after a portfolio review.",
        image=Image("https://skillcred.example/badges/42.png"),
        evidence=(
            Evidence(
                id="https://portfolio.example/ada/prompt-suite",
                name="Prompt suite",
                description="Three production prompts with evaluations.",
                narrative="Reviewed by two assessors.",
                genre="Portfolio",
                audience="Clients",
            ),
        ),
        results=(
            Result(result_description=RUBRIC_ID, achieved_level=PROFICIENT, status="Completed"),
            Result(result_description=SCORE_ID, value="87"),
        ),
        credential_status=STATUS_ENTRY,
    )

    report = validate_credential(credential)

    assert report.valid, report.errors
    assert report.warnings == ()
    subject = credential["credentialSubject"]
    assert "id" not in subject
    assert subject["identifier"] == [identity]
    assert [r["resultDescription"] for r in subject["result"]] == [RUBRIC_ID, SCORE_ID]
    assert subject["achievement"]["alignment"][0]["targetType"] == "ext:EscoSkill"
    rubric = subject["achievement"]["resultDescription"][0]
    assert rubric["requiredLevel"] == rubric["rubricCriterionLevel"][0]["id"] == PROFICIENT
    assert credential["evidence"][0]["type"] == ["Evidence"]
    assert credential["validUntil"] == "2027-03-01T09:30:00Z"
    assert credential["credentialStatus"] == STATUS_ENTRY


def test_empty_optional_fields_are_omitted_not_null() -> None:
    minimal = Achievement(
        id="https://skillcred.example/achievements/x", name="X", description="Does X.", criteria_narrative="Show X."
    )

    credential = build(achievement=minimal, issuer=IssuerProfile(id="did:web:a.example", name="A"))

    assert empty_values(credential) == []
    assert set(credential) == {
        "@context",
        "id",
        "type",
        "name",
        "issuer",
        "validFrom",
        "credentialSubject",
        "credentialSchema",
    }
    assert validate_credential(credential).valid


def test_each_call_returns_a_fresh_dict_that_shares_nothing_with_its_inputs() -> None:
    status = copy.deepcopy(STATUS_ENTRY)
    first = build(credential_status=status)
    second = build(credential_status=status)

    first["credentialSubject"]["achievement"]["tag"].append("changed")
    status["statusListIndex"] = "1"

    assert second["credentialSubject"]["achievement"]["tag"] == ["ai", "prompting"]
    assert first["credentialStatus"]["statusListIndex"] == "94567"


@pytest.mark.parametrize(
    "valid_from",
    [
        datetime(2025, 3, 1, 9, 30, 0, 123456, tzinfo=UTC),
        datetime(2025, 3, 1, 11, 30, tzinfo=timezone(timedelta(hours=2))),
        "2025-03-01T11:30:00+02:00",
        "2025-03-01T09:30:00.5Z",
    ],
)
def test_dates_are_written_in_utc_to_the_second(valid_from: datetime | str) -> None:
    assert build(valid_from=valid_from)["validFrom"] == VALID_FROM


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"recipient_did": None}, "credentialSubject"),
        ({"valid_from": datetime(2025, 3, 1, 9, 30)}, "validFrom"),
        ({"valid_from": "2025-03-01"}, "validFrom"),
        ({"valid_until": "2025-02-01T00:00:00Z"}, "validUntil"),
        ({"credential_id": "credentials/42"}, "id"),
        ({"recipient_did": "ada"}, "credentialSubject.id"),
        (
            {"results": (Result(result_description="urn:uuid:unknown"),)},
            "credentialSubject.result[0].resultDescription",
        ),
        (
            {"results": (Result(result_description=RUBRIC_ID, achieved_level="urn:uuid:other"),)},
            "credentialSubject.result[0].achievedLevel",
        ),
        (
            {"achievement": Achievement(id="https://a.example/x", name="X", description="X")},
            "credentialSubject.achievement.criteria",
        ),
    ],
)
def test_inputs_that_cannot_make_a_conforming_credential_are_refused(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(CredentialBuildError) as raised:
        build(**overrides)

    assert str(raised.value).startswith(field + ":")
    assert raised.value.code == "invalid_credential_input"


# --- recipient identity -------------------------------------------------------------------------


def test_identity_hash_is_sha256_of_the_email_followed_by_the_salt() -> None:
    # Known answer from the 1EdTech schema's IdentityHash definition: sha256("a@example.comKosher").
    identity = hashed_email_identity("a@example.com", salt="Kosher")

    assert identity == {
        "type": "IdentityObject",
        "hashed": True,
        "identityHash": "sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399",
        "identityType": "emailAddress",
        "salt": "Kosher",
    }


def test_a_hashed_identity_matches_the_right_email_and_not_another() -> None:
    identity = hashed_email_identity("earner@example.com", salt="pepper-123")

    assert identity_matches(identity, "earner@example.com")
    assert identity_matches(identity, "  Earner@Example.COM ")  # tried lower-cased too
    assert not identity_matches(identity, "someone.else@example.com")
    assert not identity_matches({**identity, "salt": "other"}, "earner@example.com")


def test_without_a_salt_each_identity_gets_a_random_one() -> None:
    first = hashed_email_identity("earner@example.com")
    second = hashed_email_identity("earner@example.com")

    assert first["salt"] != second["salt"]
    assert first["identityHash"] != second["identityHash"]
    assert identity_matches(first, "earner@example.com")


def test_identity_matching_follows_the_spec_for_unhashed_md5_and_other_types() -> None:
    unhashed = {
        "type": "IdentityObject",
        "hashed": False,
        "identityHash": "earner@example.com",
        "identityType": "emailAddress",
        "salt": "not-used",
    }
    md5 = {
        "type": "IdentityObject",
        "hashed": True,
        "identityType": "emailAddress",
        "salt": "s",
        "identityHash": "md5$" + hashlib.md5(b"earner@example.coms").hexdigest().upper(),
    }
    phone = {**hashed_email_identity("earner@example.com", "s"), "identityType": "phone"}

    assert identity_matches(unhashed, "earner@example.com")
    assert not identity_matches(unhashed, "other@example.com")
    assert identity_matches(md5, "earner@example.com")
    assert not identity_matches(phone, "earner@example.com")
    assert not identity_matches({**md5, "identityHash": "sha1$abcd"}, "earner@example.com")


# --- validation: spec material ------------------------------------------------------------------


@pytest.mark.parametrize("example", SPEC_EXAMPLES, ids=lambda path: path.stem)
def test_the_spec_examples_conform(example: Path) -> None:
    report = validate_credential(load(example))

    assert report.errors == ()
    assert report.warnings == ()


def test_the_spec_examples_are_all_present() -> None:
    assert [path.stem for path in SPEC_EXAMPLES] == [
        "basic-openbadgecredential",
        "complete-openbadgecredential",
        "endorsement-credential",
    ]


def test_the_implementation_guide_vector_conforms_with_a_warning_for_its_single_proof() -> None:
    report = validate_credential(load(SIGNED_VECTOR))

    assert report.errors == ()
    assert report.warnings == (
        "$.proof: a single value where the schema expects an array (accepted: JSON-LD reads both the same)",
    )


def test_the_schema_is_chosen_by_credential_type() -> None:
    achievement = validate_credential(build())
    endorsement = validate_credential(load(SHARED / "examples" / "ob3-spec" / "endorsement-credential.json"))

    assert "achievementcredential" in (achievement.schema_id or "")
    assert "endorsementcredential" in (endorsement.schema_id or "")


# --- validation: JSON-LD tolerance --------------------------------------------------------------


def test_a_single_value_type_is_a_warning_not_an_error() -> None:
    credential = build()
    credential["credentialSubject"]["type"] = "AchievementSubject"
    credential["issuer"]["type"] = "Profile"

    report = validate_credential(credential)

    assert report.valid, report.errors
    assert report.warnings == (
        "$.credentialSubject.type: a single value where the schema expects an array "
        "(accepted: JSON-LD reads both the same)",
        "$.issuer.type: a single value where the schema expects an array (accepted: JSON-LD reads both the same)",
    )


def test_a_single_proof_object_is_a_warning_and_its_contents_are_still_checked() -> None:
    credential = build()
    credential["proof"] = {"type": "DataIntegrityProof", "created": "yesterday"}

    report = validate_credential(credential)

    assert report.errors == ("$.proof[0].created: 'yesterday' is not a valid date-time",)
    assert report.warnings == (
        "$.proof: a single value where the schema expects an array (accepted: JSON-LD reads both the same)",
    )


def test_a_one_element_array_where_a_single_value_is_expected_is_a_warning() -> None:
    credential = build()
    credential["image"] = {"id": "https://skillcred.example/b.png", "type": ["Image"]}

    report = validate_credential(credential)

    assert report.valid, report.errors
    assert report.warnings == (
        "$.image.type: a one-element array where the schema expects a "
        "single value (accepted: JSON-LD reads both the same)",
    )


def test_a_single_value_type_without_the_badge_type_is_still_an_error() -> None:
    credential = build()
    credential["type"] = "VerifiableCredential"

    assert validate_credential(credential).errors == (
        "$.type: not an Open Badges 3.0 credential (type must include OpenBadgeCredential, "
        "AchievementCredential or EndorsementCredential)",
    )


def test_validation_reads_a_copy_and_leaves_the_document_untouched() -> None:
    credential = build()
    credential["proof"] = {"type": "DataIntegrityProof"}
    before = copy.deepcopy(credential)

    validate_credential(credential)

    assert credential == before


# --- validation: real violations ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected_error"),
    [
        (lambda c: c.pop("issuer"), "$.issuer: required property is missing"),
        (lambda c: c.pop("credentialSubject"), "$.credentialSubject: required property is missing"),
        (lambda c: c.update(validFrom="2025-03-01"), "$.validFrom: '2025-03-01' is not a valid date-time"),
        (
            lambda c: c.update(validFrom="2025-03-01T09:30:00"),
            "$.validFrom: '2025-03-01T09:30:00' is not a valid date-time",
        ),
        (lambda c: c["issuer"].pop("id"), "$.issuer.id: required property is missing"),
        (
            lambda c: c["credentialSubject"]["achievement"].pop("criteria"),
            "$.credentialSubject.achievement.criteria: required property is missing",
        ),
        (
            lambda c: c["credentialSubject"].pop("id"),
            "$.credentialSubject: needs an id or an identifier (OB 3.0 requires one of them)",
        ),
    ],
)
def test_real_violations_are_errors_that_name_their_path(change: Any, expected_error: str) -> None:
    credential = build()
    change(credential)

    report = validate_credential(credential)

    assert not report.valid
    assert report.errors == (expected_error,)


def test_a_credential_without_the_open_badges_context_is_an_error() -> None:
    credential = build(credential_schema=False)
    credential["@context"][1] = "https://www.w3.org/ns/credentials/examples/v2"

    (error,) = validate_credential(credential).errors

    assert error.startswith("$['@context'][1]: 'https://www.w3.org/ns/credentials/examples/v2' does not match ")


def test_strict_validation_raises_with_every_error() -> None:
    credential = build()
    del credential["issuer"], credential["validFrom"]

    with pytest.raises(SchemaValidationError) as raised:
        validate_credential_strict(credential)

    assert raised.value.code == "schema_invalid"
    assert raised.value.errors == [
        "$.issuer: required property is missing",
        "$.validFrom: required property is missing",
    ]


def test_strict_validation_returns_the_report_of_a_valid_credential() -> None:
    assert validate_credential_strict(build()).valid


def test_a_non_object_is_an_error_not_an_exception() -> None:
    assert validate_credential(["not", "a", "credential"]).errors == (  # type: ignore[arg-type]
        "$: expected a JSON object, got array",
    )


# --- validation: VCDM 1.1 ------------------------------------------------------------------------


def vcdm11_credential() -> dict[str, Any]:
    """An OB 3.0 credential as VCDM 1.1 issuers (e.g. DCC) still make them."""
    return {
        "@context": [
            "https://www.w3.org/2018/credentials/v1",
            "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
            "https://w3id.org/security/suites/ed25519-2020/v1",
        ],
        "id": "urn:uuid:2f1c7c1e-8f2a-4d5e-9b7a-6c3d2e1f0a9b",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "General Maintenance",
        "issuer": {
            "id": "did:key:z6MkhVTX9BF3NGYX6cc7jWpbNnR7cAjH8LUffabZP8Qu4ysC",
            "type": ["Profile"],
            "name": "Example Training Centre",
        },
        "issuanceDate": "2023-06-01T00:00:00Z",
        "expirationDate": "2026-06-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "urn:uuid:bd6d9316-f7ae-4073-a1e5-2f7f5bd22922",
                "type": ["Achievement"],
                "name": "General Maintenance",
                "description": "Fundamentals of maintenance.",
                "criteria": {"narrative": "Completed the course."},
            },
        },
        "proof": {
            "type": "Ed25519Signature2020",
            "created": "2023-06-01T00:00:00Z",
            "verificationMethod": "did:key:z6MkhVTX9BF3NGYX6cc7jWpbNnR7cAjH8LUffabZP8Qu4ysC"
            "#z6MkhVTX9BF3NGYX6cc7jWpbNnR7cAjH8LUffabZP8Qu4ysC",
            "proofPurpose": "assertionMethod",
            "proofValue": "z3FXQjecWufY46",
        },
    }


VCDM11_WARNING = (
    "$: VCDM 1.1 credential (https://www.w3.org/2018/credentials/v1); checked "
    "against the OB 3.0 schema with issuanceDate read as validFrom and "
    "expirationDate as validUntil"
)


def test_a_vcdm11_open_badge_conforms_with_a_warning() -> None:
    report = validate_credential(vcdm11_credential())

    assert report.valid, report.errors
    assert report.warnings == (
        VCDM11_WARNING,
        "$.proof: a single value where the schema expects an array (accepted: JSON-LD reads both the same)",
    )


@pytest.mark.parametrize(
    ("change", "expected_error"),
    [
        (lambda c: c.pop("issuanceDate"), "$.issuanceDate: required property is missing"),
        (lambda c: c.update(expirationDate="June 2026"), "$.expirationDate: 'June 2026' is not a valid date-time"),
    ],
)
def test_vcdm11_rules_are_the_v2_rules_under_the_v1_names(change: Any, expected_error: str) -> None:
    credential = vcdm11_credential()
    change(credential)

    report = validate_credential(credential)

    assert report.errors == (expected_error,)
    assert VCDM11_WARNING in report.warnings


def test_each_embedded_vcdm11_credential_is_read_the_same_way() -> None:
    credential = vcdm11_credential()
    endorsement = load(SHARED / "examples" / "ob3-spec" / "endorsement-credential.json")
    endorsement["@context"][0] = "https://www.w3.org/2018/credentials/v1"
    endorsement["issuanceDate"] = endorsement.pop("validFrom")
    credential["credentialSubject"]["achievement"]["endorsement"] = [endorsement]

    report = validate_credential(credential)

    assert report.valid, report.errors
    assert "$.credentialSubject.achievement.endorsement[0]: VCDM 1.1 credential" in "\n".join(report.warnings)


# --- schema registry: offline only --------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Record (and refuse) any attempt to open a socket connection."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network access in a test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", lambda address, *a, **k: refuse(None, address))  # type: ignore[arg-type]
    return attempts


def test_the_registry_retrieve_refuses_any_uri_it_does_not_hold(no_network: list[object]) -> None:
    with pytest.raises(DocumentLoaderError) as raised:
        refuse_remote_schema("https://schemas.example/evil.json")
    with pytest.raises(Unretrievable) as wrapped:
        schema_registry().get_or_retrieve("https://schemas.example/evil.json")

    assert raised.value.code == "document_not_bundled"
    assert isinstance(wrapped.value.__cause__, DocumentLoaderError)
    assert no_network == []


def test_a_schema_with_a_remote_ref_fails_without_touching_the_network(no_network: list[object]) -> None:
    schema = {"$schema": "https://json-schema.org/draft/2019-09/schema", "$ref": "https://schemas.example/remote.json"}
    validator = Draft201909Validator(schema, registry=schema_registry())

    with pytest.raises(Unresolvable):
        validator.validate({})

    assert no_network == []


def test_vendored_schemas_resolve_by_id_and_by_published_url() -> None:
    registry = schema_registry()
    by_url = registry.get_or_retrieve(ACHIEVEMENT_CREDENTIAL_SCHEMA_URL).value.contents
    by_id = registry.get_or_retrieve(
        "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential-jsonschema1.json"
    ).value.contents

    assert by_url["title"] == by_id["title"] == "JSON Schema for the AchievementCredential class."


def test_the_schemas_are_read_from_the_vendored_folder() -> None:
    folder = schemas_directory()

    assert (folder / "ob_v3p0_achievementcredential_schema.json").is_file()
    assert (folder / "endorsementcredential.json").is_file()
