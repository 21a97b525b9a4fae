"""The mock district's earlier school years (issue 15, item 1): what each year holds, the
past graduates, the indicators of each year as of its end, and figures that move from
year to year and differ between groups of students.

One district seeded once into a database of its own, read by every test.
"""
from __future__ import annotations

from datetime import date

import pytest

from casemgr.seed import history
from tests.test_seed import rows, scalar, seeded_database
from tests.test_seed import session as session  # noqa: F401 (the fixture, on this module's district)

AS_OF = date(2026, 11, 20)
YEAR = 2026
STUDENTS = 400
SEED = 11
EARLIER = [YEAR - k for k in range(history.HISTORY_YEARS, 0, -1)]  # oldest first


@pytest.fixture(scope="module")
def seeded_app(pg_server_url):
    with seeded_database(pg_server_url, STUDENTS, SEED, AS_OF) as app:
        yield app


def test_three_earlier_school_years_with_their_calendars(session):
    assert history.HISTORY_YEARS == 3
    # each district of the partnership has the same four years
    by_district = rows(session, "SELECT array_agg(year ORDER BY year) FROM school_years GROUP BY district_id")
    assert [years for (years,) in by_district] == [EARLIER + [YEAR]] * 2
    years = rows(session, "SELECT DISTINCT year, starts_on, ends_on FROM school_years ORDER BY year")
    assert [year for year, _, _ in years] == EARLIER + [YEAR]
    for (year, starts_on, ends_on), (following, next_start, _) in zip(years, years[1:]):
        assert (starts_on.year, starts_on.month, ends_on.year, ends_on.month) == (year, 8, year + 1, 6)
        assert ends_on < next_start and following == year + 1
    per_year = dict(rows(session, """
        SELECT y.year, count(DISTINCT c.day) FROM school_years y
        JOIN calendar_days c ON c.school_year = y.year AND c.instructional GROUP BY y.year"""))
    assert all(175 <= per_year[year] <= 200 for year in EARLIER)


def test_todays_students_were_a_grade_lower_each_year_back(session):
    wrong = rows(session, """
        SELECT s.id, s.grade, e.school_year, e.grade FROM students s JOIN school_enrollments e ON e.student_id = s.id
        WHERE s.left_on IS NULL AND e.grade <> s.grade - (:year - e.school_year)""", year=YEAR)
    assert wrong == []
    # every one of them who was in kindergarten or above then, and no one younger, in the
    # district they were at then (a student who moved has the other district's record of
    # those years, with the same state ID), and in one district only
    for year in EARLIER:
        expected = scalar(session, "SELECT count(*) FROM students WHERE left_on IS NULL AND grade - :back >= 0",
                          back=YEAR - year)
        enrolled, records = rows(session, """
            SELECT count(DISTINCT s.state_id), count(DISTINCT s.id) FROM school_enrollments e
            JOIN students s ON s.id = e.student_id
            WHERE e.school_year = :year AND s.state_id IN (SELECT state_id FROM students WHERE left_on IS NULL)""",
                                    year=year)[0]
        assert enrolled == records == expected > 0
    # in a school of the level of that year's grade; earlier stays ended with their year
    assert scalar(session, """
        SELECT count(*) FROM school_enrollments e JOIN organizations o ON o.id = e.school_id
        WHERE o.level <> CASE WHEN e.grade < 6 THEN 'elementary' WHEN e.grade < 9 THEN 'middle' ELSE 'high' END""") == 0
    assert scalar(session, """
        SELECT count(*) FROM school_enrollments e JOIN school_years y ON y.year = e.school_year
        WHERE e.school_year < :year AND (e.exit_date IS NULL OR e.exit_date > y.ends_on)""", year=YEAR) == 0


def test_this_years_stays_carry_the_students_grade(session):
    assert scalar(session, """
        SELECT count(*) FROM school_enrollments e JOIN students s ON s.id = e.student_id
        WHERE e.school_year = :year AND e.grade <> s.grade""", year=YEAR) == 0


GRADUATES = """s.left_on IS NOT NULL AND s.state_id NOT IN (SELECT state_id FROM students WHERE left_on IS NULL)"""


def test_past_graduates_left_and_are_not_enrolled_this_year(session):
    """The leavers who are no one's student today: the past graduates (the others moved
    to another district of the partnership: tests/test_seed.py)."""
    graduates = rows(session, f"""
        SELECT s.id, s.left_on, s.grade, o.level,
               (SELECT max(e.school_year) FROM school_enrollments e WHERE e.student_id = s.id) AS last_year,
               (SELECT e.grade FROM school_enrollments e WHERE e.student_id = s.id
                ORDER BY e.school_year DESC LIMIT 1) AS last_grade
        FROM students s JOIN organizations o ON o.id = s.school_id WHERE {GRADUATES}""")
    assert graduates
    ends = dict(rows(session, "SELECT year, ends_on FROM school_years"))
    for _, left_on, grade, level, last_year, last_grade in graduates:
        assert (grade, level, last_grade) == (12, "high", 12)
        assert last_year in EARLIER and left_on == ends[last_year]
    assert {last_year for *_, last_year, _ in graduates} == set(EARLIER)
    ids = [row[0] for row in graduates]
    assert scalar(session, "SELECT count(*) FROM school_enrollments WHERE school_year = :year "
                           "AND student_id = ANY(:ids)", year=YEAR, ids=ids) == 0
    assert scalar(session, "SELECT count(*) FROM student_indicators WHERE school_year = :year "
                           "AND student_id = ANY(:ids)", year=YEAR, ids=ids) == 0
    assert scalar(session, "SELECT count(*) FROM guardian_links WHERE student_id = ANY(:ids)", ids=ids) == 0
    # none shares a state ID or a local ID with anyone else of the partnership
    assert scalar(session, "SELECT count(*) FROM students s WHERE s.id = ANY(:ids) AND EXISTS ("
                           "SELECT 1 FROM students o WHERE o.id <> s.id AND (o.state_id = s.state_id "
                           "OR o.local_id = s.local_id))", ids=ids) == 0


def test_each_earlier_year_has_every_kind_of_record(session):
    for year in EARLIER:
        counts = rows(session, """
            SELECT (SELECT count(*) FROM attendance_years a JOIN school_years y ON y.id = a.school_year_id
                    WHERE y.year = :year),
                   (SELECT count(*) FROM course_marks WHERE school_year = :year AND term = 'FINAL'),
                   (SELECT count(*) FROM credit_records WHERE school_year = :year),
                   (SELECT count(*) FROM assessments WHERE school_year = :year),
                   (SELECT count(*) FROM discipline_incidents WHERE school_year = :year),
                   (SELECT count(*) FROM sections WHERE school_year = :year)""", year=year)[0]
        assert all(count > 0 for count in counts), (year, counts)
        # a FAFSA status for every senior of that year
        seniors = scalar(session, "SELECT count(DISTINCT student_id) FROM school_enrollments "
                                  "WHERE school_year = :year AND grade = 12", year=year)
        fafsa = scalar(session, "SELECT count(*) FROM fafsa_records f JOIN school_enrollments e "
                                "ON e.student_id = f.student_id AND e.school_year = f.school_year AND e.grade = 12 "
                                "WHERE f.school_year = :year", year=year)
        assert fafsa == seniors > 0


def test_earlier_sections_give_no_teacher_today_s_students(session):
    """An earlier year's sections have no teacher of record and every seat in them has
    ended: the teacher-of-record grant (a seat open today) cannot come from them."""
    assert scalar(session, "SELECT count(*) FROM sections WHERE school_year < :year AND teacher_id IS NOT NULL",
                  year=YEAR) == 0
    assert scalar(session, """
        SELECT count(*) FROM section_enrollments e JOIN sections x ON x.id = e.section_id
        WHERE x.school_year < :year AND (e.exit_date IS NULL OR e.exit_date >= :today)""",
                  year=YEAR, today=AS_OF) == 0


def test_indicators_of_each_year_as_of_its_end_for_every_student_enrolled(session):
    for year in EARLIER:
        enrolled = {sid for (sid,) in rows(session, "SELECT DISTINCT student_id FROM school_enrollments "
                                                    "WHERE school_year = :year", year=year)}
        stored = rows(session, "SELECT student_id, as_of FROM student_indicators WHERE school_year = :year", year=year)
        assert {sid for sid, _ in stored} == enrolled
        # the district's school year ends on 31 July (years turn on 1 August), after the final marks
        assert {as_of for _, as_of in stored} == {date(year + 1, 7, 31)}
        finals = scalar(session, """
            SELECT count(*) FROM student_indicators si
            WHERE si.school_year = :year AND si.credits_on_track IS NOT NULL""", year=year)
        assert finals > 0
    assert scalar(session, "SELECT count(*) FROM student_indicators WHERE school_year = :year", year=YEAR) == scalar(
        session, "SELECT count(*) FROM students WHERE left_on IS NULL")
    # the tiers of each year are in the tier history too
    assert {year for (year,) in rows(session, "SELECT DISTINCT school_year FROM tier_history")} == set(EARLIER + [YEAR])


CHRONIC_BY_YEAR = """
    SELECT si.school_year,
           avg(si.chronic_absence::int) AS everyone,
           avg(si.chronic_absence::int) FILTER (WHERE s.low_income) AS low_income,
           avg(si.chronic_absence::int) FILTER (WHERE NOT s.low_income) AS others,
           avg((si.fafsa_status = 'complete')::int) FILTER (WHERE si.fafsa_status IS NOT NULL) AS fafsa
    FROM student_indicators si JOIN students s ON s.id = si.student_id
    GROUP BY si.school_year ORDER BY si.school_year
"""


def test_figures_change_from_year_to_year_and_between_groups(session):
    figures = rows(session, CHRONIC_BY_YEAR)
    assert [row.school_year for row in figures] == EARLIER + [YEAR]
    assert len({row.everyone for row in figures}) > 1
    assert len({row.fafsa for row in figures}) > 1
    # chronic absence is higher for low-income students every year, and plausible
    assert all(row.low_income > row.others for row in figures)
    assert all(0.08 <= row.everyone <= 0.35 for row in figures)
    # the school year's whole-year figures also differ by school
    by_school = rows(session, """
        SELECT e.school_id, avg(si.chronic_absence::int) FROM student_indicators si
        JOIN school_enrollments e ON e.student_id = si.student_id AND e.school_year = si.school_year
        WHERE si.school_year = :year GROUP BY e.school_id""", year=EARLIER[-1])
    assert len({rate for _, rate in by_school}) > 1
