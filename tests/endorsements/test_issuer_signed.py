"""Flow A: a client endorses a credential by email; the issuer signs on their behalf.

The client asks with their address, name, statement and engagement; SkillCred records a one-time
token for the address (returned only outside production: no mail is sent yet); confirming with it
issues an OB 3.0 EndorsementCredential signed by the credential's issuer. Its ``issuer`` is the
issuer's own Profile; the client is ``credentialSubject.endorser``, with the name they gave and a
salted hash of the address, never the address itself. The signed document is released once the
earner accepts it.
"""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import Session

from service.endorsements.credential import endorser_email_matches
from service.endorsements.models import EndorsementRequest
from service.vc import openbadges as ob
from tests.credentials.helpers import assert_error, audit_events
from tests.endorsements.conftest import accept, ask, confirm, endorse_by_email, register_earner
from tests.status.helpers import change


def test_a_confirmed_request_issues_an_endorsement_signed_by_the_issuer(app, api, issuer, credential, earner):
    asked = ask(api, credential["id"])
    assert asked.status_code == 202, asked.text
    assert asked.json()["state"] == "pending" and asked.json()["verification_token"]

    endorsement = confirm(api, asked.json()["id"], asked.json()["verification_token"])

    assert endorsement.status_code == 201, endorsement.text
    body = endorsement.json()
    assert body["kind"] == "issuer_signed" and body["state"] == "pending"
    assert body["endorser_name"] == "Grace Client" and body["endorser_id"] == issuer["did"]
    assert body["endorsement"] is None  # not released before the earner accepts it
    document = accept(api, body, earner)["endorsement"]
    assert document["type"] == ["VerifiableCredential", "EndorsementCredential"]
    assert document["id"] == body["url"] == f"https://skillcred.example/endorsements/{body['id']}"
    assert document["@context"][-1] == "https://w3id.org/skillcred/v1"
    subject = dict(document["credentialSubject"])
    endorser = subject.pop("endorser")
    assert subject == {
        "id": credential["url"],
        "type": ["EndorsementSubject"],
        "endorsementComment": "Ada rebuilt our checkout with a thorough test suite.\n\nEngagement: project "
        "Checkout rewrite; 2026-01-05 to 2026-03-20; platform contract UPW-12345",
    }
    assert endorser["type"] == "SkillCredEndorser" and endorser["name"] == "Grace Client"
    assert endorser["confirmation"] == "email"
    assert "Acme Academy confirmed only that they control the email address" in endorser["description"]
    assert document["issuer"] == credential["credential"]["issuer"]  # the issuer's own Profile
    assert document["credentialStatus"]["statusPurpose"] == "revocation"
    assert document["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    assert document["proof"][0]["verificationMethod"].startswith(issuer["did"] + "#")


def test_the_endorsement_conforms_to_the_1edtech_schema_and_verifies(app, api, credential, earner):
    document = accept(api, endorse_by_email(api, credential["id"]), earner)["endorsement"]

    assert ob.validate_credential_strict({k: v for k, v in document.items() if k != "proof"}).valid
    with Session(app.state.engine) as session:
        report = app.state.verifier.verify(session, app.state.settings, document, keystore=app.state.keystore)
    assert report.verified, report.to_text()
    assert report.check("schema").outcome == "passed" and report.check("proof").outcome == "passed"


def test_the_address_is_published_only_as_a_salted_hash(api, credential, earner):
    endorsement = endorse_by_email(api, credential["id"], email="Grace@Client.example")
    document = accept(api, endorsement, earner)["endorsement"]

    text = json.dumps(document).lower()
    assert "grace@client.example" not in text
    identifier = document["credentialSubject"]["endorser"]["otherIdentifier"][0]
    assert "otherIdentifier" not in document["issuer"]
    assert identifier["identifierType"] == "ext:hashedEmailAddress"
    assert identifier["identifier"].startswith("sha256$") and ";salt=" in identifier["identifier"]
    assert endorser_email_matches(document, "grace@client.example")
    assert not endorser_email_matches(document, "someone@else.example")


def test_the_address_is_forgotten_once_confirmed(app, api, credential):
    asked = ask(api, credential["id"]).json()
    confirm(api, asked["id"], asked["verification_token"])

    with Session(app.state.engine) as session:
        stored = session.get(EndorsementRequest, asked["id"])
        assert stored.state == "confirmed" and stored.email is None and stored.open_key is None
        assert asked["verification_token"] not in stored.token_hash


def test_production_never_returns_the_token(app, api, credential):
    app.state.settings = app.state.settings.model_copy(update={"env": "production"})

    asked = ask(api, credential["id"])

    assert asked.status_code == 202 and asked.json()["verification_token"] is None


def test_the_token_is_mailed_to_the_endorser_and_confirms_the_request(app, api, credential):
    asked = ask(api, credential["id"], email="mail@client.example")

    (message,) = app.state.mailer.to("mail@client.example")
    token = asked.json()["verification_token"]
    assert token in message.body and asked.json()["id"] in message.body
    assert confirm(api, asked.json()["id"], token).status_code == 201


def test_one_pending_request_per_address_and_credential(api, credential):
    assert ask(api, credential["id"]).status_code == 202

    assert_error(ask(api, credential["id"], email="GRACE@client.example "), 409, "endorsement_request_pending")
    assert ask(api, credential["id"], email="other@client.example").status_code == 202


def test_a_wrong_token_counts_and_five_lock_the_request(api, credential):
    asked = ask(api, credential["id"]).json()

    for left in (4, 3, 2, 1, 0):
        body = assert_error(confirm(api, asked["id"], "not-the-token-at-all"), 422, "invalid_token")
        assert f"{left} attempt(s) left" in body["detail"]
    assert_error(confirm(api, asked["id"], asked["verification_token"]), 429, "too_many_requests")
    # the locked request no longer blocks the address: the client may ask again
    assert ask(api, credential["id"]).status_code == 202


def test_an_expired_token_is_refused(app, api, credential, monkeypatch):
    asked = ask(api, credential["id"]).json()
    with Session(app.state.engine) as session:
        stored = session.get(EndorsementRequest, asked["id"])
        stored.expires_at = stored.created_at - timedelta(seconds=1)
        session.add(stored)
        session.commit()

    assert_error(confirm(api, asked["id"], asked["verification_token"]), 409, "endorsement_request_expired")
    assert ask(api, credential["id"]).status_code == 202  # an expired request frees the address


def test_a_confirmed_request_cannot_be_confirmed_again(api, credential):
    asked = ask(api, credential["id"]).json()
    assert confirm(api, asked["id"], asked["verification_token"]).status_code == 201

    assert_error(confirm(api, asked["id"], asked["verification_token"]), 409, "endorsement_request_confirmed")


def test_bad_requests_are_refused_and_nothing_is_stored(app, api, credential, earner):
    assert_error(ask(api, credential["id"], email="not-an-address"), 422)
    assert_error(ask(api, credential["id"], statement=""), 422)
    assert_error(ask(api, credential["id"], name="x" * 201), 422)
    assert_error(ask(api, credential["id"], engagement={"start_date": "2026-03-01", "end_date": "2026-01-01"}), 422)
    assert_error(ask(api, credential["id"], engagement={"unknown": "field"}), 422)
    assert_error(ask(api, credential["id"], email=earner.email), 422, "self_endorsement")
    assert_error(ask(api, "00000000-0000-4000-8000-000000000000"), 404)
    assert_error(confirm(api, "00000000-0000-4000-8000-000000000000", "x" * 43), 404)
    assert audit_events(app, "endorsement.request") == []


def test_a_revoked_credential_cannot_be_endorsed(api, credential):
    asked = ask(api, credential["id"]).json()
    assert change(api, credential["id"], "revoke").status_code == 200

    assert_error(ask(api, credential["id"], email="late@client.example"), 409, "credential_not_active")
    assert_error(confirm(api, asked["id"], asked["verification_token"]), 409, "credential_not_active")


def test_requests_and_issues_are_audited_without_the_address(app, api, credential):
    endorsement = endorse_by_email(api, credential["id"])

    requested = audit_events(app, "endorsement.request")
    issued = audit_events(app, "endorsement.issue")
    assert len(requested) == 1 and requested[0].after["credential_id"] == credential["id"]
    assert len(issued) == 1 and issued[0].object_id == endorsement["id"]
    assert issued[0].after["kind"] == "issuer_signed" and issued[0].issuer_id == credential["issuer_id"]
    assert "grace@client.example" not in json.dumps([e.after for e in requested + issued])


def test_an_earner_of_another_credential_can_endorse_this_one(api, credential):
    other = register_earner(api)

    assert ask(api, credential["id"], email=other.email).status_code == 202
