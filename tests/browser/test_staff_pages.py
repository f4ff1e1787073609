"""The pages the issuer's people work in, in a real browser: the issuer admin's overview, achievement
list, rubric editor, credential search, keys and audit log, each accessible (axe-core) and holding
at 360 and 1280 px; and the public pages in the dark colour scheme, where contrast is checked
again."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import Showcase
from tests.browser.harness import SiteApi, Tab, check_accessibility, check_layout, says_verified

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PASSWORD = "a-long-enough-password-for-staff"


def test_the_issuer_admins_pages_are_accessible_and_hold_at_both_widths(
    tab: Tab, showcase: Showcase, site_api: SiteApi
) -> None:
    email = "iris.admin@northwind.example"
    site_api.create_person("issuer_admin", email, PASSWORD, showcase.issuer["id"])
    tab.open("/login?next=/portal/issuer")
    tab.page.get_by_label("Email address").fill(email)
    tab.page.get_by_label("Password").fill(PASSWORD)
    tab.page.get_by_role("button", name="Sign in").click()
    tab.page.wait_for_url(re.compile(rf"/portal/issuer/{showcase.issuer['id']}$"))
    base = f"/portal/issuer/{showcase.issuer['id']}"
    pages = {
        "issuer-overview": base,
        "issuer-achievements": f"{base}/achievements",
        "issuer-rubric-editor": f"{base}/achievements/new",
        "issuer-credentials": f"{base}/credentials",
        "issuer-keys": f"{base}/keys",
        "issuer-audit": f"{base}/audit",
        "issuer-webhooks": f"{base}/webhooks",
    }
    for name, path in pages.items():
        tab.open(path)
        check_accessibility(tab.page)
        check_layout(tab.page, name)
    assert tab.foreign_requests() == []


def test_the_public_pages_in_the_dark_colour_scheme(tab: Tab, showcase: Showcase) -> None:
    tab.page.emulate_media(color_scheme="dark")
    for name, path in (("home-dark", "/"), ("badge-page-dark", showcase.credential_path), ("verify-dark", "/verify")):
        tab.open(path)
        background = tab.page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background != "rgb(244, 245, 247)", f"{path} kept the light background in the dark scheme"
        check_accessibility(tab.page)
        check_layout(tab.page, name)
    tab.open(showcase.credential_path)
    assert says_verified(tab.verdict())
