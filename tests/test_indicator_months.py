"""The current school year month by month (issue 15, item 1): each student's indicators as
of each ended month are the indicators a recompute as of that day computes (the same
statement, written to its own table), and only what is due is computed again."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from casemgr import indicators
from casemgr.models import IndicatorMonth, SchoolYear, Student, StudentIndicator
from casemgr.reads import report_cube
from tests.test_seed import seeded_database
from tests.test_seed import session as session  # noqa: F401 (the fixture, on this module's district)

AS_OF = date(2026, 11, 20)
COMPARED = ("days_enrolled", "chronic_absence", "severe_absence", "course_failures", "core_failure",
            "ninth_grade_on_track", "credits_on_track", "suspensions", "fafsa_status", "tier")


@pytest.fixture(scope="module")
def seeded_app(pg_server_url):
    with seeded_database(pg_server_url, 300, 5, AS_OF) as app:
        yield app


def _district(session) -> int:
    """The seed's demo district (the partnership's second district is recomputed apart)."""
    return session.scalar(sa.select(SchoolYear.district_id).order_by(SchoolYear.district_id).limit(1))


def _of(district: int, model):
    return model.student_id.in_(sa.select(Student.id).where(Student.district_id == district))


def test_month_ends_are_the_ended_months_of_the_school_year():
    year = SchoolYear(year=2026, starts_on=date(2026, 8, 17), ends_on=date(2027, 6, 11))
    assert indicators.month_ends(year, date(2026, 11, 20)) == [date(2026, 8, 31), date(2026, 9, 30), date(2026, 10, 31)]
    assert indicators.month_ends(year, date(2026, 8, 31)) == []
    assert indicators.month_ends(year, date(2027, 9, 1))[-1] == date(2027, 5, 31)  # June ends after the year


def test_each_month_holds_what_a_recompute_as_of_its_end_computes(session):
    district = _district(session)
    written = indicators.recompute_months(district, AS_OF)
    assert written == [date(2026, 8, 31), date(2026, 9, 30), date(2026, 10, 31)]
    for end in written:
        monthly = {row.student_id: tuple(getattr(row, c) for c in COMPARED)
                   for row in session.scalars(sa.select(IndicatorMonth).where(IndicatorMonth.month_end == end,
                                                                              _of(district, IndicatorMonth)))}
        savepoint = session.begin_nested()
        indicators.recompute_district(district, end)
        yearly = {row.student_id: tuple(getattr(row, c) for c in COMPARED)
                  for row in session.scalars(sa.select(StudentIndicator).where(StudentIndicator.school_year == 2026,
                                                                               _of(district, StudentIndicator)))}
        savepoint.rollback()
        assert monthly == yearly, end
    # the months differ: attendance and marks accumulate
    chronic = [session.scalar(sa.select(sa.func.count()).where(IndicatorMonth.month_end == end,
                                                                IndicatorMonth.chronic_absence)) for end in written]
    enrolled = [session.scalar(sa.select(sa.func.sum(IndicatorMonth.days_enrolled))
                               .where(IndicatorMonth.month_end == end)) for end in written]
    assert enrolled == sorted(enrolled) and len(set(enrolled)) == 3 and len(set(chronic)) > 1


def test_only_the_last_month_and_missing_ones_are_computed_again(session):
    district = _district(session)
    indicators.recompute_months(district, AS_OF)
    assert indicators.recompute_months(district, AS_OF) == [date(2026, 10, 31)]
    session.execute(sa.delete(IndicatorMonth).where(IndicatorMonth.month_end == date(2026, 9, 30)))
    assert indicators.recompute_months(district, AS_OF) == [date(2026, 9, 30), date(2026, 10, 31)]


def test_a_month_is_counted_by_the_reports_like_the_year(session):
    district = _district(session)
    indicators.recompute_months(district, AS_OF)
    month = report_cube.cubes(session.execute(report_cube.cells_statement(district, 2026, date(2026, 10, 31))).all())
    year = report_cube.cubes(session.execute(report_cube.cells_statement(district, 2026)).all())
    assert month["enrolled"][()].n > 0 and month["enrolled"][()].n <= year["enrolled"][()].n + 5
    assert month["chronic_absence"] != year["chronic_absence"]
