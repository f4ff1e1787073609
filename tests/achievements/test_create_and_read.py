"""Defining an achievement and reading it back."""

from __future__ import annotations

import uuid

from tests.achievements.conftest import MINIMAL, full_body


def test_the_minimal_fixed_contract_body_creates_version_1(api, client, new_issuer):
    issuer_id = new_issuer()
    response = client.post(f"/v1/issuers/{issuer_id}/achievements", json=MINIMAL, headers=api.admin)
    assert response.status_code == 201
    body = response.json()
    uuid.UUID(body["id"])
    assert body["issuer_id"] == issuer_id
    assert body["version"] == body["current_version"] == 1
    assert body["name"] == MINIMAL["name"] and body["description"] == MINIMAL["description"]
    assert body["criteria"] == {"narrative": MINIMAL["criteria"]["narrative"], "id": None}
    assert body["alignments"] == body["result_descriptions"] == body["tags"] == []


def test_the_test_helper_body_is_the_fixed_contract(api, new_issuer):
    assert api.create_achievement(new_issuer())["version"] == 1


def test_every_optional_field_round_trips(api, client, new_issuer):
    created = api.create_achievement(new_issuer(), **full_body())
    read = client.get(f"/v1/achievements/{created['id']}", headers=api.admin).json()
    assert read == created
    assert read["criteria"] == full_body()["criteria"]
    assert read["image"] == "https://issuer.example/badges/prompt-engineering.png"
    assert read["achievement_type"] == "Competency"
    assert read["alignments"] == full_body()["alignments"]
    assert read["tags"] == ["prompting", "LLM"]


def test_result_descriptions_and_levels_get_stable_ids_and_numbers_become_text(api, new_issuer):
    created = api.create_achievement(new_issuer(), **full_body())
    quality, grade = created["result_descriptions"]
    novice, proficient = quality["rubric_criterion_levels"]
    assert quality["id"].startswith("urn:uuid:") and novice["id"].startswith("urn:uuid:")
    assert len({quality["id"], novice["id"], proficient["id"]}) == 3
    assert quality["required_level"] == proficient["id"]  # named by its name, stored as its id
    assert (novice["points"], proficient["points"]) == ("1", "2")
    assert grade["id"] == "https://issuer.example/results/grade"  # a given id is kept
    assert grade["allowed_values"] == ["C", "B", "A"] and grade["required_value"] == "B"


def test_same_named_results_get_distinct_ids(api, new_issuer):
    rubric = {"name": "Tests", "result_type": "RubricCriterion"}
    created = api.create_achievement(new_issuer(), result_descriptions=[rubric, rubric])
    first, second = created["result_descriptions"]
    assert first["id"] != second["id"]


def test_required_level_may_name_a_given_level_id(api, new_issuer):
    level_id = "urn:uuid:7d1c2f00-0000-4000-8000-000000000001"
    created = api.create_achievement(
        new_issuer(),
        result_descriptions=[
            {
                "name": "Tests",
                "result_type": "RubricCriterion",
                "required_level": level_id,
                "rubric_criterion_levels": [{"id": level_id, "name": "Solid"}],
            }
        ],
    )
    assert created["result_descriptions"][0]["required_level"] == level_id


def test_criteria_may_be_a_url_alone_and_extension_types_are_accepted(api, new_issuer):
    created = api.create_achievement(
        new_issuer(), criteria={"id": "https://issuer.example/criteria"}, achievement_type="ext:PortfolioReview"
    )
    assert created["criteria"] == {"narrative": None, "id": "https://issuer.example/criteria"}
    assert created["achievement_type"] == "ext:PortfolioReview"


def test_duplicate_tags_are_kept_once_and_names_are_trimmed(api, new_issuer):
    created = api.create_achievement(new_issuer(), name="  Testing  ", tags=["a", "b", "a"])
    assert created["name"] == "Testing" and created["tags"] == ["a", "b"]


def test_creation_is_audited(app, api, new_issuer):
    from sqlmodel import select

    from service.audit.models import AuditEvent
    from service.core.db import unit_of_work

    issuer_id = new_issuer()
    created = api.create_achievement(issuer_id)
    with unit_of_work(app.state.engine) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.object_id == created["id"])).one()
    assert event.action == "achievement.create" and event.issuer_id == issuer_id
    assert event.actor_role == "admin" and event.after["version"] == 1


def test_an_unknown_issuer_is_404_and_nothing_is_written(api, client, row_counts):
    before = row_counts()
    response = client.post(f"/v1/issuers/{uuid.uuid4()}/achievements", json=MINIMAL, headers=api.admin)
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "No such issuer"}
    assert row_counts() == before


def test_an_unknown_achievement_or_version_is_404(api, client, new_issuer):
    missing = client.get(f"/v1/achievements/{uuid.uuid4()}", headers=api.admin)
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    created = api.create_achievement(new_issuer())
    no_version = client.get(f"/v1/achievements/{created['id']}", params={"version": 2}, headers=api.admin)
    assert no_version.status_code == 404 and no_version.json()["error"] == "version_not_found"
