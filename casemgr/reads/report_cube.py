"""The figures of the reports (issue 15): every measure of one school year, for the whole
district and broken down by school, grade and subgroup, and each breakdown crossed with
the school, counted in one statement and protected by `casemgr.suppression`.

A student counts in a year where they have that year's indicators (as of the year's
end, or as of today in the current year), at the school and in the grade of their last
enrollment of that year (without one: where they are now), so that last year's seniors count as seniors of last year at
the school they left. A measure is a count of students (`meets` None) or a rate: of the
students it is about (`about`), those who meet it.

Every page, chart and file publishes a part of the same protected figures of a year, every
measure's protected together (`protected`), so nothing published anywhere recovers a
hidden figure.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from casemgr.extensions import db
from casemgr.models import (
    IndicatorMonth,
    PostsecondaryOutcome,
    SchoolEnrollment,
    SchoolYear,
    Student,
    StudentIndicator,
)
from casemgr.research import POSTSECONDARY
from casemgr.suppression import Cell, Figure, Key, protect_all

Condition = Callable[[sa.Subquery], sa.ColumnElement[bool]]


@dataclass(frozen=True)
class Measure:
    key: str
    title: str
    about: Condition  # the students the measure is about: its denominator
    meets: Condition | None  # of them, those it counts; None: a count of students
    of: str = "students"  # who the denominator is, in words
    lower_is_better: bool = True


def _enrolled(t: sa.Subquery) -> sa.ColumnElement[bool]:
    return t.c.days_enrolled > 0


def _searched(t: sa.Subquery) -> sa.ColumnElement[bool]:
    """The year's graduates the Clearinghouse reported on (issue 16 item 4)."""
    return t.c.enrolled_fall.is_not(None)


MEASURES: dict[str, Measure] = {m.key: m for m in (
    Measure("enrolled", "Enrolled students", _enrolled, None, lower_is_better=False),
    Measure("chronic_absence", "Chronic absence (10% or more of enrolled days missed)", _enrolled,
            lambda t: t.c.chronic_absence),
    Measure("severe_absence", "Severe chronic absence (20% or more missed)", _enrolled,
            lambda t: t.c.severe_absence),
    Measure("course_failure", "Failing at least one course", _enrolled, lambda t: t.c.course_failures > 0),
    Measure("core_failure", "Failing English or math", _enrolled, lambda t: t.c.core_failure),
    Measure("ninth_grade_on_track", "9th graders on track", lambda t: t.c.ninth_grade_on_track.is_not(None),
            lambda t: t.c.ninth_grade_on_track, of="9th graders", lower_is_better=False),
    Measure("credits_on_track", "On track in credits", lambda t: t.c.credits_on_track.is_not(None),
            lambda t: t.c.credits_on_track, lower_is_better=False),
    Measure("fafsa_complete", "Seniors with a complete FAFSA", lambda t: t.c.fafsa_status.is_not(None),
            lambda t: t.c.fafsa_status == "complete", of="seniors", lower_is_better=False),
    Measure("suspended", "Suspended at least once", _enrolled, lambda t: t.c.suspensions > 0),
    Measure("tier_2", "Tier 2 (targeted support)", _enrolled, lambda t: t.c.tier == 2),
    Measure("tier_3", "Tier 3 (intensive support)", _enrolled, lambda t: t.c.tier == 3),
    # the graduates of the year (its graduating class), from the Clearinghouse's reports
    Measure("enrolled_fall", "Graduates enrolled in college the fall after graduating", _searched,
            lambda t: t.c.enrolled_fall, of="graduates", lower_is_better=False),
    Measure("enrolled_within_year", "Graduates enrolled in college within a year", _searched,
            lambda t: t.c.enrolled_within_year, of="graduates", lower_is_better=False),
    Measure("persisted", "Graduates enrolled again the second fall", lambda t: t.c.persisted.is_not(None),
            lambda t: t.c.persisted, of="graduates whose second fall has begun", lower_is_better=False),
    Measure("completed_degree", "Graduates who completed a college degree", _searched,
            lambda t: t.c.completed_degree, of="graduates", lower_is_better=False),
)}

# what ties the measures of a year to each other, for protecting them together: the
# measures about the same students share their groups' sizes; severe chronic absence is
# within chronic absence and failing English or math within failing a course; tier 2 and
# tier 3 count no student twice; a graduate enrolled the first fall is enrolled within a year
FAMILY = {m.key: next(o.key for o in MEASURES.values() if o.about is m.about) for m in MEASURES.values()}
NESTED = (("severe_absence", "chronic_absence"), ("core_failure", "course_failure"),
          ("enrolled_fall", "enrolled_within_year"))
EXCLUSIVE = (("tier_2", "tier_3"),)

# the breakdowns, each a column of the year's placed students (see `placed`)
BREAKDOWNS = ("school", "grade", "gender", "ethnicity", "low_income", "english_learner", "disability")
OUTER = "school"  # the breakdown every other one is crossed with


def replica() -> sa.Engine | None:
    """The reports database (the bind "reports"), when one is configured."""
    return db.engines.get("reports")


def read_rows(query: sa.Select) -> list[sa.Row]:
    """The rows of a report query: from the reports database when there is one, else in
    the request's own transaction on the main database."""
    engine = replica()
    if engine is None:
        return db.session.execute(query).all()
    with engine.connect() as conn:
        return conn.execute(query).all()


def placed(district_id: int, year: int, month_end: date | None = None) -> sa.Subquery:
    """The students counted in `year`: their indicators of that year (as of `month_end`,
    given one) with their subgroups, and the school and grade of their last enrollment of
    the year."""
    source = StudentIndicator if month_end is None else IndicatorMonth
    last = last_stay(source.student_id, year)
    columns = [source.student_id, *(getattr(source, name) for name in INDICATOR_COLUMNS)]
    # the graduates' outcomes are the year's, never a month's
    outcomes = [getattr(PostsecondaryOutcome, name) if month_end is None else sa.cast(sa.null(), sa.Boolean).label(name)
                for name in POSTSECONDARY]
    query = (
        sa.select(
            *columns, *outcomes,
            # a student with that year's indicators but no stay in it (imported without an
            # entry date) counts where they are now, as the indicators do (casemgr/indicators.py)
            sa.func.coalesce(last.c.school_id, Student.school_id).label("school"),
            sa.func.coalesce(last.c.grade, Student.grade).label("grade"),
            Student.gender, Student.ethnicity, Student.low_income, Student.english_learner, Student.disability,
        )
        .join(Student, Student.id == source.student_id)
        .outerjoin(last, sa.true())
        .where(source.school_year == year, Student.district_id == district_id)
    )
    if month_end is not None:
        query = query.where(IndicatorMonth.month_end == month_end)
    else:
        query = query.outerjoin(PostsecondaryOutcome, sa.and_(PostsecondaryOutcome.student_id == source.student_id,
                                                              PostsecondaryOutcome.class_year == year))
    return query.subquery("placed")


def last_stay(student_id: sa.ColumnElement[int], year: int | sa.ColumnElement[int]) -> sa.Lateral:
    """The school and grade of the student's last enrollment of the year (`school_id`,
    `grade`, and when it began: `entry_date`), to join laterally; none for a student
    without one."""
    return (
        sa.select(SchoolEnrollment.school_id, SchoolEnrollment.grade, SchoolEnrollment.entry_date)
        .where(SchoolEnrollment.student_id == student_id, SchoolEnrollment.school_year == year)
        .order_by(SchoolEnrollment.entry_date.desc(), SchoolEnrollment.id.desc())
        .limit(1)
        .lateral("last_enrollment")
    )


# what the measures read, in the year's indicators and the months' alike
INDICATOR_COLUMNS = ("days_enrolled", "chronic_absence", "severe_absence", "course_failures", "core_failure",
                     "ninth_grade_on_track", "credits_on_track", "suspensions", "fafsa_status", "tier")


def grouping_sets() -> list[tuple[str, ...]]:
    """The total, each breakdown, and each other breakdown crossed with the school."""
    return [(), *((b,) for b in BREAKDOWNS), *((OUTER, b) for b in BREAKDOWNS if b != OUTER)]


def cells_statement(district_id: int, year: int, month_end: date | None = None) -> sa.Select:
    """One statement: for each grouping set, its groups with n and k of every measure."""
    t = placed(district_id, year, month_end)
    columns = [t.c[b] for b in BREAKDOWNS]
    figures = []
    for m in MEASURES.values():
        figures.append(sa.func.count().filter(m.about(t)).label(f"{m.key}_n"))
        if m.meets is not None:
            figures.append(sa.func.count().filter(sa.and_(m.about(t), m.meets(t))).label(f"{m.key}_k"))
    sets = [sa.tuple_(*(t.c[b] for b in group)) for group in grouping_sets()]
    # when the counted indicators were computed, read in the same snapshot as the counts
    stamp = (sa.select(SchoolYear.indicators_computed_at)
             .where(SchoolYear.district_id == district_id, SchoolYear.year == year).scalar_subquery())
    return (
        sa.select(*(sa.func.grouping(c).label(f"g_{c.name}") for c in columns), *columns, *figures,
                  stamp.label("computed_at"))
        .group_by(sa.func.grouping_sets(*sets))
    )


def cubes(rows: list[sa.Row]) -> dict[str, dict[Key, Cell]]:
    """{measure: {key: cell}} from the rows of `cells_statement`."""
    cubes: dict[str, dict[Key, Cell]] = {m: {} for m in MEASURES}
    for row in rows:
        values = row._mapping
        key = tuple((b, values[b]) for b in BREAKDOWNS if not values[f"g_{b}"])
        for m in MEASURES.values():
            cubes[m.key][key] = Cell(values[f"{m.key}_n"], values[f"{m.key}_k"] if m.meets else None)
    return cubes


def protected(cubes: Mapping[str, Mapping[Key, Cell]], minimum_n: int,
              hidden_before: Mapping[str, set[Key]] | None = None) -> dict[str, dict[Key, Figure]]:
    """Every measure's figures of one year (or month), protected together; hiding at least
    what `hidden_before` says each hid when the year was protected before."""
    return protect_all(cubes, minimum_n, OUTER, FAMILY, NESTED, EXCLUSIVE, hidden_before)
