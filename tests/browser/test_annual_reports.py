"""The annual partnership report in the browser (issue 15, item 5): the district admin
previews a school year against the baseline, publishes it with a public link, reads it
in Spanish and as a PDF; anyone opens the public link signed out; axe on every page."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, sign_in


def test_district_admin_publishes_the_report_and_anyone_reads_it_at_its_public_link(page, browser, live_server):
    sign_in(page, "admin@example.org")
    page.get_by_role("link", name="Annual reports", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Annual partnership reports")
    assert_accessible(page)

    page.get_by_label("Baseline year").select_option(index=0)  # the earliest; the year is the latest
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("status")).to_contain_text("A draft: nothing is published yet")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Annual partnership report")
    assert_accessible(page)

    page.get_by_label(re.compile("public link")).check()
    page.get_by_role("button", name="Publish this report").click()
    expect(page.get_by_text("The report is published")).to_be_visible()
    expect(page.get_by_text("A draft: nothing is published yet")).to_have_count(0)
    assert_accessible(page)
    public = page.locator("a[href*='/public/annual-reports/']").get_attribute("href")
    pdf = page.get_by_role("link", name="PDF").get_attribute("href")
    response = page.request.get(pdf)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")

    page.get_by_role("link", name="Leer en español").click()
    expect(page.locator("article.annual")).to_have_attribute("lang", "es")
    expect(page.get_by_role("link", name="Read in English")).to_be_visible()
    assert_accessible(page)

    signed_out = browser.new_context(base_url=live_server.url)
    try:
        reader = signed_out.new_page()
        reader.goto(public)
        expect(reader.get_by_role("heading", level=1)).to_contain_text("Annual partnership report")
        expect(reader.get_by_role("button", name="Publish this report")).to_have_count(0)
        assert_accessible(reader)
    finally:
        signed_out.close()
