"""Reporting an issuer key compromised (``POST /v1/issuers/{id}/keys/{key}/compromise``) and the
report of what it signed (``GET .../affected-credentials``).

An issuer admin (or an admin) reports a key, active or retired, with the moment from which it is
known or suspected compromised and a reason. An active key is retired and replaced by a new key of
its algorithm, which signs from then on; the DID document keeps the key, marked ``revoked``, under
no relationship, and the JWKS drops it; the report is audited. A report the service cannot take
(an unknown key, a moment in the future, no reason, a key already reported) changes nothing.
The affected-credentials report lists exactly the credentials and issuer-signed endorsements
whose own signature is the key's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from service.audit.models import AuditEvent
from service.issuers.models import SigningKey
from service.vc import jose
from tests.credentials.helpers import assert_error, did_document
from tests.endorsements.conftest import accept, endorse_by_email, register_earner

REASON = "The CI runner that held the key export was breached"


def compromise_response(api, issuer_id: str, key: str, headers: dict | None = None, **body: Any):
    body = {"reason": REASON, **body}
    return api.client.post(f"/v1/issuers/{issuer_id}/keys/{key}/compromise", json=body, headers=headers or api.admin)


def compromise(api, issuer_id: str, key: str, **body: Any) -> dict[str, Any]:
    response = compromise_response(api, issuer_id, key, **body)
    assert response.status_code == 200, response.text
    return response.json()


def keys_of(api, issuer_id: str) -> dict[str, dict[str, Any]]:
    response = api.client.get(f"/v1/issuers/{issuer_id}/keys", headers=api.admin)
    assert response.status_code == 200, response.text
    return {key["fragment"]: key for key in response.json()}


def affected(api, issuer_id: str, key: str, headers: dict | None = None, **params: Any):
    return api.client.get(
        f"/v1/issuers/{issuer_id}/keys/{key}/affected-credentials", params=params, headers=headers or api.admin
    )


def listed(api, issuer_id: str, key: str) -> set[tuple[str, str, tuple[str, ...]]]:
    response = affected(api, issuer_id, key, limit=100)
    assert response.status_code == 200, response.text
    return {(item["kind"], item["id"], tuple(item["formats"])) for item in response.json()["items"]}


def rotate(api, issuer_id: str) -> None:
    response = api.client.post(f"/v1/issuers/{issuer_id}/keys/rotate", headers=api.admin)
    assert response.status_code == 200, response.text


# --- reporting ----------------------------------------------------------------------------------


def test_reporting_the_active_key_retires_it_and_makes_a_new_one(api):
    issuer = api.create_issuer()
    since = "2026-03-01T10:00:00Z"

    outcome = compromise(api, issuer["id"], "key-1", compromised_at=since)

    assert outcome["key"]["fragment"] == "key-1" and outcome["key"]["active"] is False
    assert outcome["key"]["compromised_at"] == "2026-03-01T10:00:00Z"
    assert outcome["key"]["compromise_reason"] == REASON
    assert outcome["replacement"]["fragment"] == "key-2" and outcome["replacement"]["active"] is True
    assert outcome["replacement"]["algorithm"] == "EdDSA"
    assert outcome["affected_credentials"] == (
        f"/v1/issuers/{issuer['id']}/keys/{outcome['key']['id']}/affected-credentials"
    )
    keys = keys_of(api, issuer["id"])
    assert {f: k["active"] for f, k in keys.items()} == {"key-1": False, "rsa-1": True, "key-2": True}
    assert keys["rsa-1"]["compromised_at"] is None  # only the key reported


def test_reporting_a_retired_key_makes_no_new_key(api):
    issuer = api.create_issuer()
    rotate(api, issuer["id"])

    outcome = compromise(api, issuer["id"], "rsa-1")

    assert outcome["replacement"] is None and outcome["key"]["compromised_at"] is not None
    assert [f for f, k in keys_of(api, issuer["id"]).items() if k["active"]] == ["key-2", "rsa-2"]


def test_the_key_may_be_named_by_its_id_and_the_moment_defaults_to_now(api):
    issuer = api.create_issuer()
    key_id = keys_of(api, issuer["id"])["rsa-1"]["id"]
    before = datetime.now(UTC)

    outcome = compromise(api, issuer["id"], key_id)

    reported = datetime.fromisoformat(outcome["key"]["compromised_at"])
    assert before - timedelta(seconds=1) <= reported <= datetime.now(UTC)
    assert outcome["replacement"]["fragment"] == "rsa-2"


def test_the_report_is_audited(api, db):
    issuer = api.create_issuer()
    outcome = compromise(api, issuer["id"], "key-1", compromised_at="2026-03-01T10:00:00+02:00")

    with db() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "issuer.key.compromise")).one()
    assert (event.object_type, event.object_id, event.issuer_id) == ("signing_key", outcome["key"]["id"], issuer["id"])
    assert event.actor_role == "admin"
    assert event.before == {"verification_method": f"{issuer['did']}#key-1", "active": True}
    assert event.after == {
        "compromised_at": "2026-03-01T08:00:00Z",
        "reason": REASON,
        "replacement": f"{issuer['did']}#key-2",
    }


def test_issuing_after_compromising_the_active_key_uses_the_new_key(api):
    issuer = api.create_issuer()
    achievement = api.create_achievement(issuer["id"])
    compromise(api, issuer["id"], "key-1")
    compromise(api, issuer["id"], "rsa-1")

    issued = api.issue(achievement["id"])

    assert issued["credential"]["proof"][0]["verificationMethod"] == f"{issuer['did']}#key-2"
    token = api.client.get(f"/v1/credentials/{issued['id']}/jwt", headers=api.admin).text
    assert jose.decode_vc_jwt_unverified(token)[0]["kid"] == f"{issuer['did']}#rsa-2"


def test_issuing_is_refused_with_409_while_the_only_active_key_is_compromised(api, db):
    """A state reporting never leaves (it retires the key), but a database edited by hand could."""
    issuer = api.create_issuer()
    achievement = api.create_achievement(issuer["id"])
    with db() as session:
        key = session.exec(
            select(SigningKey).where(SigningKey.issuer_id == issuer["id"], SigningKey.fragment == "key-1")
        ).one()
        key.compromised_at, key.compromise_reason = datetime.now(UTC), REASON
        session.add(key)

    response = api.client.post(
        "/v1/credentials",
        json={"achievement_id": achievement["id"], "recipient": {"email": "ada@example.org"}},
        headers=api.admin,
    )

    body = assert_error(response, 409, "active_key_compromised")
    assert "key-1 was reported compromised" in body["detail"] and "rotate" in body["detail"]


# --- what is published ----------------------------------------------------------------------------


def test_the_did_document_keeps_a_compromised_key_as_revoked_under_no_relationship(api):
    issuer = api.create_issuer()
    compromise(api, issuer["id"], "key-1", compromised_at="2026-03-01T10:00:00.250Z")

    document = did_document(api.client, issuer)

    did = issuer["did"]
    methods = {m["id"]: m for m in document["verificationMethod"]}
    assert methods[f"{did}#key-1"]["revoked"] == "2026-03-01T10:00:00Z"
    assert "revoked" not in methods[f"{did}#key-2"] and "revoked" not in methods[f"{did}#rsa-1"]
    for relationship in ("assertionMethod", "authentication"):
        assert f"{did}#key-1" not in document[relationship]
    assert set(document["assertionMethod"]) == {f"{did}#rsa-1", f"{did}#key-2"}
    assert REASON not in str(document)  # the reason is not published in the DID document


def test_the_jwks_drops_a_compromised_key(api):
    issuer = api.create_issuer()
    compromise(api, issuer["id"], "rsa-1")

    kids = {key["kid"] for key in api.client.get("/.well-known/jwks.json").json()["keys"]}

    assert f"{issuer['did']}#rsa-1" not in kids
    assert {f"{issuer['did']}#key-1", f"{issuer['did']}#rsa-2"} <= kids


# --- who may report ---------------------------------------------------------------------------------


def test_an_issuer_admin_reports_a_key_of_their_own_issuer(api):
    issuer = api.create_issuer()
    headers = api.create_account("issuer_admin", issuer["id"])

    response = compromise_response(api, issuer["id"], "key-1", headers=headers)

    assert response.status_code == 200, response.text
    assert affected(api, issuer["id"], "key-1", headers=headers).status_code == 200


@pytest.mark.attack
def test_an_issuer_admin_gets_404_for_another_issuers_key_and_nothing_changes(api):
    mine, theirs = api.create_issuer("Mine"), api.create_issuer("Theirs")
    headers = api.create_account("issuer_admin", mine["id"])
    their_key = keys_of(api, theirs["id"])["key-1"]["id"]

    assert_error(compromise_response(api, theirs["id"], "key-1", headers=headers), 404)
    # naming their key under my own issuer does not reach it either
    assert_error(compromise_response(api, mine["id"], their_key, headers=headers), 404)
    assert_error(affected(api, theirs["id"], "key-1", headers=headers), 404)
    assert_error(affected(api, mine["id"], their_key, headers=headers), 404)
    assert all(k["compromised_at"] is None for k in keys_of(api, theirs["id"]).values())


@pytest.mark.parametrize("role", ["reviewer", "earner"])
def test_reviewers_and_earners_get_403(api, role):
    issuer = api.create_issuer()
    headers = api.create_account(role, issuer["id"] if role == "reviewer" else None)

    assert_error(compromise_response(api, issuer["id"], "key-1", headers=headers), 403)
    assert_error(affected(api, issuer["id"], "key-1", headers=headers), 403)
    assert keys_of(api, issuer["id"])["key-1"]["compromised_at"] is None


# --- refused reports change nothing ----------------------------------------------------------------

IN_THE_FUTURE = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(
    ("key", "body", "status", "code"),
    [
        ("key-9", {}, 404, "not_found"),
        ("00000000-0000-4000-8000-000000000000", {}, 404, "not_found"),
        ("key-1", {"compromised_at": IN_THE_FUTURE}, 422, "invalid_compromise_report"),
        ("key-1", {"compromised_at": "2026-03-01T10:00:00"}, 422, None),  # no time zone
        ("key-1", {"compromised_at": "last tuesday"}, 422, None),
        ("key-1", {"reason": "   "}, 422, None),
        ("key-1", {"reason": "x" * 501}, 422, None),
        ("key-1", {"reason": "bell\x07"}, 422, None),
        ("key-1", {"revoke_everything": True}, 422, None),
    ],
)
def test_a_report_the_service_cannot_take_is_a_clear_4xx_and_changes_nothing(api, db, key, body, status, code):
    issuer = api.create_issuer()
    document = did_document(api.client, issuer)
    keys = keys_of(api, issuer["id"])

    response = compromise_response(api, issuer["id"], key, **body)

    error = assert_error(response, status, code)
    assert error["detail"]
    assert keys_of(api, issuer["id"]) == keys
    assert did_document(api.client, issuer) == document
    with db() as session:
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "issuer.key.compromise")).first() is None


def test_a_future_moment_says_so(api):
    issuer = api.create_issuer()

    error = assert_error(compromise_response(api, issuer["id"], "key-1", compromised_at=IN_THE_FUTURE), 422)

    assert "in the future" in error["detail"]


def test_a_key_already_reported_answers_409_and_the_first_report_stands(api):
    issuer = api.create_issuer()
    compromise(api, issuer["id"], "key-1", compromised_at="2026-03-01T10:00:00Z")

    response = compromise_response(api, issuer["id"], "key-1", compromised_at="2026-02-01T10:00:00Z", reason="Again")

    assert_error(response, 409, "key_already_compromised")
    key = keys_of(api, issuer["id"])["key-1"]
    assert (key["compromised_at"], key["compromise_reason"]) == ("2026-03-01T10:00:00Z", REASON)
    assert [f for f, k in keys_of(api, issuer["id"]).items() if k["active"]] == ["rsa-1", "key-2"]


# --- what the key signed ---------------------------------------------------------------------------


@pytest.fixture
def history(api) -> dict[str, Any]:
    """Issuer A: c1 and its endorsement e1 signed with key-1/rsa-1; after a rotation c2, and c3
    (c1 reissued with e1 embedded: e1's proof by key-1 inside a credential signed by key-2).
    Issuer B: c4, signed with its own key-1."""
    a, b = api.create_issuer("A"), api.create_issuer("B")
    achievement_a, achievement_b = api.create_achievement(a["id"]), api.create_achievement(b["id"])
    earner = register_earner(api)
    c1 = api.issue(achievement_a["id"], {"email": earner.email})
    e1 = accept(api, endorse_by_email(api, c1["id"]), earner)
    rotate(api, a["id"])
    c2 = api.issue(achievement_a["id"])
    reissued = api.client.post(f"/v1/credentials/{c1['id']}/reissue", headers=api.admin)
    assert reissued.status_code == 201, reissued.text
    c3 = reissued.json()
    assert c3["credential"]["endorsement"][0]["proof"][0]["verificationMethod"] == f"{a['did']}#key-1"
    c4 = api.issue(achievement_b["id"])
    return {"a": a, "b": b, "c1": c1["id"], "e1": e1["id"], "c2": c2["id"], "c3": c3["id"], "c4": c4["id"]}


def test_the_report_lists_exactly_what_the_key_signed(api, history):
    a, b = history["a"], history["b"]
    compromise(api, a["id"], "key-1")

    assert listed(api, a["id"], "key-1") == {
        ("credential", history["c1"], ("json-ld",)),
        ("endorsement", history["e1"], ("json-ld",)),
    }
    assert listed(api, a["id"], "rsa-1") == {("credential", history["c1"], ("vc-jwt",))}
    assert listed(api, a["id"], "key-2") == {
        ("credential", history["c2"], ("json-ld",)),
        ("credential", history["c3"], ("json-ld",)),
    }
    assert listed(api, a["id"], "rsa-2") == {
        ("credential", history["c2"], ("vc-jwt",)),
        ("credential", history["c3"], ("vc-jwt",)),
    }
    assert listed(api, b["id"], "key-1") == {("credential", history["c4"], ("json-ld",))}
    compromise(api, a["id"], "key-2")
    assert listed(api, a["id"], "key-3") == set()  # the key made by that report has signed nothing yet


def test_the_report_is_paged_oldest_first(api, history):
    a = history["a"]

    first = affected(api, a["id"], "key-2", limit=1)
    second = affected(api, a["id"], "key-2", limit=1, offset=1)

    assert first.status_code == second.status_code == 200
    assert first.headers["X-Total-Count"] == "2" and 'rel="next"' in first.headers["Link"]
    assert [i["id"] for i in first.json()["items"]] == [history["c2"]]
    assert [i["id"] for i in second.json()["items"]] == [history["c3"]]
    endorsement = next(i for i in affected(api, a["id"], "key-1").json()["items"] if i["kind"] == "endorsement")
    assert endorsement["credential_id"] == history["c1"] and endorsement["state"] == "accepted"


def test_the_report_of_an_unknown_key_is_404(api):
    issuer = api.create_issuer()

    assert_error(affected(api, issuer["id"], "key-7"), 404)
