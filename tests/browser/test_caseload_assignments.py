"""The principal splits the school by last name; the counselor then sees only theirs,
with the whole school one click away; a search after a sort keeps the sort."""
from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, sign_in


def _counselor_name(live_server) -> str:
    from casemgr.extensions import db
    from casemgr.models import User

    with live_server.app.app_context():
        return db.session.scalar(sa.select(User.full_name).where(User.email == "counselor@example.org"))


def initials(page) -> set[str]:
    names = page.locator("#caseload-results tbody th a").all_inner_texts()
    assert names
    return {name.strip()[0].upper() for name in names}


def test_principal_assigns_a_to_k_and_the_counselor_sees_only_theirs(page, second_page, live_server):
    counselor = _counselor_name(live_server)
    sign_in(page, "principal@example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Caseload").click()
    page.get_by_role("link", name="Assign caseloads to counselors").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Caseloads of")
    assert_accessible(page)
    rule_form = page.locator("form", has=page.get_by_role("button", name="Add rule"))
    rule_form.get_by_label("Counselor").select_option(label=counselor)
    rule_form.get_by_label("Last names from").select_option("A")
    rule_form.get_by_label("to", exact=True).select_option("K")
    rule_form.get_by_role("button", name="Add rule").click()
    expect(page.get_by_text("Rule added.")).to_be_visible()
    rules = page.locator("section", has=page.get_by_role("heading", name="Rules"))
    expect(rules.get_by_role("row", name=re.compile(counselor))).to_contain_text("last names A–K")
    counts = page.locator("section", has=page.get_by_role("heading", name="Who gets how many"))
    expect(counts.get_by_role("row", name=re.compile(counselor))).not_to_contain_text(re.compile(r"^\s*0\s*$"))
    assert_accessible(page)

    try:
        sign_in(second_page, "counselor@example.org")
        second_page.get_by_role("navigation", name="Main").get_by_role("link", name="Caseload").click()
        switch = second_page.get_by_role("navigation", name="Whose students")
        expect(switch.get_by_role("link", name="My students")).to_have_attribute("aria-current", "page")
        second_page.get_by_role("link", name="Student", exact=True).click()  # by name, A first
        expect(second_page).to_have_url(re.compile(r"sort=name"))
        assert initials(second_page) <= set("ABCDEFGHIJK")
        assert_accessible(second_page)

        switch.get_by_role("link", name="Whole school").click()
        expect(second_page).to_have_url(re.compile(r"scope=school"))
        expect(switch.get_by_role("link", name="Whole school")).to_have_attribute("aria-current", "page")
        second_page.reload()  # the scope is in the URL
        expect(second_page.get_by_role("link", name="Whole school")).to_have_attribute("aria-current", "page")
        second_page.get_by_role("link", name="Student", exact=True).click()  # now Z first
        expect(second_page).to_have_url(re.compile(r"dir=desc"))
        assert not initials(second_page) <= set("ABCDEFGHIJK")
        assert_accessible(second_page)

        # sort by attendance, then search: the sort stays (it used to revert to tier)
        second_page.locator("#caseload-results").get_by_role("link", name="Attendance").click()
        expect(second_page).to_have_url(re.compile(r"sort=attendance"))
        second_page.get_by_label("Name or student ID").fill("a")
        expect(second_page).to_have_url(re.compile(r"q=a"))
        expect(second_page).to_have_url(re.compile(r"sort=attendance"))
        expect(second_page).to_have_url(re.compile(r"scope=school"))
        expect(second_page.locator("#caseload-results th[aria-sort]")).to_contain_text("Attendance")
    finally:  # leave the shared demo school as it was for the other tests
        rules.get_by_role("button", name=re.compile("Remove")).first.click()
        expect(page.get_by_text("Rule removed.")).to_be_visible()
