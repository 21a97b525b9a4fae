"""Figures about groups of students (SPEC §6): how many students have this school
year's indicators, and how many of them are chronically absent or failing a course,
by school for a district administrator and by grade for a principal.

Report queries are aggregates over every student of a scope: on a busy district they
are the heaviest reads casemgr makes, so they read from the reports database when one
is configured (CASEMGR_REPORTS_DATABASE_URL, a read replica, every transaction
read-only) and from the main database otherwise. They read no student's record and
show none, so they write no disclosure log row.

A group of fewer than `MIN_CELL` students is not shown: its row says so. No total is
published beside the groups, so a hidden group cannot be worked out from the others.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from casemgr.extensions import db
from casemgr.indicators import school_year_for
from casemgr.models import Organization, Student, StudentIndicator, User
from casemgr.models.enums import Role

MIN_CELL = 10  # NCES SLDS Technical Brief 3: most states publish no figure about fewer students
REPORTERS = frozenset({Role.DISTRICT_ADMIN, Role.PRINCIPAL})


def replica() -> sa.Engine | None:
    """The reports database (the bind "reports"), when one is configured."""
    return db.engines.get("reports")


def _read(query: sa.Select) -> list[sa.Row]:
    """The rows of a report query: from the reports database when there is one, else in
    the request's own transaction on the main database."""
    engine = replica()
    if engine is None:
        return db.session.execute(query).all()
    with engine.connect() as conn:
        return conn.execute(query).all()


@dataclass(frozen=True)
class Figure:
    count: int
    of: int

    @property
    def percent(self) -> Decimal:
        return (Decimal(100 * self.count) / self.of).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass(frozen=True)
class GroupRow:
    label: str
    students: int | None  # None: fewer than MIN_CELL, not shown
    chronic_absence: Figure | None
    course_failure: Figure | None

    @property
    def suppressed(self) -> bool:
        return self.students is None


@dataclass(frozen=True)
class Report:
    school_year: int | None
    grouped_by: str  # "school" or "grade"
    rows: list[GroupRow]
    min_cell: int = MIN_CELL


def grade_label(grade: int) -> str:
    return {-1: "Pre-K", 0: "Kindergarten"}.get(grade, f"Grade {grade}")


def _scope(user: User) -> tuple[int, int | None]:
    """(district, school or None for the whole district) of a reporter."""
    org = user.organization
    if user.role_enum is Role.DISTRICT_ADMIN:
        return (org.district_id or org.id), None
    return org.district_id, org.id


def indicators_by_group(user: User, today: date) -> Report:
    """One query on the reports database: this school year's students of the user's
    scope, counted by school (district administrator) or grade (principal)."""
    district_id, school_id = _scope(user)
    year = school_year_for(district_id, today)
    by_school = school_id is None
    if year is None:
        return Report(None, "school" if by_school else "grade", [])
    group = Organization.name if by_school else Student.grade
    query = (
        sa.select(
            group.label("grp"),
            sa.func.count().label("students"),
            sa.func.count().filter(StudentIndicator.chronic_absence).label("chronic"),
            sa.func.count().filter(StudentIndicator.course_failures > 0).label("failing"),
        )
        .select_from(StudentIndicator)
        .join(Student, Student.id == StudentIndicator.student_id)
        .where(StudentIndicator.school_year == year.year, Student.district_id == district_id)
        .group_by(group)
        .order_by(group)
    )
    if by_school:
        query = query.join(Organization, Organization.id == Student.school_id)
    else:
        query = query.where(Student.school_id == school_id)
    rows = _read(query)
    return Report(year.year, "school" if by_school else "grade", [
        _row(row.grp if by_school else grade_label(row.grp), row.students, row.chronic, row.failing) for row in rows
    ])


def _row(label: str, students: int, chronic: int, failing: int) -> GroupRow:
    if students < MIN_CELL:
        return GroupRow(label, None, None, None)
    return GroupRow(label, students, Figure(chronic, students), Figure(failing, students))
