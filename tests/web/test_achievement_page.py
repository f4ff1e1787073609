"""``GET /achievements/{id}``: a page for browsers (criteria, the rubric without its key ideas, how
applications are assessed, the skills, "Apply with your evidence"), and the Open Badges 3.0
Achievement for machines exactly as before."""

from __future__ import annotations

import pytest

from tests.achievements.catalogue_world import KEY_IDEAS, PYTHON_SKILL, closed_achievement, open_achievement
from tests.assessment.helpers import RUBRIC

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def acme(api):
    return api.create_issuer("Acme Academy")


@pytest.fixture
def python(api, acme):
    return open_achievement(api, acme["id"], "Python testing", validity_days=365)


def _page(client, achievement_id: str, **params):
    response = client.get(f"/achievements/{achievement_id}", headers=BROWSER, params=params)
    assert response.headers["content-type"].startswith("text/html"), response.text[:200]
    return response


def test_a_browser_gets_the_page_with_criteria_rubric_assessment_skills_and_apply(client, settings, python):
    response = _page(client, python["id"])

    assert response.status_code == 200 and response.headers["Vary"] == "Accept"
    html = response.text
    assert '<h1 id="achievement-heading">Python testing</h1>' in html and "Acme Academy" in html
    assert "A repository with a tested project." in html
    assert "The rubric: Python testing rubric" in html
    assert "Automated tests" in html and 'Thorough <span class="muted">(3 of 3)</span>' in html
    assert "Required: at least Some." in html and "at least 3 of 5" in html
    assert "How applications are assessed" in html and "a person at the issuer" in html
    attempts, days = settings.assessment_max_attempts, settings.assessment_attempt_window_days
    assert f"You may apply {attempts} times in {days} days" in html
    assert f'href="{PYTHON_SKILL}"' in html
    assert html.count(f'href="/portal/apply/{python["id"]}"') == 2 and "Apply with your evidence" in html
    assert "365 days after it is issued" in html
    assert not [idea for idea in KEY_IDEAS if idea in html]


def test_machines_get_the_json_document_exactly_as_before(client, python):
    for headers in ({}, {"Accept": "*/*"}, {"Accept": "application/json"}, {"Accept": "application/ld+json"}):
        response = client.get(f"/achievements/{python['id']}", headers=headers)
        assert response.status_code == 200 and response.headers["content-type"] == "application/json", headers
        document = response.json()
        assert document["type"] == ["Achievement"] and document["name"] == "Python testing"
        assert document["id"] == f"https://skillcred.example/achievements/{python['id']}"
    unknown = client.get("/achievements/00000000-0000-4000-8000-000000000000")
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"


def test_an_achievement_without_a_rubric_has_a_page_that_says_it_is_not_open(client, api, acme):
    closed = closed_achievement(api, acme["id"])

    html = _page(client, closed["id"]).text

    assert "Not open for applications" in html and "/portal/apply/" not in html


def test_an_earlier_version_says_so_and_offers_no_application(client, api, python):
    body = {"name": "Python testing", "description": "v2", "criteria": {"narrative": "More."}, "rubric": RUBRIC}
    assert api.client.put(f"/v1/achievements/{python['id']}", json=body, headers=api.admin).status_code == 200

    old = _page(client, python["id"], version=1).text

    assert "An earlier version" in old and "/portal/apply/" not in old
    assert "/portal/apply/" in _page(client, python["id"]).text


def test_an_unknown_achievement_is_a_404_page(client):
    response = _page(client, "00000000-0000-4000-8000-000000000000")

    assert response.status_code == 404 and "Achievement not found" in response.text


def test_the_issuers_words_render_as_text(client, api, acme):
    hostile = open_achievement(
        api,
        acme["id"],
        "<script>alert(1)</script>",
        description="<img src=x onerror=alert(1)>",
        criteria={"narrative": "{{ 7 * 7 }}"},
    )

    html = _page(client, hostile["id"]).text

    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html and "{{ 7 * 7 }}" in html
