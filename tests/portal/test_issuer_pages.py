"""The issuer admin's pages, clicked as a person would: create an achievement with a rubric and an
ESCO skill found by search (the API then shows it), edit it into a new version that keeps its ids,
revoke and suspend credentials with a reason after a confirmation step (the public badge page then
says so), rotate the keys, and read all of it in the audit log. And the doors: another issuer's
admin meets 404s, reviewers and earners 403s, a form without its CSRF token changes nothing, and a
hostile achievement name is text."""

from __future__ import annotations

import re

import pytest

from tests.assessment.helpers import RUBRIC
from tests.portal.conftest import PASSWORD, Browser, signed_in
from tests.portal.test_login_and_csrf import fingerprint

ADA = "ada@acme.example"


def staff(api, role: str, issuer_id: str | None, email: str) -> dict[str, str]:
    """A staff account with a known email and password; returns its bearer headers."""
    body = {"email": email, "password": PASSWORD, "role": role}
    if issuer_id:
        body["issuer_id"] = issuer_id
    created = api.client.post("/v1/accounts", json=body, headers=api.admin)
    assert created.status_code == 201, created.text
    return api.login(email, PASSWORD)


@pytest.fixture
def acme(api) -> dict:
    issuer = api.create_issuer("Acme Academy")
    staff(api, "issuer_admin", issuer["id"], ADA)
    return issuer


def achievement_form(**changes: str) -> dict[str, str]:
    """The new-achievement form filled in: one criterion (two levels), policy review."""
    form = {
        "name": "Python testing",
        "description": "Writes meaningful automated tests.",
        "criteria_narrative": "A repository with a tested project.",
        "tags": "python, testing",
        "validity_days": "365",
        "esco_skills": "",
        "skill_query": "",
        "rubric_name": "",
        "policy": "review",
        "min_total": "2",
        "min_confidence": "",
        "sampling_rate": "",
        "criteria_count": "1",
        "c0_name": "Automated tests",
        "c0_description": "The project has meaningful automated tests.",
        "c0_weight": "2",
        "c0_required": "on",
        "c0_key_ideas": "pytest\nassert",
        "c0_levels": "None | 0 | No tests.\nThorough | 2 | Tests cover the behaviour.",
    }
    form.update(changes)
    return form


def post_form(browser: Browser, page: str, data: dict[str, str]):
    return browser.submit(page, page, data)


# --- achievements --------------------------------------------------------------------------------


def test_an_issuer_admin_creates_an_achievement_with_a_rubric_and_an_esco_skill(api, acme, browser):
    signed_in(browser, ADA)
    home = browser.get("/portal/issuer")
    assert home.status_code == 303 and home.headers["location"] == f"/portal/issuer/{acme['id']}"
    overview = browser.get(home.headers["location"])
    assert overview.status_code == 200 and "Acme Academy" in overview.text
    new = f"/portal/issuer/{acme['id']}/achievements/new"
    assert f'href="{new}"' in overview.text

    # search the bundled ESCO skills and add one: the form comes back, nothing is stored
    found = post_form(browser, new, achievement_form(skill_query="python", action="search_skills"))
    assert found.status_code == 200, found.text
    uri = re.search(r'value="add_skill:(http://data\.europa\.eu/esco/skill/[0-9a-f-]+)"', found.text).group(1)
    label = re.search(r"<strong>([^<]+)</strong>", found.text.split('value="add_skill:', 1)[0].rsplit("<li>", 1)[1])
    added = post_form(browser, new, achievement_form(skill_query="python", action=f"add_skill:{uri}"))
    assert added.status_code == 200 and f'name="esco_skills" value="{uri}"' in added.text
    # a second criterion, added by a button that re-renders the form with what was typed
    more = post_form(browser, new, achievement_form(esco_skills=uri, action="add_criterion"))
    assert 'name="criteria_count" value="2"' in more.text and 'id="c1_levels"' in more.text
    assert "Automated tests" in more.text  # the first criterion is kept as typed
    assert api.client.get(f"/v1/issuers/{acme['id']}/achievements", headers=api.admin).json()["total"] == 0

    saved = post_form(
        browser,
        new,
        achievement_form(
            esco_skills=uri,
            policy="auto_with_sampling",
            min_confidence="0.7",
            sampling_rate="0.25",
            criteria_count="2",
            c1_name="Continuous integration",
            c1_description="Tests run on every change.",
            c1_weight="1",
            c1_key_ideas="workflow",
            c1_levels="Absent | 0 | No CI.\nPresent | 1 | CI runs the tests.",
            action="save",
        ),
    )
    assert saved.status_code == 303, saved.text
    achievement_id = re.fullmatch(
        rf"/portal/issuer/{acme['id']}/achievements/([0-9a-f-]+)\?done=created", saved.headers["location"]
    ).group(1)

    shown = api.client.get(f"/v1/achievements/{achievement_id}", headers=api.login(ADA, PASSWORD)).json()
    assert shown["name"] == "Python testing" and shown["version"] == 1 and shown["validity_days"] == 365
    assert shown["tags"] == ["python", "testing"]
    rubric = shown["rubric"]
    assert rubric["policy"] == "auto_with_sampling" and rubric["sampling_rate"] == 0.25
    assert rubric["pass_rule"] == {"min_total": 2, "min_confidence": 0.7}
    tests, ci = rubric["criteria"]
    assert tests["name"] == "Automated tests" and tests["required"] is True and tests["weight"] == 2
    assert tests["key_ideas"] == ["pytest", "assert"]
    assert [(lv["name"], lv["points"]) for lv in tests["levels"]] == [("None", 0), ("Thorough", 2)]
    assert ci["levels"][1]["description"] == "CI runs the tests."
    (skill,) = [a for a in shown["alignments"] if a["target_url"] == uri]
    assert skill["target_framework"] == "ESCO" and skill["target_name"] == label.group(1)


def test_editing_writes_the_next_version_and_keeps_the_ids_credentials_name(api, acme, browser):
    achievement = api.create_achievement(
        acme["id"],
        rubric=RUBRIC,
        result_descriptions=[{"name": "Grade", "result_type": "LetterGrade", "allowed_values": ["A", "B"]}],
    )
    signed_in(browser, ADA)
    edit = f"/portal/issuer/{acme['id']}/achievements/{achievement['id']}"
    page = browser.get(edit)
    assert page.status_code == 200 and "Save as version 2" in page.text
    assert "Thorough | 2 | Tests cover the behaviour." in page.text and "unit test" in page.text  # key ideas: staff

    form = {
        name: value
        for name, value in re.findall(r'<input type="(?:text|hidden)"[^>]* name="([^"]+)" value="([^"]*)"', page.text)
    }
    form |= {f"c{i}_{part}": "" for i in range(2) for part in ("description", "key_ideas", "levels")}
    for name, text in re.findall(r'<textarea id="[^"]+" name="([^"]+)"[^>]*>([^<]*)</textarea>', page.text):
        form[name] = text
    form |= {"policy": "auto", "c0_required": "on", "description": "Writes and runs meaningful tests."}
    form["c0_levels"] += "\nExemplary | 3 | Tests are a model for others."
    del form["csrf_token"]
    saved = post_form(browser, edit, {**form, "action": "save"})
    assert saved.status_code == 303, saved.text

    v2 = api.client.get(f"/v1/achievements/{achievement['id']}", headers=api.admin).json()
    v1 = api.client.get(f"/v1/achievements/{achievement['id']}?version=1", headers=api.admin).json()
    assert v2["version"] == 2 and v2["description"] == "Writes and runs meaningful tests."
    assert [c["id"] for c in v2["rubric"]["criteria"]] == ["tests", "ci"]  # the ids of version 1
    assert [lv["id"] for lv in v2["rubric"]["criteria"][0]["levels"]] == ["none", "some", "thorough", "exemplary"]
    assert {r["id"] for r in v1["result_descriptions"]} <= {r["id"] for r in v2["result_descriptions"]}
    assert [r["name"] for r in v2["result_descriptions"]][0] == "Grade"  # written through the API: kept


def test_a_form_the_schemas_refuse_shows_why_and_stores_nothing(api, acme, browser):
    signed_in(browser, ADA)
    new = f"/portal/issuer/{acme['id']}/achievements/new"

    one_level = post_form(browser, new, achievement_form(c0_levels="Only | 1 | One level.", action="save"))
    bad_weight = post_form(browser, new, achievement_form(c0_weight="heavy", action="save"))
    no_name = post_form(browser, new, achievement_form(name="", action="save"))
    unknown_skill = post_form(
        browser, new, achievement_form(esco_skills="http://data.europa.eu/esco/skill/nope", action="save")
    )

    assert one_level.status_code == 422 and 'id="rubric-error"' in one_level.text
    assert "criterion 1" in one_level.text and "Nothing was changed" in one_level.text
    assert bad_weight.status_code == 422 and 'id="c0_weight-error"' in bad_weight.text
    assert no_name.status_code == 422 and 'id="name-error"' in no_name.text
    assert unknown_skill.status_code == 422 and 'id="skills-error"' in unknown_skill.text
    assert 'value="Automated tests"' in bad_weight.text  # what was typed is shown again
    assert api.client.get(f"/v1/issuers/{acme['id']}/achievements", headers=api.admin).json()["total"] == 0


def test_a_hostile_achievement_name_renders_as_text(api, acme, browser):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    achievement = api.create_achievement(acme["id"], name=hostile)
    api.issue(achievement["id"], {"email": "sam@example.org"})
    signed_in(browser, ADA)

    for path in (
        f"/portal/issuer/{acme['id']}/achievements",
        f"/portal/issuer/{acme['id']}/achievements/{achievement['id']}",
        f"/portal/issuer/{acme['id']}/credentials",
    ):
        page = browser.get(path)
        assert page.status_code == 200, path
        assert "<script>alert" not in page.text and "<img src=x" not in page.text, path
        assert "&lt;script&gt;alert(" in page.text, path


# --- credentials, keys, the audit log ------------------------------------------------------------


def test_revoke_and_suspend_with_a_reason_then_rotate_and_read_the_audit_log(api, acme, browser):
    achievement = api.create_achievement(acme["id"])
    revoked = api.issue(achievement["id"], {"email": "sam@example.org"})
    suspended = api.issue(achievement["id"], {"email": "kim@example.org"})
    signed_in(browser, ADA)
    base = f"/portal/issuer/{acme['id']}"

    found = browser.get(f"{base}/credentials?recipient=SAM@example.org")
    assert found.status_code == 200 and "sam@example.org" in found.text and "kim@example.org" not in found.text
    confirm = f"{base}/credentials/{revoked['id']}/revoke"
    assert f'href="{confirm}"' in found.text

    page = browser.get(confirm)
    assert page.status_code == 200 and "Revoke this credential?" in page.text and "cannot be undone" in page.text
    empty = browser.submit(confirm, confirm, {"reason": "  "})
    assert empty.status_code == 422 and 'id="reason-error"' in empty.text
    assert api.client.get(f"/v1/credentials/{revoked['id']}", headers=api.admin).json()["state"] == "active"

    done = browser.submit(confirm, confirm, {"reason": "Issued to the wrong person."})
    assert done.status_code == 303 and done.headers["location"] == f"{base}/credentials?done=revoked"
    assert api.client.get(f"/v1/credentials/{revoked['id']}", headers=api.admin).json()["state"] == "revoked"
    badge = browser.get(f"/credentials/{revoked['id']}", headers={"Accept": "text/html"})
    assert badge.status_code == 200 and "Revoked" in badge.text
    again = browser.submit(f"{base}/credentials", confirm, {"reason": "Twice."})
    assert again.status_code == 409 and "Nothing was changed" in again.text

    suspend = f"{base}/credentials/{suspended['id']}/suspend"
    assert browser.submit(suspend, suspend, {"reason": "Under investigation."}).status_code == 303
    by_state = browser.get(f"{base}/credentials?state=suspended")
    assert "kim@example.org" in by_state.text and "sam@example.org" not in by_state.text
    assert "Under investigation." in by_state.text
    unsuspend = f"{base}/credentials/{suspended['id']}/unsuspend"
    assert browser.submit(unsuspend, unsuspend, {"reason": "Cleared."}).status_code == 303
    assert api.client.get(f"/v1/credentials/{suspended['id']}", headers=api.admin).json()["state"] == "active"

    keys = browser.get(f"{base}/keys")
    assert keys.status_code == 200 and "key-1" in keys.text and "key-2" not in keys.text
    rotated = browser.submit(f"{base}/keys", f"{base}/keys/rotate", {})
    assert rotated.status_code == 303 and rotated.headers["location"] == f"{base}/keys?done=rotated"
    after = browser.get(rotated.headers["location"])
    assert "key-2" in after.text and "rsa-2" in after.text and "Retired" in after.text
    listed = api.client.get(f"/v1/issuers/{acme['id']}/keys", headers=api.admin).json()
    assert {k["fragment"] for k in listed if k["active"]} == {"key-2", "rsa-2"}

    log = browser.get(f"{base}/audit")
    assert log.status_code == 200
    for action in ("credential.revoke", "credential.suspend", "credential.unsuspend", "issuer.keys.rotate"):
        assert f"<td><code>{action}</code></td>" in log.text, action
    assert "Issued to the wrong person." in log.text
    only = browser.get(f"{base}/audit?action=credential.revoke")
    assert "1 event," in only.text and "<td><code>issuer.keys.rotate</code></td>" not in only.text


def test_an_admin_picks_the_issuer_from_a_list(api, acme, browser):
    other = api.create_issuer("Beta Guild")
    staff(api, "admin", None, "root@skillcred.example")
    signed_in(browser, "root@skillcred.example")

    page = browser.get("/portal/issuer")
    assert page.status_code == 200
    assert f'href="/portal/issuer/{acme["id"]}"' in page.text and f'href="/portal/issuer/{other["id"]}"' in page.text
    assert browser.get(f"/portal/issuer/{other['id']}/credentials").status_code == 200


# --- the doors -----------------------------------------------------------------------------------


def test_another_issuers_admin_meets_404s_and_changes_nothing(app, api, acme, browser):
    achievement = api.create_achievement(acme["id"])
    credential = api.issue(achievement["id"], {"email": "sam@example.org"})
    other = api.create_issuer("Beta Guild")
    staff(api, "issuer_admin", other["id"], "bo@beta.example")
    signed_in(browser, "bo@beta.example")
    own = f"/portal/issuer/{other['id']}"
    token = browser.form_token(f"{own}/keys")
    before = fingerprint(app)

    for path in (
        f"/portal/issuer/{acme['id']}",
        f"/portal/issuer/{acme['id']}/achievements",
        f"/portal/issuer/{acme['id']}/credentials",
        f"/portal/issuer/{acme['id']}/keys",
        f"/portal/issuer/{acme['id']}/audit",
        f"{own}/achievements/{achievement['id']}",
        f"{own}/credentials/{credential['id']}/revoke",
    ):
        assert browser.get(path).status_code == 404, path
    for path, data in (
        (f"/portal/issuer/{acme['id']}/keys/rotate", {}),
        (f"/portal/issuer/{acme['id']}/achievements/new", achievement_form(action="save")),
        (f"{own}/achievements/{achievement['id']}", achievement_form(action="save")),
        (f"{own}/credentials/{credential['id']}/revoke", {"reason": "Not mine."}),
        (f"/portal/issuer/{acme['id']}/credentials/{credential['id']}/revoke", {"reason": "Not mine."}),
    ):
        assert browser.post(path, data={**data, "csrf_token": token}).status_code == 404, path
    assert fingerprint(app) == before
    assert "sam@example.org" not in browser.get(f"{own}/credentials").text


@pytest.mark.parametrize("role", ["reviewer", "earner"])
def test_reviewers_and_earners_get_403(app, api, acme, browser, role):
    email = f"{role}@acme.example"
    if role == "earner":
        api.register_earner(email, PASSWORD)
    else:
        staff(api, role, acme["id"], email)
    signed_in(browser, email)
    token = browser.form_token("/portal")
    before = fingerprint(app)

    for path in ("/portal/issuer", f"/portal/issuer/{acme['id']}", f"/portal/issuer/{acme['id']}/credentials"):
        assert browser.get(path).status_code == 403, path
    refused = browser.post(f"/portal/issuer/{acme['id']}/keys/rotate", data={"csrf_token": token})
    assert refused.status_code == 403
    assert fingerprint(app) == before


def test_a_form_without_its_csrf_token_changes_nothing(app, api, acme, browser):
    achievement = api.create_achievement(acme["id"])
    credential = api.issue(achievement["id"], {"email": "sam@example.org"})
    signed_in(browser, ADA)
    base = f"/portal/issuer/{acme['id']}"
    before = fingerprint(app)

    for path, data in (
        (f"{base}/keys/rotate", {}),
        (f"{base}/achievements/new", achievement_form(action="save")),
        (f"{base}/achievements/{achievement['id']}", achievement_form(action="save")),
        (f"{base}/credentials/{credential['id']}/revoke", {"reason": "Forged."}),
    ):
        for token in ({}, {"csrf_token": "0" * 64}):
            refused = browser.post(path, data={**data, **token})
            assert refused.status_code == 403 and "nothing was changed" in refused.text, path
    assert fingerprint(app) == before


# --- platform clients ----------------------------------------------------------------------------


def test_register_a_platform_client_see_its_secret_once_then_revoke_it(api, acme, browser, other_browser):
    signed_in(browser, ADA)
    clients = f"/portal/issuer/{acme['id']}/clients"
    issue_scope = "credentials:issue"

    nameless = browser.submit(clients, clients, {"name": "", "scope": issue_scope, "grant_type": "client_credentials"})
    assert nameless.status_code == 422 and "Nothing was changed" in nameless.text
    created = browser.submit(
        clients, clients, {"name": "Gigs Platform", "scope": issue_scope, "grant_type": "client_credentials"}
    )
    assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
    client_id = re.search(r"<dt>client_id</dt><dd><code>([^<]+)</code>", created.text).group(1)
    secret = re.search(r'<code class="secret">([^<]+)</code>', created.text).group(1)
    token = api.client.post(
        "/v1/auth/token", data={"grant_type": "client_credentials", "scope": issue_scope}, auth=(client_id, secret)
    )
    assert token.status_code == 200, token.text
    listed = browser.get(clients)
    assert "Gigs Platform" in listed.text and secret not in listed.text  # shown once

    revoke = f"{clients}/{client_id}/revoke"
    assert "cannot be undone" in browser.get(revoke).text
    done = browser.submit(revoke, revoke, {})
    assert done.status_code == 303 and done.headers["location"] == f"{clients}?done=revoked"
    (shown,) = api.client.get(f"/v1/issuers/{acme['id']}/clients", headers=api.admin).json()
    assert shown["revoked_at"] is not None

    other = api.create_issuer("Beta Guild")
    staff(api, "issuer_admin", other["id"], "bo@beta.example")
    signed_in(other_browser, "bo@beta.example")
    assert other_browser.get(clients).status_code == 404
    assert other_browser.get(f"/portal/issuer/{other['id']}/clients/{client_id}/revoke").status_code == 404
