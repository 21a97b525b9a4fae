"""Earlier school years, so that reports have trends to show (issue 15, item 1).

The `HISTORY_YEARS` school years before the current one each get what the current one
has: a school year and its calendar, a stay at school per student enrolled then (in
that year's grade), a year of attendance, sections and course marks, state tests,
FAFSA for that year's seniors, discipline, and (recomputed by the generator as of the
year's last day) the indicators. The students enrolled then are today's students who
were in kindergarten or above, each in the grade they were in then and a school of its
level, and the leavers: they keep a record at their last school, in the grade they were
in then, and the day they left (`left_on`), and have no stay this year. Leavers are the
seniors of earlier years, who have graduated since, and the students who moved to
another district of the partnership over the summer: their new district has a record of
its own of them (same state ID, no stay there before this year: its `newcomers`), this
one the record of their years here, up to the last day of last school year.

Each year is written by the current year's own steps, run on a view of the district as
it was then (a `MockDistrict` of that year's calendar and students, with traits drawn
afresh from a stream of that year). The figures move as they do in real districts:
chronic absence was higher in most schools the further back one looks (each school has
a trend of its own, a few are worse now), it stays with the student from year to year
and is higher for low-income students, and fewer seniors completed the FAFSA.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import date

from psycopg import Cursor

from casemgr.seed import attendance, classes, district, population, records
from casemgr.seed.bulk import copy_rows
from casemgr.seed.classes import SectionPlanner
from casemgr.seed.schoolyear import SchoolCalendar, build_calendar
from casemgr.seed.world import MockDistrict, School, Student, rng_for

HISTORY_YEARS = 3
IMPROVING_SCHOOLS = 0.65  # share of schools whose chronic absence fell year on year
IMPROVING_TREND = (0.06, 0.16)  # chronic absence k years ago: (1 + trend * k) times today's
WORSENING_TREND = (-0.08, 0.0)
STAYS_CHRONIC, STAYS_PRESENT = 2.0, 0.8  # how a student's absence now weighs on their earlier years
FAFSA_GAIN_PER_YEAR = 0.05  # more seniors complete the FAFSA each year
FIRST_LEAVER_LOCAL_ID = 100_001  # today's students' local IDs start at 200,001
NEWCOMERS_SHARE, MIN_NEWCOMERS = 0.015, 3


@dataclass
class History:
    years: list[MockDistrict]  # oldest first
    leavers: list[Student]  # each as they were in their last year here

    @property
    def last_days(self) -> list[date]:
        return [view.as_of for view in self.years]

    @property
    def graduates(self) -> list[Student]:
        return [s for s in self.leavers if s.grade == 12]

    @property
    def moved_away(self) -> list[Student]:
        return [s for s in self.leavers if s.grade < 12]


def choose_newcomers(d: MockDistrict) -> list[Student]:
    """The students who came from another district of the partnership over the summer:
    about `NEWCOMERS_SHARE` of those in grade 2 and above (at least `MIN_NEWCOMERS`),
    enrolled here since the first day, none of the key family. This district has no stay
    of theirs before this year; the district they left has its own record of them."""
    rng = rng_for(d.seed, "history/newcomers")
    older, family = [s for s in d.students if s.grade >= 2], d.key_students
    eligible = [s for s in older if s.entry == 0 and s.exit is None and s.id not in family]
    count = min(len(eligible), max(MIN_NEWCOMERS, round(NEWCOMERS_SHARE * len(older))))
    newcomers = sorted(rng.sample(eligible, count), key=lambda s: s.id)
    d.newcomers = {s.id for s in newcomers}
    return newcomers


def year_calendar(year: int) -> SchoolCalendar:
    """The calendar of the school year starting in `year` as of its last day (31 July:
    years turn on 1 August), its final marks recorded."""
    return build_calendar(date(year + 1, 7, 31))


def plan_history(d: MockDistrict, first_student_id: int, first_section_id: int, taken: AbstractSet[str] = frozenset(),
                 moved_away: Sequence[Student] = ()) -> History:
    """Decide, in memory, the leavers and every earlier year's students and sections.
    `moved_away`: today's students of another district of the partnership who were this
    district's until the end of last school year; `taken`: the state IDs of the
    partnership's other districts, which no past graduate here may hold."""
    calendars = {d.year - k: year_calendar(d.year - k) for k in range(1, HISTORY_YEARS + 1)}
    leavers = plan_graduates(d, calendars, first_student_id, taken)
    number = sum(len(cohort) for cohort in leavers.values())
    leavers[d.year - 1] += plan_moved_away(d, calendars[d.year - 1], moved_away, first_student_id + number, number)
    trends = school_trends(d)
    chronic_now = {s.id: s.absence_rate >= 0.1 for s in d.students}
    years: list[MockDistrict] = []
    next_section = first_section_id
    for year in sorted(calendars):
        back = d.year - year
        view = MockDistrict(seed=f"{d.seed}/history/{year}", calendar=calendars[year], profile=d.profile,
                            district_id=d.district_id, schools=d.schools)
        view.students = students_then(d, back, leavers)

        def factor(student: Student, back: int = back) -> float:
            persistence = {True: STAYS_CHRONIC, False: STAYS_PRESENT}.get(chronic_now.get(student.id), 1.0)
            return max(0.2, 1 + trends[student.school.id] * back) * persistence

        population.assign_traits(view, factor)
        HistorySections(view, None, next_section).plan()
        next_section += len(view.sections)
        years.append(view)
    return History(years, [s for year in sorted(leavers) for s in leavers[year]])


def plan_graduates(d: MockDistrict, calendars: dict[int, SchoolCalendar], first_id: int,
                   taken: AbstractSet[str] = frozenset()) -> dict[int, list[Student]]:
    """Each earlier year's seniors, about as many as today's (a class a little smaller or
    larger each year), at the district's high schools; graduated on its last day."""
    rng = rng_for(d.seed, "history/graduates")
    seniors = sum(1 for s in d.students if s.grade == 12)
    held = {s.state_id for s in d.students} | taken
    graduates: dict[int, list[Student]] = {}
    number = 0
    for year in sorted(calendars, reverse=True):
        size = max(1, round(seniors * rng.uniform(0.95, 1.04) ** (d.year - year)))
        cohort = MockDistrict(seed=f"{d.seed}/history/{year}", calendar=calendars[year], profile=d.profile,
                              schools=d.schools)
        GraduatingClass(cohort, size, 0, 0).build()
        for student in cohort.students:
            student.id, student.state_id = first_id + number, population.fresh_state_id(rng, held)
            student.local_id = leaver_local_id(d, number)
            student.left_on = calendars[year].ends_on
            student.guardians = []
            number += 1
        graduates[year] = cohort.students
    return graduates


def plan_moved_away(d: MockDistrict, last_year: SchoolCalendar, movers: Sequence[Student], first_id: int,
                    first_number: int) -> list[Student]:
    """This district's records of students who moved to another district over the
    summer: the same person (state ID, names, birth date, demographics) as they were here
    last school year, a grade lower, at one of its schools of that grade's level, who
    left on its last day (their guardians are not kept)."""
    rng = rng_for(d.seed, "history/moved-away")
    records = []
    for n, mover in enumerate(movers):
        grade = mover.grade - 1
        record = _as_then(mover, grade, rng.choice(d.schools_of(population.LEVEL_OF_GRADE[grade])))
        record.id, record.local_id, record.left_on = first_id + n, leaver_local_id(d, first_number + n), last_year.ends_on
        records.append(record)
    return records


def leaver_local_id(d: MockDistrict, number: int) -> str:
    return str(FIRST_LEAVER_LOCAL_ID + d.profile.local_ids_from + number)


class GraduatingClass(population.PopulationBuilder):
    """Seniors of an earlier year, one to a family (their guardians are not kept)."""

    def build(self) -> None:
        family = 2  # the first two families are the demo logins'
        while len(self.d.students) < self.total:
            self.add_family(family)
            family += 1

    def child_grades(self, index: int) -> list[int]:
        return [12]


class HistorySections(SectionPlanner):
    """An earlier year's middle and high school sections, for its course marks: no
    teacher of record (the seed's teachers are this year's) and no homerooms."""

    def plan_homerooms(self, school, groups) -> None:
        return None

    def assign_teachers(self, school, subject, sections) -> None:
        return None


def school_trends(d: MockDistrict) -> dict[int, float]:
    rng = rng_for(d.seed, "history/trends")
    return {
        school.id: rng.uniform(*(IMPROVING_TREND if rng.random() < IMPROVING_SCHOOLS else WORSENING_TREND))
        for school in d.schools
    }


def students_then(d: MockDistrict, back: int, leavers: dict[int, list[Student]]) -> list[Student]:
    """The students enrolled `back` years ago, as they were then (traits to be drawn):
    today's, but for the newcomers from another district, and the leavers of that year
    or later who were in kindergarten or above then (`leavers`: by their last year)."""
    earlier = _earlier_schools(d)
    year = d.year - back
    pupils = [
        _as_then(s, s.grade - back, earlier(s.school, s.grade - back))
        for s in d.students if s.grade - back >= 0 and s.id not in d.newcomers
    ]
    for last_year, cohort in sorted(leavers.items()):
        if last_year >= year:
            grades = ((s, s.grade - (last_year - year)) for s in cohort)
            pupils += [_as_then(s, grade, earlier(s.school, grade)) for s, grade in grades if grade >= 0]
    return pupils


def _as_then(student: Student, grade: int, school: School) -> Student:
    return replace(student, grade=grade, school=school, guardians=[], entry=0, exit=None, absence_rate=0.0,
                   ability=0.0, struggling=False, suspension=None, absent_days=0, enrolled_days=0)


def _earlier_schools(d: MockDistrict):
    """A student's school in an earlier grade: theirs when of the same level, else the
    school at the same place among the schools of that level (neighbourhoods feed
    elementary schools into middle schools, and those into high schools)."""
    by_level: dict[str, list[School]] = defaultdict(list)
    for school in d.schools:
        by_level[school.level].append(school)
    place = {school.id: (n + 0.5) / len(by_level[school.level])
             for level in by_level.values() for n, school in enumerate(level)}

    def earlier(school: School, grade: int) -> School:
        level = population.LEVEL_OF_GRADE[grade]
        if level == school.level:
            return school
        schools = by_level[level]
        return schools[min(int(place[school.id] * len(schools)), len(schools) - 1)]

    return earlier


def create_school_years(history: History) -> None:
    for view in history.years:
        district.create_school_year(view)


def write_history(cur: Cursor, d: MockDistrict, history: History) -> None:
    """Every earlier year's rows, by the current year's steps; the leavers first."""
    population.write_students(cur, d, history.leavers, counted_as="leavers")
    d.counts["past_graduates"], d.counts["moved_away"] = len(history.graduates), len(history.moved_away)
    tested_already = records.latest_test_day(d)[1]
    credits = rng_for(d.seed, "history/credits")
    transcripts = []
    for view in history.years:
        ends_on = view.calendar.ends_on
        attendance.write_calendar(cur, view)
        attendance.write_enrollments(cur, view, closed_on=ends_on)
        attendance.write_attendance(cur, view)
        attendance.write_discipline(cur, view)
        classes.write_sections(cur, view, closed_on=ends_on)
        classes.write_course_marks(cur, view)
        # today's students' tests of the last spring are this year's records already
        tested = view if view.year != tested_already else replace(
            view, students=[s for s in view.students if s.left_on is not None])
        records.write_assessments(cur, tested)
        records.write_fafsa(cur, view, lift=-FAFSA_GAIN_PER_YEAR * (d.year - view.year))
        # the leavers' high-school years here, up to the year they left (today's students'
        # are this year's records already)
        transcripts += [row for s in view.students if s.left_on == ends_on and s.grade >= 9
                        for row in records.transcript(credits, s, s.grade + 1, view.year + 1)]
        for key, value in view.counts.items():
            d.counts[f"history_{key}"] += value
    d.counts["history_credit_records"] = copy_rows(cur, "credit_records", records.CREDIT_COLUMNS, transcripts)
