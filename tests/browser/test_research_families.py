"""Research and the Clearinghouse in the browser (issue 16 items 4-5): the district admin
lets families choose and downloads a class's graduates file; a parent reads, in Spanish,
what research receives and keeps their child out of it; axe on each page."""
from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, sign_in

PARENT = "parent@example.org"


def test_the_admin_lets_families_choose_and_downloads_a_graduates_file(page):
    sign_in(page, "admin@example.org")
    page.get_by_role("link", name="Research projects", exact=True).click()
    page.get_by_label("Families may keep their child out of research extracts").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Families may now keep their child out of research extracts.")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Imports", exact=True).click()
    page.get_by_role("link", name="National Student Clearinghouse").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("National Student Clearinghouse")
    expect(page.get_by_role("row", name=re.compile(r"^Class of \d{4}")).first).to_be_visible()
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"^Download the graduates file")).first.click()
    lines = download.value.path().read_bytes().decode("ascii").split("\r\n")
    assert lines[0].startswith("PH3\t10036100\tLakeview Unified School District\tP\t")
    assert lines[1].startswith("PD3\t") and lines[1].endswith("\tED") and lines[-2].startswith("PT3\t")

    page.get_by_role("link", name="Import a detail report").click()
    expect(page.get_by_label("What the file holds")).to_have_value("studenttracker")


def test_a_parent_reads_what_research_receives_in_spanish_and_keeps_their_child_out(page, live_server):
    from casemgr.extensions import db
    from casemgr.models import Organization, ResearchOptOut, User
    from casemgr.reads import family

    with live_server.app.app_context():
        parent = db.session.scalar(sa.select(User).where(User.email == PARENT))
        child = family.children(parent)[0]
        db.session.get(Organization, child.district_id).research_opt_out_allowed = True
        db.session.commit()
        child_id, name = child.id, child.display_name
    sign_in(page, PARENT)
    page.goto(f"/family/children/{child.uuid}/log")
    page.get_by_role("link", name="What research receives, and your choices").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Research and the records of {name}")
    expect(page.get_by_role("heading", name="Attendance and course success from 9th grade to graduation")) \
        .to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Español").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"La investigación y el expediente de {name}")
    page.get_by_role("button", name=f"Dejar a {name} fuera de la investigación").click()
    expect(page.get_by_text(f"A partir de ahora, {name} quedará fuera de todos los archivos de investigación."))\
        .to_be_visible()
    expect(page.get_by_role("button", name=f"Volver a incluir a {name} en la investigación")).to_be_visible()
    assert_accessible(page)
    with live_server.app.app_context():
        request = db.session.scalar(sa.select(ResearchOptOut).where(ResearchOptOut.student_id == child_id,
                                                                    ResearchOptOut.withdrawn_at.is_(None)))
        assert request is not None
    page.get_by_role("button", name=f"Volver a incluir a {name} en la investigación").click()
    expect(page.get_by_text(f"{name} puede volver a incluirse en los archivos de investigación.")).to_be_visible()
    page.get_by_role("button", name="English").click()
