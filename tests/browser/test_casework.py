"""A counselor flags a need, opens a support plan from the flag and records a check-in."""
from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import expect

from casemgr.extensions import db
from casemgr.models import Flag, Note, Student, SupportPlan, User
from tests.browser.conftest import assert_accessible, sign_in


def unflagged_student(app) -> Student:
    """A student of the demo counselor's school with no flag, plan or note yet."""
    with app.app_context():
        counselor = db.session.scalar(sa.select(User).where(User.email == "counselor@example.org"))
        student = db.session.scalar(
            sa.select(Student)
            .where(
                Student.school_id == counselor.organization_id,
                Student.id.not_in(sa.select(Flag.student_id)),
                Student.id.not_in(sa.select(SupportPlan.student_id)),
                Student.id.not_in(sa.select(Note.student_id)),
            )
            .order_by(Student.id)
            .limit(1)
        )
        assert student is not None, "the seeded school has no student without a flag"
        db.session.expunge(student)
        return student


def test_counselor_raises_a_flag_and_runs_a_support_plan_from_it(page, live_server):
    student = unflagged_student(live_server.app)
    sign_in(page, "counselor@example.org")
    page.goto(f"/students/{student.uuid}")
    timeline = page.locator("#timeline")
    expect(timeline.get_by_text("Nothing on the timeline yet.")).to_be_visible()

    timeline.get_by_role("link", name="Raise a flag").click()
    expect(page.get_by_role("heading", name="Raise a flag")).to_be_visible()
    page.get_by_label("Need").select_option(label="Attendance support")
    page.get_by_label("Details (optional)").fill("Absent four of the last five Mondays.")
    page.get_by_role("button", name="Raise flag").click()

    expect(page.get_by_text("Flag raised: attendance support.")).to_be_visible()
    expect(timeline).to_contain_text("Raised a flag: Attendance support")
    expect(timeline).to_contain_text("Absent four of the last five Mondays.")
    assert_accessible(page)

    timeline.get_by_role("link", name="Open a support plan for attendance support").click()
    expect(page.get_by_role("heading", name="Open a support plan")).to_be_visible()
    expect(page.get_by_label("For the flagged need").locator("option:checked")).to_contain_text("Attendance support")
    page.get_by_label("Tier").select_option(label="Tier 2: targeted support")
    page.get_by_label("Goal").fill("Be in school every Monday for six weeks.")
    page.get_by_label("Strategies").fill("Monday morning check-in with the counselor; a call home after any absence.")
    page.get_by_role("button", name="Open plan").click()

    expect(page.get_by_text("Support plan opened.")).to_be_visible()
    expect(page.get_by_role("heading", name="Support plan: tier 2")).to_be_visible()
    expect(page.locator("#next-check-in")).to_contain_text("Next check-in due on")
    page.get_by_label("What happened").fill("Came in on Monday; we set a morning routine.")
    page.get_by_role("button", name="Record check-in").click()

    expect(page.get_by_text("Check-in recorded.")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Came in on Monday; we set a morning routine.")
    assert_accessible(page)

    with live_server.app.app_context():
        plan = db.session.scalar(sa.select(SupportPlan).where(SupportPlan.student_id == student.id))
        flag = db.session.scalar(sa.select(Flag).where(Flag.student_id == student.id))
        assert plan.flag_id == flag.id and (plan.duration_weeks, plan.checkin_every_days) == (6, 7)
        assert [c.summary for c in plan.check_ins] == ["Came in on Monday; we set a morning routine."]
