"""Issue 9, item 4: an endorsement the issuer signs on a client's behalf cannot carry any issuer name.

The attack: an anonymous request with the name "Harvard University Registrar" produced an
EndorsementCredential whose ``issuer.id`` was SkillCred's DID and whose ``issuer.name`` was that
string; it verified, was handed to the requester while still pending, and had no status entry.

Now the ``issuer`` is the issuer's own Profile, exactly as its AchievementCredentials carry it; the
client is ``credentialSubject.endorser`` (a term of SkillCred's context), labelled as the name they
gave with an email address confirmed by a one-time token; the document is released only once the
earner accepts it; and it has an entry in the issuer's revocation list, which the issuer's admins
set with ``POST /v1/endorsements/{id}/revoke``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from service.endorsements.credential import ENDORSEMENT_SCHEMA_URL, hashed_email_identifier
from service.endorsements.models import Endorsement, EndorsementRequest
from service.issuers.models import Issuer
from service.issuers.service import active_signer
from service.status.models import StatusEntry
from service.vc import data_integrity
from service.vc.constants import CREDENTIALS_V2, OB_V3P0_CONTEXT, OB_V3P0_EXTENSIONS
from tests.credentials.helpers import assert_error, audit_events, stored_credential
from tests.endorsements.conftest import accept, ask, confirm, decide, endorse_by_email, revoke
from tests.status.helpers import change

HARVARD = "Harvard University Registrar"


def _verify(app, document):
    with Session(app.state.engine) as session:
        return app.state.verifier.verify(session, app.state.settings, document, keystore=app.state.keystore)


def _page(api, credential_id: str) -> str:
    return api.client.get(f"/credentials/{credential_id}", headers={"Accept": "text/html"}).text


def _listed(api, credential_id: str, headers: dict) -> list[dict]:
    response = api.client.get(f"/v1/credentials/{credential_id}/endorsements", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


@pytest.fixture
def harvard(api, credential) -> dict:
    """The attacker's request, confirmed (anyone can confirm an address they own)."""
    return endorse_by_email(api, credential["id"], email="registrar@attacker.example", name=HARVARD)


# --- the issuer stays the issuer -------------------------------------------------------------------


@pytest.mark.attack
def test_attack_an_endorser_named_harvard_university_registrar_stays_a_labelled_endorser(
    app, api, issuer, credential, earner, harvard
):
    document = accept(api, harvard, earner)["endorsement"]

    assert document["issuer"] == credential["credential"]["issuer"]
    assert document["issuer"]["id"] == issuer["did"] and document["issuer"]["name"] == "Acme Academy"
    assert HARVARD not in json.dumps(document["issuer"])
    endorser = document["credentialSubject"]["endorser"]
    assert endorser["type"] == "SkillCredEndorser" and endorser["name"] == HARVARD
    assert endorser["confirmation"] == "email"
    assert "under the name they gave" in endorser["description"]
    assert "did not verify their name" in endorser["description"]
    assert "They did not sign this endorsement: Acme Academy signed it on their behalf." in endorser["description"]
    assert document["name"] == f"Endorsement by {HARVARD} (email address confirmed by Acme Academy)"
    assert _verify(app, document).verified


@pytest.mark.attack
def test_attack_the_endorser_property_survives_json_ld_expansion_and_is_signed(app, api, credential, earner, harvard):
    """Were ``endorser`` an undefined term, safe mode would refuse the document; it is signed, so
    changing the name breaks the proof."""
    document = accept(api, harvard, earner)["endorsement"]
    document["credentialSubject"]["endorser"]["name"] = "Grace Client"

    report = _verify(app, document)

    assert not report.verified and report.check("proof").outcome == "failed"


@pytest.mark.attack
@pytest.mark.parametrize(
    "name, why",
    [
        ("Acme Academy", "the issuer"),
        ("  ACME   academy ", "the issuer"),
        ("Ａｃｍｅ Ａｃａｄｅｍｙ", "the issuer"),  # fullwidth: the same name once NFKC-normalised
        ("Grace\u202eClient", "U+202E"),  # right-to-left override
        ("Grace\u200bClient", "U+200B"),  # zero-width space
        ("Grace\nClient", "U+000A"),
        ("did:web:harvard.edu", "not a DID or a URL"),
        ("https://registrar.harvard.edu", "not a DID or a URL"),
        ("x" * 201, "200"),
    ],
)
def test_attack_names_that_impersonate_or_hide_are_refused_and_nothing_is_stored(app, api, credential, name, why):
    refused = ask(api, credential["id"], name=name)

    assert refused.status_code == 422, refused.text
    assert why in json.dumps(refused.json())
    with Session(app.state.engine) as session:
        assert session.exec(select(EndorsementRequest)).all() == []
    assert audit_events(app, "endorsement.request") == []
    assert app.state.mailer.to("grace@client.example") == []


def test_a_name_the_issuer_took_after_the_request_is_refused_at_confirmation(app, api, credential):
    asked = ask(api, credential["id"], name="Acme Academy Europe").json()
    with Session(app.state.engine) as session:
        issuer = session.get(Issuer, credential["issuer_id"])
        issuer.name = "Acme Academy Europe"
        session.add(issuer)
        session.commit()

    assert_error(confirm(api, asked["id"], asked["verification_token"]), 422, "invalid_endorser_name")
    with Session(app.state.engine) as session:
        assert session.exec(select(Endorsement)).all() == []
        assert session.exec(select(StatusEntry).where(StatusEntry.endorsement_id.is_not(None))).all() == []


# --- released only once the earner accepts -----------------------------------------------------------


@pytest.mark.attack
def test_attack_the_document_is_not_handed_to_the_requester_before_the_earner_accepts(
    api, issuer, credential, earner, harvard
):
    assert harvard["state"] == "pending" and harvard["endorsement"] is None
    assert_error(api.client.get(f"/endorsements/{harvard['id']}"), 404)
    issuer_admin = api.create_account("issuer_admin", issuer["id"])
    for headers in (earner.headers, issuer_admin, api.admin):
        (listed,) = _listed(api, credential["id"], headers)
        assert listed["state"] == "pending" and listed["endorsement"] is None
    assert HARVARD not in _page(api, credential["id"])

    hidden = decide(api, harvard["id"], "hide", earner.headers).json()
    assert hidden["endorsement"] is None
    assert_error(api.client.get(f"/endorsements/{harvard['id']}"), 404)

    accepted = decide(api, harvard["id"], "accept", earner.headers).json()
    assert accepted["endorsement"]["id"] == accepted["url"]
    assert api.client.get(f"/endorsements/{harvard['id']}").json() == accepted["endorsement"]


# --- revocable ---------------------------------------------------------------------------------------


def test_each_endorsement_has_its_own_entry_in_the_issuers_revocation_list(app, api, credential, earner, harvard):
    document = accept(api, harvard, earner)["endorsement"]
    status = document["credentialStatus"]
    credential_entries = {e["statusListIndex"] for e in credential["credential"]["credentialStatus"]}

    assert status["type"] == "BitstringStatusListEntry" and status["statusPurpose"] == "revocation"
    assert status["statusListIndex"] not in credential_entries
    with Session(app.state.engine) as session:
        entry = session.get(
            StatusEntry, (status["statusListCredential"].rsplit("/", 1)[1], int(status["statusListIndex"]))
        )
    assert entry.endorsement_id == harvard["id"] and entry.credential_id == credential["id"] and entry.value == 0


@pytest.mark.attack
def test_attack_a_revoked_endorsement_no_longer_verifies_and_leaves_the_page(
    app, api, issuer, credential, earner, harvard
):
    document = accept(api, harvard, earner)["endorsement"]
    assert HARVARD in _page(api, credential["id"])
    issuer_admin = api.create_account("issuer_admin", issuer["id"])

    revoked = revoke(api, harvard["id"], issuer_admin, reason="Not the registrar")

    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["state"] == "revoked" and revoked.json()["endorsement"] is None
    report = _verify(app, document)
    assert not report.verified and report.check("status.revocation").outcome == "failed"
    assert_error(api.client.get(f"/endorsements/{harvard['id']}"), 404)
    assert HARVARD not in _page(api, credential["id"])
    (event,) = audit_events(app, "endorsement.revoke")
    assert event.before == {"state": "accepted"} and event.after["reason"] == "Not the registrar"
    assert event.after["status_entry"] == document["credentialStatus"]["id"]
    # the endorsed credential itself is untouched
    assert _verify(app, stored_credential(app, credential["id"]).jsonld).verified


def test_revoking_the_credential_does_not_take_the_endorsements_entry(app, api, credential, earner, harvard):
    document = accept(api, harvard, earner)["endorsement"]

    assert change(api, credential["id"], "revoke").status_code == 200

    assert _verify(app, document).check("status.revocation").outcome == "passed"
    assert not _verify(app, stored_credential(app, credential["id"]).jsonld).verified


def test_a_revoked_endorsement_cannot_be_accepted_again_nor_revoked_twice(api, credential, earner, harvard):
    assert revoke(api, harvard["id"], api.admin).status_code == 200

    assert_error(decide(api, harvard["id"], "accept", earner.headers), 409, "endorsement_revoked")
    assert_error(decide(api, harvard["id"], "hide", earner.headers), 409, "endorsement_revoked")
    assert_error(revoke(api, harvard["id"], api.admin), 409, "endorsement_already_revoked")
    (listed,) = _listed(api, credential["id"], earner.headers)
    assert listed["state"] == "revoked" and listed["endorsement"] is None


def test_only_the_issuers_admins_revoke_and_refusals_change_nothing(app, api, issuer, credential, earner, harvard):
    other_admin = api.create_account("issuer_admin", api.create_issuer("Other")["id"])

    assert_error(revoke(api, harvard["id"], earner.headers), 403)
    assert_error(revoke(api, harvard["id"], api.create_account("reviewer", issuer["id"])), 403)
    assert_error(revoke(api, harvard["id"], other_admin), 404)
    assert_error(revoke(api, "00000000-0000-4000-8000-000000000000", api.admin), 404)
    assert_error(revoke(api, harvard["id"], api.admin, reason=""), 422)
    assert_error(revoke(api, harvard["id"], api.admin, reason="bad\x00reason"), 422)
    assert_error(api.client.post(f"/v1/endorsements/{harvard['id']}/revoke", json={"reason": "x"}), 401)

    assert audit_events(app, "endorsement.revoke") == []
    with Session(app.state.engine) as session:
        assert session.get(Endorsement, harvard["id"]).state == "pending"
        assert session.exec(select(StatusEntry).where(StatusEntry.value != 0)).all() == []


def test_a_revoked_endorsement_leaves_a_reissued_credentials_page_and_its_next_reissue(
    api, credential, earner, harvard
):
    accept(api, harvard, earner)
    first = api.client.post(f"/v1/credentials/{credential['id']}/reissue", headers=earner.headers).json()
    assert HARVARD in _page(api, first["id"])

    assert revoke(api, harvard["id"], api.admin).status_code == 200

    assert HARVARD not in _page(api, first["id"])
    second = api.client.post(f"/v1/credentials/{first['id']}/reissue", headers=earner.headers).json()
    assert "endorsement" not in second["credential"]


# --- endorsements signed before this change ------------------------------------------------------------


def _old_format_endorsement(app, credential: dict, endorsement_id: str) -> dict:
    """An endorsement as SkillCred signed them before December 2026: the client's name in
    ``issuer.name`` under the issuer's DID, the hashed address in ``issuer.otherIdentifier``, no
    status entry."""
    with Session(app.state.engine) as session:
        issuer = session.get(Issuer, credential["issuer_id"])
        unsigned = {
            "@context": [CREDENTIALS_V2, OB_V3P0_CONTEXT, OB_V3P0_EXTENSIONS],
            "id": f"https://skillcred.example/endorsements/{endorsement_id}",
            "type": ["VerifiableCredential", "EndorsementCredential"],
            "name": "Endorsement by Old Client",
            "issuer": {
                "id": issuer.did,
                "type": ["Profile"],
                "name": "Old Client",
                "description": "Old Client wrote this endorsement. Acme Academy confirmed their email address "
                "and signed it on their behalf with its own key.",
                "otherIdentifier": [hashed_email_identifier("old@client.example")],
            },
            "validFrom": "2026-11-30T10:00:00Z",
            "credentialSubject": {
                "id": credential["url"],
                "type": ["EndorsementSubject"],
                "endorsementComment": "Signed the old way.",
            },
            "credentialSchema": [{"id": ENDORSEMENT_SCHEMA_URL, "type": "1EdTechJsonSchemaValidator2019"}],
        }
        signed = data_integrity.sign(
            unsigned, active_signer(session, app.state.keystore, issuer, "EdDSA"), proof_as_list=True
        )
        session.add(
            Endorsement(
                id=endorsement_id,
                credential_id=credential["id"],
                issuer_id=credential["issuer_id"],
                kind="issuer_signed",
                state="accepted",
                endorsement_uri=signed["id"],
                endorser_id=issuer.did,
                endorser_name="Old Client",
                comment="Signed the old way.",
                jsonld=json.dumps(signed, indent=2),
                issued_at=datetime(2026, 11, 30, 10, tzinfo=UTC),
            )
        )
        session.commit()
    return signed


def test_endorsements_signed_before_the_change_still_verify_and_are_shown_honestly(app, api, credential):
    endorsement_id = "0b7a6c1e-0000-4000-8000-00000000a11d"
    document = _old_format_endorsement(app, credential, endorsement_id)

    assert _verify(app, document).verified
    assert api.client.get(f"/endorsements/{endorsement_id}").json() == document
    page = _page(api, credential["id"])
    assert "Old Client" in page
    assert "name as they gave it; email address confirmed and signed on their behalf by Acme Academy" in page

    revoked = revoke(api, endorsement_id, api.admin)  # no status entry: withdrawn from every view

    assert revoked.status_code == 200 and "status_entry" not in audit_events(app, "endorsement.revoke")[0].after
    assert_error(api.client.get(f"/endorsements/{endorsement_id}"), 404)
    assert "Old Client" not in _page(api, credential["id"])
