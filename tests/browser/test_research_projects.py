"""Research projects in the browser (issue 16 items 1-2): the district admin reads the
seeded study, records another and attaches a researcher; the researcher reads their
projects and downloads the seeded study's extract; axe on each page."""
from __future__ import annotations

import zipfile

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, sign_in


def test_district_admin_records_a_study_and_the_researcher_reads_it(page, browser, live_server):
    sign_in(page, "admin@example.org")
    page.get_by_role("link", name="Research projects", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Research projects")
    expect(page.get_by_role("link", name="Attendance and course success from 9th grade to graduation")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="New research project").click()
    page.get_by_label("Research organization").select_option(label="Metro Education Research Collaborative")
    page.get_by_label("Title").fill("Tutoring and course success")
    page.get_by_label("Purpose of the study").fill("Whether tutoring in 9th grade changes course failures.")
    page.get_by_label("Ethics (IRB) approval reference").fill("MERC IRB 2026-031")
    for variable in ("Grade", "Courses failed", "Tier of support"):
        page.get_by_label(variable, exact=True).check()
    page.get_by_role("group", name="School years covered").get_by_role("checkbox").first.check()
    page.get_by_role("button", name="Save project").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tutoring and course success")
    expect(page.get_by_text("MERC IRB 2026-031")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Researcher", exact=True).select_option(index=1)
    page.get_by_role("button", name="Attach").click()
    expect(page.get_by_text("is attached to the project.")).to_be_visible()
    assert_accessible(page)

    researcher = browser.new_context(base_url=live_server.url)
    try:
        reader = researcher.new_page()
        sign_in(reader, "researcher@example.org")
        reader.get_by_role("link", name="Research projects", exact=True).click()
        expect(reader.get_by_role("heading", level=2, name="Attendance and course success from 9th grade to graduation")) \
            .to_be_visible()
        expect(reader.get_by_text("Every school of each district").first).to_be_visible()
        assert_accessible(reader)
        with reader.expect_download() as download:
            reader.get_by_role("link", name="CSV extract of Attendance and course success from 9th grade to graduation").click()
        archive = zipfile.ZipFile(download.value.path())
        assert sorted(archive.namelist()) == ["README.txt", "extract.csv"]
        header = archive.read("extract.csv").decode().splitlines()[0]
        assert header.startswith("pseudonym,school_year,school,grade")
    finally:
        researcher.close()
