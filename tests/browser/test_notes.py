"""Notes in two directions: a youth worker and a counselor write to each other about a
student, in place; once staff revoke the family's consent, the worker sees none of it."""
from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import expect

from casemgr.clock import today
from casemgr.extensions import db
from casemgr.models import Consent, ConsentRevocation, Organization, RosterEntry, Student, User
from tests.browser.conftest import assert_accessible, sign_in


def student_with_notes_consent(app) -> tuple[Student, str, str]:
    """A student of the demo counselor's school on the demo worker's roster, whose one
    active consent for the worker's organization covers notes."""
    with app.app_context():
        worker = db.session.scalar(sa.select(User).where(User.email == "worker@example.org"))
        counselor = db.session.scalar(sa.select(User).where(User.email == "counselor@example.org"))
        day = today()
        active = sa.select(Consent.student_id).where(
            Consent.organization_id == worker.organization_id,
            Consent.signed_on <= day,
            Consent.expires_on >= day,
            ~sa.exists().where(ConsentRevocation.consent_id == Consent.id),
        )
        student = db.session.scalar(
            sa.select(Student)
            .join(RosterEntry, RosterEntry.student_id == Student.id)
            .where(
                RosterEntry.organization_id == worker.organization_id,
                RosterEntry.removed_on.is_(None),
                Student.school_id == counselor.organization_id,
                Student.id.in_(active.where(Consent.categories.contains(["notes"]))),
                Student.id.not_in(active.group_by(Consent.student_id).having(sa.func.count() > 1)),
            )
            .order_by(Student.id.desc())
            .limit(1)
        )
        assert student is not None, "the seeded district has no student whose consent covers notes"
        organization = db.session.get(Organization, worker.organization_id).name
        school = db.session.get(Organization, counselor.organization_id).name
        db.session.expunge(student)
        return student, organization, school


def post_note(page, audience: str, topic: str, text: str) -> None:
    timeline = page.locator("#timeline")
    timeline.get_by_text("Write a note").click()
    preview = page.locator("#note-audience-preview")
    expect(preview).to_contain_text("will be able to read this note, you included")
    page.get_by_label(audience, exact=True).check()
    page.get_by_label("Topic").select_option(label=topic)
    page.get_by_label("Note", exact=True).fill(text)
    page.get_by_role("button", name="Post note").click()
    expect(timeline.get_by_role("status")).to_have_text("Note posted.")


def test_worker_and_counselor_write_to_each_other_until_the_consent_is_revoked(page, second_page, live_server):
    student, organization, school = student_with_notes_consent(live_server.app)
    record = f"/students/{student.uuid}"
    question = "Came to all three sessions this week.\nAsked whether the school has math tutoring."
    answer = "Thank you! Math tutoring starts Tuesday after school in room 12."

    worker = page
    sign_in(worker, "worker@example.org")
    worker.goto(record)
    worker.locator("#timeline").get_by_text("Write a note").click()
    preview = worker.locator("#note-audience-preview")
    expect(preview).to_contain_text(school)  # shared: the school can read it
    worker.get_by_label("My organization only").check()  # the preview follows the audience, live
    expect(preview).not_to_contain_text(school)
    expect(preview).to_contain_text(organization)
    worker.get_by_label("Shared", exact=True).check()
    expect(preview).to_contain_text(school)
    assert_accessible(worker)
    worker.get_by_label("Topic").select_option(label="Academic")
    worker.get_by_label("Note", exact=True).fill(question)
    worker.get_by_role("button", name="Post note").click()
    timeline = worker.locator("#timeline")
    expect(timeline.get_by_role("status")).to_have_text("Note posted.")
    expect(timeline.locator(".timeline__event").first).to_contain_text("Asked whether the school has math tutoring.")
    assert worker.locator("#timeline .note__body br").count() >= 1  # the line break is kept
    assert_accessible(worker)

    counselor = second_page
    sign_in(counselor, "counselor@example.org")
    counselor.goto(record)
    expect(counselor.locator("#timeline")).to_contain_text("Came to all three sessions this week.")
    post_note(counselor, "Shared", "Academic", answer)
    assert_accessible(counselor)

    worker.reload()
    expect(timeline.locator(".timeline__event").first).to_contain_text(answer)
    timeline.get_by_role("link", name="Amend your note of").first.click()  # in place, under the note
    worker.get_by_label("Amendment").fill("Correction: they came to two of the three sessions.")
    worker.get_by_role("button", name="Post amendment").click()
    expect(timeline.get_by_role("status")).to_have_text("Amendment posted.")
    expect(timeline).to_contain_text("Correction: they came to two of the three sessions.")
    expect(timeline).to_contain_text("Came to all three sessions this week.")  # the original stays

    counselor.get_by_role("link", name="Consents").click()
    counselor.get_by_role("link", name=f"Revoke consent for {organization}").first.click()
    counselor.get_by_label("Reason (optional)").fill("The family asked to stop sharing.")
    counselor.get_by_role("button", name="Revoke consent").click()
    expect(counselor.get_by_text(f"Consent for {organization} revoked.")).to_be_visible()

    worker.reload()
    expect(worker.get_by_role("heading", name="Consent needed")).to_be_visible()
    expect(worker.locator("main")).not_to_contain_text(answer)
    expect(worker.locator("main")).not_to_contain_text("Came to all three sessions")
    assert_accessible(worker)
