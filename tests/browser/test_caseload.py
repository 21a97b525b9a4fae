"""The counselor's morning: the tier 3 students, one student's cards, a flag raised."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, sign_in


def test_counselor_filters_to_tier_3_reads_the_cards_and_raises_a_flag(page):
    sign_in(page, "counselor@example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Caseload").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Caseload")
    assert_accessible(page)

    page.get_by_label("Tier").select_option("3")  # htmx swaps the table and keeps the URL in sync
    expect(page).to_have_url(re.compile(r"tier=3"))
    results = page.locator("#caseload-results")
    expect(results.locator("tbody tr").first).to_be_visible()
    expect(results.locator("tbody .tier").first).to_have_text("Tier 3")
    assert results.locator("tbody .tier", has_text="Tier 1").count() == 0
    assert_accessible(page)

    page.reload()  # the same URL works as a plain page
    expect(page.get_by_label("Tier")).to_have_value("3")

    results.locator("tbody th a").first.click()
    tier_card = page.locator(".card--tier")
    expect(tier_card).to_contain_text("Tier 3:")
    expect(tier_card).to_contain_text("As of")
    expect(page.locator(".card--attendance svg")).to_be_visible()
    expect(page.locator(".card--attendance")).to_contain_text("Missed")
    assert_accessible(page)

    page.get_by_role("link", name="Raise a flag").click()
    page.get_by_label("Need").select_option(label="Attendance support")
    page.get_by_label("Details (optional)").fill("Missed most Mondays since October; calling home this week.")
    page.get_by_role("button", name="Raise flag").click()
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Attendance support")
    expect(timeline).to_contain_text("Missed most Mondays since October")
