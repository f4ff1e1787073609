"""Reissue: a new credential replacing the old one, with the accepted endorsements embedded in its
``endorsement`` list (OB 3.0). It verifies in full, each embedded endorsement as its own check
(``endorsements.<n>``); one that was tampered with is flagged."""

from __future__ import annotations

import copy
import json

import pytest
from sqlmodel import Session

from service.issuers.models import Issuer
from service.issuers.service import active_signer
from service.vc import data_integrity
from tests.credentials.helpers import assert_error, audit_events, stored_credential
from tests.endorsements.conftest import accept, decide, endorse_by_email, endorse_with_did, register_earner
from tests.status.helpers import change


def reissue(api, credential_id: str, headers: dict):
    return api.client.post(f"/v1/credentials/{credential_id}/reissue", headers=headers)


def _verify(app, document):
    with Session(app.state.engine) as session:
        return app.state.verifier.verify(session, app.state.settings, document, keystore=app.state.keystore)


@pytest.fixture
def endorsed(api, credential, earner, client_key) -> dict:
    """The credential with two accepted endorsements (one of each kind) and a hidden one."""
    by_email = accept(api, endorse_by_email(api, credential["id"]), earner)
    by_did = accept(api, endorse_with_did(api, credential, client_key), earner)
    hidden = endorse_by_email(api, credential["id"], email="nope@client.example", name="Hidden Client")
    assert decide(api, hidden["id"], "hide", earner.headers).status_code == 200
    return {"by_email": by_email, "by_did": by_did, "hidden": hidden}


def test_the_earner_reissues_with_both_kinds_of_endorsement_embedded(app, api, credential, earner, endorsed):
    response = reissue(api, credential["id"], earner.headers)

    assert response.status_code == 201, response.text
    new = response.json()
    assert new["replaces_id"] == credential["id"] and new["id"] != credential["id"]
    embedded = new["credential"]["endorsement"]
    assert embedded == [endorsed["by_email"]["endorsement"], endorsed["by_did"]["endorsement"]]
    old, now = credential["credential"], new["credential"]
    for field in ("validUntil", "evidence"):
        assert now.get(field) == old.get(field)
    assert now["credentialSubject"]["result"] == old["credentialSubject"]["result"]
    assert (
        now["credentialSubject"]["identifier"][0]["identityHash"]
        != old["credentialSubject"]["identifier"][0]["identityHash"]
    )  # a fresh salt, the same earner

    report = _verify(app, stored_credential(app, new["id"]).jsonld)
    assert report.verified, report.to_text()
    assert [(c.id, c.outcome) for c in report.checks if c.id.startswith("endorsements.")] == [
        ("endorsements.0", "passed"),
        ("endorsements.1", "passed"),
    ]
    assert report.check("schema").outcome == "passed"
    # the old credential stays valid
    assert _verify(app, stored_credential(app, credential["id"]).jsonld).verified


def test_a_reissue_is_audited_and_names_the_earner(app, api, credential, earner, endorsed):
    new = reissue(api, credential["id"], earner.headers).json()

    events = audit_events(app, "credential.reissue")
    assert len(events) == 1 and events[0].object_id == credential["id"] and events[0].actor_role == "earner"
    assert events[0].after["replaced_by"] == new["id"]
    assert events[0].after["endorsements"] == [
        endorsed["by_email"]["endorsement"]["id"],
        endorsed["by_did"]["endorsement"]["id"],
    ]
    issued = [e for e in audit_events(app, "credential.issue") if e.object_id == new["id"]]
    assert issued[0].actor_role == "earner" and issued[0].after["replaces_id"] == credential["id"]


def test_the_issuers_admins_may_reissue_and_reviewers_may_not(api, issuer, credential, endorsed):
    issuer_admin = api.create_account("issuer_admin", issuer["id"])
    assert reissue(api, credential["id"], issuer_admin).status_code == 201
    assert_error(reissue(api, credential["id"], api.create_account("reviewer", issuer["id"])), 403)


def test_another_earner_cannot_reissue(api, credential, endorsed):
    assert_error(reissue(api, credential["id"], register_earner(api).headers), 404)


def test_a_reissue_of_a_reissue_carries_the_embedded_endorsements_forward(
    app, api, credential, earner, endorsed, client_key
):
    first = reissue(api, credential["id"], earner.headers).json()
    later = endorse_with_did(api, first, client_key, comment="Still great a year on.")
    decide(api, later["id"], "accept", earner.headers)
    decide(api, endorsed["by_did"]["id"], "hide", earner.headers)

    second = reissue(api, first["id"], earner.headers).json()

    comments = [e["credentialSubject"]["endorsementComment"] for e in second["credential"]["endorsement"]]
    assert comments[0].startswith("Ada rebuilt our checkout") and comments[1] == "Still great a year on."
    assert len(comments) == 2  # the hidden one is dropped
    assert _verify(app, stored_credential(app, second["id"]).jsonld).verified


def test_the_badge_page_of_a_reissued_credential_shows_its_embedded_endorsements(api, credential, earner, endorsed):
    new = reissue(api, credential["id"], earner.headers).json()

    page = api.client.get(f"/credentials/{new['id']}", headers={"Accept": "text/html"}).text

    assert "Grace Client" in page and "Linus Client" in page and "Hidden Client" not in page
    assert f'href="../endorsements/{endorsed["by_email"]["id"]}"' in page


def test_a_tampered_embedded_endorsement_is_flagged(app, api, credential, earner, endorsed):
    """The issuer's signature covers the embedded endorsements, so editing one breaks the proof;
    and were the issuer itself to embed an edited one, its check flags it (a warning: an
    endorsement that does not verify is ignored, it does not sink the credential)."""
    new = reissue(api, credential["id"], earner.headers).json()
    document = json.loads(stored_credential(app, new["id"]).jsonld)
    document["endorsement"][0]["credentialSubject"]["endorsementComment"] = "Edited after signing"

    edited = _verify(app, document)
    assert not edited.verified and edited.check("proof").outcome == "failed"
    assert edited.check("endorsements.0").outcome == "warning"
    assert "does not verify" in edited.check("endorsements.0").reason

    resigned = copy.deepcopy({k: v for k, v in document.items() if k != "proof"})
    with Session(app.state.engine) as session:
        issuer = session.get(Issuer, credential["issuer_id"])
        signer = active_signer(session, app.state.keystore, issuer, "EdDSA")
        resigned = data_integrity.sign(resigned, signer, proof_as_list=True)
    report = _verify(app, resigned)
    assert report.check("proof").outcome == "passed"
    assert [c.outcome for c in report.checks if c.id.startswith("endorsements.")] == ["warning", "passed"]


def test_a_revoked_or_suspended_credential_is_not_reissued(api, credential, earner, endorsed):
    change(api, credential["id"], "suspend")
    assert_error(reissue(api, credential["id"], earner.headers), 409, "credential_suspended")
    change(api, credential["id"], "revoke")
    assert_error(reissue(api, credential["id"], earner.headers), 409, "credential_revoked")


def test_a_reissue_that_would_change_no_endorsement_is_refused(app, api, credential, earner):
    """Issue 9: reissuing without limit made a new valid credential each time; a reissue must
    change the embedded endorsements."""
    before = len(audit_events(app, "credential.issue"))

    assert_error(reissue(api, credential["id"], earner.headers), 409, "nothing_to_reissue")

    assert len(audit_events(app, "credential.issue")) == before
