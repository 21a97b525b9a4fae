"""Revocation takes effect on the very next request (SPEC §4 rule 1)."""
from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import expect

from casemgr.clock import today
from casemgr.extensions import db
from casemgr.models import Consent, ConsentRevocation, Organization, RosterEntry, Student, User
from tests.browser.conftest import assert_accessible, sign_in


def consented_student(app) -> tuple[Student, str]:
    """A high-school student on the worker's roster whose one active consent for the
    worker's organization covers attendance."""
    with app.app_context():
        worker = db.session.scalar(sa.select(User).where(User.email == "worker@example.org"))
        counselor = db.session.scalar(sa.select(User).where(User.email == "counselor@example.org"))
        day = today()
        active = (
            sa.select(Consent.student_id)
            .where(
                Consent.organization_id == worker.organization_id,
                Consent.signed_on <= day,
                Consent.expires_on >= day,
                ~sa.exists().where(ConsentRevocation.consent_id == Consent.id),
            )
        )
        covering = active.where(Consent.categories.contains(["attendance"]))
        student = db.session.scalar(
            sa.select(Student)
            .join(RosterEntry, RosterEntry.student_id == Student.id)
            .where(
                RosterEntry.organization_id == worker.organization_id,
                RosterEntry.removed_on.is_(None),
                Student.school_id == counselor.organization_id,
                Student.id.in_(covering),
                Student.id.not_in(active.group_by(Consent.student_id).having(sa.func.count() > 1)),
            )
            .order_by(Student.id)
            .limit(1)
        )
        assert student is not None, "the seeded district has no consented student for this test"
        organization = db.session.get(Organization, worker.organization_id)
        db.session.expunge(student)
        return student, organization.name


def test_worker_loses_attendance_on_the_next_request_after_staff_revoke(page, second_page, live_server):
    student, organization = consented_student(live_server.app)
    record = f"/students/{student.uuid}"

    sign_in(page, "worker@example.org")
    page.goto(record)
    attendance = page.locator("#section-attendance")
    expect(attendance).to_be_visible()
    expect(attendance.locator(".hidden-reason")).to_have_count(0)
    assert_accessible(page)

    counselor = second_page
    sign_in(counselor, "counselor@example.org")
    counselor.goto(record)
    counselor.get_by_role("link", name="Consents").click()
    expect(counselor.get_by_role("heading", name="Consents")).to_be_visible()
    assert_accessible(counselor)
    counselor.get_by_role("link", name=f"Revoke consent for {organization}").first.click()
    expect(counselor.get_by_role("heading", level=2)).to_contain_text(f"Revoke the consent for {organization}?")
    counselor.get_by_label("Reason (optional)").fill("Parent called the school to stop sharing.")
    counselor.get_by_role("button", name="Revoke consent").click()
    expect(counselor.get_by_text(f"Consent for {organization} revoked.")).to_be_visible()

    page.reload()
    # the worker now sees the name only: one consent panel says what is missing, no section
    expect(page.locator("#consent-panel")).to_contain_text("attendance")
    expect(attendance).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("recorded school days")
