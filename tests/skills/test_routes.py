"""GET /v1/skills: issuer staff search the bundled ESCO skills."""

from __future__ import annotations

from tests.credentials.helpers import assert_error

PYTHON = "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"


def test_issuer_staff_search_skills_by_label(api, client):
    issuer = api.create_issuer()
    for headers in (
        api.admin,
        api.create_account("issuer_admin", issuer["id"]),
        api.create_account("reviewer", issuer["id"]),
    ):
        response = client.get("/v1/skills", params={"q": "Python", "limit": 3}, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["query"] == "Python" and 1 <= len(body["items"]) <= 3
        first = body["items"][0]
        assert {k: first[k] for k in ("uri", "label", "type", "code")} == {
            "uri": PYTHON,
            "label": "Python (computer programming)",
            "type": "knowledge",
            "code": "ccd0a1d9-afda-43d9-b901-96344886e14d",
        }
        assert "Python" in first["alt_labels"] and "programming paradigms in Python" in first["description"]


def test_earners_and_strangers_may_not_search(api, client):
    assert_error(client.get("/v1/skills", params={"q": "python"}), 401)
    assert_error(client.get("/v1/skills", params={"q": "python"}, headers=api.create_account("earner")), 403)


def test_bad_queries_are_validation_errors(api, client):
    for params in ({}, {"q": ""}, {"q": "x" * 201}, {"q": "python", "limit": 0}, {"q": "python", "limit": 101}):
        assert_error(client.get("/v1/skills", params=params, headers=api.admin), 422, "validation_error")


def test_a_query_that_matches_nothing_is_an_empty_list(api, client):
    body = client.get("/v1/skills", params={"q": "zzzqqq"}, headers=api.admin).json()
    assert body == {"query": "zzzqqq", "items": []}


def test_a_search_result_can_be_used_as_an_achievement_skill(api, client):
    issuer = api.create_issuer()
    [found] = client.get("/v1/skills", params={"q": "javascript", "limit": 1}, headers=api.admin).json()["items"]
    created = api.create_achievement(issuer["id"], esco_skills=[found["uri"]])
    assert created["alignments"][0]["target_name"] == found["label"] == "JavaScript"
