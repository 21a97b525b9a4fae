"""A teacher's classes (issue 14, item 1): their sections of the current school year,
each with the students enrolled in it today, their attendance rate this year and their
failing marks in that section; what the policy lets a teacher of record see
(attendance and grades of the students of their own sections).

One statement reads every section with its students, marks and rates.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import aliased

from casemgr import policy
from casemgr.extensions import db
from casemgr.indicators import school_year_number
from casemgr.models import (
    CourseMark,
    Section,
    SectionEnrollment,
    Student,
    StudentIndicator,
    User,
)
from casemgr.models.enums import Category
from casemgr.reads.caseload import district_of

SHOWN_CATEGORIES = (Category.IDENTITY, Category.ATTENDANCE, Category.GRADES)
# the sections and enrollments listed, apart from the policy's own subquery on them
LISTED_SECTION, LISTED_ENROLLMENT = aliased(Section, name="listed_section"), aliased(SectionEnrollment, name="listed")


@dataclass(frozen=True)
class ClassStudent:
    id: int
    uuid: uuid.UUID
    name: str
    attendance_rate: Decimal | None
    failing: list[str]  # "<term>: <mark>" of each failing mark in the section, this year


@dataclass
class ClassSection:
    uuid: uuid.UUID
    course_title: str
    course_code: str
    local_id: str
    term: str
    students: list[ClassStudent] = field(default_factory=list)

    @property
    def failing_count(self) -> int:
        return sum(1 for student in self.students if student.failing)


@dataclass
class Classes:
    school_year: int | None  # None without a section this year
    sections: list[ClassSection]
    alongside: dict[str, object] = field(default_factory=dict)  # the columns read with the classes, by label

    @property
    def student_ids(self) -> list[int]:
        return sorted({student.id for section in self.sections for student in section.students})


def load_classes(user: User, today: date, alongside: Sequence[sa.ColumnElement] = ()) -> Classes:
    """The user's sections this school year, by course, each with its students by name;
    with the `alongside` columns (uncorrelated: the navigation's counts), whose values
    are kept when a row is read."""
    year = school_year_number(district_of(user), today)  # within the statement; none begun yet: no row
    section, enrollment = LISTED_SECTION, LISTED_ENROLLMENT
    failing = (
        sa.select(sa.func.array_agg(aggregate_order_by(CourseMark.term + ": " + CourseMark.mark, CourseMark.term)))
        .where(CourseMark.student_id == Student.id, CourseMark.section_id == section.id,
               CourseMark.school_year == year, CourseMark.failing.is_(True))
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(section.uuid, section.course_title, section.course_code, section.local_id, section.term,
                  Student.id, Student.uuid.label("student_uuid"), Student.preferred_name, Student.first_name,
                  Student.last_name, StudentIndicator.attendance_rate, failing.label("failing"),
                  year.label("school_year"), *alongside)
        .join(enrollment, enrollment.section_id == section.id)
        .join(Student, Student.id == enrollment.student_id)
        .outerjoin(StudentIndicator, sa.and_(StudentIndicator.student_id == Student.id,
                                             StudentIndicator.school_year == year))
        .where(section.teacher_id == user.id, section.school_year == year,
               enrollment.entry_date <= today,
               sa.or_(enrollment.exit_date.is_(None), enrollment.exit_date >= today),
               policy.visible_students(user, Category.ATTENDANCE, today),
               policy.visible_students(user, Category.GRADES, today))
        .order_by(section.course_title, section.local_id, section.id, Student.last_name, Student.first_name,
                  Student.id)
    ).all()
    sections: dict[uuid.UUID, ClassSection] = {}
    for row in rows:
        listed = sections.get(row.uuid)
        if listed is None:
            listed = sections[row.uuid] = ClassSection(row.uuid, row.course_title, row.course_code, row.local_id,
                                                       row.term)
        listed.students.append(ClassStudent(row.id, row.student_uuid,
                                            f"{row.preferred_name or row.first_name} {row.last_name}",
                                            row.attendance_rate, list(row.failing or [])))
    kept = {column.name: rows[0]._mapping[column.name] for column in alongside} if rows else {}
    return Classes(rows[0].school_year if rows else None, list(sections.values()), kept)
