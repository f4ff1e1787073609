"""An earner points an open bundle at another achievement (one a suggestion named) and applies with
the same evidence; a submitted bundle, another earner's bundle or an unknown achievement cannot be
re-targeted, and a platform stays within its own issuer."""

from __future__ import annotations

from sqlmodel import Session

from service.evidence import service

TEXT = {"kind": "text", "text": "I wrote 140 API tests with pytest and ran them in CI.", "name": "Write-up"}


def retarget(client, bundle_id: str, achievement_id: str, headers):
    return client.patch(f"/v1/evidence/bundles/{bundle_id}", json={"achievement_id": achievement_id}, headers=headers)


def test_an_open_bundle_moves_to_another_issuers_achievement_with_its_items(client, api, earner, bundle):
    item = client.post(f"/v1/evidence/bundles/{bundle['id']}/items", json=TEXT, headers=earner)
    assert item.status_code == 201, item.text
    other_issuer = api.create_issuer("Beta Guild")
    other = api.create_achievement(other_issuer["id"], name="API testing")

    moved = retarget(client, bundle["id"], other["id"], earner)

    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert (body["achievement_id"], body["issuer_id"]) == (other["id"], other_issuer["id"])
    assert [i["id"] for i in body["items"]] == [item.json()["id"]]
    events = client.get("/v1/audit", params={"action": "evidence.bundle.retarget"}, headers=api.admin).json()
    (event,) = events["items"]
    assert event["before"]["achievement_id"] == bundle["achievement_id"]
    assert event["after"]["achievement_id"] == other["id"]


def test_a_submitted_bundle_keeps_its_achievement(app, client, api, earner, bundle, issuer):
    other = api.create_achievement(issuer["id"], name="Exploratory testing")
    assert client.post(f"/v1/evidence/bundles/{bundle['id']}/items", json=TEXT, headers=earner).status_code == 201
    with Session(app.state.engine) as session:
        service.lock_bundle(session, bundle["id"])
        session.commit()

    refused = retarget(client, bundle["id"], other["id"], earner)

    assert refused.status_code == 409 and refused.json()["error"] == "evidence_bundle_locked"
    again = client.get(f"/v1/evidence/bundles/{bundle['id']}", headers=earner).json()
    assert again["achievement_id"] == bundle["achievement_id"]


def test_another_earners_bundle_and_an_unknown_achievement_are_404(client, api, earner, bundle, issuer):
    other = api.create_achievement(issuer["id"], name="Exploratory testing")
    stranger = api.create_account("earner")

    assert retarget(client, bundle["id"], other["id"], stranger).status_code == 404
    assert retarget(client, bundle["id"], "no-such-achievement", earner).status_code == 404
    assert (
        client.get(f"/v1/evidence/bundles/{bundle['id']}", headers=earner).json()["achievement_id"]
        == (bundle["achievement_id"])
    )


def test_a_platform_re_targets_its_earners_bundle_only_to_its_own_issuers_achievements(app, client, api, issuer):
    from service.platforms import scopes
    from tests.platforms.clients import client_token

    granted = f"{scopes.EARNERS_PROVISION} {scopes.EVIDENCE_WRITE}"
    platform = client_token(app, issuer["id"], granted)
    provisioned = client.post(
        "/v1/platform/earners", headers=platform.headers, json={"external_id": "u-1", "email": "u1@example.org"}
    )
    acting = {**platform.headers, "On-Behalf-Of": provisioned.json()["id"]}
    own = api.create_achievement(issuer["id"], name="Python testing")
    also_own = api.create_achievement(issuer["id"], name="Exploratory testing")
    elsewhere = api.create_achievement(api.create_issuer("Beta Guild")["id"], name="API testing")
    bundle = client.post("/v1/evidence/bundles", json={"achievement_id": own["id"]}, headers=acting).json()

    assert retarget(client, bundle["id"], elsewhere["id"], acting).status_code == 404
    assert retarget(client, bundle["id"], also_own["id"], acting).json()["achievement_id"] == also_own["id"]
