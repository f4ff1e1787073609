"""The Open Badges 3.0 Achievement: what credentials embed, and what its public URL serves."""

from __future__ import annotations

from datetime import UTC, datetime

from service.achievements.service import get_version, ob_achievement
from service.vc.constants import OB_V3P0_CONTEXT
from service.vc.jsonld import canonize
from service.vc.openbadges import (
    IssuerProfile,
    Result,
    build_achievement_credential,
    validate_credential,
)
from tests.achievements.conftest import MINIMAL, full_body
from tests.conftest import PUBLIC_URL

ISSUER = IssuerProfile(id="did:web:skillcred.example:issuers:test", name="Test Issuer", url="https://issuer.example")
EARNER_DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


def _stored(app, achievement_id, version=None):
    from service.achievements.models import Achievement
    from service.core.db import unit_of_work

    with unit_of_work(app.state.engine) as session:
        achievement = session.get(Achievement, achievement_id)
        return achievement, get_version(session, achievement_id, version or achievement.current_version)


def _credential(achievement, results=()):
    return build_achievement_credential(
        credential_id="urn:uuid:2f1a7c52-0000-4000-8000-000000000001",
        issuer=ISSUER,
        achievement=achievement,
        recipient_did=EARNER_DID,
        valid_from=datetime.now(UTC),
        results=results,
    )


def test_the_public_url_serves_the_ob_achievement(api, client, new_issuer):
    created = api.create_achievement(new_issuer(), **full_body())
    response = client.get(f"/achievements/{created['id']}")
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    document = response.json()
    assert document["@context"] == [OB_V3P0_CONTEXT]
    assert document["id"] == f"{PUBLIC_URL}/achievements/{created['id']}"
    assert document["type"] == ["Achievement"] and document["version"] == "1"
    assert document["name"] == full_body()["name"] and document["achievementType"] == "Competency"
    assert document["criteria"] == full_body()["criteria"]
    assert document["image"] == {"id": full_body()["image"], "type": "Image"}
    assert document["tag"] == ["prompting", "LLM"]
    [alignment] = document["alignment"]
    expected = full_body()["alignments"][0]
    assert alignment == {
        "type": ["Alignment"],
        "targetName": expected["target_name"],
        "targetUrl": expected["target_url"],
        "targetCode": expected["target_code"],
        "targetFramework": expected["target_framework"],
        "targetType": expected["target_type"],
        "targetDescription": expected["target_description"],
    }
    quality, grade = document["resultDescription"]
    assert quality["id"] == created["result_descriptions"][0]["id"]
    assert quality["requiredLevel"] == quality["rubricCriterionLevel"][1]["id"]
    assert [lv["points"] for lv in quality["rubricCriterionLevel"]] == ["1", "2"]
    assert grade["allowedValue"] == ["C", "B", "A"] and grade["requiredValue"] == "B"
    assert "creator" not in document


def test_the_minimal_achievement_has_only_what_was_given(api, client, new_issuer):
    created = api.create_achievement(new_issuer())
    document = client.get(f"/achievements/{created['id']}").json()
    assert document == {
        "@context": [OB_V3P0_CONTEXT],
        "id": f"{PUBLIC_URL}/achievements/{created['id']}",
        "type": ["Achievement"],
        "name": MINIMAL["name"],
        "description": MINIMAL["description"],
        "criteria": MINIMAL["criteria"],
        "version": "1",
    }


def test_the_public_url_serves_any_version(api, client, new_issuer):
    created = api.create_achievement(new_issuer())
    client.put(f"/v1/achievements/{created['id']}", json=MINIMAL | {"name": "Renamed"}, headers=api.admin)
    assert client.get(f"/achievements/{created['id']}").json()["version"] == "2"
    old = client.get(f"/achievements/{created['id']}", params={"version": 1}).json()
    assert old["version"] == "1" and old["name"] == MINIMAL["name"]
    assert client.get(f"/achievements/{created['id']}", params={"version": 3}).status_code == 404
    missing = client.get("/achievements/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404 and missing.json() == {"error": "not_found", "detail": "No such achievement"}


def test_the_public_document_is_valid_json_ld_in_safe_mode(api, client, new_issuer):
    created = api.create_achievement(new_issuer(), **full_body())
    nquads = canonize(client.get(f"/achievements/{created['id']}").json())
    assert f"<{PUBLIC_URL}/achievements/{created['id']}>" in nquads


def test_a_credential_around_ob_achievement_passes_the_ob_schema(app, api, settings, new_issuer):
    created = api.create_achievement(new_issuer(), **full_body())
    achievement = ob_achievement(settings, *_stored(app, created["id"]))
    level = created["result_descriptions"][0]["rubric_criterion_levels"][1]["id"]
    credential = _credential(
        achievement,
        results=[
            Result(result_description=created["result_descriptions"][0]["id"], achieved_level=level),
            Result(result_description="https://issuer.example/results/grade", value="A"),
        ],
    )
    report = validate_credential(credential)
    assert report.valid, report.errors
    canonize(credential)  # what signing does first: no term dropped, no relative IRI


def test_credentials_embed_exactly_what_the_public_url_serves(app, api, client, settings, new_issuer):
    created = api.create_achievement(new_issuer(), **full_body())
    embedded = _credential(ob_achievement(settings, *_stored(app, created["id"])))["credentialSubject"]["achievement"]
    public = client.get(f"/achievements/{created['id']}").json()
    assert {"@context": [OB_V3P0_CONTEXT], **embedded} == public


def test_a_credential_keeps_the_version_it_was_built_from(app, api, client, settings, new_issuer):
    created = api.create_achievement(new_issuer())
    client.put(f"/v1/achievements/{created['id']}", json=MINIMAL | {"name": "Renamed"}, headers=api.admin)
    old = ob_achievement(settings, *_stored(app, created["id"], 1))
    assert old.version == "1" and old.name == MINIMAL["name"]
    assert validate_credential(_credential(old)).valid


def test_the_minimal_and_url_only_criteria_forms_make_valid_credentials(app, api, settings, new_issuer):
    issuer_id = new_issuer()
    for extra in ({}, {"criteria": {"id": "https://issuer.example/criteria"}, "achievement_type": "ext:Portfolio"}):
        created = api.create_achievement(issuer_id, **extra)
        report = validate_credential(_credential(ob_achievement(settings, *_stored(app, created["id"]))))
        assert report.valid, report.errors


def test_stored_fields_the_builder_does_not_know_are_left_out(settings):
    """Versions written by later releases (say, with a rubric weight) still render."""
    from service.achievements.models import Achievement, AchievementVersion

    achievement = Achievement(issuer_id="00000000-0000-4000-8000-000000000001")
    version = AchievementVersion(
        achievement_id=achievement.id,
        version=1,
        name="N",
        description="D",
        criteria_narrative="C",
        alignments=[{"target_name": "T", "target_url": "https://framework.example/t", "weight": 2}],
        result_descriptions=[
            {
                "id": "urn:x:r",
                "name": "R",
                "result_type": "RubricCriterion",
                "weight": 3,
                "rubric_criterion_levels": [{"id": "urn:x:l", "name": "L", "weight": 1}],
            }
        ],
    )
    assert validate_credential(_credential(ob_achievement(settings, achievement, version))).valid
