"""The verification pipeline: every input format, every tampering, dates, status and endorsements."""

import copy
import dataclasses
import importlib
import json
from datetime import UTC, datetime

import pytest

from service.vc import data_integrity, jose
from service.vc.baking import bake_png, bake_svg
from service.vc.did import DidKeyResolver
from service.vc.errors import StatusListError
from service.vc.status_list import (
    BitstringStatusList,
    MappedStatusListResolver,
    StatusListUnavailable,
    build_status_entry,
    build_status_list_credential,
)
from service.vc.verify import verify
from tests.vc.test_baking import _tiny_png as minimal_png

NOW = datetime(2025, 6, 1, tzinfo=UTC)
LIST_URL = "https://issuer.example/status/1"


def outcome(report, check_id: str) -> str:
    check = report.check(check_id)
    assert check is not None, f"no {check_id} check in {report.to_dict()}"
    return check.outcome


def resign(credential, signer):
    unsigned = {k: v for k, v in credential.items() if k != "proof"}
    return data_integrity.sign(unsigned, signer, created="2024-01-01T00:00:00Z")


# --- formats ------------------------------------------------------------------------------------


def test_a_signed_credential_verifies(signed_credential):
    report = verify(signed_credential, now=NOW)
    assert report.verified, report.to_text()
    assert outcome(report, "proof") == "passed" and outcome(report, "issuer_key") == "passed"
    assert report.format == "json-ld"


def test_json_text_and_bytes_verify_like_the_object(signed_credential):
    text = json.dumps(signed_credential)
    assert verify(text, now=NOW).verified and verify(text.encode(), now=NOW).verified


def test_a_vc_jwt_verifies(unsigned_credential, issuer_signer):
    report = verify(jose.sign_vc_jwt(unsigned_credential, issuer_signer), now=NOW)
    assert report.verified, report.to_text()
    assert report.format == "vc-jwt" and outcome(report, "jwt") == "passed"


@pytest.mark.parametrize("kind", ["json-ld", "jwt"])
def test_baked_png_and_svg_badges_verify(kind, signed_credential, unsigned_credential, issuer_signer):
    credential = signed_credential if kind == "json-ld" else jose.sign_vc_jwt(unsigned_credential, issuer_signer)
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"></svg>'
    for image, fmt in ((bake_png(minimal_png(), credential), "png"), (bake_svg(svg, credential).encode(), "svg")):
        report = verify(image, now=NOW)
        assert report.verified, report.to_text()
        assert report.format == fmt and outcome(report, "baked_image") == "passed"


@pytest.mark.parametrize(
    "bad_input, reason",
    [
        (b"", "not a JSON-LD credential"),
        (b"\x00\xff\xfe garbage", "neither a badge image nor UTF-8"),
        ("{not json", "Malformed JSON"),
        ("[1, 2]", "not a JSON-LD credential"),
        ("a.b", "not a JSON-LD credential"),
        (minimal_png(), "no_credential"),
        (12345, "Unsupported input type"),
    ],
)
def test_malformed_input_gives_a_failed_report_with_a_reason(bad_input, reason):
    report = verify(bad_input, now=NOW)
    assert not report.verified
    assert any(reason in c.reason for c in report.checks if c.outcome == "failed"), report.to_text()


def test_a_json_object_that_is_not_a_credential_fails_without_an_exception():
    report = verify({"hello": "world"}, now=NOW)
    assert not report.verified and outcome(report, "context") == "failed"


# --- tampering ----------------------------------------------------------------------------------


def change_claim(c):
    c["credentialSubject"]["achievement"]["name"] = "Leadership"


def add_claim(c):
    c["description"] = "An extra claim the issuer never made"


def remove_claim(c):
    del c["name"]


def reorder_context(c):
    c["@context"] = list(reversed(c["@context"]))


def edit_proof_value(c):
    value = c["proof"]["proofValue"]
    c["proof"]["proofValue"] = value[:-2] + ("11" if value[-2:] != "11" else "22")


def move_valid_from(c):
    c["validFrom"] = "2009-01-01T00:00:00Z"


def change_recipient(c):
    c["credentialSubject"]["id"] = "did:example:someone-else"


@pytest.mark.parametrize(
    "tamper, failing_check",
    [
        (change_claim, "proof"),
        (add_claim, "proof"),
        (remove_claim, "proof"),
        (reorder_context, "context"),
        (edit_proof_value, "proof"),
        (move_valid_from, "proof"),
        (change_recipient, "proof"),
    ],
)
def test_tampering_fails_and_the_report_names_the_check(signed_credential, tamper, failing_check):
    tamper(signed_credential)
    report = verify(signed_credential, now=NOW)
    assert not report.verified
    assert outcome(report, failing_check) == "failed", report.to_text()


def test_swapping_in_another_key_fails_the_issuer_key_check(signed_credential, other_signer):
    forged = resign(signed_credential, other_signer)
    report = verify(forged, now=NOW)
    assert not report.verified and outcome(report, "issuer_key") == "failed"


def test_pointing_the_proof_at_another_key_fails(signed_credential, other_signer):
    signed_credential["proof"]["verificationMethod"] = other_signer.verification_method
    assert not verify(signed_credential, now=NOW).verified


def test_a_credential_without_a_proof_fails(unsigned_credential):
    report = verify(unsigned_credential, now=NOW)
    assert not report.verified and outcome(report, "proof") == "failed"


def test_a_tampered_vc_jwt_fails(unsigned_credential, issuer_signer):
    header, payload, signature = jose.sign_vc_jwt(unsigned_credential, issuer_signer).split(".")
    other = jose.sign_vc_jwt({**unsigned_credential, "name": "Other"}, issuer_signer).split(".")[1]
    report = verify(".".join([header, other, signature]), now=NOW)
    assert not report.verified and outcome(report, "jwt") == "failed"


# --- dates --------------------------------------------------------------------------------------


def test_an_expired_credential_fails_the_valid_until_check(unsigned_credential, issuer_signer):
    unsigned_credential["validUntil"] = "2020-01-01T00:00:00Z"
    report = verify(data_integrity.sign(unsigned_credential, issuer_signer), now=NOW)
    assert not report.verified and outcome(report, "valid_until") == "failed"
    assert "Expired" in report.check("valid_until").reason


def test_a_credential_not_yet_valid_fails_the_valid_from_check(unsigned_credential, issuer_signer):
    unsigned_credential["validFrom"] = "2030-01-01T00:00:00Z"
    report = verify(data_integrity.sign(unsigned_credential, issuer_signer), now=NOW)
    assert not report.verified and outcome(report, "valid_from") == "failed"


# --- legacy forms -------------------------------------------------------------------------------


def test_a_vcdm_1_1_open_badge_verifies_with_a_warning(issuer_signer, issuer_did):
    credential = {
        "@context": [
            "https://www.w3.org/2018/credentials/v1",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
            "https://w3id.org/security/data-integrity/v2",
        ],
        "id": "urn:uuid:7f0d3d6e-1b1e-4c1e-9a51-3b9d0f0e2a11",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_did, "type": "Profile", "name": "Legacy Issuer"},
        "issuanceDate": "2023-01-01T00:00:00Z",
        "name": "Legacy badge",
        "credentialSubject": {
            "id": "did:example:learner",
            "type": "AchievementSubject",
            "achievement": {
                "id": "https://example.com/a/1",
                "type": "Achievement",
                "name": "Legacy",
                "description": "A VCDM 1.1 badge",
                "criteria": {"narrative": "Did it"},
            },
        },
    }
    report = verify(data_integrity.sign(credential, issuer_signer), now=NOW)
    assert report.verified, report.to_text()
    assert outcome(report, "context") == "warning" and outcome(report, "valid_from") == "passed"


# --- status -------------------------------------------------------------------------------------


def status_setup(unsigned_credential, issuer_signer, *, revoked: bool, list_signer=None, purpose="revocation"):
    bits = BitstringStatusList()
    if revoked:
        bits.set(94567, 1)
    list_credential = build_status_list_credential(
        list_id=LIST_URL,
        issuer=unsigned_credential["issuer"]["id"],
        status_purpose=purpose,
        encoded_list=bits.encode(),
        valid_from="2024-01-01T00:00:00Z",
    )
    signed_list = data_integrity.sign(list_credential, list_signer or issuer_signer)
    unsigned_credential["credentialStatus"] = build_status_entry(
        list_credential_url=LIST_URL, index=94567, purpose=purpose
    )
    credential = data_integrity.sign(unsigned_credential, issuer_signer)
    return credential, signed_list


@pytest.mark.parametrize("purpose, past", [("revocation", "revoked"), ("suspension", "suspended")])
def test_a_set_status_bit_fails_verification(unsigned_credential, issuer_signer, purpose, past):
    credential, signed_list = status_setup(unsigned_credential, issuer_signer, revoked=True, purpose=purpose)
    report = verify(credential, status_resolver=MappedStatusListResolver({LIST_URL: signed_list}), now=NOW)
    assert not report.verified and outcome(report, f"status.{purpose}") == "failed"
    assert past in report.check(f"status.{purpose}").reason


def test_an_unset_status_bit_passes(unsigned_credential, issuer_signer):
    credential, signed_list = status_setup(unsigned_credential, issuer_signer, revoked=False)
    report = verify(credential, status_resolver=MappedStatusListResolver({LIST_URL: signed_list}), now=NOW)
    assert report.verified and outcome(report, "status.revocation") == "passed"


def test_a_status_list_edited_after_signing_cannot_clear_a_revocation(unsigned_credential, issuer_signer):
    credential, signed_list = status_setup(unsigned_credential, issuer_signer, revoked=True)
    signed_list["credentialSubject"]["encodedList"] = BitstringStatusList().encode()
    report = verify(credential, status_resolver=MappedStatusListResolver({LIST_URL: signed_list}), now=NOW)
    assert not report.verified and outcome(report, "status.revocation") == "failed"
    assert "proof does not verify" in report.check("status.revocation").reason


def test_a_status_list_signed_by_someone_else_is_not_trusted(unsigned_credential, issuer_signer, other_signer):
    credential, signed_list = status_setup(unsigned_credential, issuer_signer, revoked=False, list_signer=other_signer)
    report = verify(credential, status_resolver=MappedStatusListResolver({LIST_URL: signed_list}), now=NOW)
    assert not report.verified and outcome(report, "status.revocation") == "failed"


def test_an_unreachable_status_list_is_a_warning_never_a_silent_pass(unsigned_credential, issuer_signer):
    credential, _ = status_setup(unsigned_credential, issuer_signer, revoked=False)

    class Down:
        def resolve(self, url):
            raise StatusListUnavailable(f"{url} timed out")

    report = verify(credential, status_resolver=Down(), now=NOW)
    assert outcome(report, "status.revocation") == "warning" and "timed out" in report.check("status").reason
    assert outcome(verify(credential, now=NOW), "status.revocation") == "warning"


def test_a_too_short_status_list_fails_with_the_spec_error(unsigned_credential, issuer_signer):
    credential, signed_list = status_setup(unsigned_credential, issuer_signer, revoked=False)
    import base64
    import gzip

    short = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(1024))).decode().rstrip("=")
    signed_list = data_integrity.sign(
        {
            **{k: v for k, v in signed_list.items() if k != "proof"},
            "credentialSubject": {**signed_list["credentialSubject"], "encodedList": short},
        },
        issuer_signer,
    )
    report = verify(credential, status_resolver=MappedStatusListResolver({LIST_URL: signed_list}), now=NOW)
    assert not report.verified and "STATUS_LIST_LENGTH_ERROR" in report.check("status").reason
    assert issubclass(StatusListUnavailable, StatusListError)


# --- endorsements -------------------------------------------------------------------------------


def endorsement_by(signer, issuer_did) -> dict:
    return data_integrity.sign(
        {
            "@context": [
                "https://www.w3.org/ns/credentials/v2",
                "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
            ],
            "id": "urn:uuid:3f1c4a52-8e6c-4b0e-9c1e-5d2b7a9e0f11",
            "type": ["VerifiableCredential", "EndorsementCredential"],
            "issuer": {"id": issuer_did, "type": ["Profile"], "name": "A client"},
            "validFrom": "2024-01-01T00:00:00Z",
            "name": "Great work",
            "credentialSubject": {
                "id": "https://example.com/achievements/1",
                "type": ["EndorsementSubject"],
                "endorsementComment": "Delivered on time.",
            },
        },
        signer,
    )


def test_embedded_endorsements_are_checked_one_by_one(unsigned_credential, issuer_signer, other_signer):
    good = endorsement_by(other_signer, other_signer.verification_method.split("#")[0])
    bad = copy.deepcopy(good)
    bad["name"] = "Edited after signing"
    unsigned_credential["endorsement"] = [good, bad]
    report = verify(data_integrity.sign(unsigned_credential, issuer_signer), now=NOW)
    assert report.verified, report.to_text()
    assert [c.outcome for c in report.checks if c.id.startswith("endorsements.")] == ["passed", "warning"]


def test_report_json_has_the_cli_contract_shape(signed_credential):
    data = verify(signed_credential, now=NOW).to_dict()
    assert data["verified"] is True
    assert all(set(c) >= {"id", "outcome", "reason"} for c in data["checks"])
    assert {c["outcome"] for c in data["checks"]} <= {"passed", "failed", "warning", "skipped"}


# --- a status list's proof is checked once per signed version -------------------------------------


class CountingCanonize:
    """Counts the canonicalisations ``data_integrity`` asks for (the work a memo hit saves)."""

    def __init__(self, monkeypatch) -> None:
        self.calls = 0
        original = data_integrity.canonize

        def counting(*args, **kwargs):
            self.calls += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(data_integrity, "canonize", counting)


@pytest.fixture
def fresh_status_list_proofs(monkeypatch):
    verify_module = importlib.import_module("service.vc.verify")  # the package exports verify()
    memo = data_integrity.VerifiedProofs(maxsize=8)
    monkeypatch.setattr(verify_module, "STATUS_LIST_PROOFS", memo)
    return memo


def test_a_status_list_seen_again_is_not_canonicalised_again(
    unsigned_credential, issuer_signer, fresh_status_list_proofs, monkeypatch
):
    credential, signed_list = status_setup(unsigned_credential, issuer_signer, revoked=False)
    resolver = MappedStatusListResolver({LIST_URL: signed_list})
    assert verify(credential, status_resolver=resolver, now=NOW).verified
    counting = CountingCanonize(monkeypatch)

    report = verify(credential, status_resolver=resolver, now=NOW)

    assert report.verified and outcome(report, "status.revocation") == "passed"
    assert counting.calls == 2  # the credential's document and proof configuration, not the list's
    assert fresh_status_list_proofs.hits == 1


def test_a_list_edited_after_its_proof_was_kept_is_checked_again_and_fails(
    unsigned_credential, issuer_signer, fresh_status_list_proofs
):
    credential, signed_list = status_setup(unsigned_credential, issuer_signer, revoked=True)
    resolver = MappedStatusListResolver({LIST_URL: signed_list})
    assert outcome(verify(credential, status_resolver=resolver, now=NOW), "status.revocation") == "failed"

    signed_list["credentialSubject"]["encodedList"] = BitstringStatusList().encode()  # clears the bit
    report = verify(credential, status_resolver=resolver, now=NOW)

    assert not report.verified and "proof does not verify" in report.check("status.revocation").reason
    assert fresh_status_list_proofs.hits == 0


def test_a_kept_proof_is_not_served_for_a_key_its_controller_no_longer_lists_or_another_key(
    signed_credential, issuer_did, other_signer
):
    """The key is resolved for every verification and is part of the memo's key: a controller
    document that drops the method (a compromised key) or names another key misses."""
    memo = data_integrity.VerifiedProofs()
    resolver = DidKeyResolver()

    def check(keys):
        return data_integrity.verify_proofs(
            signed_credential, keys, expected_controller=issuer_did, verified_before=memo
        )[0]

    assert check(resolver).verified and memo.hits == 0

    class Altered:
        def __init__(self, **changes):
            self.changes = changes

        def resolve(self, method_id):
            return dataclasses.replace(resolver.resolve(method_id), **self.changes)

        def methods_of(self, controller):  # pragma: no cover - proofs do not ask
            return []

    dropped = check(Altered(purposes=frozenset()))
    assert not dropped.verified and dropped.code == "purpose_mismatch"
    swapped = check(Altered(public_key=other_signer.public_key))
    assert not swapped.verified and swapped.code == "invalid_signature"
    assert memo.hits == 0
    assert check(resolver).verified and memo.hits == 1
