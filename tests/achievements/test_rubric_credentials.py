"""A credential of an achievement with a rubric carries one result per criterion, pointing at the
rubric's result descriptions; it passes the 1EdTech schema, signs, and verifies."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from service.achievements.result_descriptions import result_description_id, rubric_level_id, rubric_of, rubric_results
from service.core.db import unit_of_work
from service.credentials.errors import InvalidCredentialRequest
from service.credentials.issuing import IssueRequest, Recipient, issue
from service.credentials.schemas import ResultIn
from service.vc import openbadges as ob
from tests.achievements.conftest import rubric

EARNER = {"email": "ada@example.org"}


def _issue(app, settings, achievement_id, results):
    with unit_of_work(app.state.engine) as session:
        credential = issue(
            session,
            app.state.keystore,
            settings,
            IssueRequest(achievement_id=achievement_id, recipient=Recipient.parse(EARNER), results=results),
            now=datetime.now(UTC),
        )
        return json.loads(credential.jsonld)


def _verify(client, credential):
    response = client.post(
        "/v1/verify", content=json.dumps(credential), headers={"Content-Type": "application/vc+ld+json"}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_results_named_by_criterion_and_level_issue_verify_and_point_at_the_rubric(
    app, api, client, settings, new_issuer
):
    created = api.create_achievement(new_issuer(), rubric=rubric())
    credential = _issue(
        app,
        settings,
        created["id"],
        [
            ResultIn(result_description="Test design", achieved_level="Solid"),  # by name
            ResultIn(
                result_description=result_description_id(created["id"], "ci"),  # by id
                achieved_level=rubric_level_id(created["id"], "ci", "yes"),
            ),
        ],
    )

    ob.validate_credential_strict({k: v for k, v in credential.items() if k != "proof"})
    assert credential["credentialSubject"]["result"] == [
        {
            "type": ["Result"],
            "resultDescription": result_description_id(created["id"], "tests"),
            "achievedLevel": rubric_level_id(created["id"], "tests", "solid"),
        },
        {
            "type": ["Result"],
            "resultDescription": result_description_id(created["id"], "ci"),
            "achievedLevel": rubric_level_id(created["id"], "ci", "yes"),
        },
    ]
    descriptions = {d["id"]: d for d in credential["credentialSubject"]["achievement"]["resultDescription"]}
    for result in credential["credentialSubject"]["result"]:
        levels = descriptions[result["resultDescription"]]["rubricCriterionLevel"]
        assert result["achievedLevel"] in {level["id"] for level in levels}
    report = _verify(client, credential)
    assert report["verified"] is True, report


def test_rubric_results_turns_an_assessment_into_credential_results(app, api, client, settings, new_issuer):
    created = api.create_achievement(new_issuer(), rubric=rubric())
    with unit_of_work(app.state.engine) as session:
        from service.achievements.service import get_version

        loaded = rubric_of(get_version(session, created["id"], 1))
    assert loaded is not None
    results = rubric_results(created["id"], loaded, {"tests": "expert", "ci": "no"})
    assert results == [
        ob.Result(
            result_description=result_description_id(created["id"], "tests"),
            achieved_level=rubric_level_id(created["id"], "tests", "expert"),
        ),
        ob.Result(
            result_description=result_description_id(created["id"], "ci"),
            achieved_level=rubric_level_id(created["id"], "ci", "no"),
        ),
    ]
    credential = _issue(app, settings, created["id"], results)
    assert [r["achievedLevel"] for r in credential["credentialSubject"]["result"]] == [
        rubric_level_id(created["id"], "tests", "expert"),
        rubric_level_id(created["id"], "ci", "no"),
    ]
    assert _verify(client, credential)["verified"] is True


def test_rubric_results_refuses_what_the_rubric_does_not_have(api, new_issuer):
    created = api.create_achievement(new_issuer(), rubric=rubric())
    from service.assessment.engine.rubric import load_rubric

    loaded = load_rubric(rubric())
    with pytest.raises(KeyError):
        rubric_results(created["id"], loaded, {"tests": "wizard"})
    with pytest.raises(KeyError):
        rubric_results(created["id"], loaded, {"style": "good"})
    assert rubric_results(created["id"], loaded, {"ci": "yes"})[0].result_description == result_description_id(
        created["id"], "ci"
    )


def test_a_level_of_another_criterion_is_refused_before_anything_is_signed(app, api, settings, new_issuer):
    created = api.create_achievement(new_issuer(), rubric=rubric())
    with pytest.raises(InvalidCredentialRequest, match="not a rubric level"):
        _issue(app, settings, created["id"], [ResultIn(result_description="Test design", achieved_level="CI")])


def test_the_badge_page_names_the_level_reached(app, api, client, settings, new_issuer):
    created = api.create_achievement(new_issuer(), rubric=rubric())
    credential = _issue(
        app, settings, created["id"], [ResultIn(result_description="Test design", achieved_level="Expert")]
    )
    page = client.get(credential["id"].replace("https://skillcred.example", ""), headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "Test design" in page.text and "Expert" in page.text
