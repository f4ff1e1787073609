"""``/v1/catalogue``: anyone, earners included, finds the achievements open for applications, with
only their public facts (never the rubric's key ideas), paged and filtered like the other lists."""

from __future__ import annotations

import pytest

from tests.achievements.catalogue_world import KEY_IDEAS, PYTHON_SKILL, closed_achievement, open_achievement

LIST = "/v1/catalogue/achievements"


@pytest.fixture
def world(api):
    acme = api.create_issuer("Acme Academy")
    beta = api.create_issuer("Beta Guild")
    return {
        "acme": acme,
        "beta": beta,
        "python": open_achievement(api, acme["id"], "Python testing"),
        "closed": closed_achievement(api, acme["id"]),
        "rust": open_achievement(api, beta["id"], "Rust services"),
    }


def _names(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


def test_anyone_lists_the_open_achievements_newest_first_and_never_a_closed_one(client, api, world):
    earner = api.create_account("earner")

    for headers in ({}, earner):
        response = client.get(LIST, headers=headers)
        assert _names(response) == ["Rust services", "Python testing"]
        assert response.json()["total"] == 2 and response.headers["X-Total-Count"] == "2"


def test_an_item_names_its_issuer_skills_page_and_where_to_apply(client, world):
    item = next(i for i in client.get(LIST).json()["items"] if i["name"] == "Python testing")

    python = world["python"]
    assert item["id"] == python["id"] and item["version"] == 1
    assert item["url"] == f"https://skillcred.example/achievements/{python['id']}"
    assert item["apply_url"] == f"https://skillcred.example/portal/apply/{python['id']}"
    assert item["issuer"] == {
        "id": world["acme"]["id"],
        "name": "Acme Academy",
        "url": "https://issuer.example",
        "did": world["acme"]["did"],
    }
    assert [s["url"] for s in item["skills"]] == [PYTHON_SKILL] and item["skills"][0]["framework"] == "ESCO"


def test_the_list_filters_by_issuer_and_searches_names(client, world):
    assert _names(client.get(LIST, params={"issuer_id": world["beta"]["id"]})) == ["Rust services"]
    assert _names(client.get(LIST, params={"q": "PYTHON"})) == ["Python testing"]
    assert _names(client.get(LIST, params={"q": "awarded"})) == []  # closed: not found by name either
    assert _names(client.get(LIST, params={"issuer_id": "00000000-0000-4000-8000-000000000000"})) == []


def test_like_wildcards_in_the_search_are_literal(client, api, world):
    percent = open_achievement(api, world["acme"]["id"], "100% reliable deploys")

    assert _names(client.get(LIST, params={"q": "%"})) == ["100% reliable deploys"]
    assert _names(client.get(LIST, params={"q": "_"})) == []
    assert percent["id"]


def test_the_list_is_paged_with_links(client, world):
    response = client.get(LIST, params={"limit": 1, "offset": 1})

    assert _names(response) == ["Python testing"]
    assert 'rel="prev"' in response.headers["Link"] and 'rel="next"' not in response.headers["Link"]


def test_a_new_version_without_a_rubric_closes_the_achievement(client, api, world):
    python = world["python"]
    body = {"name": "Python testing", "description": "Now by hand.", "criteria": {"narrative": "Ask us."}}
    assert client.put(f"/v1/achievements/{python['id']}", json=body, headers=api.admin).status_code == 200

    assert _names(client.get(LIST)) == ["Rust services"]
    assert client.get(f"{LIST}/{python['id']}").status_code == 404


def test_one_achievement_has_its_criteria_rubric_and_assessment_without_the_key_ideas(client, settings, world):
    response = client.get(f"{LIST}/{world['python']['id']}")

    assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["criteria"] == "A repository with a tested project."
    rubric = detail["rubric"]
    assert [c["name"] for c in rubric["criteria"]] == ["Automated tests", "Continuous integration"]
    tests = rubric["criteria"][0]
    assert tests["required"] is True and tests["minimum_level"] == "some" and tests["weight"] == 2
    assert [(lv["name"], lv["points"]) for lv in tests["levels"]] == [("None", 0), ("Some", 1), ("Thorough", 2)]
    assert rubric["min_total"] == 3 and rubric["max_total"] == 5
    assessment = detail["assessment"]
    assert assessment["policy"] == "auto" and assessment["assessor"] == settings.assessor
    assert assessment["max_attempts"] == settings.assessment_max_attempts
    assert assessment["attempt_window_days"] == settings.assessment_attempt_window_days
    assert "a person at the issuer" in assessment["summary"]
    text = response.text
    assert "key_ideas" not in text and not [idea for idea in KEY_IDEAS if idea in text]
    assert "min_confidence" not in text and "sampling_rate" not in text


def test_an_unknown_or_closed_achievement_is_not_found_in_the_same_words(client, world):
    closed = client.get(f"{LIST}/{world['closed']['id']}")
    unknown = client.get(f"{LIST}/00000000-0000-4000-8000-000000000000")

    assert closed.status_code == unknown.status_code == 404
    assert closed.json() == unknown.json()


def test_an_earner_refused_the_staff_route_finds_the_achievement_here(client, api, world):
    earner = api.create_account("earner")
    python = world["python"]["id"]

    assert client.get(f"/v1/achievements/{python}", headers=earner).status_code == 403
    assert client.get(f"{LIST}/{python}", headers=earner).status_code == 200
