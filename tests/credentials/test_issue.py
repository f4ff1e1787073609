"""Issuing a credential: POST /v1/credentials builds, signs and stores an Open Badges 3.0 credential."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from service.vc.jose import decode_vc_jwt_unverified
from service.vc.openbadges import identity_matches, validate_credential
from tests.credentials.helpers import audit_events, stored_credential, stored_recipient

PUBLIC_URL = "https://skillcred.example"


def test_issuing_to_an_email_answers_with_id_public_url_and_the_signed_credential(api, issuer, achievement):
    response = api.client.post(
        "/v1/credentials",
        headers=api.admin,
        json={"achievement_id": achievement["id"], "recipient": {"email": "ada@example.org"}},
    )

    assert response.status_code == 201
    body = response.json()
    assert body["url"] == f"{PUBLIC_URL}/credentials/{body['id']}"
    assert response.headers["Location"] == f"/v1/credentials/{body['id']}"
    credential = body["credential"]
    assert credential["id"] == body["url"]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["issuer"]["id"] == issuer["did"] and credential["issuer"]["name"] == "Acme Academy"
    assert credential["credentialSubject"]["achievement"]["name"] == "Python testing"
    assert credential["credentialSubject"]["achievement"]["id"] == f"{PUBLIC_URL}/achievements/{achievement['id']}"
    assert validate_credential(credential).valid


def test_the_proof_is_eddsa_rdfc_2022_by_the_issuers_active_ed25519_key_as_a_list(api, issuer, achievement):
    credential = api.issue(achievement["id"])["credential"]

    [proof] = credential["proof"]
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["verificationMethod"] == f"{issuer['did']}#key-1"
    assert proof["proofPurpose"] == "assertionMethod" and proof["proofValue"].startswith("z")


def test_an_email_recipient_is_published_only_as_a_salted_hash_kept_server_side(app, api, achievement):
    issued = api.issue(achievement["id"], {"email": "Ada.Lovelace@Example.org"})

    text = stored_credential(app, issued["id"]).jsonld
    assert "lovelace" not in text.lower()
    [identity] = issued["credential"]["credentialSubject"]["identifier"]
    assert identity["identityType"] == "emailAddress" and identity["hashed"] is True
    assert identity["identityHash"].startswith("sha256$")
    assert identity_matches(identity, "ada.lovelace@example.org")
    row = stored_credential(app, issued["id"])
    assert row.identity_salt == identity["salt"] and len(row.identity_salt) == 32
    recipient = stored_recipient(app, row.recipient_id)
    assert (recipient.kind, recipient.email, recipient.did) == ("email", "ada.lovelace@example.org", None)
    assert issued["recipient"] == {"type": "email", "email": "ada.lovelace@example.org", "did": None}


def test_every_credential_gets_a_fresh_salt_even_for_the_same_email(app, api, issuer):
    achievement = api.create_achievement(issuer["id"], allow_multiple_active=True)
    first = api.issue(achievement["id"], {"email": "ada@example.org"})
    second = api.issue(achievement["id"], {"email": "ada@example.org"})

    [a] = first["credential"]["credentialSubject"]["identifier"]
    [b] = second["credential"]["credentialSubject"]["identifier"]
    assert a["salt"] != b["salt"] and a["identityHash"] != b["identityHash"]
    # one recipient identity, two credentials
    assert stored_credential(app, first["id"]).recipient_id == stored_credential(app, second["id"]).recipient_id


def test_a_did_recipient_becomes_the_credential_subject_id(app, api, achievement):
    did = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    issued = api.issue(achievement["id"], {"did": did})

    subject = issued["credential"]["credentialSubject"]
    assert subject["id"] == did and "identifier" not in subject
    assert issued["recipient"] == {"type": "did", "email": None, "did": did}
    assert stored_credential(app, issued["id"]).identity_salt is None


def test_valid_from_is_now_to_the_second_and_valid_until_is_optional(api, achievement):
    before = datetime.now(UTC).replace(microsecond=0)
    open_ended = api.issue(achievement["id"])
    until = (datetime.now(UTC) + timedelta(days=365)).replace(microsecond=0)
    expiring = api.issue(achievement["id"], {"email": "expiring@example.org"}, valid_until=until.isoformat())

    valid_from = datetime.fromisoformat(open_ended["credential"]["validFrom"])
    assert open_ended["credential"]["validFrom"].endswith("Z")
    assert before <= valid_from <= datetime.now(UTC)
    assert "validUntil" not in open_ended["credential"] and open_ended["valid_until"] is None
    assert expiring["credential"]["validUntil"] == until.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert datetime.fromisoformat(expiring["valid_until"]) == until


def test_a_valid_until_in_another_zone_is_written_in_utc(api, achievement):
    issued = api.issue(achievement["id"], valid_until="2099-06-01T12:00:00+02:00")

    assert issued["credential"]["validUntil"] == "2099-06-01T10:00:00Z"


def test_evidence_and_results_are_part_of_the_signed_credential(api, achievement):
    [grade, rubric] = achievement["result_descriptions"]
    issued = api.issue(
        achievement["id"],
        evidence=[
            {
                "id": "https://github.com/ada/tested-project",
                "name": "Tested project",
                "narrative": "A library with 95% branch coverage.",
                "genre": "Repository",
                "audience": "Clients",
            },
            {"name": "Assessment report", "description": "Reviewed by two assessors."},
        ],
        results=[
            {"result_description": "Grade", "value": "A"},  # by name
            {"result_description": rubric["id"], "achieved_level": "Expert", "status": "Completed"},  # by id
        ],
    )

    credential = issued["credential"]
    assert credential["evidence"][0] == {
        "id": "https://github.com/ada/tested-project",
        "type": ["Evidence"],
        "name": "Tested project",
        "narrative": "A library with 95% branch coverage.",
        "genre": "Repository",
        "audience": "Clients",
    }
    assert credential["evidence"][1]["name"] == "Assessment report"
    expert = next(level for level in rubric["rubric_criterion_levels"] if level["name"] == "Expert")
    assert credential["credentialSubject"]["result"] == [
        {"type": ["Result"], "resultDescription": grade["id"], "value": "A"},
        {"type": ["Result"], "resultDescription": rubric["id"], "achievedLevel": expert["id"], "status": "Completed"},
    ]


def test_the_json_ld_is_stored_verbatim_and_the_vc_jwt_signs_the_same_credential(app, api, issuer, achievement):
    issued = api.issue(achievement["id"])

    row = stored_credential(app, issued["id"])
    assert json.loads(row.jsonld) == issued["credential"]
    assert row.jsonld == json.dumps(issued["credential"], ensure_ascii=False, indent=2)
    header, payload = decode_vc_jwt_unverified(row.vc_jwt)
    assert header == {"alg": "RS256", "typ": "JWT", "kid": f"{issuer['did']}#rsa-1"}
    unsigned = {k: v for k, v in issued["credential"].items() if k != "proof"}
    assert {k: payload[k] for k in unsigned} == unsigned
    assert payload["iss"] == issuer["did"] and payload["jti"] == issued["url"]


def test_credentials_keep_the_achievement_version_they_were_issued_with(app, api, achievement):
    first = api.issue(achievement["id"])
    update = {
        "name": "Python testing, advanced",
        "description": "Property-based and mutation testing.",
        "criteria": {"narrative": "Two tested repositories."},
    }
    response = api.client.put(f"/v1/achievements/{achievement['id']}", json=update, headers=api.admin)
    assert response.status_code == 200, response.text
    second = api.issue(achievement["id"], {"email": "second@example.org"})

    assert (first["achievement_version"], second["achievement_version"]) == (1, 2)
    assert first["credential"]["credentialSubject"]["achievement"]["name"] == "Python testing"
    assert second["credential"]["credentialSubject"]["achievement"]["name"] == "Python testing, advanced"
    again = api.client.get(f"/v1/credentials/{first['id']}", headers=api.admin).json()
    assert again["credential"] == first["credential"]


def test_issuing_writes_one_audit_event(app, api, issuer, achievement):
    issued = api.issue(achievement["id"], {"email": "ada@example.org"})

    [event] = audit_events(app, "credential.issue")
    assert (event.object_type, event.object_id, event.issuer_id) == ("credential", issued["id"], issuer["id"])
    assert event.actor_role == "admin" and event.actor_id == issued["issued_by"]
    assert event.after["achievement_id"] == achievement["id"] and event.after["recipient_type"] == "email"
    assert "ada@example.org" not in json.dumps(event.after)


def test_an_issuer_admin_issues_their_own_issuers_achievements(api, issuer, achievement):
    issuer_admin = api.create_account("issuer_admin", issuer["id"])

    issued = api.issue(achievement["id"], headers=issuer_admin)

    assert issued["issuer_id"] == issuer["id"]
    assert issued["issued_by"] == api.client.get("/v1/me", headers=issuer_admin).json()["id"]


def test_earners_and_reviewers_may_not_issue(api, issuer, achievement):
    body = {"achievement_id": achievement["id"], "recipient": {"email": "ada@example.org"}}
    for role, issuer_id in (("earner", None), ("reviewer", issuer["id"])):
        headers = api.create_account(role, issuer_id)
        response = api.client.post("/v1/credentials", json=body, headers=headers)
        assert response.status_code == 403 and response.json()["error"] == "forbidden"
    assert api.client.post("/v1/credentials", json=body).status_code == 401
