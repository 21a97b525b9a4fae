"""Tier history: a recompute records a student's tier when it changes, so the tier on an
earlier day can be read back; the attendance rate on an earlier day is counted from the
same records as the stored indicator."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from casemgr import indicators
from casemgr.models import Student, StudentIndicator, TierChange
from casemgr.reads.changes import attendance_rates_on, attendance_rates_on_subquery, tier_on
from tests.factories import create_attendance, create_student
from tests.test_indicators import YEAR_START, enrolled_student, school, school_days  # noqa: F401  (fixture)


def history(db, student) -> list[tuple]:
    return db.session.execute(
        sa.select(TierChange.since, TierChange.tier).where(TierChange.student_id == student.id).order_by(TierChange.since)
    ).all()


def tier_then(db, student, day):
    return db.session.scalar(sa.select(tier_on(Student.id, day)).where(Student.id == student.id))


def test_a_row_is_written_only_when_the_tier_changes(db, school):
    days = school_days(20)
    # present the first ten days, then absent every day: tier 1 until absences reach 20%
    student = enrolled_student(db, school, absences=0, days=10)
    create_attendance(student, [(day, "unexcused") for day in days[10:20]])
    for day in days[9:20]:
        indicators.recompute(student.district_id, day)
    # on the 10th day all present (tier 1); 10% absent on the 12th (chronic: tier 2);
    # 20% absent on the 13th (severe: tier 3), and tier 3 from then on
    assert history(db, student) == [(days[9], 1), (days[11], 2), (days[12], 3)]


def test_the_tier_on_a_day_is_the_newest_row_on_or_before_it(db, school):
    days = school_days(20)
    student = enrolled_student(db, school, absences=0, days=10)
    create_attendance(student, [(day, "unexcused") for day in days[10:20]])
    for day in (days[9], days[12]):
        indicators.recompute(student.district_id, day)
    assert tier_then(db, student, YEAR_START.replace(day=1)) is None  # before any recompute
    assert tier_then(db, student, days[9]) == 1
    assert tier_then(db, student, days[11]) == 1  # no recompute between: the last known tier
    assert tier_then(db, student, days[12]) == 3
    assert tier_then(db, student, days[19]) == 3


def test_a_second_recompute_on_the_same_day_corrects_that_days_row(db, school):
    days = school_days(20)
    student = enrolled_student(db, school, absences=0, days=20)
    indicators.recompute(student.district_id, days[19])
    assert history(db, student) == [(days[19], 1)]
    create_attendance(student, [(day, "unexcused") for day in days[:4]])  # a late import: 20% absent
    indicators.recompute(student.district_id, days[19])
    assert history(db, student) == [(days[19], 3)]
    stored = db.session.scalar(sa.select(StudentIndicator.tier).where(StudentIndicator.student_id == student.id))
    assert stored == 3


def test_a_recompute_writes_no_row_for_an_unchanged_tier_of_another_district(db, school):
    days = school_days(20)
    student = enrolled_student(db, school, absences=0, days=20)
    indicators.recompute(student.district_id, days[19])
    before = db.session.scalar(sa.select(sa.func.count()).select_from(TierChange))
    indicators.recompute(student.district_id, days[19])
    indicators.recompute(None, days[19])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TierChange)) == before


def test_the_attendance_rate_on_an_earlier_day_matches_the_indicator_computed_then(db, school):
    days = school_days(20)
    steady = enrolled_student(db, school, absences=0, days=10)
    create_attendance(steady, [(day, "unexcused") for day in days[10:20]])
    unenrolled = create_student(school, grade=10)
    for day in (days[9], days[14]):
        indicators.recompute(steady.district_id, day)
        stored = db.session.scalar(sa.select(StudentIndicator.attendance_rate)
                                   .where(StudentIndicator.student_id == steady.id))
        rates = attendance_rates_on(school.district_id, [steady.id, unenrolled.id], day)
        assert rates == {steady.id: stored, unenrolled.id: None}
    assert attendance_rates_on(school.district_id, [steady.id], days[14])[steady.id] == Decimal("0.6667")
    assert attendance_rates_on(school.district_id, [steady.id], YEAR_START.replace(month=7)) == {steady.id: None}
    assert attendance_rates_on(school.district_id, [], days[14]) == {}


def test_the_rates_joined_in_a_statement_are_the_rates_read_on_their_own(db, school):
    """The partner home joins the rates then into its statement of changes
    (`attendance_rates_on_subquery`, which looks up the school year itself): the same
    rates as `attendance_rates_on`, none before the school year began."""
    days = school_days(20)
    steady = enrolled_student(db, school, absences=0, days=10)
    create_attendance(steady, [(day, "unexcused") for day in days[10:20]])
    unenrolled = create_student(school, grade=10)
    ids = [steady.id, unenrolled.id]
    for day in (days[9], days[14]):
        rates = attendance_rates_on_subquery(school.district_id, ids, day)
        joined = dict(db.session.execute(
            sa.select(Student.id, rates.c.rate).outerjoin(rates, rates.c.id == Student.id).where(Student.id.in_(ids))
        ).all())
        assert joined == attendance_rates_on(school.district_id, ids, day)
    assert joined[steady.id] == Decimal("0.6667")
    before_the_year = attendance_rates_on_subquery(school.district_id, ids, YEAR_START.replace(month=7))
    assert dict(db.session.execute(sa.select(before_the_year.c.id, before_the_year.c.rate)).all()) == dict.fromkeys(ids)
    assert attendance_rates_on_subquery(school.district_id, [], days[14]) is None
