"""Indicators and tiers at the edges of their thresholds (SPEC §5)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from casemgr import indicators
from casemgr.models import (
    CalendarDay,
    CourseMark,
    CreditRecord,
    DisciplineIncident,
    FafsaRecord,
    SchoolEnrollment,
    SchoolYear,
    Section,
    SectionEnrollment,
    StudentIndicator,
    ThresholdSettings,
)
from tests.factories import create_attendance, create_school, create_student

YEAR_START = date(2026, 8, 17)  # a Monday
YEAR_END = date(2027, 6, 11)


def school_days(count: int, start: date = YEAR_START) -> list[date]:
    days, day = [], start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


@pytest.fixture()
def school(db):
    school = create_school(level="high")
    db.session.add(SchoolYear(district_id=school.district_id, year=2026, starts_on=YEAR_START, ends_on=YEAR_END))
    for day in school_days(40):
        db.session.add(CalendarDay(school_id=school.id, day=day, school_year=2026, instructional=True))
    db.session.flush()
    return school


def enrolled_student(db, school, absences: int = 0, days: int = 20, grade: int = 10, entry: date = YEAR_START,
                     exit_date: date | None = None, status: str = "unexcused"):
    student = create_student(school, grade=grade, birth_date=date(2026 - grade - 6, 1, 1))
    db.session.add(SchoolEnrollment(student_id=student.id, school_id=school.id, school_year=2026, grade=grade,
                                    entry_date=entry, exit_date=exit_date))
    create_attendance(student, [(day, status if n < absences else "present") for n, day in enumerate(school_days(days))])
    if grade >= 10:  # on track for credits unless a test says otherwise
        db.session.add(CreditRecord(student_id=student.id, school_year=2025, grade=grade - 1,
                                    credits_attempted=Decimal(5 * (grade - 9)), credits_earned=Decimal(5 * (grade - 9))))
    db.session.flush()
    return student


def computed(db, student, as_of: date) -> StudentIndicator:
    indicators.recompute(student.district_id, as_of)
    return db.session.scalar(sa.select(StudentIndicator).where(StudentIndicator.student_id == student.id))


AS_OF = school_days(20)[-1]  # the 20th school day


@pytest.mark.parametrize(
    "absences, rate, band, chronic, severe, tier",
    [
        (0, "1.0000", "on_track", False, False, 1),
        (1, "0.9500", "on_track", False, False, 1),
        (2, "0.9000", "watch", True, False, 2),   # exactly 10%: chronic
        (3, "0.8500", "at_risk", True, False, 2),
        (4, "0.8000", "at_risk", True, True, 3),  # exactly 20%: severe, tier 3 on its own
        (5, "0.7500", "critical", True, True, 3),
    ],
)
def test_attendance_bands_and_chronic_absence_at_their_edges(db, school, absences, rate, band, chronic, severe, tier):
    student = enrolled_student(db, school, absences=absences)
    row = computed(db, student, AS_OF)
    assert row.days_enrolled == 20 and row.days_absent == absences
    assert row.attendance_rate == Decimal(rate)
    assert (row.attendance_band, row.chronic_absence, row.severe_absence, row.tier) == (band, chronic, severe, tier)


def test_chronic_absence_needs_ten_enrolled_days(db, school):
    nine = enrolled_student(db, school, absences=5, days=9)
    assert computed(db, nine, school_days(9)[-1]).chronic_absence is False
    ten = enrolled_student(db, school, absences=1, days=10)
    assert computed(db, ten, school_days(10)[-1]).chronic_absence is True


def test_every_absence_kind_counts_and_tardy_does_not(db, school):
    for status, absent in (("excused", 2), ("suspended", 2), ("tardy", 0)):
        student = enrolled_student(db, school, absences=2, status=status)
        assert computed(db, student, AS_OF).days_absent == absent


def test_enrolled_days_follow_entry_exit_and_the_as_of_date(db, school):
    days = school_days(40)
    late = enrolled_student(db, school, days=0, entry=days[5], exit_date=days[14])
    assert computed(db, late, days[30]).days_enrolled == 10
    assert computed(db, late, days[9]).days_enrolled == 5


def _section(db, school, subject="math", credits="1", local_id=None):
    section = Section(school_id=school.id, school_year=2026, local_id=local_id or f"{subject}-{id(object())}",
                      course_code=subject.upper(), course_title=subject.title(), subject=subject, credits=Decimal(credits))
    db.session.add(section)
    db.session.flush()
    return section


def _mark(db, student, section, term="Q1", failing=False, earned="0"):
    if term == "Q1":
        db.session.add(SectionEnrollment(section_id=section.id, student_id=student.id, entry_date=YEAR_START))
    db.session.add(CourseMark(student_id=student.id, section_id=section.id, term=term, school_year=2026,
                              mark="F" if failing else "B", failing=failing,
                              credits_attempted=section.credits if term == "FINAL" else 0,
                              credits_earned=Decimal(earned), recorded_on=YEAR_START + timedelta(days=10)))
    db.session.flush()


def test_course_failures_flag_english_and_math(db, school):
    art_fail = enrolled_student(db, school)
    _mark(db, art_fail, _section(db, school, "other"), failing=True)
    row = computed(db, art_fail, AS_OF)
    assert (row.course_failures, row.core_failure, row.tier) == (1, False, 2)
    math_fail = enrolled_student(db, school)
    _mark(db, math_fail, _section(db, school, "math"), failing=True)
    assert computed(db, math_fail, AS_OF).core_failure is True


def test_ninth_grade_on_track_edges(db, school):
    on_track = enrolled_student(db, school, grade=9)
    for n in range(5):
        _mark(db, on_track, _section(db, school, "english", local_id=f"a{n}"))
    assert computed(db, on_track, AS_OF).ninth_grade_on_track is True

    one_core_f = enrolled_student(db, school, grade=9)
    sections = [_section(db, school, "english", local_id=f"b{n}") for n in range(6)]
    for section in sections:
        _mark(db, one_core_f, section)
    _mark(db, one_core_f, sections[0], term="S1", failing=True)
    assert computed(db, one_core_f, AS_OF).ninth_grade_on_track is True  # ≤ 1 core semester F, 5 credits left

    _mark(db, one_core_f, sections[1], term="S1", failing=True)
    assert computed(db, one_core_f, AS_OF).ninth_grade_on_track is False  # two core semester Fs


def test_credits_against_the_schedule(db, school):
    behind = enrolled_student(db, school, grade=11)
    db.session.execute(sa.update(CreditRecord).where(CreditRecord.student_id == behind.id)
                       .values(credits_earned=Decimal("9.5")))
    row = computed(db, behind, AS_OF)
    assert (row.credits_earned, row.credits_expected, row.credits_on_track) == (Decimal("9.50"), Decimal("10.00"), False)
    on_track = enrolled_student(db, school, grade=11)
    assert computed(db, on_track, AS_OF).credits_on_track is True


def test_a_suspension_is_off_track(db, school):
    student = enrolled_student(db, school)
    db.session.add(DisciplineIncident(student_id=student.id, school_id=school.id, incident_code="I1",
                                      occurred_on=AS_OF, school_year=2026, incident_type="Fight",
                                      action="out_of_school_suspension", days=Decimal(2)))
    db.session.flush()
    row = computed(db, student, AS_OF)
    assert (row.suspensions, row.off_track_count, row.tier) == (1, 1, 2)


@pytest.mark.parametrize(
    "status, as_of, off_track",
    [
        ("submitted", date(2027, 2, 28), False),
        ("submitted", date(2027, 3, 1), True),  # not complete by 1 March
        ("complete", date(2027, 3, 1), False),
        (None, date(2027, 3, 2), True),          # nothing recorded: not started
    ],
)
def test_fafsa_for_seniors(db, school, status, as_of, off_track):
    senior = enrolled_student(db, school, grade=12)
    if status:
        db.session.add(FafsaRecord(student_id=senior.id, school_year=2026, status=status, status_on=YEAR_START))
        db.session.flush()
    row = computed(db, senior, as_of)
    assert row.fafsa_off_track is off_track
    assert row.fafsa_status == (status or "not_started")


def test_two_indicators_make_tier_three(db, school):
    student = enrolled_student(db, school, absences=2)  # chronic
    _mark(db, student, _section(db, school, "math"), failing=True)
    row = computed(db, student, AS_OF)
    assert (row.off_track_count, row.tier) == (2, 3)


def test_each_row_records_its_as_of_date_and_settings_version(db, school):
    student = enrolled_student(db, school, absences=1)  # 5%: not chronic by default
    first = computed(db, student, AS_OF)
    assert (first.as_of, first.settings.version, first.chronic_absence) == (AS_OF, 1, False)
    db.session.add(ThresholdSettings(district_id=school.district_id, version=2, chronic_absence_rate=Decimal("0.05")))
    db.session.flush()
    db.session.expire_all()
    second = computed(db, student, AS_OF)
    assert (second.settings.version, second.chronic_absence) == (2, True)


def test_recompute_is_idempotent(db, school):
    student = enrolled_student(db, school, absences=3)
    first = computed(db, student, AS_OF)
    snapshot = (first.days_absent, first.attendance_rate, first.tier)
    db.session.expire_all()
    second = computed(db, student, AS_OF)
    assert (second.days_absent, second.attendance_rate, second.tier) == snapshot
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StudentIndicator)) == 1


def test_each_row_keeps_the_students_name_for_the_caseload_order_and_a_recompute_refreshes_it(db, school):
    student = enrolled_student(db, school)
    row = computed(db, student, AS_OF)
    assert (row.sort_last_name, row.sort_first_name) == (student.last_name, student.first_name)
    student.last_name, student.first_name = "Renamed", "Robin"
    db.session.flush()
    db.session.expire_all()
    row = computed(db, student, AS_OF)
    assert (row.sort_last_name, row.sort_first_name) == ("Renamed", "Robin")


def test_an_earlier_year_counts_its_own_students_in_that_years_grade(db, school):
    """A school year's rows are for the students enrolled in it, in the grade of their stay
    then; a student who left before it began has none, and one enrolled only later has
    none of an earlier year; a student with no stay at all keeps getting this year's."""
    earlier_start, earlier_end = date(2025, 8, 18), date(2026, 6, 12)
    db.session.add(SchoolYear(district_id=school.district_id, year=2025, starts_on=earlier_start, ends_on=earlier_end))
    for day in school_days(30, earlier_start):
        db.session.add(CalendarDay(school_id=school.id, day=day, school_year=2025, instructional=True))
    now_tenth = enrolled_student(db, school, grade=10)
    db.session.add(SchoolEnrollment(student_id=now_tenth.id, school_id=school.id, school_year=2025, grade=9,
                                    entry_date=earlier_start, exit_date=earlier_end))
    graduate = create_student(school, grade=12, left_on=earlier_end)
    db.session.add(SchoolEnrollment(student_id=graduate.id, school_id=school.id, school_year=2025, grade=12,
                                    entry_date=earlier_start, exit_date=earlier_end))
    newcomer = enrolled_student(db, school, grade=11)  # enrolled this year only
    unplaced = create_student(school, grade=9)  # imported without an entry date
    db.session.flush()
    indicators.recompute(school.district_id, date(2026, 7, 31))
    earlier = {row.student_id: row for row in db.session.scalars(
        sa.select(StudentIndicator).where(StudentIndicator.school_year == 2025))}
    assert set(earlier) == {now_tenth.id, graduate.id, unplaced.id}
    assert earlier[now_tenth.id].days_enrolled == 30
    assert earlier[now_tenth.id].ninth_grade_on_track is not None  # judged as the ninth grader they were
    assert earlier[now_tenth.id].credits_expected == Decimal("5.00")  # the end of ninth grade: the year was over
    assert earlier[graduate.id].fafsa_status == "not_started"
    indicators.recompute(school.district_id, AS_OF)
    this_year = set(db.session.scalars(
        sa.select(StudentIndicator.student_id).where(StudentIndicator.school_year == 2026)))
    assert this_year == {now_tenth.id, newcomer.id, unplaced.id}
