"""Defects seen on the seeded demo (issue 14, item 5), where the fault is visual: each
checked in the browser by where things are drawn, and axe-checked."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, sign_in


def _inside(inner: dict, outer: dict) -> bool:
    return (inner["x"] >= outer["x"] - 0.5 and inner["y"] >= outer["y"] - 0.5
            and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
            and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5)


def test_the_attendance_chart_shows_its_whole_scale(page):
    """"100%" is drawn whole, not clipped to "00%", and the scale's floor is labelled."""
    sign_in(page, "counselor@example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Caseload").click()
    page.locator("#caseload-results tbody th a").first.click()
    chart = page.locator("svg.chart__svg")
    expect(chart).to_be_visible()
    svg = chart.bounding_box()
    labels = chart.locator("text.chart__axis[text-anchor='end']")
    for n in range(labels.count()):
        assert _inside(labels.nth(n).bounding_box(), svg), labels.nth(n).text_content()
    assert labels.count() == 3  # the floor, the 90% line, 100%
    expect(labels.last).to_have_text("100%")
    expect(page.locator(".chart__note")).to_contain_text("Scale from")
    assert_accessible(page)

