"""The terms of use and the privacy notice, in a real browser: accessible, readable on a phone, and
self-contained (no font, script or image from another origin)."""

from __future__ import annotations

import pytest

from tests.browser.harness import Tab, check_accessibility, check_layout

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.mark.parametrize("path", ["/terms", "/privacy"])
def test_a_policy_page_passes_axe_holds_at_360_px_and_loads_only_from_the_server(tab: Tab, path: str) -> None:
    tab.open(path)

    assert tab.page.get_by_role("heading", level=1).count() == 1
    check_accessibility(tab.page)
    check_layout(tab.page, path.strip("/") + "-page")
    assert tab.foreign_requests() == []
