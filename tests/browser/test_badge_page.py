"""The public badge page, GET /credentials/{id}, as a client opens it in a real browser (issue 13):
it names the achievement, shows the live verification's verdict, passes axe-core, holds at 360 px
and 1280 px, loads nothing from elsewhere, and says so at once when the issuer revokes the badge."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import ACHIEVEMENT_NAME, Showcase
from tests.browser.harness import SiteApi, Tab, check_accessibility, check_layout, says_verified

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_the_badge_page_of_an_issued_credential_shows_the_achievement_and_that_it_is_verified(
    tab: Tab, showcase: Showcase
) -> None:
    tab.open(showcase.credential_path)

    assert tab.page.get_by_role("heading", level=1).inner_text().strip() == ACHIEVEMENT_NAME
    assert says_verified(tab.verdict()), f"the banner reads {tab.verdict()!r}"
    assert "ada@freelance.example" not in tab.page.content()  # the recipient is a hashed identity
    check_accessibility(tab.page)
    check_layout(tab.page, "badge-page")


def test_the_badge_page_loads_nothing_from_another_origin(tab: Tab, showcase: Showcase) -> None:
    tab.open(showcase.credential_path)
    tab.page.wait_for_load_state("networkidle")

    assert tab.requests, "the tab recorded no request at all"
    assert tab.foreign_requests() == []


def test_after_the_issuer_revokes_it_the_badge_page_says_revoked(
    tab: Tab, showcase: Showcase, site_api: SiteApi
) -> None:
    credential = site_api.issue(showcase.achievement["id"], headers=showcase.issuer_admin)
    site_api.revoke(credential["id"], "Issued to the wrong person.", headers=showcase.issuer_admin)

    tab.open("/credentials/" + credential["id"])

    headline = tab.verdict()
    assert not says_verified(headline), f"a revoked badge's banner reads {headline!r}"
    assert re.search(r"\brevoked\b", headline, re.IGNORECASE), f"the banner reads {headline!r}"
    assert "Issued to the wrong person." not in tab.page.content()  # the reason is for staff only
    check_accessibility(tab.page)
    check_layout(tab.page, "badge-page-revoked")


def test_the_badge_page_works_from_the_keyboard_with_a_visible_focus(tab: Tab, showcase: Showcase) -> None:
    tab.open(showcase.credential_path)
    page = tab.page

    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    assert skip.inner_text().strip() == "Skip to the content"
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0, "the skip link stays off screen when focused"
    assert skip.evaluate("e => getComputedStyle(e).outlineStyle") != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    # every control on the page is reachable by Tab, each showing where the focus is
    reached = set()
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = page.locator(":focus")
        if not focused.count():
            continue
        reached.add(focused.evaluate("e => e.tagName + ':' + (e.id || e.textContent.trim().slice(0, 30))"))
        assert focused.evaluate("e => getComputedStyle(e).outlineStyle") != "none", f"no visible focus on {reached}"
    assert any(name.startswith("INPUT:identity-email") for name in reached)
    assert any("LinkedIn" in name for name in reached)
