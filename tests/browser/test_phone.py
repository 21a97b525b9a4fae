"""Partner staff on a phone (issue 14, item 4): at 390×844 a youth worker reads the
roster as cards, keeps the consent filter across a refresh, opens a student without
consent and sees one panel saying so, asks the school to request consent; the
counselor then sees the request in their home's queue and on their notices, and marks it handled."""
from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from casemgr.clock import today
from casemgr.extensions import db
from casemgr.models import Consent, ConsentAsk, ConsentRevocation, RosterEntry, Student, User
from tests.browser.conftest import assert_accessible, sign_in


def _active(organization_id, day):
    return sa.select(Consent.student_id).where(
        Consent.organization_id == organization_id, Consent.signed_on <= day, Consent.expires_on >= day,
        ~sa.exists().where(ConsentRevocation.consent_id == Consent.id))


def students_of_the_worker(app) -> tuple[Student, Student | None]:
    """(a student on the worker's roster, at the counselor's school, without an active
    consent for the worker's organization or an open request; one whose consent covers
    notes, if the seed has one)."""
    with app.app_context():
        worker = db.session.scalar(sa.select(User).where(User.email == "worker@example.org"))
        counselor = db.session.scalar(sa.select(User).where(User.email == "counselor@example.org"))
        day = today()
        rostered = (
            sa.select(Student).join(RosterEntry, RosterEntry.student_id == Student.id)
            .where(RosterEntry.organization_id == worker.organization_id, RosterEntry.removed_on.is_(None),
                   RosterEntry.added_on <= day)
            .order_by(Student.id).limit(1)
        )
        without = db.session.scalar(rostered.where(
            Student.school_id == counselor.organization_id,
            Student.id.not_in(_active(worker.organization_id, day)),
            Student.id.not_in(sa.select(ConsentAsk.student_id).where(ConsentAsk.handled_at.is_(None)))))
        assert without is not None, "the seeded district has no student without consent on the worker's roster"
        with_notes = db.session.scalar(rostered.where(Student.id.in_(
            _active(worker.organization_id, day).where(Consent.categories.contains(["notes"])))))
        for student in (without, with_notes):
            if student is not None:
                db.session.expunge(student)
        return without, with_notes


def test_a_worker_on_a_phone_reads_cards_and_asks_for_consent_and_the_counselor_sees_it(
        phone_page, second_page, live_server):
    student, with_notes = students_of_the_worker(live_server.app)
    page = phone_page
    sign_in(page, "worker@example.org")
    row = page.locator("#roster tbody tr").first
    expect(row).to_be_visible()
    page.wait_for_load_state()  # the stylesheet read, as the phone shows the page (a loaded machine can lag)
    assert row.evaluate("r => getComputedStyle(r).display") != "table-row"
    cell = row.locator("td[data-label='Consent']")
    assert cell.evaluate("c => getComputedStyle(c, '::before').content") == '"Consent"'
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the roster scrolls sideways"
    # column headings never break inside a word
    heading = page.locator("#roster thead th").first
    assert heading.evaluate("h => [getComputedStyle(h).overflowWrap, getComputedStyle(h).wordBreak, "
                            "getComputedStyle(h).hyphens]") == ["normal", "normal", "manual"]
    assert_accessible(page)

    # the consent filter is in the address: a refresh keeps it
    page.locator("#roster").get_by_role("link", name="No active consent").click()
    expect(page).to_have_url(re.compile(r"consent=missing"))
    page.reload()
    expect(page.locator("#roster").get_by_role("link", name="No active consent")).to_have_attribute(
        "aria-current", "true")

    page.goto(f"/students/{student.uuid}")
    panel = page.locator("#consent-panel")
    expect(panel).to_be_visible()
    expect(panel.get_by_role("heading", name="Consent needed")).to_be_visible()
    expect(page.locator(".hidden-reason")).to_have_count(0)
    expect(page.get_by_role("link", name="Reload")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page)
    panel.get_by_role("button", name="Ask the school to request consent").click()
    expect(page.locator(".flash--success")).to_contain_text("The school has been asked to request a consent")
    expect(panel).to_contain_text("The request is open")
    expect(panel.get_by_role("button", name="Ask the school to request consent")).to_have_count(0)
    assert_accessible(page)

    # a student whose consent covers notes: "Write a note" comes before the indicator cards
    assert with_notes is not None, "the seeded district has no consent covering notes for the worker"
    page.goto(f"/students/{with_notes.uuid}")
    compose = page.locator(".note-compose summary")
    expect(compose).to_have_text("Write a note")
    cards = page.locator(".cards")
    expect(cards).to_be_visible()
    assert compose.bounding_box()["y"] < cards.bounding_box()["y"]
    assert_accessible(page)

    counselor = second_page
    sign_in(counselor, "counselor@example.org")
    counselor.goto("/")  # the request is in the home's queue, and leads to the student
    queued = counselor.locator("#queue-consent_asks").get_by_role("link", name=student.display_name)
    expect(queued).to_be_visible()
    queued.click()
    expect(counselor.locator("#consent-asks .consent-ask", has_text="Northside Youth")).to_be_visible()
    counselor.goto("/notices")
    asks = counselor.locator("#consent-asks")
    expect(asks).to_be_visible()
    request = asks.locator(".consent-ask", has_text=student.display_name)
    expect(request).to_contain_text("Northside Youth")
    assert_accessible(counselor)
    request.get_by_label("What was done (optional)").fill("Called the family; release form sent home")
    request.get_by_role("button", name="Mark handled").click()
    expect(counselor.locator(".flash--success")).to_contain_text("is marked handled")
    expect(counselor.locator(".consent-ask", has_text=student.display_name)).to_have_count(0)
    assert_accessible(counselor)


def test_a_parent_on_a_phone_reads_the_course_marks_as_cards_with_headings_unbroken(phone_page):
    page = phone_page
    sign_in(page, "parent@example.org")
    page.locator(".child-card").first.get_by_role(
        "link", name=re.compile("See the whole record|Ver el expediente completo")).click()
    courses = page.locator("section[aria-labelledby='courses-heading']")
    expect(courses).to_be_visible()
    table = courses.locator("table")
    expect(table).to_have_count(1)
    page.wait_for_load_state()  # the stylesheet read, as the phone shows the page
    # the family pages let long words wrap anywhere; a column heading never breaks inside a word
    heading = table.locator("thead th").first
    assert heading.evaluate("h => [getComputedStyle(h).overflowWrap, getComputedStyle(h).hyphens]") == [
        "normal", "manual"]
    row = table.locator("tbody tr").first
    assert row.evaluate("r => getComputedStyle(r).display") != "table-row"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page)
