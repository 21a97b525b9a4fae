"""The family's log as a record (issue 14 item 3): a parent sees a counselor's seven views
of one day as one line, opens it on its seven entries, and shows their own views with
the switch; axe finds nothing serious."""
from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, sign_in

PARENT = "parent@example.org"


def seven_views_today(app) -> tuple[str, str]:
    """Seven views of the demo parent's child by a counselor of the child's school, as a
    list page writes them; the child's uuid and the counselor's name."""
    from casemgr.extensions import db
    from casemgr.models import DisclosureEntry, Organization, User
    from casemgr.models.enums import Role
    from casemgr.reads import family
    from tests.factories import create_user

    with app.app_context():
        parent = db.session.scalar(sa.select(User).where(User.email == PARENT))
        child = family.children(parent)[0]
        # a counselor of the child's school whom no other browser test signs in as, so
        # that theirs are the only views of the day by this name whatever ran before
        counselor = create_user(Role.COUNSELOR, db.session.get(Organization, child.school_id),
                                full_name="Rosa Lindqvist")
        basis = {"identity": "school_official", "notes": "school_official"}
        for _ in range(7):
            db.session.add(DisclosureEntry(user_id=counselor.id, organization_id=counselor.organization_id,
                                           student_id=child.id, action="view", categories=sorted(basis), basis=basis,
                                           allowed=True))
        db.session.commit()
        return str(child.uuid), counselor.full_name


def test_a_parent_reads_a_grouped_line_opens_it_and_shows_their_own_views(page, live_server):
    child, counselor = seven_views_today(live_server.app)
    sign_in(page, PARENT)
    page.goto(f"/family/children/{child}")  # the parent's own view of the record
    page.goto(f"/family/children/{child}/log")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Who has looked at the record of")
    line = page.locator(".family-log__entry").filter(has_text=f"{counselor}, counselor) viewed")
    expect(line).to_have_count(1)
    expect(line).to_contain_text(re.compile(r"viewed basic details .* and notes 7 times on .*, as school staff\."))
    expect(page.locator(".family-log__entry").filter(has_text="You viewed")).to_have_count(0)
    assert_accessible(page)

    entries = line.locator(".family-log__times li")
    expect(entries.first).to_be_hidden()
    line.get_by_text("See the 7 entries").click()
    expect(entries).to_have_count(7)
    expect(entries.first).to_be_visible()
    expect(entries.first).to_contain_text("in the record itself")
    assert_accessible(page)

    page.get_by_label("Show my own views").check()
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page).to_have_url(re.compile(r"own=1"))
    expect(page.locator(".family-log__entry").filter(has_text="You viewed").first).to_be_visible()
    expect(page.get_by_label("Show my own views")).to_be_checked()
    assert_accessible(page)
