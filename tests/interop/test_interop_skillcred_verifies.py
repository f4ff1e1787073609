"""digitalbazaar signs, SkillCred verifies: `service.vc.verify.verify` on JS-made credentials.

dbvc.mjs (`@digitalbazaar/vc` + `eddsa-rdfc-2022-cryptosuite`) signs with the test keys; SkillCred
must accept what it signed, through did:key and through the did:web DID document SkillCred itself
publishes, and must reject it once a claim changes or when the key is not the issuer's. The
badges and pitfall cases are the ones test_interop_skillcred_signs.py signs the other way.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from node_verifier import NodeVC
from test_interop_skillcred_signs import (
    INTEROP_EDGE_CASES,
    ISSUER_DID,
    ISSUER_KEY_FILE,
    OTHER_DID,
    OTHER_KEY_FILE,
    STATUS_INDEX,
    STATUS_LIST_URL,
    WEB_DID,
    WEB_DID_DOCUMENT,
    WEB_ISSUER_URL,
    WEB_METHOD,
    badge,
    pitfall_badge,
    revocable_badge,
)

from service.vc.did import DocumentKeyResolver, did_web_document_url
from service.vc.report import VerificationReport
from service.vc.status_list import (
    BitstringStatusList,
    MappedStatusListResolver,
    build_status_list_credential,
)
from service.vc.verify import verify

pytestmark = pytest.mark.interop

# how the service will find the document: by the URL did:web resolution fetches
PUBLISHED = DocumentKeyResolver({did_web_document_url(WEB_DID): WEB_DID_DOCUMENT})


def outcomes(report: VerificationReport) -> dict[str, str]:
    return {check.id: check.outcome for check in report.checks}


def failures(report: VerificationReport) -> dict[str, str]:
    return {check.id: check.reason for check in report.checks if check.outcome == "failed"}


@pytest.fixture(scope="module")
def js_signed_badge(node_vc: NodeVC) -> dict[str, Any]:
    return node_vc.sign(badge(ISSUER_DID), ISSUER_KEY_FILE)


# --- the proof --------------------------------------------------------------------------------


def test_skillcred_verifies_an_ob3_badge_js_signed_for_a_did_key_issuer(
    js_signed_badge: dict[str, Any],
) -> None:
    proof = js_signed_badge["proof"]
    assert proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["verificationMethod"].startswith(f"{ISSUER_DID}#")
    report = verify(js_signed_badge)
    assert report.verified, report.to_text()
    assert outcomes(report)["proof"] == "passed"
    assert outcomes(report)["issuer_key"] == "passed"
    assert failures(report) == {}


def test_skillcred_verifies_a_badge_js_signed_for_a_did_web_issuer_through_its_did_document(
    node_vc: NodeVC,
) -> None:
    assert did_web_document_url(WEB_DID) == f"{WEB_ISSUER_URL}/did.json"
    signed = node_vc.sign(badge(WEB_DID), ISSUER_KEY_FILE, verification_method=WEB_METHOD)
    report = verify(signed, key_resolver=PUBLISHED)
    assert report.verified, report.to_text()
    assert outcomes(report)["proof"] == "passed"
    assert WEB_METHOD in report.check("proof").reason


def test_skillcred_cannot_trust_a_did_web_key_without_the_did_document(node_vc: NodeVC) -> None:
    signed = node_vc.sign(badge(WEB_DID), ISSUER_KEY_FILE, verification_method=WEB_METHOD)
    report = verify(signed, key_resolver=DocumentKeyResolver({}))
    assert not report.verified
    assert outcomes(report)["proof"] == "failed"
    assert outcomes(report)["issuer_key"] == "failed"


def test_skillcred_rejects_a_js_signed_badge_with_a_changed_claim(
    js_signed_badge: dict[str, Any],
) -> None:
    tampered = copy.deepcopy(js_signed_badge)
    tampered["credentialSubject"]["achievement"]["name"] = "Master Welder"
    report = verify(tampered)
    assert not report.verified
    assert failures(report).keys() == {"proof"}
    assert "signature does not match the document" in report.check("proof").reason


def test_skillcred_rejects_a_js_signed_badge_whose_key_is_not_the_issuers(node_vc: NodeVC) -> None:
    signed = node_vc.sign(badge(ISSUER_DID), OTHER_KEY_FILE)
    report = verify(signed)
    assert not report.verified
    assert failures(report).keys() == {"issuer_key", "proof"}
    assert f"controlled by {OTHER_DID}, not the issuer {ISSUER_DID}" in report.check("proof").reason


@pytest.mark.parametrize("case", INTEROP_EDGE_CASES)
def test_skillcred_verifies_the_proof_of_a_js_signed_pitfall_credential(node_vc: NodeVC, case: str) -> None:
    report = verify(node_vc.sign(pitfall_badge(case), ISSUER_KEY_FILE))
    assert outcomes(report)["proof"] == "passed", report.to_text()
    assert outcomes(report)["issuer_key"] == "passed"
    if case == "language-and-direction":
        # OB 3.0's JSON Schema wants `name` as a plain string: a schema failure, not a proof one
        assert failures(report).keys() == {"schema"}
    else:
        assert report.verified, report.to_text()


# --- status lists signed by digitalbazaar --------------------------------------------------------


@pytest.mark.parametrize("revoked", [False, True], ids=["bit-clear", "bit-set"])
def test_skillcred_reads_a_js_signed_status_list(node_vc: NodeVC, revoked: bool) -> None:
    bits = BitstringStatusList()
    bits.set(STATUS_INDEX, int(revoked))
    unsigned_list = build_status_list_credential(
        list_id=STATUS_LIST_URL,
        issuer=ISSUER_DID,
        status_purpose="revocation",
        encoded_list=bits.encode(),
        valid_from="2024-05-01T00:00:00Z",
    )
    js_signed_list = node_vc.sign(unsigned_list, ISSUER_KEY_FILE)
    statuses = MappedStatusListResolver({STATUS_LIST_URL: js_signed_list})
    signed = node_vc.sign(revocable_badge(), ISSUER_KEY_FILE)
    report = verify(signed, status_resolver=statuses)
    assert report.verified is not revoked
    assert outcomes(report)["status.revocation"] == ("failed" if revoked else "passed")
    assert outcomes(report)["proof"] == "passed"


def test_a_js_signed_status_list_edited_to_clear_a_revocation_does_not_clear_it(
    node_vc: NodeVC,
) -> None:
    bits = BitstringStatusList()
    bits.set(STATUS_INDEX, 1)
    unsigned_list = build_status_list_credential(
        list_id=STATUS_LIST_URL,
        issuer=ISSUER_DID,
        status_purpose="revocation",
        encoded_list=bits.encode(),
        valid_from="2024-05-01T00:00:00Z",
    )
    edited = node_vc.sign(unsigned_list, ISSUER_KEY_FILE)
    edited["credentialSubject"]["encodedList"] = BitstringStatusList().encode()
    report = verify(
        node_vc.sign(revocable_badge(), ISSUER_KEY_FILE),
        status_resolver=MappedStatusListResolver({STATUS_LIST_URL: edited}),
    )
    assert not report.verified
    assert outcomes(report)["status.revocation"] == "failed"
    assert "its proof does not verify" in report.check("status.revocation").reason


def test_skillcred_verifies_js_proofs_made_in_utf16_sort_order(node_vc: NodeVC) -> None:
    # rdf-canonize sorts by UTF-16 code units (digitalbazaar/rdf-canonize#52), RDFC-1.0 by code
    # points; they disagree on an emoji against a fullwidth character. SkillCred verifies such a
    # proof by retrying in UTF-16 order and says so in the report.
    unsigned = badge(ISSUER_DID)
    unsigned["credentialSubject"]["achievement"]["tag"] = ["🎓", "Ｗｅｌｄｉｎｇ"]
    report = verify(node_vc.sign(unsigned, ISSUER_KEY_FILE))
    assert report.verified, report.to_text()
    assert "UTF-16 order" in report.check("proof").reason


def test_the_utf16_retry_does_not_accept_a_tampered_document(node_vc: NodeVC) -> None:
    unsigned = badge(ISSUER_DID)
    unsigned["credentialSubject"]["achievement"]["tag"] = ["🎓", "Ｗｅｌｄｉｎｇ"]
    signed = node_vc.sign(unsigned, ISSUER_KEY_FILE)
    signed["credentialSubject"]["achievement"]["tag"] = ["🎓", "Ｗｅｌｄｉｎｇ!"]
    report = verify(signed)
    assert not report.verified and outcomes(report)["proof"] == "failed"
