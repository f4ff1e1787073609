"""The checks the browser tests rely on can fail: axe-core catches a serious problem, the layout
check catches a page wider than a phone, and the origin check sees a request to another host."""

from __future__ import annotations

import pytest

from tests.browser.harness import Tab, assert_no_horizontal_scroll, check_accessibility, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_axe_reports_an_image_without_alternative_text_by_rule_and_element(tab: Tab) -> None:
    tab.page.set_content('<!DOCTYPE html><html lang="en"><title>t</title><main><img src="x.png" id="logo"></main>')

    with pytest.raises(AssertionError) as failure:
        check_accessibility(tab.page)

    assert "image-alt (critical)" in str(failure.value) and "#logo" in str(failure.value)


def test_a_page_wider_than_the_window_fails_the_layout_check(tab: Tab) -> None:
    tab.page.set_viewport_size({"width": 360, "height": 640})
    tab.page.set_content('<!DOCTYPE html><html lang="en"><title>t</title><div style="width: 900px">wide</div>')

    with pytest.raises(AssertionError, match="scrolls sideways at 360 px"):
        assert_no_horizontal_scroll(tab.page)


def test_a_request_to_another_origin_is_recorded_and_never_sent(tab: Tab) -> None:
    tab.open("/terms")
    tab.page.evaluate("fetch('https://cdn.example/font.woff2').catch(() => null)")
    tab.page.wait_for_load_state("networkidle")

    assert tab.foreign_requests() == ["https://cdn.example/font.woff2"]


def test_screenshots_are_saved_at_both_widths(tab: Tab) -> None:
    tab.page.set_content('<!DOCTYPE html><html lang="en"><title>t</title><p>hello</p>')

    saved = screenshot(tab.page, "harness-self-test")

    assert [path.name for path in saved] == ["harness-self-test-360.png", "harness-self-test-1280.png"]
    assert all(path.read_bytes().startswith(b"\x89PNG") for path in saved)
