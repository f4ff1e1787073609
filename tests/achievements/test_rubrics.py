"""An achievement's rubric: stored with the version, validated, and mapped onto Open Badges 3.0
result descriptions (resultType RubricCriterionLevel) that credentials' results point at."""

from __future__ import annotations

import copy

import pytest

from service.achievements.result_descriptions import (
    RUBRIC_RESULT_TYPE,
    result_description_id,
    rubric_level_id,
    rubric_of,
)
from service.assessment.engine.rubric import load_rubric
from tests.achievements.conftest import MINIMAL, rubric
from tests.credentials.helpers import assert_error


def _rubric_descriptions(view):
    return [d for d in view["result_descriptions"] if d.get("rubric_criterion")]


def _stored_version(app, achievement_id, version):
    from service.achievements.service import get_version
    from service.core.db import unit_of_work

    with unit_of_work(app.state.engine) as session:
        row = get_version(session, achievement_id, version)
        session.expunge(row)
        return row


# --- stored and shown --------------------------------------------------------------------------


def test_the_rubric_is_stored_with_the_version_and_shown_in_the_view(api, new_issuer):
    created = api.create_achievement(new_issuer(), rubric=rubric())
    assert created["rubric"] == rubric()
    assert api.create_achievement(new_issuer())["rubric"] is None


def test_each_criterion_becomes_a_rubric_criterion_level_result_description(api, new_issuer):
    created = api.create_achievement(new_issuer(), rubric=rubric())
    tests, ci = _rubric_descriptions(created)
    achievement_id = created["id"]

    assert tests == {
        "id": result_description_id(achievement_id, "tests"),
        "name": "Test design",
        "result_type": RUBRIC_RESULT_TYPE,
        "allowed_values": [],
        "rubric_criterion": "tests",
        "required_level": rubric_level_id(achievement_id, "tests", "solid"),
        "required_value": None,
        "value_min": None,
        "value_max": None,
        "rubric_criterion_levels": [
            {
                "id": rubric_level_id(achievement_id, "tests", level_id),
                "name": name,
                "description": description,
                "level": None,
                "points": points,
            }
            for level_id, name, description, points in [
                ("none", "None", "No tests.", "0"),
                ("basic", "Basic", "A few happy paths.", "1"),
                ("solid", "Solid", "Edge cases and failures.", "2.5"),
                ("expert", "Expert", "Property-based and mutation tested.", "4"),
            ]
        ],
    }
    assert ci["name"] == "ci"  # a criterion without a name is called by its id
    assert ci["required_level"] is None  # not required: any level will do
    assert [level["points"] for level in ci["rubric_criterion_levels"]] == ["0", "1"]


def test_a_required_criterion_without_min_level_requires_the_level_above_the_lowest(api, new_issuer):
    body = rubric()
    body["criteria"][1]["required"] = True
    created = api.create_achievement(new_issuer(), rubric=body)
    ci = _rubric_descriptions(created)[1]
    assert ci["required_level"] == rubric_level_id(created["id"], "ci", "yes")


def test_hand_written_result_descriptions_come_first_and_keep_their_ids(api, new_issuer):
    grade = {
        "id": "https://issuer.example/results/grade",
        "name": "Grade",
        "result_type": "LetterGrade",
        "allowed_values": ["A", "B"],
    }
    created = api.create_achievement(new_issuer(), rubric=rubric(), result_descriptions=[grade])
    assert [d["name"] for d in created["result_descriptions"]] == ["Grade", "Test design", "ci"]
    assert created["result_descriptions"][0]["id"] == grade["id"]
    assert created["result_descriptions"][0]["rubric_criterion"] is None


def test_the_public_ob_achievement_carries_the_rubric_result_descriptions(api, client, new_issuer):
    created = api.create_achievement(new_issuer(), rubric=rubric())
    document = client.get(f"/achievements/{created['id']}").json()
    tests, ci = document["resultDescription"]
    assert tests["type"] == ["ResultDescription"] and tests["resultType"] == "RubricCriterionLevel"
    assert tests["id"] == result_description_id(created["id"], "tests") and tests["name"] == "Test design"
    assert tests["requiredLevel"] == rubric_level_id(created["id"], "tests", "solid")
    assert tests["rubricCriterionLevel"][2] == {
        "id": rubric_level_id(created["id"], "tests", "solid"),
        "type": ["RubricCriterionLevel"],
        "name": "Solid",
        "description": "Edge cases and failures.",
        "points": "2.5",
    }
    assert "requiredLevel" not in ci
    assert "rubric_criterion" not in str(document) and "key_ideas" not in str(document)


def test_ids_stay_the_same_across_versions_and_differ_between_achievements(api, client, new_issuer):
    issuer_id = new_issuer()
    first = api.create_achievement(issuer_id, rubric=rubric())
    changed = rubric(version="2")
    changed["criteria"][0]["levels"][3]["points"] = 5
    second = client.put(f"/v1/achievements/{first['id']}", json=MINIMAL | {"rubric": changed}, headers=api.admin)
    assert second.status_code == 200, second.text
    assert [d["id"] for d in _rubric_descriptions(second.json())] == [d["id"] for d in _rubric_descriptions(first)]
    other = api.create_achievement(issuer_id, rubric=rubric())
    assert not {d["id"] for d in _rubric_descriptions(other)} & {d["id"] for d in _rubric_descriptions(first)}


def test_a_new_version_may_drop_the_rubric_and_the_old_version_keeps_it(api, client, new_issuer):
    created = api.create_achievement(new_issuer(), rubric=rubric())
    dropped = client.put(f"/v1/achievements/{created['id']}", json=MINIMAL, headers=api.admin).json()
    assert dropped["rubric"] is None and dropped["result_descriptions"] == []
    old = client.get(f"/v1/achievements/{created['id']}", params={"version": 1}, headers=api.admin).json()
    assert old["rubric"] == rubric()


def test_rubric_of_gives_the_version_rubric(app, api, new_issuer):
    created = api.create_achievement(new_issuer(), rubric=rubric())
    loaded = rubric_of(_stored_version(app, created["id"], 1))
    assert loaded is not None and loaded.hash == load_rubric(rubric()).hash
    assert loaded.criterion("tests").min_level == "solid"
    plain = api.create_achievement(new_issuer())
    assert rubric_of(_stored_version(app, plain["id"], 1)) is None


# --- bad rubrics -------------------------------------------------------------------------------


def _broken(change):
    body = copy.deepcopy(rubric())
    change(body)
    return body


BAD_RUBRICS = {
    "duplicate criterion ids": (lambda r: r["criteria"][1].update(id="tests"), "criterion ids must be unique"),
    "duplicate level ids": (lambda r: r["criteria"][1]["levels"][1].update(id="no"), "level ids must be unique"),
    "points that decrease": (lambda r: r["criteria"][0]["levels"][3].update(points=2), "points must not decrease"),
    "min_level not a level": (
        lambda r: r["criteria"][0].update(min_level="wizard"),
        "'wizard' is not one of its levels",
    ),
    "min_total above the highest total": (
        lambda r: r["pass_rule"].update(min_total=10),
        "more than the highest possible total 9",
    ),
    "no pass rule": (lambda r: r.pop("pass_rule"), "'pass_rule' is a required property"),
    "unknown policy": (lambda r: r.update(policy="vibes"), "policy"),
    "a single level": (lambda r: r["criteria"][1]["levels"].pop(), "criteria/1/levels"),
    "zero weight": (lambda r: r["criteria"][1].update(weight=0), "criteria/1/weight"),
    "unknown field": (lambda r: r.update(secret_sauce=True), "secret_sauce"),
}


@pytest.mark.parametrize("case", sorted(BAD_RUBRICS))
def test_an_invalid_rubric_is_refused_with_every_problem_named_and_nothing_stored(
    api, client, new_issuer, row_counts, case
):
    change, problem = BAD_RUBRICS[case]
    issuer_id = new_issuer()
    before = row_counts()
    response = client.post(
        f"/v1/issuers/{issuer_id}/achievements", json=MINIMAL | {"rubric": _broken(change)}, headers=api.admin
    )
    body = assert_error(response, 422, "invalid_rubric")
    assert body["detail"].startswith("rubric: ") and problem in body["detail"], body
    assert row_counts() == before


def test_several_problems_are_reported_together(api, client, new_issuer):
    def two_problems(r):
        r["criteria"][1]["id"] = "tests"
        r["criteria"][0]["min_level"] = "wizard"

    response = client.post(
        f"/v1/issuers/{new_issuer()}/achievements", json=MINIMAL | {"rubric": _broken(two_problems)}, headers=api.admin
    )
    detail = assert_error(response, 422, "invalid_rubric")["detail"]
    assert "criterion ids must be unique" in detail and "'wizard'" in detail


def test_an_invalid_rubric_in_a_new_version_leaves_the_achievement_as_it_was(api, client, new_issuer, row_counts):
    created = api.create_achievement(new_issuer(), rubric=rubric())
    before = row_counts()
    bad = _broken(lambda r: r["criteria"][0]["levels"][3].update(points=1))
    response = client.put(f"/v1/achievements/{created['id']}", json=MINIMAL | {"rubric": bad}, headers=api.admin)
    assert_error(response, 422, "invalid_rubric")
    assert row_counts() == before
    current = client.get(f"/v1/achievements/{created['id']}", headers=api.admin).json()
    assert current["current_version"] == 1 and current["rubric"] == rubric()


def test_a_rubric_that_is_not_an_object_is_a_validation_error(api, client, new_issuer):
    response = client.post(
        f"/v1/issuers/{new_issuer()}/achievements", json=MINIMAL | {"rubric": ["tests"]}, headers=api.admin
    )
    assert_error(response, 422, "validation_error")


@pytest.mark.parametrize("name", ["Test design", "  test   DESIGN "])
def test_a_hand_written_result_description_named_like_a_criterion_conflicts(api, client, new_issuer, row_counts, name):
    issuer_id = new_issuer()
    before = row_counts()
    response = client.post(
        f"/v1/issuers/{issuer_id}/achievements",
        headers=api.admin,
        json=MINIMAL | {"rubric": rubric(), "result_descriptions": [{"name": name, "result_type": "RubricCriterion"}]},
    )
    detail = assert_error(response, 422, "rubric_conflict")["detail"]
    assert "rubric criterion 'tests'" in detail
    assert row_counts() == before


def test_a_hand_written_result_description_may_reuse_a_name_without_a_rubric(api, new_issuer):
    created = api.create_achievement(
        new_issuer(), result_descriptions=[{"name": "Test design", "result_type": "RubricCriterion"}]
    )
    assert created["result_descriptions"][0]["rubric_criterion"] is None


# --- reading the rubric ------------------------------------------------------------------------


def test_issuer_staff_read_the_complete_rubric(api, client, new_issuer):
    issuer_id = new_issuer()
    created = api.create_achievement(issuer_id, rubric=rubric())
    for headers in (
        api.admin,
        api.create_account("issuer_admin", issuer_id),
        api.create_account("reviewer", issuer_id),
    ):
        response = client.get(f"/v1/achievements/{created['id']}/rubric", headers=headers)
        assert response.status_code == 200, response.text
        view = response.json()
        assert view == {
            "achievement_id": created["id"],
            "version": 1,
            "rubric": rubric(),
            "hash": load_rubric(rubric()).hash,
            "max_total": 9.0,
            "complete": True,
        }


def test_earners_and_other_issuers_read_it_without_the_assessor_hints(api, client, new_issuer):
    created = api.create_achievement(new_issuer(), rubric=rubric())
    for headers in (api.create_account("earner"), api.create_account("issuer_admin", new_issuer())):
        view = client.get(f"/v1/achievements/{created['id']}/rubric", headers=headers).json()
        assert view["complete"] is False and "key_ideas" not in str(view["rubric"])
        assert view["rubric"]["criteria"][0]["levels"] == rubric()["criteria"][0]["levels"]
        assert view["rubric"]["pass_rule"] == {"min_total": 6}
        assert view["hash"] == load_rubric(rubric()).hash  # of the complete rubric, as assessments record


def test_the_rubric_of_an_older_version(api, client, new_issuer):
    created = api.create_achievement(new_issuer(), rubric=rubric())
    client.put(f"/v1/achievements/{created['id']}", json=MINIMAL | {"rubric": rubric(version="2")}, headers=api.admin)
    current = client.get(f"/v1/achievements/{created['id']}/rubric", headers=api.admin).json()
    old = client.get(f"/v1/achievements/{created['id']}/rubric", params={"version": 1}, headers=api.admin).json()
    assert (current["version"], current["rubric"]["version"]) == (2, "2")
    assert (old["version"], old["rubric"]["version"]) == (1, "1")


def test_no_rubric_and_no_achievement_are_told_apart(api, client, new_issuer):
    plain = api.create_achievement(new_issuer())
    assert_error(client.get(f"/v1/achievements/{plain['id']}/rubric", headers=api.admin), 404, "no_rubric")
    missing = client.get("/v1/achievements/00000000-0000-4000-8000-000000000000/rubric", headers=api.admin)
    assert_error(missing, 404, "not_found")
    with_rubric = api.create_achievement(new_issuer(), rubric=rubric())
    assert_error(
        client.get(f"/v1/achievements/{with_rubric['id']}/rubric", params={"version": 9}, headers=api.admin),
        404,
        "version_not_found",
    )
    assert client.get(f"/v1/achievements/{with_rubric['id']}/rubric").status_code == 401
