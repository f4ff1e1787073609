"""SkillCred signs, digitalbazaar verifies: the proof that SkillCred's eddsa-rdfc-2022 is standard.

Every credential here is signed by `service.vc.data_integrity.sign` and handed to the independent
JavaScript verifier (dbvc.mjs: `@digitalbazaar/vc` + `eddsa-rdfc-2022-cryptosuite`). Ed25519 is
deterministic, so where both sign the same document at the same `created`, the proofs must be
byte-identical: any difference in JSON-LD expansion or RDFC-1.0 output shows up as a different
proofValue. The opposite direction is in test_interop_skillcred_verifies.py, which reuses the
badges and pitfall cases defined here.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from interop_vectors import load_json, write_json
from node_verifier import NodeResult, NodeVC

from service.vc import data_integrity
from service.vc.did import PublishedKey, build_did_document, did_web_document_url, did_web_from_url
from service.vc.jsonld import canonize
from service.vc.keys import LocalSigner, did_key_signer, load_ed25519_key_file
from service.vc.openbadges import (
    Achievement,
    Alignment,
    Evidence,
    IssuerProfile,
    Result,
    ResultDescription,
    RubricCriterionLevel,
    build_achievement_credential,
    hashed_email_identity,
)
from service.vc.status_list import (
    BitstringStatusList,
    MappedStatusListResolver,
    build_status_entry,
    build_status_list_credential,
)
from service.vc.verify import verify

pytestmark = pytest.mark.interop

KEYS = Path(__file__).resolve().parents[1] / "fixtures" / "keys"
ISSUER_KEY_FILE = KEYS / "issuer-ed25519.json"
OTHER_KEY_FILE = KEYS / "other-ed25519.json"
ISSUER_KEY = load_ed25519_key_file(load_json(ISSUER_KEY_FILE))
ISSUER = did_key_signer(ISSUER_KEY)
ISSUER_DID = ISSUER.verification_method.partition("#")[0]
OTHER = did_key_signer(load_ed25519_key_file(load_json(OTHER_KEY_FILE)))
OTHER_DID = OTHER.verification_method.partition("#")[0]

# where the service publishes an issuer's DID document: https://host/issuers/<id>/did.json
WEB_ISSUER_URL = "https://badges.example:8443/issuers/7f3a0c1e"
WEB_DID = did_web_from_url(WEB_ISSUER_URL)
WEB_METHOD = f"{WEB_DID}#key-1"
WEB_SIGNER = LocalSigner(ISSUER_KEY, WEB_METHOD)
WEB_DID_DOCUMENT = build_did_document(WEB_DID, [PublishedKey("key-1", ISSUER_KEY.public_key())])

CREATED = "2024-05-01T12:00:00Z"
ALL_CHECKS_PASS = {"signature": True, "purpose": True, "status": None}
ISSUER_IS_NOT_KEY_CONTROLLER = "Credential issuer must match the verification method controller."
OB_3_0_2 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json"
OB_3_0_1 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json"
CREDENTIALS_V1 = "https://www.w3.org/2018/credentials/v1"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
CONTROLS = "".join(chr(c) for c in range(0x20)) + "\x7f"
RECIPIENTS = {
    "did": {"recipient_did": "did:example:ebfeb1f712ebc6f1c276e12ec21"},
    "hashed-email": {"recipient_identity": hashed_email_identity("ada@example.org", "d1c6a1b9")},
}


def badge(
    issuer_id: str = ISSUER_DID,
    *,
    narrative: str = "Weld a butt joint to ISO 9606-1.",
    recipient: str = "did",
    **options: Any,
) -> dict[str, Any]:
    """An unsigned OB 3.0 AchievementCredential using every part of the builder."""
    site = "https://badges.example"
    pass_level, merit_level = f"{site}/rd/rubric#pass", f"{site}/rd/rubric#merit"
    rubric = ResultDescription(
        id=f"{site}/rd/rubric",
        name="Joint quality",
        result_type="RubricCriterionLevel",
        rubric_criterion_levels=[
            RubricCriterionLevel(id=pass_level, name="Pass", points="1"),
            RubricCriterionLevel(id=merit_level, name="Merit", points="2"),
        ],
        required_level=pass_level,
    )
    grade = ResultDescription(
        id=f"{site}/rd/grade", name="Grade", result_type="LetterGrade", allowed_values=["A", "B", "C"]
    )
    skill = Alignment(
        target_name="Weld steel",
        target_url="https://esco.example/skill/42",
        target_code="S4.2",
        target_framework="ESCO",
        target_type="ceasn:Competency",
    )
    achievement = Achievement(
        id=f"{site}/achievements/welding-1",
        name="Welding I",
        description="Fundamentals of MIG welding.",
        criteria_narrative=narrative,
        criteria_id=f"{site}/achievements/welding-1/criteria",
        alignments=[skill],
        result_descriptions=[rubric, grade],
        tags=["welding", "MIG"],
        achievement_type="Certificate",
    )
    return build_achievement_credential(
        credential_id="urn:uuid:7b0a5e35-6c61-4f5e-9d7b-0c7d2c1d5e01",
        issuer=IssuerProfile(id=issuer_id, name="Example Trade School", url=site),
        achievement=achievement,
        valid_from="2024-05-01T00:00:00Z",
        valid_until="2099-05-01T00:00:00Z",
        evidence=[
            Evidence(
                id=f"{site}/evidence/9",
                name="Test piece",
                narrative="Photographed and bend-tested.",
                genre="Assessment",
            )
        ],
        results=[
            Result(result_description=rubric.id, achieved_level=merit_level),
            Result(result_description=grade.id, value="A"),
        ],
        **RECIPIENTS[recipient],
        **options,
    )


def in_language_and_direction(credential: dict[str, Any]) -> None:
    credential["name"] = {"@value": "شهادة اللحام", "@language": "ar", "@direction": "rtl"}


def under_ob_3_0_2(credential: dict[str, Any]) -> None:
    credential["@context"][1] = OB_3_0_2


def as_vcdm_1_1(credential: dict[str, Any]) -> None:
    credential["@context"] = [CREDENTIALS_V1, OB_3_0_1, DATA_INTEGRITY_V2]
    credential["issuanceDate"] = credential.pop("validFrom")
    credential["expirationDate"] = credential.pop("validUntil")
    del credential["credentialSchema"]  # its type is defined by the extensions context only


def unchanged(credential: dict[str, Any]) -> None:
    pass


# (badge options, change to the built badge, text the canonical N-Quads must contain)
INTEROP_EDGE_CASES: dict[str, tuple[dict[str, Any], Callable[[dict[str, Any]], None], str]] = {
    # RDFC-1.0 canonical N-Quads: ECHAR for \b \t \n \f \r, UCHAR for the other C0 controls and DEL
    # (https://www.w3.org/TR/rdf-canon/#serialization); pyld leaves them unescaped
    "control-characters": (
        {"narrative": f"Tab\there; all C0 controls: {CONTROLS} end"},
        unchanged,
        r'"Tab\there; all C0 controls: \u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n'
        r"\u000B\f\r\u000E\u000F\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019"
        r'\u001A\u001B\u001C\u001D\u001E\u001F\u007F end"',
    ),
    # rdfDirection i18n-datatype, as jsonld.js (https://www.w3.org/TR/json-ld11-api/#object-to-rdf-conversion)
    "language-and-direction": (
        {},
        in_language_and_direction,
        '"شهادة اللحام"^^<https://www.w3.org/ns/i18n#ar_rtl>',
    ),
    "non-ascii-text": (
        {"narrative": "溶接の基礎 — 용접 기초 — Schweißen für Anfänger 🎓🔥"},
        unchanged,
        '"溶接の基礎 — 용접 기초 — Schweißen für Anfänger 🎓🔥"',
    ),
    "ob-context-3.0.2": (  # OB context 3.0.2 maps `achievement` to a different IRI than 3.0.3
        {},
        under_ob_3_0_2,
        "<https://purl.imsglobal.org/spec/vc/ob/vocab.html#achievement-0>",
    ),
    "vcdm-1.1": (  # OB 3.0 on VCDM 1.1 (credentials/v1, issuanceDate) is still issued and must verify
        {},
        as_vcdm_1_1,
        "<https://www.w3.org/2018/credentials#issuanceDate>",
    ),
}


def pitfall_badge(case: str) -> dict[str, Any]:
    options, change, _ = INTEROP_EDGE_CASES[case]
    credential = badge(**options)
    change(credential)
    return credential


def sign(credential: dict[str, Any], signer: LocalSigner = ISSUER, **options: Any) -> dict[str, Any]:
    return data_integrity.sign(credential, signer, created=CREATED, **options)


def assert_js_verifies(result: NodeResult, status: bool | None = None) -> None:
    assert result.errors == [], result.errors
    assert result.verified
    assert result.checks == {**ALL_CHECKS_PASS, "status": status}


def assert_js_signs_the_same(node_vc: NodeVC, unsigned: dict[str, Any], signed: dict[str, Any]) -> None:
    js_signed = node_vc.sign(unsigned, ISSUER_KEY_FILE, created=CREATED)
    proof = signed["proof"][0] if isinstance(signed["proof"], list) else signed["proof"]
    assert proof == js_signed["proof"]


# --- Open Badges 3.0 credentials ------------------------------------------------------------


@pytest.mark.parametrize("recipient", RECIPIENTS)
@pytest.mark.parametrize("proof_as_list", [False, True], ids=["proof-object", "proof-list"])
def test_an_ob3_badge_skillcred_signs_verifies_in_js(node_vc: NodeVC, recipient: str, proof_as_list: bool) -> None:
    unsigned = badge(recipient=recipient)
    assert unsigned["@context"][-1] == "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
    signed = sign(unsigned, proof_as_list=proof_as_list)
    assert isinstance(signed["proof"], list) is proof_as_list
    assert_js_verifies(node_vc.verify(signed))
    assert_js_signs_the_same(node_vc, unsigned, signed)


def test_a_did_web_issuer_verifies_in_js_through_the_did_document_skillcred_publishes(
    node_vc: NodeVC, tmp_path: Path
) -> None:
    assert WEB_DID == "did:web:badges.example%3A8443:issuers:7f3a0c1e"
    assert did_web_document_url(WEB_DID) == f"{WEB_ISSUER_URL}/did.json"
    did_json = write_json(tmp_path / "did.json", WEB_DID_DOCUMENT)
    signed = sign(badge(WEB_DID), WEB_SIGNER)
    assert signed["proof"]["verificationMethod"] == WEB_METHOD
    assert_js_verifies(node_vc.verify(signed, resolve={WEB_DID: did_json}))


# --- the edge cases that silently break interop -------------------------------------------


@pytest.mark.parametrize("case", INTEROP_EDGE_CASES)
def test_a_pitfall_credential_skillcred_signs_verifies_in_js(node_vc: NodeVC, case: str) -> None:
    unsigned = pitfall_badge(case)
    assert INTEROP_EDGE_CASES[case][2] in canonize(unsigned)  # the feature really reaches the signed N-Quads
    signed = sign(unsigned)
    assert_js_verifies(node_vc.verify(signed))
    assert_js_signs_the_same(node_vc, unsigned, signed)


def test_a_changed_text_direction_breaks_the_signature_in_js(node_vc: NodeVC) -> None:
    signed = sign(pitfall_badge("language-and-direction"))
    signed["name"]["@direction"] = "ltr"
    assert node_vc.verify(signed).checks["signature"] is False


def test_canonical_order_is_code_point_order_which_digitalbazaar_does_not_follow(
    node_vc: NodeVC,
) -> None:
    # RDFC-1.0 sorts N-Quads in Unicode code point order; rdf-canonize 5.0 sorts UTF-16 code
    # units (digitalbazaar/rdf-canonize#52, open). Two values of one property that first differ
    # at a non-BMP character (an emoji) and at one in U+E000-U+FFFF (fullwidth, presentation
    # forms, U+FFFD) sort differently, so neither side verifies the other's proof. If this test
    # fails, digitalbazaar has caught up with the specification.
    unsigned = badge()
    unsigned["credentialSubject"]["achievement"]["tag"] = ["🎓", "Ｗｅｌｄｉｎｇ"]
    canonical = canonize(unsigned)
    assert canonical.index('"Ｗｅｌｄｉｎｇ"') < canonical.index('"🎓"')
    signed = sign(unsigned)
    assert node_vc.sign(unsigned, ISSUER_KEY_FILE, created=CREATED)["proof"] != signed["proof"]
    assert node_vc.verify(signed).checks["signature"] is False


def test_noncharacters_u_fffe_and_u_ffff_are_written_as_themselves(node_vc: NodeVC) -> None:
    unsigned = badge(narrative="pasted from a legacy export: \ufffe\uffff")
    assert '"pasted from a legacy export: \ufffe\uffff"' in canonize(unsigned)
    signed = sign(unsigned)
    assert_js_verifies(node_vc.verify(signed))


# --- tampering --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signed_badge() -> dict[str, Any]:
    return sign(badge())


def test_js_rejects_a_skillcred_badge_with_a_changed_claim(node_vc: NodeVC, signed_badge: dict[str, Any]) -> None:
    tampered = copy.deepcopy(signed_badge)
    tampered["credentialSubject"]["achievement"]["name"] = "Master Welder"
    result = node_vc.verify(tampered)
    assert not result.verified
    assert result.checks["signature"] is False
    assert "Invalid signature." in result.errors


def test_js_rejects_a_skillcred_badge_with_a_changed_proof_value(node_vc: NodeVC, signed_badge: dict[str, Any]) -> None:
    tampered = copy.deepcopy(signed_badge)
    value = tampered["proof"]["proofValue"]
    tampered["proof"]["proofValue"] = value[:-1] + ("2" if value[-1] != "2" else "3")
    result = node_vc.verify(tampered)
    assert not result.verified
    assert result.checks["signature"] is False


def test_js_rejects_a_skillcred_badge_whose_issuer_was_swapped(node_vc: NodeVC, signed_badge: dict[str, Any]) -> None:
    tampered = copy.deepcopy(signed_badge)
    tampered["issuer"]["id"] = OTHER_DID
    result = node_vc.verify(tampered)
    assert not result.verified
    assert result.checks["signature"] is False


def test_js_rejects_a_skillcred_badge_signed_by_a_key_the_issuer_does_not_control(
    node_vc: NodeVC,
) -> None:
    result = node_vc.verify(sign(badge(ISSUER_DID), OTHER))
    assert result.checks == {"signature": True, "purpose": False, "status": None}
    assert result.errors == [ISSUER_IS_NOT_KEY_CONTROLLER]


# --- Bitstring Status List --------------------------------------------------------------------

STATUS_LIST_URL = "https://badges.example:8443/status/3"
STATUS_INDEX = 94_567


def status_list_credential(bits: BitstringStatusList) -> dict[str, Any]:
    """SkillCred's signed revocation list (by the badge's issuer, as verifiers require)."""
    unsigned = build_status_list_credential(
        list_id=STATUS_LIST_URL,
        issuer=ISSUER_DID,
        status_purpose="revocation",
        encoded_list=bits.encode(),
        valid_from="2024-05-01T00:00:00Z",
    )
    return sign(unsigned)


def revocable_badge() -> dict[str, Any]:
    entry = build_status_entry(list_credential_url=STATUS_LIST_URL, index=STATUS_INDEX, purpose="revocation")
    return badge(credential_status=entry)


def test_js_accepts_a_skillcred_revocable_badge_while_its_bit_is_clear(node_vc: NodeVC, tmp_path: Path) -> None:
    status_list = status_list_credential(BitstringStatusList())
    signed = sign(revocable_badge())
    status_file = write_json(tmp_path / "status.json", status_list)
    result = node_vc.verify(signed, resolve={STATUS_LIST_URL: status_file})
    assert_js_verifies(result, status=True)
    statuses = MappedStatusListResolver({STATUS_LIST_URL: status_list})
    assert verify(signed, status_resolver=statuses).check("status.revocation").outcome == "passed"


def test_js_rejects_a_skillcred_badge_once_skillcred_sets_its_bit_and_re_signs_the_list(
    node_vc: NodeVC, tmp_path: Path
) -> None:
    bits = BitstringStatusList()
    bits.set(STATUS_INDEX, 1)
    status_list = status_list_credential(bits)
    signed = sign(revocable_badge())
    status_file = write_json(tmp_path / "status.json", status_list)
    result = node_vc.verify(signed, resolve={STATUS_LIST_URL: status_file})
    assert not result.verified
    assert result.checks == {"signature": True, "purpose": True, "status": False}
    assert result.errors == [f"Credential status: revocation bit {STATUS_INDEX} of {STATUS_LIST_URL} is set."]
    statuses = MappedStatusListResolver({STATUS_LIST_URL: status_list})
    assert verify(signed, status_resolver=statuses).check("status.revocation").outcome == "failed"
