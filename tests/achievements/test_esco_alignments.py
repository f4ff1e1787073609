"""``esco_skills`` on an achievement: each ESCO skill URI becomes an Open Badges 3.0 alignment."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from service.core.db import unit_of_work
from service.credentials.issuing import IssueRequest, Recipient, issue
from service.vc import openbadges as ob
from tests.achievements.conftest import MINIMAL
from tests.credentials.helpers import assert_error

PYTHON = "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"
JAVASCRIPT = "http://data.europa.eu/esco/skill/3cd569a2-4f88-4c1e-9995-8dce8c5e51a7"
UNKNOWN = "http://data.europa.eu/esco/skill/00000000-0000-4000-8000-000000000000"


def test_each_esco_skill_becomes_an_alignment(api, new_issuer):
    created = api.create_achievement(new_issuer(), esco_skills=[PYTHON, JAVASCRIPT])
    assert created["alignments"] == [
        {
            "target_name": "Python (computer programming)",
            "target_url": PYTHON,
            "target_code": "ccd0a1d9-afda-43d9-b901-96344886e14d",
            "target_framework": "ESCO",
            "target_type": "ext:ESCOSkill",
            "target_description": None,
        },
        {
            "target_name": "JavaScript",
            "target_url": JAVASCRIPT,
            "target_code": "3cd569a2-4f88-4c1e-9995-8dce8c5e51a7",
            "target_framework": "ESCO",
            "target_type": "ext:ESCOSkill",
            "target_description": None,
        },
    ]


def test_they_follow_hand_written_alignments_and_one_per_url_is_kept(api, new_issuer):
    own_words = {"target_name": "Python", "target_url": PYTHON, "target_framework": "ESCO"}
    other = {"target_name": "Testing", "target_url": "https://framework.example/testing"}
    created = api.create_achievement(
        new_issuer(), alignments=[own_words, other], esco_skills=[JAVASCRIPT, PYTHON, JAVASCRIPT]
    )
    assert [(a["target_url"], a["target_name"]) for a in created["alignments"]] == [
        (PYTHON, "Python"),  # the hand-written one wins
        ("https://framework.example/testing", "Testing"),
        (JAVASCRIPT, "JavaScript"),
    ]


def test_an_https_uri_and_stray_spaces_name_the_same_skill(api, new_issuer):
    created = api.create_achievement(new_issuer(), esco_skills=[" " + PYTHON.replace("http:", "https:") + " "])
    assert created["alignments"][0]["target_url"] == PYTHON


def test_an_unknown_skill_is_refused_by_name_and_nothing_is_stored(api, client, new_issuer, row_counts):
    issuer_id = new_issuer()
    before = row_counts()
    for uri in (UNKNOWN, "python", "https://example.org/skill/1"):
        response = client.post(
            f"/v1/issuers/{issuer_id}/achievements", headers=api.admin, json=MINIMAL | {"esco_skills": [PYTHON, uri]}
        )
        detail = assert_error(response, 422, "unknown_esco_skill")["detail"]
        assert repr(uri) in detail and PYTHON not in detail
    assert row_counts() == before


def test_an_unknown_skill_in_a_new_version_changes_nothing(api, client, new_issuer, row_counts):
    created = api.create_achievement(new_issuer(), esco_skills=[PYTHON])
    before = row_counts()
    response = client.put(
        f"/v1/achievements/{created['id']}", headers=api.admin, json=MINIMAL | {"esco_skills": [UNKNOWN]}
    )
    assert_error(response, 422, "unknown_esco_skill")
    assert row_counts() == before


def test_too_many_or_malformed_skill_lists_are_validation_errors(api, client, new_issuer):
    issuer_id = new_issuer()
    for bad in ([PYTHON] * 51, PYTHON, [123], ["x" * 201]):
        response = client.post(
            f"/v1/issuers/{issuer_id}/achievements", headers=api.admin, json=MINIMAL | {"esco_skills": bad}
        )
        assert_error(response, 422, "validation_error")


def test_the_public_achievement_and_an_issued_credential_carry_the_esco_alignment(
    app, api, client, settings, new_issuer
):
    created = api.create_achievement(new_issuer(), esco_skills=[PYTHON])
    expected = {
        "type": ["Alignment"],
        "targetName": "Python (computer programming)",
        "targetUrl": PYTHON,
        "targetCode": "ccd0a1d9-afda-43d9-b901-96344886e14d",
        "targetFramework": "ESCO",
        "targetType": "ext:ESCOSkill",
    }
    assert client.get(f"/achievements/{created['id']}").json()["alignment"] == [expected]

    with unit_of_work(app.state.engine) as session:
        row = issue(
            session,
            app.state.keystore,
            settings,
            IssueRequest(achievement_id=created["id"], recipient=Recipient(email="ada@example.org")),
            now=datetime.now(UTC),
        )
        credential = json.loads(row.jsonld)
    assert credential["credentialSubject"]["achievement"]["alignment"] == [expected]
    ob.validate_credential_strict({k: v for k, v in credential.items() if k != "proof"})
    report = client.post(
        "/v1/verify", content=json.dumps(credential), headers={"Content-Type": "application/vc+ld+json"}
    ).json()
    assert report["verified"] is True, report


def test_the_badge_page_lists_the_skills_with_links(app, api, client, settings, new_issuer):
    created = api.create_achievement(
        new_issuer(),
        esco_skills=[PYTHON],
        alignments=[{"target_name": "Testing <basics>", "target_url": "https://framework.example/testing"}],
    )
    with unit_of_work(app.state.engine) as session:
        row = issue(
            session,
            app.state.keystore,
            settings,
            IssueRequest(achievement_id=created["id"], recipient=Recipient(email="ada@example.org")),
            now=datetime.now(UTC),
        )
        credential_id = row.id
    page = client.get(f"/credentials/{credential_id}", headers={"Accept": "text/html"}).text
    assert f'<a href="{PYTHON}" rel="nofollow noopener">Python (computer programming)</a>' in page
    assert "(ESCO)" in page
    assert "Testing &lt;basics&gt;" in page  # escaped, never markup
