"""Who may do what: admins everywhere; issuer admins and reviewers only for their own issuer.

Another issuer's achievements answer 404, in the same words as ones that do not exist, so nobody
learns that they exist. Earners manage no achievements (403), but anyone may fetch the public
Open Badges Achievement.
"""

from __future__ import annotations

import pytest

from tests.achievements.conftest import MINIMAL


@pytest.fixture
def world(api, new_issuer):
    """Issuers A and B, one achievement each, and accounts acting for A."""
    a, b = new_issuer(), new_issuer()
    return {
        "a": a,
        "b": b,
        "a_achievement": api.create_achievement(a)["id"],
        "b_achievement": api.create_achievement(b)["id"],
        "issuer_admin": api.create_account("issuer_admin", a),
        "reviewer": api.create_account("reviewer", a),
        "earner": api.create_account("earner"),
    }


def test_an_issuer_admin_manages_their_own_issuers_achievements(client, world):
    headers = world["issuer_admin"]
    created = client.post(f"/v1/issuers/{world['a']}/achievements", json=MINIMAL, headers=headers)
    assert created.status_code == 201
    achievement_id = created.json()["id"]
    assert client.put(f"/v1/achievements/{achievement_id}", json=MINIMAL, headers=headers).status_code == 200
    assert client.get(f"/v1/achievements/{achievement_id}", headers=headers).status_code == 200
    assert client.get(f"/v1/achievements/{achievement_id}/versions", headers=headers).status_code == 200
    assert client.get(f"/v1/issuers/{world['a']}/achievements", headers=headers).json()["total"] == 2


def test_an_issuer_admin_cannot_see_create_or_update_in_another_issuer(client, world, row_counts):
    headers, b, other = world["issuer_admin"], world["b"], world["b_achievement"]
    before = row_counts()
    answers = [
        client.post(f"/v1/issuers/{b}/achievements", json=MINIMAL, headers=headers),
        client.get(f"/v1/issuers/{b}/achievements", headers=headers),
        client.get(f"/v1/achievements/{other}", headers=headers),
        client.get(f"/v1/achievements/{other}", params={"version": 1}, headers=headers),
        client.get(f"/v1/achievements/{other}/versions", headers=headers),
        client.put(f"/v1/achievements/{other}", json=MINIMAL | {"name": "Hijacked"}, headers=headers),
    ]
    assert [r.status_code for r in answers] == [404] * 6
    assert all(r.json()["error"] == "not_found" for r in answers)
    assert row_counts() == before


def test_another_issuers_achievement_looks_exactly_like_a_missing_one(client, world):
    headers = world["issuer_admin"]
    theirs = client.get(f"/v1/achievements/{world['b_achievement']}", headers=headers)
    missing = client.get("/v1/achievements/00000000-0000-4000-8000-000000000000", headers=headers)
    assert theirs.json() == missing.json()


def test_a_reviewer_reads_their_issuers_achievements_but_changes_nothing(client, world, row_counts):
    headers, mine = world["reviewer"], world["a_achievement"]
    assert client.get(f"/v1/issuers/{world['a']}/achievements", headers=headers).status_code == 200
    assert client.get(f"/v1/achievements/{mine}", headers=headers).status_code == 200
    assert client.get(f"/v1/achievements/{mine}/versions", headers=headers).status_code == 200
    assert client.get(f"/v1/achievements/{world['b_achievement']}", headers=headers).status_code == 404
    before = row_counts()
    assert client.post(f"/v1/issuers/{world['a']}/achievements", json=MINIMAL, headers=headers).status_code == 403
    assert client.put(f"/v1/achievements/{mine}", json=MINIMAL, headers=headers).status_code == 403
    assert row_counts() == before


def test_an_earner_may_not_create_update_or_list(client, world, row_counts):
    headers, mine = world["earner"], world["a_achievement"]
    before = row_counts()
    answers = [
        client.post(f"/v1/issuers/{world['a']}/achievements", json=MINIMAL, headers=headers),
        client.put(f"/v1/achievements/{mine}", json=MINIMAL, headers=headers),
        client.get(f"/v1/issuers/{world['a']}/achievements", headers=headers),
        client.get(f"/v1/achievements/{mine}", headers=headers),
    ]
    assert [r.status_code for r in answers] == [403] * 4
    assert all(r.json()["error"] == "forbidden" for r in answers)
    assert row_counts() == before


def test_without_a_token_only_the_public_achievement_answers(client, world):
    mine = world["a_achievement"]
    assert client.post(f"/v1/issuers/{world['a']}/achievements", json=MINIMAL).status_code == 401
    assert client.get(f"/v1/achievements/{mine}").status_code == 401
    assert client.get(f"/v1/achievements/{mine}/versions").status_code == 401
    assert client.put(f"/v1/achievements/{mine}", json=MINIMAL).status_code == 401
    assert client.get(f"/achievements/{mine}").status_code == 200
