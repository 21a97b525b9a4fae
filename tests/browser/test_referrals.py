"""A referral from a flag to accepted to closed: the counselor refers, records the
family's paper consent, and the partner admin accepts and closes it (issue 5)."""
from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import expect

from casemgr.extensions import db
from casemgr.models import Consent, Flag, GuardianLink, Organization, Referral, RosterEntry, Student, User
from tests.browser.conftest import assert_accessible, sign_in


def referrable_student(app) -> Student:
    """A student of the demo counselor's school, with a guardian who can sign, whom
    Northside Youth has never seen: not on its roster, no consent, no referral, no flag."""
    with app.app_context():
        counselor = db.session.scalar(sa.select(User).where(User.email == "counselor@example.org"))
        northside = db.session.scalar(sa.select(Organization).where(Organization.name == "Northside Youth"))
        student = db.session.scalar(
            sa.select(Student)
            .where(
                Student.school_id == counselor.organization_id,
                Student.grade.between(9, 11),
                Student.id.in_(sa.select(GuardianLink.student_id).where(GuardianLink.educational_rights.is_(True))),
                Student.id.not_in(sa.select(RosterEntry.student_id).where(RosterEntry.organization_id == northside.id)),
                Student.id.not_in(sa.select(Consent.student_id)),
                Student.id.not_in(sa.select(Referral.student_id)),
                Student.id.not_in(sa.select(Flag.student_id)),
            )
            .order_by(Student.id)
            .limit(1)
        )
        assert student is not None, "the seeded school has no student to refer"
        db.session.expunge(student)
        return student


def test_a_referral_from_flag_to_accepted_to_closed(page, second_page, live_server):
    student = referrable_student(live_server.app)
    sign_in(page, "counselor@example.org")
    page.goto(f"/students/{student.uuid}")
    timeline = page.locator("#timeline")
    timeline.get_by_role("link", name="Raise a flag").click()
    page.get_by_label("Need").select_option(label="Mentoring")
    page.get_by_role("button", name="Raise flag").click()

    timeline.get_by_role("link", name="Refer to an organization for mentoring").click()
    expect(page.get_by_role("heading", name="Refer for mentoring")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Northside Youth").check()
    page.get_by_label("Message to the organization (optional)").fill("Quiet in class; loves basketball.")
    page.get_by_role("button", name="Send referral").click()

    expect(page.locator("#referral-status")).to_have_text("Awaiting family consent")
    assert_accessible(page)
    page.get_by_role("link", name="Record a paper consent").click()
    expect(page.get_by_label("Organization named on the release").locator("option:checked")).to_have_text("Northside Youth")
    for label in ("Identity", "Attendance", "Services"):
        page.get_by_label(label, exact=True).check()
    page.get_by_label("Purpose stated on the release").fill("Mentoring after school")
    page.get_by_label("Signed by").select_option(index=1)
    page.get_by_role("button", name="Record consent").click()
    expect(page.get_by_text("Consent for Northside Youth recorded.")).to_be_visible()

    partner = second_page
    sign_in(partner, "partner@example.org")
    partner.get_by_role("link", name="Referral inbox").click()
    expect(partner.get_by_role("heading", name="Referral inbox")).to_be_visible()
    assert_accessible(partner)
    partner.get_by_role("link", name=student.display_name).click()
    expect(partner.locator("main")).to_contain_text("Quiet in class; loves basketball.")
    assert_accessible(partner)
    partner.get_by_role("button", name="Accept referral").click()
    expect(partner.get_by_text("Referral accepted: the student is now on your roster.")).to_be_visible()
    partner.get_by_label("Outcome").fill("Joined the Tuesday group; came to six of six sessions.")
    partner.get_by_role("button", name="Close referral").click()
    expect(partner.locator("#referral-status")).to_have_text("Closed")

    page.goto(f"/students/{student.uuid}")
    expect(timeline).to_contain_text("Northside Youth accepted the referral for mentoring")
    expect(timeline).to_contain_text("Outcome: Joined the Tuesday group; came to six of six sessions.")
    timeline.get_by_role("link", name="Northside Youth").first.click()
    expect(page.locator("#referral-status")).to_have_text("Closed")
    expect(page.locator("#referral-history")).to_contain_text("Accepted")
    with live_server.app.app_context():
        referral = db.session.scalar(sa.select(Referral).where(Referral.student_id == student.id))
        assert referral.status == "closed"
        assert [e.status for e in referral.events] == ["awaiting_consent", "sent", "accepted", "closed"]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RosterEntry).where(
            RosterEntry.student_id == student.id, RosterEntry.organization_id == referral.organization_id)) == 1
