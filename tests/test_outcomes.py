"""Outcomes by program (issue 17, item 4): hand-built school years with a known effect,
none, and every way a student can fall outside the comparison; the protection of the
figures; the rebuild after a recompute; and each program's reach."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from casemgr import attendance, indicators, outcomes
from casemgr.clock import today
from casemgr.models import (
    ConsentRevocation,
    CourseMark,
    ProgramOutcome,
    SchoolEnrollment,
    Section,
    ServiceContact,
    TierChange,
)
from tests.factories import (
    add_to_roster,
    create_calendar,
    create_consent,
    create_district,
    create_group,
    create_indicator,
    create_partner,
    create_school,
    create_school_year,
    create_student,
)
from tests.test_indicators import YEAR_END, YEAR_START, school_days  # the indicators' school year

YEAR = 2026


DAYS = school_days(60)  # twelve weeks
START = DAYS[20]  # the Monday of the fifth week
AS_OF = DAYS[-1]
TIER_RECORDED = DAYS[5]  # the year's first recompute, in its second week
# what a partner's rows need its students' consents to cover: the records of the measures
MEASURED = ["identity", "attendance", "grades", "behavior", "college"]


class Year:
    """A district's school year under construction: schools with a calendar, students
    with a stay, daily attendance, tiers and contacts, written in a few statements."""

    def __init__(self, db, schools: int = 2):
        self.db = db
        self.district = create_district()
        create_school_year(self.district, YEAR, YEAR_START, YEAR_END)
        self.schools = [create_school(self.district) for _ in range(schools)]
        for school in self.schools:
            create_calendar(school, DAYS, YEAR)
        self.partner = create_partner()
        self.days: list[tuple[int, date, str]] = []

    def pupil(self, school: int = 0, grade: int = 9, tier: int = 2, absent_before: int = 4, absent_after: int = 8,
              tier_now: int | None = None, tier_from: date | None = TIER_RECORDED, start: date = START):
        """A student present every day of the twelve weeks but `absent_before` days
        before `start` and `absent_after` days from it."""
        school = self.schools[school]
        student = create_student(school, grade=grade)
        self.db.session.add(SchoolEnrollment(student_id=student.id, school_id=school.id, school_year=YEAR,
                                             grade=grade, entry_date=YEAR_START))
        before = [d for d in DAYS if d < start]
        after = [d for d in DAYS if d >= start]
        for days, absent in ((before, absent_before), (after, absent_after)):
            self.days += [(student.id, d, "unexcused" if n < absent else "present") for n, d in enumerate(days)]
        if tier_from is None:  # no recompute wrote its history: the year's stored tier
            create_indicator(student, YEAR, tier=tier)
        else:
            self.db.session.add(TierChange(student_id=student.id, school_year=YEAR, since=tier_from, tier=tier))
        if tier_now is not None:
            self.db.session.add(TierChange(student_id=student.id, school_year=YEAR, since=DAYS[45], tier=tier_now))
        return student

    def pupils(self, count: int, **kwargs) -> list:
        return [self.pupil(**kwargs) for _ in range(count)]

    def serve(self, students, hours: int = 10, start: date = START, service: str = "tutoring", partner=None,
              attended: bool = True, group=None):
        """An hour's contact a school day from `start`, `hours` times."""
        partner = partner or self.partner
        days = [d for d in DAYS if d >= start][:hours]
        for student in students:
            self.db.session.add_all(
                ServiceContact(student_id=student.id, organization_id=partner.id, service=service, contact_on=d,
                               minutes=60, mode="group" if group else "individual", attended=attended,
                               group_id=group.id if group else None)
                for d in days)
        return students

    def fail(self, student, on: date) -> None:
        section = Section(school_id=student.school_id, school_year=YEAR, local_id=f"F{student.id}-{on}",
                          course_code="ENG", course_title="English", subject="english", credits=Decimal(1))
        self.db.session.add(section)
        self.db.session.flush()
        self.db.session.add(CourseMark(student_id=student.id, section_id=section.id, term="Q1", school_year=YEAR,
                                       mark="F", failing=True, recorded_on=on))

    def rebuild(self, as_of: date = AS_OF) -> int:
        self.db.session.flush()
        attendance.record(self.days)
        self.days = []
        return outcomes.rebuild(self.district.id, as_of)

    def consent(self, students, partner=None, categories=MEASURED, **fields) -> list:
        """On the partner's roster, with a consent naming it covering `categories`."""
        partner = partner or self.partner
        for student in students:
            add_to_roster(student, partner)
            create_consent(student, partner, categories=categories, **fields)
        return students

    def row(self, school: int | None = None, service: str = "tutoring", partner=None,
            audience: str = "district") -> ProgramOutcome:
        partner = partner or self.partner
        return self.db.session.scalar(sa.select(ProgramOutcome).where(
            ProgramOutcome.district_id == self.district.id, ProgramOutcome.organization_id == partner.id,
            ProgramOutcome.service == service, ProgramOutcome.audience == audience,
            ProgramOutcome.school_id.is_(None) if school is None else ProgramOutcome.school_id == self.schools[school].id))


def test_a_program_whose_students_attend_more_after_it_began_beside_peers_who_do_not(db):
    year = Year(db)
    served = year.serve(year.pupils(12, absent_before=4, absent_after=2, tier_now=1))
    peers = year.pupils(15, absent_before=4, absent_after=8)
    for peer in peers[:5]:
        year.fail(peer, DAYS[40])  # after service began: counted
    year.fail(served[0], DAYS[10])  # before: not
    year.rebuild()

    row = year.row()
    assert (row.served_n, row.matched_n, row.unmatched_n, row.comparison_n) == (12, 12, 0, 15)
    assert row.served_hours == Decimal("120.0") and row.served_min_hours == 10 and row.as_of == AS_OF
    assert (row.attendance_n, row.attendance_comparison_n) == (12, 15)
    assert row.attendance_before_served == row.attendance_before_comparison == Decimal("0.8000")  # 16 of 20 days
    assert row.attendance_after_served == Decimal("0.9500")  # 38 of 40
    assert row.attendance_after_comparison == Decimal("0.8000")  # 32 of 40
    assert (row.failures_served, row.failing_share_served) == (0, 0)
    assert (row.failures_comparison, row.failing_share_comparison) == (Decimal("0.333"), Decimal("0.3333"))
    assert (row.tier_n, row.tier_change_served, row.tier_improved_served, row.tier_worsened_served) == (12, -1, 1, 0)
    assert (row.tier_comparison_n, row.tier_change_comparison, row.tier_improved_comparison) == (15, 0, 0)
    # every served student was at the first school: its row is the same
    school_row = year.row(0)
    assert (school_row.served_n, school_row.comparison_n, school_row.attendance_after_served) == (12, 15, Decimal("0.9500"))
    assert year.row(1) is None

    shown = outcomes.protected(year.district.id, YEAR)
    assert len(shown) == 1 and shown[0].attendance_change("served") - shown[0].attendance_change("comparison") \
        == Decimal("0.15")


def test_a_program_with_no_effect_shows_no_difference(db):
    year = Year(db)
    year.serve(year.pupils(12, absent_before=3, absent_after=6), service="mentoring")
    year.pupils(12, absent_before=3, absent_after=6)
    year.rebuild()
    row = year.row(service="mentoring")
    assert row.attendance_before_served == row.attendance_before_comparison
    assert row.attendance_after_served == row.attendance_after_comparison
    assert row.failures_served == row.failures_comparison == 0
    assert row.tier_change_served == row.tier_change_comparison == 0


def test_comparison_students_are_of_the_same_school_grade_and_tier_and_not_served_by_the_program(db):
    year = Year(db)
    year.serve(year.pupils(10, absent_after=0))
    year.pupils(10, absent_after=4)  # the peers: present 36 days of 40 after
    odd = {"absent_after": 40}  # were any of these counted with the peers, the comparison would fall
    year.pupil(school=1, **odd)  # another school
    year.pupil(grade=10, **odd)  # another grade
    year.pupil(tier=3, **odd)  # another tier
    year.pupil(tier_now=3, **odd)  # tier 2, and 3 only after service began: a peer
    changed = year.pupil(**odd)
    db.session.add(TierChange(student_id=changed.id, school_year=YEAR, since=DAYS[15], tier=3))  # 3 by the start
    year.serve([year.pupil(tier=3, absent_after=0)])  # served at tier 3: the two of tier 3 are its peers
    year.serve([year.pupil(**odd)], hours=9)  # the program's, under its 10 hours: neither served nor a peer
    year.serve([year.pupil(absent_after=4)], service="mentoring")  # another program's: a peer
    group = create_group(year.partner, service="tutoring")
    year.serve([year.pupil(absent_after=4)], group=group, attended=False)  # on a sheet, never came: a peer
    year.rebuild()

    row = year.row()
    assert (row.served_n, row.matched_n, row.comparison_n) == (11, 11, 13 + 2)
    assert row.attendance_after_served == 1
    # each served student's peers' mean, averaged: twelve peers present 36 days of 40 and
    # the one who rose later none, for ten; the two of tier 3 none, for one
    tier_2 = Decimal(12 * 36) / (13 * 40)
    assert row.attendance_after_comparison == round(10 * tier_2 / 11, 4)
    assert row.tier_worsened_comparison == round(Decimal(10) / 13 / 11, 4)
    assert year.row(service="mentoring").comparison_n >= 10 + 10  # the tutored students are its peers


def test_served_takes_the_districts_hours_and_attended_contacts_only(db):
    year = Year(db)
    year.serve(year.pupils(10))
    absent = year.serve(year.pupils(2), hours=20, attended=False, group=create_group(year.partner))
    year.pupils(10)
    year.district.served_min_hours = 12
    year.rebuild()
    assert year.row() is None  # ten hours each: nobody served at 12
    year.district.served_min_hours = 10
    year.rebuild()
    assert year.row().served_n == 10 and year.row().served_min_hours == 10
    assert absent


def test_a_served_student_without_peers_is_unmatched_and_left_out_of_both_sides(db):
    year = Year(db)
    year.serve(year.pupils(10, absent_after=0))
    year.pupils(10, absent_after=4)
    year.serve([year.pupil(grade=11, absent_after=40)])  # nobody else in grade 11
    year.rebuild()
    row = year.row()
    assert (row.served_n, row.matched_n, row.unmatched_n) == (11, 10, 1)
    assert row.attendance_n == row.failures_n == row.tier_n == 10
    assert row.attendance_after_served == 1 and row.served_hours == Decimal("110.0")
    lonely = year.row(0)
    assert lonely.served_n == 11  # the grade-11 student's school is the same one


@pytest.mark.parametrize("first_contact", [DAYS[2], DAYS[7]])  # days before the start week: none, five
def test_service_begun_in_the_first_weeks_compares_the_prior_years_rate_and_the_first_tier_recorded(db, first_contact):
    year = Year(db)
    monday = first_contact - timedelta(days=first_contact.weekday())
    served = year.serve(year.pupils(10, start=monday, absent_after=0), start=first_contact)
    peers = year.pupils(10, start=monday, absent_after=0)
    for student in served:
        create_indicator(student, YEAR - 1, rate="0.9000", days_enrolled=170)
    for student in peers:
        create_indicator(student, YEAR - 1, rate="0.7000", days_enrolled=170)
    year.serve([year.pupil(start=monday, absent_after=0)], start=first_contact)  # no prior year
    year.rebuild()
    row = year.row()
    # fewer days before the start week than the district's minimum (10): last year's rates;
    # the first week's Monday comes before any tier recorded, and takes the first
    assert (row.served_n, row.matched_n, row.comparison_n) == (11, 11, 10)
    assert (row.attendance_n, row.attendance_before_served, row.attendance_before_comparison) == \
        (10, Decimal("0.9000"), Decimal("0.7000"))
    assert row.attendance_after_served == row.attendance_after_comparison == 1
    assert row.tier_n == 11


def test_a_student_without_tier_history_is_matched_on_the_years_stored_tier(db):
    year = Year(db)
    year.serve(year.pupils(10, tier=3, tier_from=None))
    year.pupils(10, tier=3, tier_from=None)
    year.pupils(3, tier=1, tier_from=None)
    year.rebuild()
    row = year.row()
    assert (row.served_n, row.matched_n, row.comparison_n, row.tier_n, row.tier_change_served) == (10, 10, 10, 10, 0)


def test_rebuild_is_idempotent_and_replaces_the_year(db):
    year = Year(db)
    year.serve(year.pupils(10))
    year.pupils(10)
    first = year.rebuild()
    columns = [c for c in ProgramOutcome.__table__.columns if c.name not in ("id", "computed_at")]

    def stored():
        return db.session.execute(sa.select(*columns).where(ProgramOutcome.district_id == year.district.id)
                                  .order_by(ProgramOutcome.school_id.nulls_first())).all()

    before = stored()
    assert first == len(before) == 2
    assert year.rebuild() == 2 and stored() == before


def test_a_present_recompute_leaves_fresh_outcomes(db):
    day = today()
    district = create_district()
    school = create_school(district)
    create_school_year(district, day.year, day - timedelta(days=60), day + timedelta(days=200))
    days = [d for d in (day - timedelta(days=n) for n in range(60, -1, -1)) if d.weekday() < 5]
    create_calendar(school, days, day.year)
    partner = create_partner()
    students = []
    for _ in range(3):
        student = create_student(school, grade=9)
        db.session.add(SchoolEnrollment(student_id=student.id, school_id=school.id, school_year=day.year, grade=9,
                                        entry_date=days[0]))
        students.append(student)
    db.session.add_all(ServiceContact(student_id=students[0].id, organization_id=partner.id, service="tutoring",
                                      contact_on=d, minutes=120, mode="individual") for d in days[-10:])
    db.session.flush()
    indicators.recompute(district.id, day)
    row = db.session.scalar(sa.select(ProgramOutcome).where(ProgramOutcome.district_id == district.id,
                                                            ProgramOutcome.school_id.is_(None)))
    assert (row.served_n, row.matched_n, row.comparison_n, row.as_of) == (1, 1, 2, day)


# --- the partner's rows --------------------------------------------------------------

STORED = [name for name in outcomes.FIGURES]


def figures(row: ProgramOutcome | None) -> dict | None:
    return None if row is None else {name: getattr(row, name) for name in STORED}


def test_the_partner_rows_count_only_rostered_students_whose_consent_covers_attendance(db):
    year = Year(db)
    readable = year.consent(year.serve(year.pupils(8, absent_after=0)))
    unreadable = year.serve(year.pupils(7, absent_after=8))
    _no_consent, no_attendance, revoked, removed, expired, not_yet, elsewhere = unreadable
    for student in unreadable:
        add_to_roster(student, year.partner, removed_on=DAYS[30] if student is removed else None)
    create_consent(no_attendance, year.partner, categories=["identity", "grades", "behavior", "college"])
    db.session.flush()
    db.session.add(ConsentRevocation(consent_id=create_consent(revoked, year.partner, categories=MEASURED).id))
    create_consent(removed, year.partner, categories=MEASURED)
    create_consent(expired, year.partner, categories=MEASURED, expires_on=AS_OF - timedelta(days=1))
    create_consent(not_yet, year.partner, categories=MEASURED, signed_on=AS_OF + timedelta(days=1))
    create_consent(elsewhere, create_partner(), categories=MEASURED)
    year.pupils(15, absent_after=8)
    year.rebuild()

    district, partner = year.row(), year.row(audience="partner")
    assert (district.served_n, district.comparison_n, district.served_hours) == (15, 15, Decimal("150.0"))
    assert district.attendance_after_served == round(Decimal(8 * 40 + 7 * 32) / (15 * 40), 4)
    assert (partner.served_n, partner.matched_n, partner.comparison_n, partner.served_hours) == \
        (8, 8, 15, Decimal("80.0"))
    assert (partner.attendance_n, partner.attendance_after_served) == (8, 1)  # only the readable eight
    assert partner.attendance_after_comparison == district.attendance_after_comparison == Decimal("0.8000")
    assert year.row(0, audience="partner").served_n == 8
    assert len(readable) == 8
    # each reader reads its own version
    [shown] = outcomes.protected(year.district.id, YEAR, year.partner.id, minimum_n=5, audience="partner")
    assert shown.served_n == 8 and shown.shown("attendance")
    # failures and tiers are made of records such a consent need not cover: never shown to the partner
    assert not shown.shown("failures") and not shown.shown("tier")
    assert shown.figures["failures_served"] is None and shown.figures["tier_change_served"] is None
    [shown] = outcomes.protected(year.district.id, YEAR, year.partner.id, minimum_n=5)
    assert shown.served_n == 15
    assert [r.served_n for r in outcomes.read(year.district.id, YEAR, audience="partner")] == [8]
    with pytest.raises(ValueError):
        outcomes.read(year.district.id, YEAR, audience="everyone")


def test_a_program_without_a_student_the_partner_may_read_has_no_partner_rows(db):
    year = Year(db)
    year.serve(year.pupils(12))
    year.pupils(12)
    assert year.rebuild() == 2
    assert year.row() is not None and year.row(audience="partner") is None
    assert outcomes.protected(year.district.id, YEAR, year.partner.id, audience="partner") == []


def test_a_student_ever_on_the_roster_that_year_is_never_a_comparison_student(db):
    year = Year(db)
    year.consent(year.serve(year.pupils(10, absent_after=0)))
    year.pupils(10, absent_after=4)  # the peers: present 36 days of 40 after
    odd = {"absent_after": 40}  # were any of these counted with the peers, the comparison would fall
    for student in year.pupils(3, **odd):  # on the roster, never served
        add_to_roster(student, year.partner)
    gone = year.pupil(**odd)  # on it for a fortnight at the start of the year
    add_to_roster(gone, year.partner, added_on=YEAR_START, removed_on=DAYS[10])
    last_year = year.pupil(absent_after=4)  # on it last year only: a peer
    add_to_roster(last_year, year.partner, added_on=date(2025, 9, 1), removed_on=YEAR_START)
    other = year.pupil(absent_after=4)  # on another partner's roster: a peer
    add_to_roster(other, create_partner())
    year.rebuild()

    for audience in ("district", "partner"):
        row = year.row(audience=audience)
        assert (row.served_n, row.comparison_n, row.attendance_comparison_n) == (10, 12, 12), audience
        assert row.attendance_after_comparison == Decimal("0.9000"), audience  # 36 of 40 each


@pytest.mark.parametrize("hours_before", [0, 9])  # in the comparison pool's reach, or just under the threshold
def test_pushing_a_student_without_consent_over_the_threshold_leaves_the_partners_figures_as_they_were(db, hours_before):
    """The differencing a partner could try: the served students at the minimum n, all
    consenting, and one student on its roster without a consent. Logging that student's
    hours over the threshold and reading the page again tells the partner nothing."""
    year = Year(db)
    year.consent(year.serve(year.pupils(10, absent_before=4, absent_after=2, tier_now=1)))
    year.pupils(15, absent_before=4, absent_after=8)
    target = year.pupil(absent_before=0, absent_after=40, tier_now=3)  # figures unlike anyone else's
    add_to_roster(target, year.partner)
    year.fail(target, DAYS[40])
    if hours_before:
        year.serve([target], hours=hours_before)
    year.rebuild()
    before = figures(year.row(audience="partner"))
    shown_before = outcomes.protected(year.district.id, YEAR, year.partner.id, audience="partner")
    district_before = figures(year.row())
    assert before["served_n"] == 10 and before["comparison_n"] == 15
    assert shown_before[0].served_n == 10 and shown_before[0].shown("attendance")

    year.serve([target], hours=10 - hours_before, start=[d for d in DAYS if d >= START][hours_before])
    year.rebuild()
    assert figures(year.row()) != district_before and year.row().served_n == 11  # the district counts them
    assert figures(year.row(audience="partner")) == before
    assert [f.figures for f in outcomes.protected(year.district.id, YEAR, year.partner.id, audience="partner")] == \
        [f.figures for f in shown_before]


# --- protection ----------------------------------------------------------------------

def outcome(school_id=None, served=20, unmatched=0, comparison=30, n=None, comparison_n=None, **values):
    """A stored row as `rebuild` would leave it, every measure of `n` served students."""
    n = served - unmatched if n is None else n
    comparison_n = comparison if comparison_n is None else comparison_n
    figures = {
        "served_hours": Decimal(12 * served), "attendance_before_served": Decimal("0.9"),
        "attendance_after_served": Decimal("0.93"), "attendance_before_comparison": Decimal("0.9"),
        "attendance_after_comparison": Decimal("0.91"), "failures_served": Decimal("0.4"),
        "failures_comparison": Decimal("0.5"), "failing_share_served": Decimal("0.3"),
        "failing_share_comparison": Decimal("0.35"), "tier_change_served": Decimal("-0.2"),
        "tier_change_comparison": Decimal("-0.1"), "tier_improved_served": Decimal("0.3"),
        "tier_improved_comparison": Decimal("0.2"), "tier_worsened_served": Decimal("0.2"),
        "tier_worsened_comparison": Decimal("0.2"), "served_n": served, "matched_n": served - unmatched, "unmatched_n": unmatched,
        "comparison_n": comparison, "attendance_n": n, "attendance_comparison_n": comparison_n, "failures_n": n,
        "failures_comparison_n": comparison_n, "tier_n": n, "tier_comparison_n": comparison_n}
    figures.update(values)
    return ProgramOutcome(district_id=1, school_year=YEAR, organization_id=7, service="tutoring", school_id=school_id,
                          as_of=AS_OF, served_min_hours=10, **figures)


def test_a_program_of_fewer_students_than_the_minimum_shows_nothing():
    [figures] = outcomes.protect([outcome(served=9)], 10)
    assert all(value is None for value in figures.figures.values())
    [figures] = outcomes.protect([outcome(served=10)], 10)
    assert figures.served_n == 10 and figures.shown("attendance") and not figures.hidden


def test_a_measure_of_fewer_comparison_or_served_students_than_the_minimum_is_hidden():
    [few_peers] = outcomes.protect([outcome(comparison=8)], 10)
    assert few_peers.served_n == 20 and few_peers.comparison_n is None
    assert not any(few_peers.shown(m) for m in outcomes.MEASURES)
    [few_rates] = outcomes.protect([outcome(attendance_n=6)], 10)
    assert not few_rates.shown("attendance") and few_rates.attendance_n is None
    assert few_rates.attendance_change("served") is None
    assert few_rates.shown("failures") and few_rates.shown("tier")


def test_a_few_unmatched_students_hide_the_matched_count_and_the_measures_n():
    [figures] = outcomes.protect([outcome(served=20, unmatched=3)], 10)
    assert figures.matched_n is figures.unmatched_n is None
    assert figures.failures_n is None and figures.failures_served == Decimal("0.4")  # its n is the matched n
    assert figures.shown("failures")


def test_shares_near_none_or_all_are_coded_and_their_means_hidden():
    [figures] = outcomes.protect([outcome(served=12, tier_improved_served=Decimal(1),
                                          failing_share_comparison=Decimal(0))], 10)
    assert figures.coded == {"tier_improved_served": ("at_least", 90), "failing_share_comparison": ("at_most", 5)}
    assert figures.tier_improved_served is None and figures.tier_change_served is None
    assert figures.tier_change_comparison == Decimal("-0.1")
    assert figures.failures_comparison is None and figures.failures_served == Decimal("0.4")


def test_school_rows_that_subtraction_would_reveal_are_hidden_too():
    schools = [outcome(school_id=1, served=25), outcome(school_id=2, served=12, comparison=15),
               outcome(school_id=3, served=3, comparison=5)]
    shown = outcomes.protect([outcome(served=40, comparison=50), *schools], 10)
    by_school = {f.school_id: f for f in shown}
    assert by_school[None].served_n == 40
    assert by_school[3].served_n is None  # too few
    assert by_school[2].served_n is None  # else 40 - 25 - 12 = 3
    assert by_school[1].served_n == 25 and by_school[1].shown("attendance")


def test_students_placed_at_no_school_are_protected_in_the_all_schools_row():
    schools = [outcome(school_id=1, served=15), outcome(school_id=2, served=12)]
    shown = outcomes.protect([outcome(served=30, unmatched=3, comparison=60), *schools], 10)
    by_school = {f.school_id: f for f in shown}
    assert by_school[2].served_n is None and by_school[1].served_n == 15


def test_a_school_measure_hidden_is_not_left_to_subtraction():
    schools = [outcome(school_id=1, served=30), outcome(school_id=2, served=30, attendance_n=4)]
    shown = outcomes.protect([outcome(served=60, comparison=60, attendance_n=34), *schools], 10)
    by_school = {f.school_id: f for f in shown}
    assert not by_school[2].shown("attendance") and not by_school[1].shown("attendance")
    assert by_school[None].shown("attendance") and by_school[1].shown("tier")


def test_protected_reads_the_stored_rows_with_the_districts_minimum(db):
    year = Year(db)
    year.serve(year.pupils(12))
    year.pupils(6)
    year.rebuild()
    [figures] = outcomes.protected(year.district.id, YEAR)
    assert figures.served_n == 12 and figures.comparison_n is None and not figures.shown("attendance")
    year.district.report_minimum_n = 5
    [figures] = outcomes.protected(year.district.id, YEAR)
    assert figures.comparison_n == 6 and figures.shown("attendance")
    assert figures.organization_name == year.partner.name
    assert [f.school_id for f in outcomes.protected(year.district.id, YEAR, school_id=year.schools[0].id)] == \
        [year.schools[0].id]


# --- reach ---------------------------------------------------------------------------

def test_reach_counts_served_contacted_sessions_and_hours(db):
    year = Year(db)
    group_members = year.pupils(3)
    for student in group_members:
        add_to_roster(student, year.partner)
    group = create_group(year.partner, group_members, service="tutoring")
    year.serve(group_members[:2], hours=12, group=group)  # twelve meetings, two attend
    year.serve(group_members[2:], hours=12, group=group, attended=False)
    year.serve(year.pupils(1), hours=3)  # three individual hours
    year.serve(year.pupils(1), hours=2, service="mentoring")
    year.rebuild()
    reach = {r.service: r for r in outcomes.reach(year.district.id, YEAR)}
    assert (reach["tutoring"].served, reach["tutoring"].contacted, reach["tutoring"].sessions,
            reach["tutoring"].hours) == (2, 3, 12 + 3, Decimal("27.0"))
    assert type(reach["tutoring"].sessions) is int
    assert (reach["mentoring"].served, reach["mentoring"].contacted) == (0, 1)
    assert outcomes.reach(year.district.id, YEAR, organization_id=create_partner().id) == []
    shown = {r.service: r for r in outcomes.protect_reach(list(reach.values()), 10)}
    assert shown["tutoring"].contacted is None and shown["tutoring"].hours is None


def test_reach_hides_a_served_count_that_subtraction_would_reveal():
    reach = outcomes.Reach(organization_id=1, organization_name="P", service="tutoring", served=20, contacted=23,
                           sessions=40, hours=Decimal(300))
    [shown] = outcomes.protect_reach([reach], 10)
    assert shown.served is None and shown.contacted == 23 and shown.sessions == 40


@pytest.mark.parametrize("as_of", [DAYS[19], YEAR_START - timedelta(days=1)])
def test_nothing_is_stored_before_any_service(db, as_of):
    year = Year(db)
    year.serve(year.pupils(10))
    year.pupils(10)
    assert year.rebuild(as_of) == 0
