"""A key reported compromised: nothing it signed verifies any more, whatever dates it carries.

Over ``POST /v1/verify`` and the badge page (this service's verifier), a credential, endorsement
or status list signed by the key fails its ``issuer_key`` check with ``key_compromised``, the
date and the issuer's reason; what the issuer's other keys signed still verifies, status check
included (the lists the key signed are signed again with the new key). A thief holding the key
cannot backdate a credential past the report. The pure pipeline refuses any method its
controller document marks ``revoked`` (Controlled Identifiers 1.0, section 2.2), whichever
resolver answers.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlmodel import Session, select

from service.endorsements.models import Endorsement
from service.issuers.models import SigningKey
from service.vc import data_integrity, jose
from service.vc.did import DocumentKeyResolver, PublishedKey, VerificationMethod, build_did_document
from service.vc.errors import KeyResolutionError
from service.vc.keys import LocalSigner, Signer, generate_ed25519
from service.vc.openbadges import Achievement, IssuerProfile, build_achievement_credential
from service.vc.verify import verify
from tests.credentials.helpers import MEDIA_TYPES, status_list_urls
from tests.endorsements.conftest import endorse_by_email

REASON = "Laptop holding an export of the key was stolen"
COMPROMISED_AT = "2026-01-10T08:00:00Z"


def compromise(api, issuer_id: str, key: str, **body: Any) -> dict[str, Any]:
    body = {"reason": REASON, "compromised_at": COMPROMISED_AT, **body}
    response = api.client.post(f"/v1/issuers/{issuer_id}/keys/{key}/compromise", json=body, headers=api.admin)
    assert response.status_code == 200, response.text
    return response.json()


def rotate(api, issuer_id: str) -> None:
    response = api.client.post(f"/v1/issuers/{issuer_id}/keys/rotate", headers=api.admin)
    assert response.status_code == 200, response.text


def fetch(api, credential_id: str, fmt: str) -> bytes:
    response = api.client.get(f"/v1/credentials/{credential_id}/{fmt}", headers=api.admin)
    assert response.status_code == 200, response.text
    return response.content


def verify_over_rest(api, content: bytes | str, media_type: str) -> dict[str, Any]:
    response = api.client.post("/v1/verify", content=content, headers={"Content-Type": media_type})
    assert response.status_code == 200, response.text
    return response.json()


def check(report: dict[str, Any], check_id: str) -> dict[str, Any]:
    return next(c for c in report["checks"] if c["id"] == check_id)


def assert_compromised(report: dict[str, Any], method: str) -> None:
    assert report["verified"] is False
    issuer_key = check(report, "issuer_key")
    assert issuer_key["outcome"] == "failed"
    assert issuer_key["reason"].startswith(
        f"key_compromised: signed by a key the issuer reported compromised on {COMPROMISED_AT} ({REASON})"
    )
    assert method in issuer_key["reason"]


def stolen_signer(app, issuer: dict[str, Any], fragment: str) -> Signer:
    """What a thief holds: the private key of ``fragment``, out of the keystore."""
    with Session(app.state.engine) as session:
        key = session.exec(
            select(SigningKey).where(SigningKey.issuer_id == issuer["id"], SigningKey.fragment == fragment)
        ).one()
    return app.state.keystore.signer(
        key.private_sealed, key_id=key.id, verification_method=f"{issuer['did']}#{fragment}"
    )


def forged_credential(issuer: dict[str, Any], valid_from: datetime) -> dict[str, Any]:
    """A credential the issuer never issued, dated as the thief likes."""
    return build_achievement_credential(
        credential_id="urn:uuid:5e0f4a8e-2f57-4a8e-9d61-0c1f3b7a9e42",
        issuer=IssuerProfile(id=issuer["did"], name=issuer["name"], url=issuer["url"]),
        achievement=Achievement(
            id="https://skillcred.example/achievements/forged",
            name="Senior security engineer",
            description="Anything the thief wants.",
            criteria_narrative="None.",
        ),
        recipient_did="did:example:thief",
        valid_from=valid_from,
    )


# --- over REST ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["jsonld", "png"])
def test_a_credential_signed_by_a_key_later_reported_compromised_fails_verification(api, issuer, achievement, fmt):
    issued = api.issue(achievement["id"])
    content = fetch(api, issued["id"], fmt)
    assert verify_over_rest(api, content, MEDIA_TYPES[fmt])["verified"] is True

    compromise(api, issuer["id"], "key-1")

    report = verify_over_rest(api, content, MEDIA_TYPES[fmt])
    assert_compromised(report, f"{issuer['did']}#key-1")


def test_the_vc_jwt_fails_once_its_rsa_key_is_reported_and_not_before(api, issuer, achievement):
    issued = api.issue(achievement["id"])
    token = fetch(api, issued["id"], "jwt")

    compromise(api, issuer["id"], "key-1")  # the Ed25519 key signed the JSON-LD proof, not the VC-JWT
    assert verify_over_rest(api, token, MEDIA_TYPES["jwt"])["verified"] is True

    compromise(api, issuer["id"], "rsa-1")
    report = verify_over_rest(api, token, MEDIA_TYPES["jwt"])
    assert_compromised(report, f"{issuer['did']}#rsa-1")


def test_a_credential_signed_by_another_key_of_the_same_issuer_still_verifies(api, issuer, achievement):
    old = api.issue(achievement["id"])
    rotate(api, issuer["id"])
    new = api.issue(achievement["id"])

    compromise(api, issuer["id"], "key-1")
    compromise(api, issuer["id"], "rsa-1")

    for fmt in ("jsonld", "jwt", "png"):
        report = verify_over_rest(api, fetch(api, new["id"], fmt), MEDIA_TYPES[fmt])
        assert report["verified"] is True, (fmt, report)
        assert check(report, "issuer_key")["outcome"] == "passed"
        assert check(report, "status.revocation")["outcome"] == "passed"
    assert verify_over_rest(api, fetch(api, old["id"], "jsonld"), MEDIA_TYPES["jsonld"])["verified"] is False


def test_the_status_lists_the_key_signed_are_signed_again_with_the_new_key(api, issuer, achievement):
    issued = api.issue(achievement["id"])
    paths = [urlsplit(url).path for url in status_list_urls(issued["credential"])]
    before = [api.client.get(path).json()["proof"]["verificationMethod"] for path in paths]
    assert before == [f"{issuer['did']}#key-1"] * len(paths)

    outcome = compromise(api, issuer["id"], "key-1")

    assert outcome["status_lists_resigned"] == len(set(paths))
    after = [api.client.get(path).json()["proof"]["verificationMethod"] for path in paths]
    assert after == [f"{issuer['did']}#key-2"] * len(paths)
    # the credential's VC-JWT (signed by rsa-1) keeps verifying, status included
    report = verify_over_rest(api, fetch(api, issued["id"], "jwt"), MEDIA_TYPES["jwt"])
    assert report["verified"] is True, report


def test_an_endorsement_signed_by_the_key_fails_verification(app, api, issuer, achievement):
    credential = api.issue(achievement["id"])
    endorsement = endorse_by_email(api, credential["id"])
    with Session(app.state.engine) as session:
        document = session.get_one(Endorsement, endorsement["id"]).jsonld
    assert verify_over_rest(api, document, "application/json")["verified"] is True

    compromise(api, issuer["id"], "key-1")

    assert_compromised(verify_over_rest(api, document, "application/json"), f"{issuer['did']}#key-1")


def test_the_badge_page_says_why_it_no_longer_verifies(api, issuer, achievement):
    issued = api.issue(achievement["id"])
    compromise(api, issuer["id"], "key-1")

    page = api.client.get(urlsplit(issued["url"]).path, headers={"Accept": "text/html"})

    assert page.status_code == 200
    assert "key_compromised: signed by a key the issuer reported compromised on" in page.text
    assert REASON in page.text


@pytest.mark.attack
def test_a_thief_cannot_backdate_a_credential_signed_with_the_stolen_keys(app, api, issuer):
    ed25519, rsa = stolen_signer(app, issuer, "key-1"), stolen_signer(app, issuer, "rsa-1")
    compromise(api, issuer["id"], "key-1")
    compromise(api, issuer["id"], "rsa-1")
    long_before = datetime(2025, 3, 1, 9, tzinfo=UTC)  # well before the reported compromise
    unsigned = forged_credential(issuer, long_before)

    proof_forged = data_integrity.sign(unsigned, ed25519, proof_as_list=True, created="2025-03-01T09:00:00Z")
    jwt_forged = jose.sign_vc_jwt(unsigned, rsa)

    assert_compromised(verify_over_rest(api, json.dumps(proof_forged), "application/json"), f"{issuer['did']}#key-1")
    assert_compromised(verify_over_rest(api, jwt_forged, MEDIA_TYPES["jwt"]), f"{issuer['did']}#rsa-1")


@pytest.mark.attack
def test_a_thief_cannot_sign_with_the_compromised_key_beside_a_good_proof(app, api, issuer, achievement):
    """A genuine credential with a second proof by the stolen key: it carries that key's signature."""
    thief = stolen_signer(app, issuer, "key-1")
    rotate(api, issuer["id"])
    genuine = api.issue(achievement["id"])["credential"]
    compromise(api, issuer["id"], "key-1")

    doubled = data_integrity.sign(genuine, thief)

    assert_compromised(verify_over_rest(api, json.dumps(doubled), "application/json"), f"{issuer['did']}#key-1")


# --- the pure pipeline ----------------------------------------------------------------------------

DID = "did:web:elsewhere.example"


def _signed_elsewhere() -> tuple[Any, dict[str, Any]]:
    key = generate_ed25519()
    unsigned = forged_credential(
        {"did": DID, "name": "Elsewhere", "url": "https://elsewhere.example"}, datetime.now(UTC)
    )
    return key, data_integrity.sign(unsigned, LocalSigner(key, f"{DID}#key-1"), proof_as_list=True)


def test_the_pipeline_refuses_a_method_its_controller_document_marks_revoked(tmp_path):
    key, credential = _signed_elsewhere()
    listed = build_did_document(DID, [PublishedKey("key-1", key.public_key(), ("assertionMethod",))])
    assert verify(credential, key_resolver=DocumentKeyResolver({DID: listed})).verified

    # a controller that keeps the key under assertionMethod but marks it revoked is still refused
    revoked = json.loads(json.dumps(listed))
    revoked["verificationMethod"][0]["revoked"] = COMPROMISED_AT
    report = verify(credential, key_resolver=DocumentKeyResolver({DID: revoked}))

    assert not report.verified
    reason = report.check("issuer_key").reason  # type: ignore[union-attr]
    assert reason.startswith(f"key_compromised: signed by a key the issuer reported compromised on {COMPROMISED_AT}:")


class _RevokedButListed:
    """A resolver that hands back a revoked method still claiming ``assertionMethod``."""

    def __init__(self, method: VerificationMethod) -> None:
        self.method = method

    def resolve(self, verification_method_id: str) -> VerificationMethod:
        if verification_method_id != self.method.id:
            raise KeyResolutionError("unknown")
        return self.method

    def methods_of(self, controller: str) -> list[VerificationMethod]:
        return [self.method]


def test_the_pipeline_treats_revoked_as_a_failure_whatever_purposes_the_resolver_claims():
    key, credential = _signed_elsewhere()
    method = VerificationMethod(
        f"{DID}#key-1",
        "Multikey",
        DID,
        key.public_key(),
        frozenset({"assertionMethod"}),
        revoked=COMPROMISED_AT,
        revocation_reason=REASON,
    )

    report = verify(credential, key_resolver=_RevokedButListed(method))

    assert check(report.to_dict(), "proof")["outcome"] == "passed"  # the signature itself is sound
    assert_compromised(report.to_dict(), f"{DID}#key-1")
