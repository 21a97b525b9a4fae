"""Services delivered on a phone (issue 17): a youth worker takes the attendance of a
group of 12 and logs an individual contact, each in under five actions, and axe finds no
serious problem on either page."""
from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa
from playwright.sync_api import expect

from casemgr import policy
from casemgr.clock import today
from casemgr.extensions import db
from casemgr.models import ProgramGroup, ProgramGroupMember, RosterEntry, ServiceContact, Student, User
from tests.browser.conftest import assert_accessible, sign_in

GROUP_SIZE = 12


class Actions:
    """Counts what the person does: each tap, choice or typing is one action."""

    def __init__(self):
        self.count = 0

    def __call__(self, locator_action, *args):
        self.count += 1
        return locator_action(*args)


def a_group_of_twelve(app) -> tuple[str, list[str]]:
    """A new group of the worker's organization with 12 students of its roster (more are
    put on the roster, from the district its agreement covers, if it has fewer)."""
    with app.app_context():
        worker = db.session.scalar(sa.select(User).where(User.email == "worker@example.org"))
        day = today()
        service = policy.services_offered(worker.organization_id, day)[0]
        on_roster = list(db.session.scalars(
            sa.select(Student.id).join(RosterEntry, RosterEntry.student_id == Student.id)
            .where(RosterEntry.organization_id == worker.organization_id, RosterEntry.removed_on.is_(None),
                   RosterEntry.added_on <= day).order_by(Student.id).limit(GROUP_SIZE)))
        if len(on_roster) < GROUP_SIZE:
            district_id = policy.active_agreements(worker.organization_id, day)[0].district_id
            more = db.session.scalars(
                sa.select(Student.id).where(Student.district_id == district_id, Student.id.not_in(on_roster))
                .order_by(Student.id).limit(GROUP_SIZE - len(on_roster))).all()
            db.session.add_all(RosterEntry(organization_id=worker.organization_id, student_id=s,
                                           added_on=date(day.year - 1, 8, 1)) for s in more)
            on_roster += more
        group = ProgramGroup(organization_id=worker.organization_id, name=f"Phone club {day:%j%H%M%S}",
                             service=service, weekdays=[0, 1, 2, 3, 4], session_minutes=75)
        db.session.add(group)
        db.session.flush()
        db.session.add_all(ProgramGroupMember(group_id=group.id, student_id=s) for s in on_roster)
        db.session.commit()
        names = [f"{s.preferred_name or s.first_name} {s.last_name}"
                 for s in db.session.scalars(sa.select(Student).where(Student.id.in_(on_roster)))]
        return group.name, names


def test_a_worker_takes_a_groups_attendance_on_a_phone_in_three_actions(phone_page, live_server):
    name, members = a_group_of_twelve(live_server.app)
    page = phone_page
    sign_in(page, "worker@example.org")
    act = Actions()
    act(page.get_by_role("link", name=f"Take attendance: {name}").click)
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    sheet = page.locator(".attendance-sheet input[type=checkbox]")
    expect(sheet).to_have_count(GROUP_SIZE)
    assert all(box.is_checked() for box in sheet.all())  # everyone present until unticked
    absent = next(name for name in sorted(members) if members.count(name) == 1)
    act(page.get_by_label(absent).uncheck)
    assert_accessible(page)
    act(page.get_by_role("button", name="Save attendance").click)
    expect(page.get_by_text(re.compile(rf"Attendance saved for {re.escape(name)} .*: 11 present, 1 absent"))).to_be_visible()
    assert act.count < 5
    with live_server.app.app_context():
        group_id = db.session.scalar(sa.select(ProgramGroup.id).where(ProgramGroup.name == name))
        rows = db.session.execute(sa.select(ServiceContact.attended, ServiceContact.minutes, ServiceContact.contact_on)
                                  .where(ServiceContact.group_id == group_id)).all()
        assert len(rows) == GROUP_SIZE and sum(r.attended for r in rows) == GROUP_SIZE - 1
        assert {(r.minutes, r.contact_on) for r in rows} == {(75, today())}
    # the sheet of the day shows what was taken
    expect(page.get_by_label(absent)).not_to_be_checked()


def test_a_worker_logs_an_individual_contact_on_a_phone_in_under_five_actions(phone_page, live_server):
    page = phone_page
    sign_in(page, "worker@example.org")
    act = Actions()
    row = page.locator("#roster tbody tr").first
    student_name = row.locator("th a").first.inner_text()
    act(row.get_by_role("link", name=re.compile("Log a contact")).click)
    expect(page.get_by_role("heading", name="Log a contact")).to_be_visible()
    expect(page.get_by_label("Student")).to_have_value(re.compile(".+"))
    chips = page.locator(".choice-chips input[name=service]")
    if not any(chip.is_checked() for chip in chips.all()):
        act(page.locator(".choice-chips label").first.click)
    assert_accessible(page)
    act(page.get_by_role("button", name="Save contact").click)
    expect(page.get_by_text(re.compile(rf"Contact with {re.escape(student_name)} saved: 60 minutes"))).to_be_visible()
    assert act.count < 5
    with live_server.app.app_context():
        worker_id = db.session.scalar(sa.select(User.id).where(User.email == "worker@example.org"))
        contact = db.session.scalar(sa.select(ServiceContact).where(ServiceContact.recorded_by_id == worker_id,
                                                                    ServiceContact.group_id.is_(None))
                                    .order_by(ServiceContact.id.desc()).limit(1))
        assert (contact.minutes, contact.mode, contact.contact_on) == (60, "individual", today())
