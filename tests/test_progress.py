"""Progress for the people doing the work (issue 17, item 3): a youth worker sees, for
each student of the roster, what changed since the organization began serving them,
only as far as the consents allow: exactly the policy's list face, student by student."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from casemgr import policy
from casemgr.clock import today
from casemgr.models import DisclosureEntry, SchoolEnrollment, Section, TierChange
from casemgr.models.enums import Category, Role
from casemgr.reads.indicator_cards import TIER_CATEGORIES
from tests.factories import (
    add_to_roster,
    create_agreement,
    create_attendance,
    create_calendar,
    create_consent,
    create_contact,
    create_district,
    create_mark,
    create_partner,
    create_school,
    create_school_year,
    create_service_agreement,
    create_student,
    create_user,
)
from tests.helpers import login, logout

TODAY = today()
YEAR = TODAY.year if TODAY.month >= 8 else TODAY.year - 1
YEAR_START = date(YEAR, 9, 1)
LONG_AGO = TODAY - timedelta(days=400)
LATER = TODAY + timedelta(days=200)
COMPLIANT = dict(confidentiality_signed_on=TODAY - timedelta(days=100), ferpa_trained_on=TODAY - timedelta(days=100))
SCHOOL_DAYS = [YEAR_START + timedelta(days=n) for n in range((TODAY - YEAR_START).days + 1)
               if (YEAR_START + timedelta(days=n)).weekday() < 5]


def _start_of_month(months_back: int) -> date:
    year, month = TODAY.year, TODAY.month - months_back
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1)


class World:
    def __init__(self, db):
        self.db = db
        self.district = create_district("Riverside Schools")
        create_school_year(self.district, YEAR)
        self.school = create_school(self.district, "high", "Riverside High")
        create_calendar(self.school, SCHOOL_DAYS, YEAR)
        self.partner = create_partner("Northside Youth")
        create_agreement(self.partner, self.district, categories=list(Category), starts_on=LONG_AGO, ends_on=LATER)
        create_service_agreement(self.partner, self.district, services=("tutoring",))
        self.worker = create_user(Role.YOUTH_WORKER, self.partner, **COMPLIANT)
        self.teacher = create_user(Role.TEACHER, self.school)
        self.section = Section(school_id=self.school.id, school_year=YEAR, local_id="ALG1", course_code="ALG1",
                               course_title="Algebra", subject="math", teacher_id=self.teacher.id)
        db.session.add(self.section)
        db.session.flush()

    def student(self, last: str, consent, absent_before: int = 0, absent_after: int = 0, began: date | None = None):
        student = create_student(self.school, first_name="Kid", last_name=last)
        self.db.session.add(SchoolEnrollment(student_id=student.id, school_id=self.school.id, school_year=YEAR,
                                             grade=9, entry_date=YEAR_START))
        add_to_roster(student, self.partner, added_on=YEAR_START)
        if consent:
            create_consent(student, self.partner, consent, signed_on=YEAR_START, expires_on=LATER)
        began = began or _start_of_month(1)
        before = [d for d in SCHOOL_DAYS if d < began]
        after = [d for d in SCHOOL_DAYS if d >= began]
        create_attendance(student, [(d, "unexcused" if n < absent_before else "present") for n, d in enumerate(before)]
                          + [(d, "unexcused" if n < absent_after else "present") for n, d in enumerate(after)])
        create_contact(student, self.partner, began, minutes=60)
        return student


def _card(html: str, name: str) -> str:
    start = html.index(name)
    return html[html.rindex("<li", 0, start):html.index("</li>", start)]


def test_attendance_failures_and_tier_since_service_began(client, db):
    w = World(db)
    began = _start_of_month(1)
    kid = w.student("Improving", list(Category), absent_before=10, absent_after=0, began=began)
    create_mark(kid, w.section, "F", term="Q1", recorded_on=began - timedelta(days=5))
    create_mark(kid, w.section, "C", term="Q2", recorded_on=TODAY)
    db.session.add_all([TierChange(student_id=kid.id, school_year=YEAR, since=YEAR_START, tier=3),
                        TierChange(student_id=kid.id, school_year=YEAR, since=TODAY, tier=2)])
    db.session.flush()
    login(client, w.worker)
    response = client.get("/services/progress")
    assert response.status_code == 200
    card = _card(response.get_data(as_text=True), "Kid Improving")
    before_days = [d for d in SCHOOL_DAYS if d < began]
    before = round((len(before_days) - 10) / len(before_days) * 100)
    assert f"{before}% before, 100% since" in card
    assert f"up {100 - before} points" in card
    assert "Q1 1" in card and "Q2 0 <small>(since service began)</small>" in card
    assert "3 when service began → 2 on" in card


def test_the_progress_shows_exactly_what_the_policy_lets_the_worker_see(client, db):
    w = World(db)
    kids = {
        "Everything": w.student("Everything", list(Category)),
        "AttendanceOnly": w.student("AttendanceOnly", ["identity", "attendance"]),
        "GradesOnly": w.student("GradesOnly", ["identity", "grades"]),
        "NoConsent": w.student("NoConsent", None),
    }
    for kid in kids.values():
        create_mark(kid, w.section, "F", term="Q1")
    login(client, w.worker)
    html = client.get("/services/progress").get_data(as_text=True)
    # the policy's list face, category by category, agrees with its record face here
    listed = {category: set(db.session.scalars(policy.visible_student_ids(w.worker, category)))
              for category in (Category.ATTENDANCE, Category.GRADES)}
    for last, kid in kids.items():
        visible = policy.categories_visible(w.worker, kid)
        for category, ids in listed.items():
            assert (kid.id in ids) == (category in visible), (last, category)
        card = _card(html, f"Kid {last}")
        if not visible.keys() - {Category.IDENTITY}:
            assert "Name only" in card and "%" not in card and "Q1" not in card
            continue
        assert ("Attendance rate by month" in card) == (Category.ATTENDANCE in visible), last
        assert ("Attendance: not covered" in card) == (Category.ATTENDANCE not in visible), last
        assert ("Failing marks by term" in card) == (Category.GRADES in visible), last
        assert ("Grades: not covered" in card) == (Category.GRADES not in visible), last
        assert ("Tier: none recorded yet" in card) == (TIER_CATEGORIES <= visible.keys()), last
        assert ("Tier: not covered" in card) == (not TIER_CATEGORIES <= visible.keys()), last
    # each row is logged on its own bases, with exactly the categories it showed
    db.session.expire_all()
    entries = db.session.scalars(sa.select(DisclosureEntry).where(DisclosureEntry.user_id == w.worker.id)).all()
    logged: dict[int, set[str]] = {}
    for entry in entries:
        for student_id in entry.student_ids or [entry.student_id]:
            logged.setdefault(student_id, set()).update(entry.categories)
    assert logged[kids["AttendanceOnly"].id] == {"identity", "attendance"}
    assert logged[kids["GradesOnly"].id] == {"identity", "grades"}
    assert logged[kids["NoConsent"].id] == set()
    assert logged[kids["Everything"].id] >= {"attendance", "grades", "behavior", "college"}


def test_a_revoked_consent_hides_the_progress_on_the_next_request(client, db):
    w = World(db)
    kid = w.student("Revoked", list(Category), absent_before=3)
    login(client, w.worker)
    assert "Attendance rate by month" in _card(client.get("/services/progress").get_data(as_text=True), "Kid Revoked")
    from casemgr.models import Consent, ConsentRevocation
    consent = db.session.scalar(sa.select(Consent).where(Consent.student_id == kid.id))
    db.session.add(ConsentRevocation(consent_id=consent.id, reason="The family changed its mind"))
    db.session.flush()
    card = _card(client.get("/services/progress").get_data(as_text=True), "Kid Revoked")
    assert "Attendance rate by month" not in card and "Name only" in card


def test_school_staff_and_unreached_workers_see_no_progress(client, db):
    w = World(db)
    w.student("Someone", list(Category))
    login(client, create_user(Role.COUNSELOR, w.school))
    assert client.get("/services/progress").status_code == 403
    untrained = create_user(Role.YOUTH_WORKER, w.partner, confidentiality_signed_on=TODAY - timedelta(days=10))
    logout(client)
    login(client, untrained)
    page = client.get("/services/progress").get_data(as_text=True)
    assert "Kid Someone" not in page and "not completed FERPA training" in page
    other = create_user(Role.YOUTH_WORKER, create_partner("Elsewhere"), **COMPLIANT)
    logout(client)
    login(client, other)
    assert "Kid Someone" not in client.get("/services/progress").get_data(as_text=True)
