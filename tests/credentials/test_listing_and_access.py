"""Who sees which credentials: listing filters, paging, and scoping by role.

Admins see every credential; issuer admins and reviewers their own issuer's; earners the
credentials issued to their account's email. Anything else is 404, exactly as if it did not exist.
"""

from __future__ import annotations

import pytest

from tests.credentials.helpers import assert_error

DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
FORMATS = ("", "/jsonld", "/jwt", "/png", "/svg")


@pytest.fixture
def world(api):
    """Two issuers; A has two achievements, B one; four credentials between them."""
    a, b = api.create_issuer("Issuer A"), api.create_issuer("Issuer B")
    a1, a2 = api.create_achievement(a["id"], name="A one"), api.create_achievement(a["id"], name="A two")
    b1 = api.create_achievement(b["id"], name="B one")
    earner = api.create_account("earner")
    earner_email = api.client.get("/v1/me", headers=earner).json()["email"]
    credentials = {
        "a1-earner": api.issue(a1["id"], {"email": earner_email.upper()}),
        "a1-other": api.issue(a1["id"], {"email": "someone.else@example.org"}),
        "a2-did": api.issue(a2["id"], {"did": DID}),
        "b1-earner": api.issue(b1["id"], {"email": earner_email}),
    }
    return {
        "a": a,
        "b": b,
        "a1": a1,
        "a2": a2,
        "b1": b1,
        "earner": earner,
        "earner_email": earner_email,
        "credentials": credentials,
    }


def _ids(api, headers, **params) -> set[str]:
    response = api.client.get("/v1/credentials", headers=headers, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert int(response.headers["X-Total-Count"]) == body["total"] == len(body["items"])
    return {item["id"] for item in body["items"]}


def _named(world, *names: str) -> set[str]:
    return {world["credentials"][name]["id"] for name in names}


def test_admins_list_everything_and_filter_by_issuer_achievement_and_recipient(api, world):
    assert _ids(api, api.admin) == _named(world, "a1-earner", "a1-other", "a2-did", "b1-earner")
    assert _ids(api, api.admin, issuer_id=world["a"]["id"]) == _named(world, "a1-earner", "a1-other", "a2-did")
    assert _ids(api, api.admin, achievement_id=world["a1"]["id"]) == _named(world, "a1-earner", "a1-other")
    assert _ids(api, api.admin, recipient=world["earner_email"].title()) == _named(world, "a1-earner", "b1-earner")
    assert _ids(api, api.admin, recipient=DID) == _named(world, "a2-did")
    assert _ids(api, api.admin, issuer_id=world["b"]["id"], recipient=DID) == set()


def test_list_items_carry_metadata_and_links_but_not_the_credential(api, world):
    body = api.client.get("/v1/credentials", headers=api.admin, params={"recipient": DID}).json()

    [item] = body["items"]
    assert "credential" not in item
    assert item["recipient"] == {"type": "did", "email": None, "did": DID}
    assert item["links"]["jsonld"].endswith(f"/v1/credentials/{item['id']}/jsonld")
    assert item["url"] == f"https://skillcred.example/credentials/{item['id']}"


def test_the_list_is_paged_newest_first(api, world):
    first = api.client.get("/v1/credentials", headers=api.admin, params={"limit": 3}).json()
    rest = api.client.get("/v1/credentials", headers=api.admin, params={"limit": 3, "offset": 3}).json()

    assert first["total"] == rest["total"] == 4
    assert len(first["items"]) == 3 and len(rest["items"]) == 1
    issued = [item["issued_at"] for item in first["items"] + rest["items"]]
    assert issued == sorted(issued, reverse=True)


def test_a_recipient_filter_must_be_an_email_or_a_did(api, world):
    assert_error(api.client.get("/v1/credentials", headers=api.admin, params={"recipient": "ada"}), 422)


def test_issuer_admins_and_reviewers_see_only_their_own_issuers_credentials(api, world):
    for role in ("issuer_admin", "reviewer"):
        b_account = api.create_account(role, world["b"]["id"])
        assert _ids(api, b_account) == _named(world, "b1-earner")
        assert _ids(api, b_account, issuer_id=world["a"]["id"]) == set()
        for name in ("a1-earner", "a2-did"):
            for suffix in FORMATS:
                response = api.client.get(
                    f"/v1/credentials/{world['credentials'][name]['id']}{suffix}", headers=b_account
                )
                assert_error(response, 404, "not_found")
        own = world["credentials"]["b1-earner"]["id"]
        for suffix in FORMATS:
            assert api.client.get(f"/v1/credentials/{own}{suffix}", headers=b_account).status_code == 200


def test_earners_see_only_credentials_issued_to_their_email(api, world):
    earner = world["earner"]
    assert _ids(api, earner) == _named(world, "a1-earner", "b1-earner")
    assert _ids(api, earner, issuer_id=world["b"]["id"]) == _named(world, "b1-earner")
    mine = world["credentials"]["a1-earner"]
    detail = api.client.get(f"/v1/credentials/{mine['id']}", headers=earner)
    assert detail.status_code == 200 and detail.json()["credential"] == mine["credential"]
    for name in ("a1-other", "a2-did"):
        assert_error(api.client.get(f"/v1/credentials/{world['credentials'][name]['id']}", headers=earner), 404)
    another_earner = api.create_account("earner")
    assert _ids(api, another_earner) == set()


def test_nothing_is_listed_or_read_without_signing_in(api, world):
    some_id = world["credentials"]["a1-earner"]["id"]
    assert_error(api.client.get("/v1/credentials"), 401, "unauthorized")
    for suffix in FORMATS:
        assert_error(api.client.get(f"/v1/credentials/{some_id}{suffix}"), 401, "unauthorized")


def test_an_unknown_credential_is_404_in_every_format(api):
    for suffix in FORMATS:
        assert_error(
            api.client.get(f"/v1/credentials/00000000-0000-0000-0000-000000000000{suffix}", headers=api.admin),
            404,
            "not_found",
        )
