"""The rest of the earner's portal: which achievements their evidence shows (and applying for one
of them with the same evidence), deciding on endorsements of their credentials, and renewing a
credential that ends soon by applying again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from service.assessment.models import Assessment
from service.credentials.models import Credential
from service.endorsements.models import Endorsement
from service.evidence.models import EvidenceBundleRecord
from tests.assessment.helpers import RUBRIC, create_achievement_with_rubric
from tests.discovery.test_suggestions_api import TESTING_WORK, _achievement, _rubric
from tests.endorsements.conftest import endorse_by_email
from tests.portal.conftest import PASSWORD, signed_in

EMAIL = "lin@example.org"


def test_the_earner_sees_what_their_evidence_shows_and_applies_for_it_with_the_same_evidence(app, api, browser):
    issuer = api.create_issuer("Acme Academy")
    testing = _achievement(api, issuer["id"], _rubric("software-testing"))
    ux = _achievement(api, issuer["id"], _rubric("ux-research"))
    api.register_earner(EMAIL, PASSWORD)
    signed_in(browser, EMAIL)
    ux_page = f"/portal/apply/{ux['id']}"
    browser.submit(ux_page, f"{ux_page}/items", {"kind": "text", "name": "Write-up", "text": TESTING_WORK})

    suggested = browser.submit(ux_page, f"{ux_page}/suggestions", {})

    assert suggested.status_code == 200
    first = suggested.text.index("Freelance software testing")
    assert first < suggested.text.index("Apply for this one instead")
    assert "I automated 140 API tests" in suggested.text  # the earner's own supporting passage
    moved = browser.submit(ux_page, f"{ux_page}/retarget", {"achievement_id": testing["id"]})
    assert moved.status_code == 303 and moved.headers["location"] == f"/portal/apply/{testing['id']}?done=retargeted"
    testing_page = browser.get(moved.headers["location"])
    assert "Write-up" in testing_page.text and "Your evidence now applies to this achievement." in testing_page.text
    with Session(app.state.engine) as session:
        (bundle,) = session.exec(select(EvidenceBundleRecord)).all()
        assert bundle.achievement_id == testing["id"]


def test_suggestions_need_evidence_and_a_forged_retarget_changes_nothing(app, api, browser):
    issuer = api.create_issuer()
    ux = _achievement(api, issuer["id"], _rubric("ux-research"))
    api.register_earner(EMAIL, PASSWORD)
    signed_in(browser, EMAIL)
    page = f"/portal/apply/{ux['id']}"
    assert browser.submit(page, f"{page}/suggestions", {}).status_code == 409
    browser.submit(page, f"{page}/items", {"kind": "text", "text": TESTING_WORK})
    forged = browser.post(f"{page}/retarget", data={"achievement_id": "x", "csrf_token": "forged"})
    assert forged.status_code == 403
    unknown = browser.submit(page, f"{page}/retarget", {"achievement_id": "00000000-0000-4000-8000-000000000000"})
    assert unknown.status_code == 404
    with Session(app.state.engine) as session:
        assert session.exec(select(EvidenceBundleRecord)).one().achievement_id == ux["id"]


def test_the_earner_shows_or_hides_an_endorsement_from_the_portal(app, api, browser, other_browser):
    api.register_earner(EMAIL, PASSWORD)
    issuer = api.create_issuer()
    credential = api.issue(api.create_achievement(issuer["id"])["id"], {"email": EMAIL})
    endorsement = endorse_by_email(api, credential["id"], statement="Lin's test suite caught our billing bug.")
    signed_in(browser, EMAIL)
    home = browser.get("/portal")
    assert "Lin&#39;s test suite caught our billing bug." in home.text and "Waiting for your decision" in home.text

    accepted = browser.submit("/portal", f"/portal/endorsements/{endorsement['id']}/accept", {})

    assert accepted.status_code == 303 and accepted.headers["location"] == "/portal?done=endorsement"
    assert "Shown on your badge page" in browser.get("/portal").text
    api.register_earner("mallory@example.org", PASSWORD)
    signed_in(other_browser, "mallory@example.org")
    assert other_browser.submit("/portal", f"/portal/endorsements/{endorsement['id']}/hide", {}).status_code == 404
    assert browser.submit("/portal", f"/portal/endorsements/{endorsement['id']}/frobnicate", {}).status_code == 404
    with Session(app.state.engine) as session:
        assert session.get(Endorsement, endorsement["id"]).state == "accepted"
    browser.submit("/portal", f"/portal/endorsements/{endorsement['id']}/hide", {})
    with Session(app.state.engine) as session:
        assert session.get(Endorsement, endorsement["id"]).state == "hidden"


def test_a_credential_that_ends_soon_is_renewed_by_applying_again(app, api, browser):
    api.register_earner(EMAIL, PASSWORD)
    issuer = api.create_issuer()
    achievement = create_achievement_with_rubric(api, app, issuer["id"], RUBRIC)
    ends = (datetime.now(UTC) + timedelta(days=10)).replace(microsecond=0)
    credential = api.issue(achievement["id"], {"email": EMAIL}, valid_until=ends.isoformat())
    lasting = api.issue(api.create_achievement(issuer["id"])["id"], {"email": EMAIL})
    signed_in(browser, EMAIL)

    home = browser.get("/portal").text
    renew_link = f"/portal/apply/{achievement['id']}?renews={credential['id']}"
    assert renew_link.replace("&", "&amp;") in home and "Ends soon" in home
    assert f"?renews={lasting['id']}" not in home
    page = browser.get(renew_link)
    assert f'name="renews" value="{credential["id"]}"' in page.text
    apply_path = f"/portal/apply/{achievement['id']}"
    browser.submit(renew_link, f"{apply_path}/items", {"kind": "text", "text": "Fresh work: a pytest suite."})
    submitted = browser.submit(renew_link, f"{apply_path}/submit", {"renews": credential["id"]})

    assert submitted.status_code == 303, submitted.text
    with Session(app.state.engine) as session:
        (assessment,) = session.exec(select(Assessment)).all()
        assert assessment.renews_credential_id == credential["id"]
        assert session.get(Credential, credential["id"]).state == "active"
