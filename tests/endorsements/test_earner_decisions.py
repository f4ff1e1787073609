"""The earner decides: every endorsement starts pending; the earner (the account the credential was
issued to) accepts or hides it, and may change their mind. Only accepted endorsements are public:
at ``GET /endorsements/{id}`` (the signed JSON byte for byte) and on the badge page."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from service.endorsements.models import Endorsement
from tests.credentials.helpers import assert_error, audit_events
from tests.endorsements.conftest import decide, endorse_by_email, endorse_with_did, register_earner


def _listed(api, credential_id: str, headers: dict) -> list[dict]:
    response = api.client.get(f"/v1/credentials/{credential_id}/endorsements", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["X-Total-Count"] == str(response.json()["total"])
    return response.json()["items"]


def test_the_earner_lists_every_endorsement_of_their_credential(api, issuer, credential, earner, client_key):
    by_email = endorse_by_email(api, credential["id"])
    by_did = endorse_with_did(api, credential, client_key)

    listed = _listed(api, credential["id"], earner.headers)

    assert {e["id"] for e in listed} == {by_email["id"], by_did["id"]}
    assert {e["state"] for e in listed} == {"pending"}
    issuer_admin = api.create_account("issuer_admin", issuer["id"])
    assert len(_listed(api, credential["id"], issuer_admin)) == 2
    assert len(_listed(api, credential["id"], api.admin)) == 2


def test_no_one_else_sees_them(api, credential):
    endorse_by_email(api, credential["id"])
    stranger = register_earner(api)
    other_issuer_admin = api.create_account("issuer_admin", api.create_issuer("Other")["id"])

    for headers in (stranger.headers, other_issuer_admin):
        assert_error(api.client.get(f"/v1/credentials/{credential['id']}/endorsements", headers=headers), 404)
    assert_error(api.client.get(f"/v1/credentials/{credential['id']}/endorsements"), 401)


def test_accept_hide_and_accept_again(app, api, credential, earner):
    endorsement = endorse_by_email(api, credential["id"])

    accepted = decide(api, endorsement["id"], "accept", earner.headers)
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"
    hidden = decide(api, endorsement["id"], "hide", earner.headers)
    assert hidden.status_code == 200 and hidden.json()["state"] == "hidden"
    again = decide(api, endorsement["id"], "accept", earner.headers)
    assert again.status_code == 200 and again.json()["state"] == "accepted"

    assert [e.after["state"] for e in audit_events(app, "endorsement.accept")] == ["accepted", "accepted"]
    hides = audit_events(app, "endorsement.hide")
    assert len(hides) == 1 and hides[0].before == {"state": "accepted"} and hides[0].actor_role == "earner"


def test_a_pending_endorsement_can_be_hidden_straight_away(api, credential, earner):
    endorsement = endorse_by_email(api, credential["id"])
    assert decide(api, endorsement["id"], "hide", earner.headers).json()["state"] == "hidden"


def test_the_same_decision_twice_is_a_conflict(api, credential, earner):
    endorsement = endorse_by_email(api, credential["id"])
    decide(api, endorsement["id"], "accept", earner.headers)

    assert_error(decide(api, endorsement["id"], "accept", earner.headers), 409, "endorsement_already_accepted")


def test_only_the_earner_decides(api, issuer, credential):
    endorsement = endorse_by_email(api, credential["id"])
    stranger = register_earner(api)
    issuer_admin = api.create_account("issuer_admin", issuer["id"])

    assert_error(decide(api, endorsement["id"], "accept", stranger.headers), 404)
    assert_error(decide(api, endorsement["id"], "accept", issuer_admin), 403)
    assert_error(decide(api, endorsement["id"], "accept", api.admin), 403)
    assert_error(decide(api, "00000000-0000-4000-8000-000000000000", "accept", stranger.headers), 404)


def test_only_accepted_endorsements_are_public_byte_for_byte(app, api, credential, earner, client_key):
    endorsement = endorse_with_did(api, credential, client_key)
    url = f"/endorsements/{endorsement['id']}"
    assert_error(api.client.get(url), 404)

    decide(api, endorsement["id"], "accept", earner.headers)
    served = api.client.get(url)

    assert served.status_code == 200
    assert served.headers["content-type"] == "application/vc+ld+json"
    with Session(app.state.engine) as session:
        assert served.content == session.get(Endorsement, endorsement["id"]).jsonld.encode("utf-8")
    decide(api, endorsement["id"], "hide", earner.headers)
    assert_error(api.client.get(url), 404)


def test_the_endorsements_of_a_credential_made_private_are_not_public_either(api, credential, earner, client_key):
    endorsement = endorse_with_did(api, credential, client_key)
    decide(api, endorsement["id"], "accept", earner.headers)
    url = f"/endorsements/{endorsement['id']}"
    assert api.client.get(url).status_code == 200
    visibility = f"/v1/credentials/{credential['id']}/visibility"

    hidden = api.client.patch(visibility, json={"public": False, "show_name": True}, headers=earner.headers)

    assert hidden.status_code == 200, hidden.text
    assert_error(api.client.get(url), 404)
    api.client.patch(visibility, json={"public": True, "show_name": True}, headers=earner.headers)
    assert api.client.get(url).status_code == 200


@pytest.mark.parametrize("decision, shown", [("accept", True), ("hide", False), (None, False)])
def test_the_badge_page_shows_accepted_endorsements_only(api, credential, earner, decision, shown):
    endorsement = endorse_by_email(api, credential["id"], statement="Ada's tests caught every regression.")
    if decision:
        decide(api, endorsement["id"], decision, earner.headers)

    page = api.client.get(f"/credentials/{credential['id']}", headers={"Accept": "text/html"}).text

    assert ("Ada&#39;s tests caught every regression." in page) == shown
    assert ("<h2>Endorsements</h2>" in page) == shown
    if shown:
        assert "Grace Client" in page and f'href="../endorsements/{endorsement["id"]}"' in page
        assert "signed on their behalf by Acme Academy" in page
    assert "grace@client.example" not in page


def test_a_credential_whose_earner_was_issued_by_did_has_no_one_to_decide(api, achievement, client_key):
    credential = api.issue(achievement["id"], {"did": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"})
    endorsement = endorse_by_email(api, credential["id"])
    earner = register_earner(api)
    assert_error(decide(api, endorsement["id"], "accept", earner.headers), 404)
