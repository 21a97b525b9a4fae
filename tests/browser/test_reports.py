"""Reports in the browser (issue 15): the principal opens chronic absence by grade,
switches to the trend by low income (htmx swaps the report, the address follows),
exports the workbook, and the workbook's suppressed cells are the page's; the district
admin's report and the phone width; axe on every report page."""
from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, sign_in


def _table(page) -> dict[str, list[str]]:
    rows = {}
    for row in page.locator("#report table tbody tr").all():
        header = row.locator("th").inner_text().strip()
        rows[header] = [cell.strip() for cell in row.locator("td").all_inner_texts()]
    return rows


def test_principal_reads_by_grade_then_the_trend_and_exports_what_the_page_shows(page):
    sign_in(page, "principal@example.org")
    page.get_by_role("link", name="Reports", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports")
    page.wait_for_load_state()  # htmx listens for changes once the page has loaded
    page.get_by_label("Measure").select_option("chronic_absence")
    page.get_by_label("Breakdown").select_option("grade")
    expect(page).to_have_url(re.compile(r"measure=chronic_absence&by=grade"))
    expect(page.locator("#report-heading")).to_contain_text("Chronic absence")
    expect(page.locator("#report-heading")).to_contain_text("by grade")
    expect(page.get_by_role("img", name=re.compile("Chronic absence"))).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Breakdown").select_option("low_income")
    page.get_by_label("Years").select_option("trend")
    expect(page).to_have_url(re.compile(r"by=low_income.*view=trend"))
    table = page.get_by_role("table", name=re.compile("by school year"))
    expect(table.get_by_role("rowheader", name="Low income", exact=True)).to_be_visible()
    assert len(table.get_by_role("columnheader").all()) >= 5  # the group, and four school years
    assert_accessible(page)
    shown = _table(page)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download Excel workbook").click()
    sheet = load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    exported = {row[0]: [str(v) for v in row[1:] if v is not None] for row in rows[1:] if row[0] and len(row) > 1
                and row[1] is not None}
    assert exported == shown
    suppressed = [(group, i) for group, cells in shown.items() for i, cell in enumerate(cells) if cell == "*"]
    assert all(exported[group][i] == "*" for group, i in suppressed)


def test_the_report_works_without_javascript(browser, live_server):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    sign_in(page, "admin@example.org")
    page.goto("/reports")
    page.get_by_label("Breakdown").select_option("gender")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"by=gender"))
    expect(page.locator("#report-heading")).to_contain_text("by gender")
    context.close()


def test_district_admin_crosses_school_by_subgroup_and_reads_it_at_phone_width(phone_page):
    sign_in(phone_page, "admin@example.org")
    phone_page.goto("/reports?measure=course_failure&by=low_income&across=school")
    expect(phone_page.locator("#report-heading")).to_contain_text("school by low income")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(phone_page)
