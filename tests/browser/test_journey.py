"""The whole journey of issue 13 in a real browser, as the people in it click through it: a
freelancer finds an achievement on the home page, signs up with a display name, verifies the
address from the mail a real SMTP server received, applies with a narrative and a file, and follows
the assessment; a reviewer of the issuer approves it from the review queue; the public badge page
then says Verified with the freelancer's name, offers its share links, QR code and link-preview
tags; a client who pastes a tampered copy into /verify is told it is not verified and which check
failed, in plain words; the issuer's admin revokes the badge from their pages and the badge page
says Revoked. Every page on the way passes axe-core and holds at 360 and 1280 px (screenshots in
tests/artifacts/)."""

from __future__ import annotations

import copy
import json
import re
import time
from typing import Any

import pytest

from tests.assessment.helpers import RUBRIC
from tests.browser.harness import Inbox, SiteApi, Tab, check_accessibility, check_layout, says_verified

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

ACHIEVEMENT = "Python testing in practice"
EARNER = ("ada.lovelace@freelance.example", "Ada Lovelace")
REVIEWER = "rita.reviewer@harbour-guild.example"
ISSUER_ADMIN = "ian.admin@harbour-guild.example"
PASSWORD = "a-long-enough-password-for-pages"
NARRATIVE = (
    "For a logistics client I wrote a pytest suite for their billing service. Every unit test has an "
    "assert on the behaviour the client cares about: refunds, partial payments and currency rounding. "
    "A GitHub Actions workflow runs the tests on every pull request (continuous integration), and a "
    "failing test blocks the merge. The suite found two rounding bugs before release."
)
TEST_REPORT = b"============ 212 passed, 3 skipped in 14.21s ============\ncoverage: 91% of billing/\n"
ASSESSMENT_SECONDS = 90


def _achievement(site_api: SiteApi, issuer_id: str) -> dict[str, Any]:
    """An open achievement whose rubric sends every assessment to a reviewer."""
    rubric = copy.deepcopy(RUBRIC)
    rubric["policy"] = "review"
    response = site_api.client.post(
        f"/v1/issuers/{issuer_id}/achievements",
        headers=site_api.admin,
        json={
            "name": ACHIEVEMENT,
            "description": "Writes automated tests that catch real bugs, run on every change.",
            "criteria": {"narrative": "A tested project whose tests run in continuous integration."},
            "rubric": rubric,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def _sign_in(tab: Tab, email: str, next_path: str) -> None:
    tab.open(f"/login?next={next_path}")
    tab.page.get_by_label("Email address").fill(email)
    tab.page.get_by_label("Password").fill(PASSWORD)
    tab.page.get_by_role("button", name="Sign in").click()
    tab.page.wait_for_url(re.compile(re.escape(next_path) + "$"))


def _wait_for_text(tab: Tab, text: str, seconds: float) -> None:
    """Reload until ``text`` shows (the assessment runs in the server's own worker)."""
    deadline = time.monotonic() + seconds
    while text not in tab.page.locator("body").inner_text():
        assert time.monotonic() < deadline, f"{tab.page.url} never showed {text!r}"
        time.sleep(1)
        tab.page.reload(wait_until="load")


def test_a_freelancer_earns_a_badge_a_reviewer_approves_it_and_a_client_checks_it(
    tab: Tab, second_tab: Tab, site_api: SiteApi, inbox: Inbox
) -> None:
    issuer = site_api.create_issuer("Harbour Testing Guild", url="https://harbour-guild.example")
    achievement = _achievement(site_api, issuer["id"])
    site_api.create_person("reviewer", REVIEWER, PASSWORD, issuer["id"])
    site_api.create_person("issuer_admin", ISSUER_ADMIN, PASSWORD, issuer["id"])
    page = tab.page

    # the freelancer finds the achievement on the home page
    tab.open("/")
    check_accessibility(page)
    check_layout(page, "home")
    page.get_by_role("link", name=ACHIEVEMENT).first.click()
    page.wait_for_url(f"**/achievements/{achievement['id']}")
    assert page.get_by_role("heading", level=1).inner_text().strip() == ACHIEVEMENT
    check_accessibility(page)
    check_layout(page, "achievement")

    # signs up with a display name, then verifies the address from the mail
    page.get_by_role("link", name="Apply with your evidence").first.click()
    page.wait_for_url(re.compile(r"/login\?next="))
    check_accessibility(page)
    page.get_by_role("link", name="Create a freelancer account").click()
    page.get_by_label("Your name, as clients should see it").fill(EARNER[1])
    page.get_by_label("Email address").fill(EARNER[0])
    page.get_by_label("Password").fill(PASSWORD)
    check_accessibility(page)
    page.get_by_role("button", name="Create account").click()
    assert page.get_by_role("heading", level=1).inner_text().strip() == "Check your email"
    tab.open(inbox.link_to(EARNER[0], "/verify-email"))
    page.get_by_role("button", name="Verify my address").click()
    assert "Address verified" in tab.verdict()

    # applies with a narrative and a file, and follows the assessment
    apply_path = f"/portal/apply/{achievement['id']}"
    _sign_in(tab, EARNER[0], apply_path)
    check_accessibility(page)
    check_layout(page, "portal-apply")
    page.get_by_role("textbox", name="Narrative", exact=True).fill(NARRATIVE)
    page.get_by_role("button", name="Add narrative").click()
    page.get_by_label("File", exact=True).set_input_files(
        files=[{"name": "pytest-report.txt", "mimeType": "text/plain", "buffer": TEST_REPORT}]
    )
    page.get_by_role("button", name="Upload").click()
    assert "pytest-report.txt" in page.locator("body").inner_text()
    page.get_by_role("button", name="Submit for assessment").click()
    page.wait_for_url("**/portal/assessments/*")
    _wait_for_text(tab, "With a reviewer", ASSESSMENT_SECONDS)
    check_accessibility(page)
    assessment_path = page.url.removeprefix(tab.base)

    # a reviewer of the issuer approves it from the queue
    _sign_in(second_tab, REVIEWER, "/portal/review")
    check_accessibility(second_tab.page)
    second_tab.page.get_by_role("link", name=ACHIEVEMENT).first.click()
    assert NARRATIVE[:40] in second_tab.page.locator("body").inner_text()  # the evidence beside the rubric
    check_accessibility(second_tab.page)
    check_layout(second_tab.page, "portal-review")
    second_tab.page.get_by_role("button", name="Approve and issue").click()
    second_tab.page.wait_for_url(re.compile(r"/portal/review(\?|$)"))

    # the freelancer's badge page says Verified, with their name
    tab.open(assessment_path)
    assert "Issued" in tab.verdict()
    tab.open("/portal")
    check_accessibility(page)
    check_layout(page, "portal-home")
    share = page.locator("a[href^='/credentials/']").first
    credential_path = share.get_attribute("href")
    assert credential_path
    tab.open(credential_path)
    assert says_verified(tab.verdict()), f"the banner reads {tab.verdict()!r}"
    assert f"Earned by {EARNER[1]}" in page.locator("body").inner_text()
    assert EARNER[0] not in page.content()
    meta = {
        name: page.locator(f"meta[property='{name}'], meta[name='{name}']").first.get_attribute("content")
        for name in ("og:title", "og:image", "og:url", "twitter:card")
    }
    assert meta["og:title"] and ACHIEVEMENT in meta["og:title"] and meta["twitter:card"] == "summary_large_image"
    assert meta["og:url"] and meta["og:url"].endswith(credential_path)
    linkedin = page.get_by_role("link", name="Add to LinkedIn profile").get_attribute("href")
    assert linkedin and linkedin.startswith("https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME")
    qr = page.get_by_role("img", name=re.compile("QR code"))
    assert qr.evaluate("image => image.complete && image.naturalWidth > 0")
    # "Is this you?": answered in the browser, the address never sent
    identity = page.get_by_role("textbox", name="Email address")
    result = page.locator("#identity-result")
    identity.fill("someone.else@freelance.example")
    page.get_by_role("button", name="Check the address").click()
    result.filter(has_text="No:").wait_for()
    identity.fill(f"  {EARNER[0].upper()} ")
    page.get_by_role("button", name="Check the address").click()
    result.filter(has_text="Yes:").wait_for()
    assert not [url for url in tab.requests if url.endswith("/identity")]
    assert tab.foreign_requests() == []
    check_accessibility(page)
    check_layout(page, "badge-page-earned")

    # a client pastes a tampered copy into /verify: not verified, and which check failed
    signed = json.loads(site_api.client.get(credential_path, headers={"Accept": "application/vc+ld+json"}).text)
    signed["credentialSubject"]["achievement"]["name"] = "Principal engineer, every language"
    second_tab.open("/verify")
    check_accessibility(second_tab.page)
    check_layout(second_tab.page, "verify")
    second_tab.page.get_by_label(re.compile("Paste a badge address")).fill(json.dumps(signed))
    second_tab.page.get_by_role("button", name="Verify").click()
    assert "Not verified" in second_tab.verdict()
    failed = second_tab.page.locator("li.check.failed").first
    assert failed.count() and "(Failed)" in failed.inner_text()
    check_accessibility(second_tab.page)
    check_layout(second_tab.page, "verify-tampered")

    # the issuer's admin revokes it from their pages: the badge page says Revoked
    second_tab.open("/portal")
    second_tab.page.get_by_role("button", name="Sign out").click()  # the reviewer leaves this browser
    second_tab.page.wait_for_load_state("load")
    _sign_in(second_tab, ISSUER_ADMIN, "/portal")
    credential_id = credential_path.rsplit("/", 1)[1]
    second_tab.open(f"/portal/issuer/{issuer['id']}/credentials/{credential_id}/revoke")
    check_accessibility(second_tab.page)
    second_tab.page.get_by_label(re.compile("Reason")).fill("Issued on evidence that was not the earner's own.")
    second_tab.page.get_by_role("button", name=re.compile("^Revoke")).click()
    tab.open(credential_path)
    assert "Revoked" in tab.verdict()
    assert "not the earner's own" not in page.content()  # the reason is for staff and the earner
    check_accessibility(page)
    check_layout(page, "badge-page-revoked-journey")
