"""A district admin and a principal open their reports, on a desktop and at phone width."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, sign_in


def test_district_admin_reads_indicators_by_school(page):
    sign_in(page, "admin@example.org")
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports")
    table = page.get_by_role("table", name="Indicators by school")
    expect(table.get_by_role("columnheader", name="Chronically absent")).to_be_visible()
    expect(table.get_by_role("rowheader").first).to_be_visible()
    assert_accessible(page)


def test_principal_reads_indicators_by_grade_at_phone_width(phone_page):
    sign_in(phone_page, "principal@example.org")
    phone_page.goto("/reports")
    table = phone_page.get_by_role("table", name="Indicators by grade")
    expect(table.get_by_role("rowheader", name="Grade 9")).to_be_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(phone_page)
