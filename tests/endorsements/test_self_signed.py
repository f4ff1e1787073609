"""Flow B: a client endorses with their own DID.

They get a challenge (a nonce bound to the credential and their DID, short-lived, single use),
sign it as a compact JWS with a key of the DID (proof of control), and submit the
EndorsementCredential they signed themselves. SkillCred checks the JWS, that the endorsement's
issuer is that DID and its subject the credential, and that it verifies (eddsa-rdfc-2022); then it
stores it as sent.
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import Session

from service.endorsements.models import Endorsement, EndorsementChallenge
from service.vc.did import DocumentKeyResolver, PublishedKey, build_did_document
from service.vc.keys import LocalSigner, did_key_signer, generate_ed25519
from tests.credentials.helpers import assert_error, audit_events
from tests.endorsements.conftest import Client, accept, challenge, endorse_with_did, submit


def _proof(client: Client, issued: dict, **payload_changes):
    payload = {"nonce": issued["nonce"], "aud": issued["audience"], "iss": client.did, **payload_changes}
    return client.sign_jws(payload)


def test_a_client_with_a_did_key_endorses_with_their_own_signature(app, api, credential, client_key):
    issued = challenge(api, credential["id"], client_key.did)
    assert issued["audience"] == credential["url"] and issued["did"] == client_key.did
    endorsement = client_key.endorsement(credential["url"])
    text = json.dumps(endorsement, separators=(",", ":"))

    response = submit(api, credential["id"], issued["id"], _proof(client_key, issued), text)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == "self_signed" and body["state"] == "pending"
    assert body["endorser_id"] == client_key.did and body["endorser_name"] == "Linus Client"
    assert body["endorsement"] is None  # released once the earner accepts it
    with Session(app.state.engine) as session:
        assert session.get(Endorsement, body["id"]).jsonld == text  # kept byte for byte
    events = audit_events(app, "endorsement.issue")
    assert [e.after["kind"] for e in events] == ["self_signed"]


def test_an_endorsement_sent_as_an_object_is_accepted_too(api, credential, client_key, earner):
    body = accept(api, endorse_with_did(api, credential, client_key), earner)
    assert body["endorsement"]["issuer"]["id"] == client_key.did


def test_an_endorsement_that_names_an_endorser_of_its_own_is_refused(app, api, credential, client_key):
    """``credentialSubject.endorser`` says an issuer signed for someone it describes; a DID that
    signs for itself is described by its issuer, so it may not name another endorser there."""
    issued = challenge(api, credential["id"], client_key.did)
    subject = {
        "id": credential["url"],
        "type": ["EndorsementSubject"],
        "endorsementComment": "Great.",
        "endorser": {"type": "SkillCredEndorser", "name": "Harvard University Registrar", "confirmation": "email"},
    }
    signed = client_key.endorsement(
        credential["url"],
        credentialSubject=subject,
        **{"@context": [*client_key.endorsement(credential["url"])["@context"], "https://w3id.org/skillcred/v1"]},
    )

    refused = submit(api, credential["id"], issued["id"], _proof(client_key, issued), signed)

    assert_error(refused, 422, "invalid_endorsement")
    assert "credentialSubject.endorser" in refused.json()["detail"]
    assert audit_events(app, "endorsement.issue") == []


def test_a_challenge_is_good_for_one_submission_only(api, credential, client_key):
    issued = challenge(api, credential["id"], client_key.did)
    bad = submit(
        api,
        credential["id"],
        issued["id"],
        _proof(client_key, issued, nonce="wrong"),
        client_key.endorsement(credential["url"]),
    )
    assert_error(bad, 422, "invalid_control_proof")

    again = submit(
        api, credential["id"], issued["id"], _proof(client_key, issued), client_key.endorsement(credential["url"])
    )
    assert_error(again, 404)


def test_an_expired_challenge_is_refused(app, api, credential, client_key):
    issued = challenge(api, credential["id"], client_key.did)
    with Session(app.state.engine) as session:
        row = session.get(EndorsementChallenge, issued["id"])
        row.expires_at = row.created_at - timedelta(seconds=1)
        session.add(row)
        session.commit()

    response = submit(
        api, credential["id"], issued["id"], _proof(client_key, issued), client_key.endorsement(credential["url"])
    )
    assert_error(response, 409, "challenge_expired")


def test_a_challenge_of_another_credential_does_not_fit(api, achievement, credential, client_key):
    other = api.issue(achievement["id"], {"email": "someone@example.org"})
    issued = challenge(api, other["id"], client_key.did)

    response = submit(
        api, credential["id"], issued["id"], _proof(client_key, issued), client_key.endorsement(credential["url"])
    )
    assert_error(response, 404)


@pytest.mark.parametrize(
    "payload_changes, reason",
    [
        ({"nonce": "another-nonce"}, "nonce_mismatch"),
        ({"aud": "https://skillcred.example/credentials/another"}, "audience_mismatch"),
        ({"iss": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}, "issuer_mismatch"),
    ],
)
def test_the_signed_challenge_must_name_this_nonce_credential_and_did(
    api, credential, client_key, payload_changes, reason
):
    issued = challenge(api, credential["id"], client_key.did)
    response = submit(
        api,
        credential["id"],
        issued["id"],
        _proof(client_key, issued, **payload_changes),
        client_key.endorsement(credential["url"]),
    )
    assert reason in assert_error(response, 422, "invalid_control_proof")["detail"]


def test_a_key_of_another_did_proves_nothing(api, credential, client_key):
    stranger = Client(did_key_signer(generate_ed25519()))
    issued = challenge(api, credential["id"], client_key.did)
    payload = {"nonce": issued["nonce"], "aud": issued["audience"], "iss": client_key.did}

    response = submit(
        api, credential["id"], issued["id"], stranger.sign_jws(payload), client_key.endorsement(credential["url"])
    )
    assert "kid_mismatch" in assert_error(response, 422, "invalid_control_proof")["detail"]


@pytest.mark.parametrize(
    "header, reason",
    [
        ({"alg": "none"}, "alg_not_allowed"),
        ({"alg": "HS256"}, "alg_not_allowed"),
        ({"jwk": {"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}}, "header_not_allowed"),
        ({"jku": "https://attacker.example/keys"}, "header_not_allowed"),
    ],
)
def test_refused_algorithms_and_key_headers(api, credential, client_key, header, reason):
    issued = challenge(api, credential["id"], client_key.did)
    payload = {"nonce": issued["nonce"], "aud": issued["audience"], "iss": client_key.did}

    response = submit(
        api,
        credential["id"],
        issued["id"],
        client_key.sign_jws(payload, **header),
        client_key.endorsement(credential["url"]),
    )
    assert reason in assert_error(response, 422, "invalid_control_proof")["detail"]


def test_a_forged_signature_is_refused(api, credential, client_key):
    issued = challenge(api, credential["id"], client_key.did)
    proof = _proof(client_key, issued)
    forged = proof[:-4] + ("AAAA" if not proof.endswith("AAAA") else "BBBB")

    response = submit(api, credential["id"], issued["id"], forged, client_key.endorsement(credential["url"]))
    assert "bad_signature" in assert_error(response, 422, "invalid_control_proof")["detail"]


def _submit_endorsement(api, credential, client_key, endorsement):
    issued = challenge(api, credential["id"], client_key.did)
    return submit(api, credential["id"], issued["id"], _proof(client_key, issued), endorsement)


def test_the_endorsement_must_be_issued_by_the_proven_did(api, credential, client_key):
    other = Client(did_key_signer(generate_ed25519()))
    response = _submit_endorsement(api, credential, client_key, other.endorsement(credential["url"]))
    assert_error(response, 422, "endorser_mismatch")


def test_the_endorsement_must_be_about_this_credential(api, credential, client_key):
    response = _submit_endorsement(
        api, credential, client_key, client_key.endorsement("https://skillcred.example/credentials/other")
    )
    assert_error(response, 422, "subject_mismatch")


def test_a_tampered_endorsement_is_refused(app, api, credential, client_key):
    tampered = copy.deepcopy(client_key.endorsement(credential["url"]))
    tampered["credentialSubject"]["endorsementComment"] = "Edited after signing"

    body = assert_error(_submit_endorsement(api, credential, client_key, tampered), 422, "endorsement_not_verified")
    assert "proof" in body["detail"]
    assert audit_events(app, "endorsement.issue") == []


def test_an_unsigned_or_malformed_endorsement_is_refused(api, credential, client_key):
    unsigned = {k: v for k, v in client_key.endorsement(credential["url"]).items() if k != "proof"}
    assert_error(_submit_endorsement(api, credential, client_key, unsigned), 422, "endorsement_not_verified")
    assert_error(_submit_endorsement(api, credential, client_key, "{not json"), 422, "invalid_endorsement")
    not_an_endorsement = client_key.endorsement(credential["url"], type=["VerifiableCredential"])
    assert_error(_submit_endorsement(api, credential, client_key, not_an_endorsement), 422, "invalid_endorsement")


def test_the_same_endorsement_is_stored_once(api, credential, client_key):
    endorsement = client_key.endorsement(credential["url"])
    assert _submit_endorsement(api, credential, client_key, endorsement).status_code == 201

    assert_error(_submit_endorsement(api, credential, client_key, endorsement), 409, "endorsement_exists")


def test_only_did_key_and_did_web_endorsers(api, credential):
    response = api.client.post(
        f"/v1/credentials/{credential['id']}/endorsements/challenges", json={"did": "did:example:123"}
    )
    assert_error(response, 422, "unsupported_did_method")
    response = api.client.post(f"/v1/credentials/{credential['id']}/endorsements/challenges", json={"did": "not a did"})
    assert_error(response, 422)


def test_a_did_web_client_is_resolved_through_the_remote_resolver(app, api, credential):
    """did:web documents come from the SSRF-safe resolver (here replaced by a fixed document):
    the challenge may be signed by an ES256 key listed under authentication, the endorsement by an
    Ed25519 key under assertionMethod."""
    from cryptography.hazmat.primitives.asymmetric import ec

    did = "did:web:client.example"
    ed_key, p256_key = generate_ed25519(), ec.generate_private_key(ec.SECP256R1())
    document = build_did_document(
        did,
        [
            PublishedKey("key-1", ed_key.public_key(), ("assertionMethod",)),
            PublishedKey("key-2", p256_key.public_key(), ("authentication",)),
        ],
    )
    app.state.verifier = replace(app.state.verifier, remote_keys=DocumentKeyResolver({did: document}))
    endorser = Client(LocalSigner(ed_key, f"{did}#key-1"))
    issued = challenge(api, credential["id"], did)
    es256 = Client(LocalSigner(p256_key, f"{did}#key-2"))
    proof = es256.sign_jws({"nonce": issued["nonce"], "aud": issued["audience"], "iss": did}, alg="ES256")

    response = submit(api, credential["id"], issued["id"], proof, endorser.endorsement(credential["url"]))

    assert response.status_code == 201, response.text
    assert response.json()["endorser_id"] == did
