"""An earner's way through the portal, as a person would click it: sign up with a display name,
verify the address from the mailed link, apply for an achievement with a narrative and a file,
follow the assessment to its decision (the offline assessor runs), and choose who sees a
credential. And what an earner must never reach: another earner's credential or assessment."""

from __future__ import annotations

import copy
import re

from sqlmodel import Session, select

from service.accounts.models import Account
from service.audit.models import AuditEvent
from service.credentials.models import Credential
from tests.assessment.helpers import RUBRIC, create_achievement_with_rubric, run_inline
from tests.portal.conftest import PASSWORD, Browser, signed_in

EMAIL = "lin@example.org"
HIDDEN_IDEA = "zebracorn-hidden-idea"


def _rubric() -> dict:
    rubric = copy.deepcopy(RUBRIC)
    rubric["criteria"][1]["key_ideas"] = [HIDDEN_IDEA, "workflow"]
    rubric["policy"] = "auto"
    return rubric


def sign_up_and_verify(app, browser: Browser, email: str = EMAIL, name: str = "Lin Okafor") -> None:
    done = browser.submit(
        "/signup", "/signup", {"display_name": f"  {name} ", "email": email.upper(), "password": PASSWORD}
    )
    assert done.status_code == 200 and "Check your email" in done.text
    (message,) = app.state.mailer.to(email)
    link = re.search(r"https://skillcred\.example(/verify-email\?token=[A-Za-z0-9_-]+)", message.body).group(1)
    landing = browser.get(link)
    assert landing.status_code == 200 and "Verify my address" in landing.text
    verified = browser.submit(link, "/verify-email", {"token": link.split("=", 1)[1]})
    assert verified.status_code == 200 and "Address verified" in verified.text


def test_sign_up_with_a_display_name_then_verify_from_the_mailed_link(app, api, browser):
    sign_up_and_verify(app, browser)

    with Session(app.state.engine) as session:
        account = session.exec(select(Account).where(Account.email == EMAIL)).one()
    assert account.display_name == "Lin Okafor" and account.email_verified
    signed_in(browser, EMAIL)
    home = browser.get("/portal")
    assert "Lin Okafor" in home.text and "✓ verified" in home.text
    # the API shows the name too
    me = api.client.get("/v1/me", headers=api.login(EMAIL, PASSWORD)).json()
    assert me["display_name"] == "Lin Okafor"


def test_a_weak_password_or_a_bad_name_shows_the_form_again_and_creates_nothing(app, browser):
    weak = browser.submit("/signup", "/signup", {"display_name": "Lin", "email": EMAIL, "password": "password1234"})
    control = browser.submit("/signup", "/signup", {"display_name": "Li\x07n", "email": EMAIL, "password": PASSWORD})

    assert weak.status_code == 422 and 'id="password-error"' in weak.text
    assert control.status_code == 422 and 'id="display_name-error"' in control.text
    with Session(app.state.engine) as session:
        assert session.exec(select(Account).where(Account.email == EMAIL)).first() is None
    assert app.state.mailer.to(EMAIL) == []


def test_apply_with_evidence_and_follow_the_assessment_to_its_decision(app, api, browser):
    issuer = api.create_issuer("Acme Academy")
    achievement = create_achievement_with_rubric(api, app, issuer["id"], _rubric())
    sign_up_and_verify(app, browser)
    signed_in(browser, EMAIL)
    apply_path = f"/portal/apply/{achievement['id']}"

    page = browser.get(apply_path)
    assert page.status_code == 200 and "Automated tests" in page.text and "Thorough" in page.text
    assert HIDDEN_IDEA not in page.text  # the rubric as earners see it: no assessor hints

    narrative = (
        "I wrote a pytest suite for my billing service: every unit test has an assert on the behaviour, "
        "and a workflow runs the tests on each push."
    )
    added = browser.submit(
        apply_path, f"{apply_path}/items", {"kind": "text", "name": "Billing service write-up", "text": narrative}
    )
    assert added.status_code == 303 and added.headers["location"].endswith("?done=added")
    uploaded = browser.post(
        f"{apply_path}/files",
        data={"csrf_token": browser.form_token(apply_path), "name": "Test report"},
        files={"file": ("report.txt", b"42 passed in 1.2s\n", "text/plain")},
    )
    assert uploaded.status_code == 303, uploaded.text
    page = browser.get(apply_path)
    assert "Billing service write-up" in page.text and "Test report" in page.text

    submitted = browser.submit(apply_path, f"{apply_path}/submit", {})
    assert submitted.status_code == 303
    assessment_path = submitted.headers["location"]
    assert assessment_path.startswith("/portal/assessments/")
    queued = browser.get(assessment_path)
    assert "Waiting to be assessed" in queued.text and 'http-equiv="refresh"' in queued.text

    run_inline(app, assessment_path.rsplit("/", 1)[1])  # the configured (offline) assessor

    decided = browser.get(assessment_path)
    assert decided.status_code == 200
    assert "Waiting to be assessed" not in decided.text and 'http-equiv="refresh"' not in decided.text
    assert any(words in decided.text for words in ("✓ Issued", "With a reviewer", "✗ Not passed"))
    assert "Automated tests:" in decided.text and " of 3)" in decided.text  # a level on its scale
    assert HIDDEN_IDEA not in decided.text
    # the bundle is locked: the apply page starts a new one
    assert "Billing service write-up" not in browser.get(apply_path).text


def test_the_visibility_switch_hides_the_public_page_and_is_audited(app, api, browser):
    sign_up_and_verify(app, browser)
    issuer = api.create_issuer()
    credential = api.issue(api.create_achievement(issuer["id"])["id"], {"email": EMAIL})
    signed_in(browser, EMAIL)
    home = browser.get("/portal")
    assert credential["id"] in home.text and "Anyone with the link sees this badge" in home.text
    assert api.client.get(f"/credentials/{credential['id']}").status_code == 200

    switched = browser.submit("/portal", f"/portal/credentials/{credential['id']}/visibility", {"show_name": "on"})

    assert switched.status_code == 303 and switched.headers["location"] == "/portal?done=visibility"
    with Session(app.state.engine) as session:
        row = session.get(Credential, credential["id"])
        assert (row.public, row.show_name) == (False, True)
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "credential.visibility")).one()
        assert event.before == {"public": True, "show_name": True}
        assert event.after == {"public": False, "show_name": True}
    assert api.client.get(f"/credentials/{credential['id']}").status_code == 404
    assert "Private: only you see it" in browser.get("/portal").text
    # the earner still downloads their own credential
    download = browser.get(f"/portal/credentials/{credential['id']}/download/jsonld")
    assert download.status_code == 200 and download.json()["id"].endswith(credential["id"])
    assert f'filename="credential-{credential["id"]}.jsonld"' in download.headers["content-disposition"]


def test_the_visibility_api_is_the_same_switch(app, api):
    earner = api.register_earner(EMAIL, PASSWORD)
    issuer = api.create_issuer()
    credential = api.issue(api.create_achievement(issuer["id"])["id"], {"email": EMAIL})
    path = f"/v1/credentials/{credential['id']}/visibility"

    hidden = api.client.patch(path, json={"public": False, "show_name": False}, headers=earner)

    assert hidden.status_code == 200 and (hidden.json()["public"], hidden.json()["show_name"]) == (False, False)
    assert api.client.patch(path, json={"public": "no", "show_name": False}, headers=earner).status_code == 422
    assert api.client.patch(path, json={"public": True, "show_name": True}, headers=api.admin).status_code == 403
    shown = api.client.get(f"/v1/credentials/{credential['id']}", headers=earner).json()
    assert (shown["public"], shown["show_name"]) == (False, False)


def test_an_earner_cannot_see_or_change_another_earners_credential_or_assessment(app, api, browser, other_browser):
    issuer = api.create_issuer()
    achievement = create_achievement_with_rubric(api, app, issuer["id"], _rubric())
    victim = api.register_earner(EMAIL, PASSWORD)
    credential = api.issue(api.create_achievement(issuer["id"])["id"], {"email": EMAIL})
    bundle = api.client.post("/v1/evidence/bundles", json={"achievement_id": achievement["id"]}, headers=victim).json()
    api.client.post(
        f"/v1/evidence/bundles/{bundle['id']}/items", json={"kind": "text", "text": "Mine."}, headers=victim
    )
    assessment = api.client.post("/v1/assessments", json={"bundle_id": bundle["id"]}, headers=victim).json()
    api.register_earner("mallory@example.org", PASSWORD)
    signed_in(other_browser, "mallory@example.org")

    assert credential["id"] not in other_browser.get("/portal").text
    page = other_browser.get(f"/portal/assessments/{assessment['id']}")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    switched = other_browser.submit("/portal", f"/portal/credentials/{credential['id']}/visibility", {})
    assert switched.status_code == 404
    appealed = other_browser.submit(
        "/portal", f"/portal/assessments/{assessment['id']}/appeal", {"reason": "Let me in."}
    )
    assert appealed.status_code == 404
    assert other_browser.get(f"/portal/credentials/{credential['id']}/download/jsonld").status_code == 404
    with Session(app.state.engine) as session:
        assert session.get(Credential, credential["id"]).public is True
