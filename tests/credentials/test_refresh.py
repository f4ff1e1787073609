"""The refresh service: every issued credential names it (``refreshService``, type
``1EdTechCredentialRefresh``), and it gives the credential's holder the current version: the
newest credential in its replacement chain (renewals, reissues), with its state. Nobody else
learns anything (404)."""

from __future__ import annotations

from sqlmodel import Session

from service.vc import openbadges as ob
from service.verification.service import verify_in_session
from tests.credentials.helpers import assert_error, stored_credential
from tests.endorsements.conftest import register_earner
from tests.status.helpers import change

VC_JSONLD = {"Accept": "application/vc+ld+json"}


def _refresh(api, credential: dict, headers: dict, **extra):
    return api.client.get(
        credential["credential"]["refreshService"]["id"].removeprefix("https://skillcred.example"),
        headers={**headers, **extra},
    )


def _renew(api, credential_id: str) -> dict:
    response = api.client.post(f"/v1/credentials/{credential_id}/renew", headers=api.admin)
    assert response.status_code == 201, response.text
    return response.json()


def test_an_issued_credential_names_its_refresh_service_and_still_validates_signs_and_verifies(app, api, achievement):
    issued = api.issue(achievement["id"])
    document = issued["credential"]

    assert document["refreshService"] == {
        "id": f"https://skillcred.example/v1/credentials/{issued['id']}/refresh",
        "type": "1EdTechCredentialRefresh",
    }
    assert "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json" in document["@context"]
    assert ob.validate_credential_strict({k: v for k, v in document.items() if k != "proof"}).valid
    with Session(app.state.engine) as session:
        report = verify_in_session(
            session, app.state.settings, stored_credential(app, issued["id"]).jsonld, keystore=app.state.keystore
        )
        jwt_report = verify_in_session(
            session, app.state.settings, stored_credential(app, issued["id"]).vc_jwt, keystore=app.state.keystore
        )
    assert report.verified, report.to_text()
    assert jwt_report.verified, jwt_report.to_text()


def test_a_credential_nothing_replaced_is_its_own_current_version(api, achievement):
    earner = register_earner(api)
    issued = api.issue(achievement["id"], {"email": earner.email})

    response = _refresh(api, issued, earner.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["requested_id"] == issued["id"] and body["replaced"] is False and body["chain"] == [issued["id"]]
    assert body["current"]["id"] == issued["id"] and body["current"]["state"] == "active"
    assert body["current"]["credential"] == issued["credential"]


def test_the_holder_gets_the_newest_renewal_with_its_state(api, achievement):
    earner = register_earner(api)
    first = api.issue(achievement["id"], {"email": earner.email})
    second = _renew(api, first["id"])
    third = _renew(api, second["id"])
    change(api, third["id"], "revoke")

    body = _refresh(api, first, earner.headers).json()

    assert body["replaced"] is True and body["chain"] == [first["id"], second["id"], third["id"]]
    assert body["current"]["id"] == third["id"] and body["current"]["state"] == "revoked"
    assert _refresh(api, second, earner.headers).json()["current"]["id"] == third["id"]


def test_the_signed_credential_itself_for_wallets(app, api, achievement):
    earner = register_earner(api)
    first = api.issue(achievement["id"], {"email": earner.email})
    renewed = _renew(api, first["id"])

    response = _refresh(api, first, earner.headers, **VC_JSONLD)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vc+ld+json"
    assert response.content == stored_credential(app, renewed["id"]).jsonld.encode("utf-8")
    assert response.headers["content-location"] == renewed["url"]
    assert response.headers["x-credential-state"] == "active"


def test_nobody_else_learns_anything(api, issuer, achievement):
    earner, stranger = register_earner(api), register_earner(api)
    issued = api.issue(achievement["id"], {"email": earner.email})
    other_issuer_admin = api.create_account("issuer_admin", api.create_issuer("Other")["id"])

    assert_error(_refresh(api, issued, stranger.headers), 404)
    assert_error(_refresh(api, issued, other_issuer_admin), 404)
    assert_error(_refresh(api, issued, {}), 401)
    assert _refresh(api, issued, api.create_account("reviewer", issuer["id"])).status_code == 200
