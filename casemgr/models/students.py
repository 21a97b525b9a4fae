"""Students, their school years and enrollments, guardians and class sections."""
from __future__ import annotations

from calendar import isleap
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgr.extensions import db
from casemgr.models.base import CreatedAt, PublicId, one_of
from casemgr.models.enums import Subject
from casemgr.models.people import Organization, User


class SchoolYear(db.Model):
    """A district's school year: `year` is the calendar year it starts in."""

    __tablename__ = "school_years"
    __table_args__ = (
        sa.UniqueConstraint("district_id", "year"),
        sa.CheckConstraint("starts_on < ends_on", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    year: Mapped[int] = mapped_column(sa.SmallInteger)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    # when the year's indicators were last computed (casemgr/indicators.py): the reports'
    # stored figures hold for that computation only
    indicators_computed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    @property
    def label(self) -> str:
        return f"{self.year}–{self.year + 1}"


class Student(PublicId, CreatedAt, db.Model):
    __tablename__ = "students"
    __table_args__ = (
        sa.UniqueConstraint("district_id", "local_id"),
        sa.UniqueConstraint("district_id", "state_id"),
        sa.ForeignKeyConstraint(
            ["school_id", "district_id"],
            ["organizations.id", "organizations.district_id"],
            name="fk_students_school_in_district",
        ),
        # grade -1 is pre-kindergarten, 0 kindergarten
        sa.CheckConstraint("grade BETWEEN -1 AND 12", name="grade_range"),
        sa.CheckConstraint("birth_date > '1900-01-01'", name="birth_date_plausible"),
        sa.Index("ix_students_school_grade", "school_id", "grade"),
        # a school's student ids without reading the table: every school-scoped policy
        # condition (a counselor's notices, referrals, lists) joins through them
        sa.Index("ix_students_school_id", "school_id", "id"),
        sa.Index("ix_students_last_first", "last_name", "first_name"),
        # a district's caseload by grade, either way, then by name
        sa.Index("ix_students_district_grade_name", "district_id", "grade", "last_name", "first_name", "id"),
        sa.Index("ix_students_district_grade_desc_name", "district_id", sa.desc("grade"), "last_name", "first_name",
                 "id"),
        # name search by prefix, whatever the case (LIKE 'mar%' on lower(name))
        *(
            sa.Index(f"ix_students_district_{name}_prefix", "district_id", sa.func.lower(sa.column(name)).label(name),
                     postgresql_ops={name: "text_pattern_ops"})
            for name in ("last_name", "first_name", "preferred_name")
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    # the state student number: one student's across the whole partnership (SPEC §2), and
    # how records are linked. Each district keeps its own record of a student, as its
    # student information system does: one who moved between two districts of the
    # partnership has a record in each, with the same state ID (unique within a district)
    state_id: Mapped[str] = mapped_column(sa.String(32), index=True)
    local_id: Mapped[str] = mapped_column(sa.String(32))
    first_name: Mapped[str] = mapped_column(sa.String(100))
    middle_name: Mapped[str | None] = mapped_column(sa.String(100))
    last_name: Mapped[str] = mapped_column(sa.String(100))
    preferred_name: Mapped[str | None] = mapped_column(sa.String(100))
    birth_date: Mapped[date]
    grade: Mapped[int] = mapped_column(sa.SmallInteger)
    postsecondary: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # demographics for subgroup reports
    gender: Mapped[str | None] = mapped_column(sa.String(20))
    ethnicity: Mapped[str | None] = mapped_column(sa.String(60))
    low_income: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    english_learner: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    disability: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    home_language: Mapped[str | None] = mapped_column(sa.String(40))
    # the day the student left the district's schools (graduated, moved away); the record
    # stays the school's, but lists of current students leave them out from that day
    left_on: Mapped[date | None]
    # the family asked that the student's directory information not be released (FERPA
    # 34 CFR 99.37): flagged as a FERPA block in the Clearinghouse's graduates file
    ferpa_block: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    school: Mapped[Organization] = relationship(foreign_keys=[school_id])
    district: Mapped[Organization] = relationship(foreign_keys=[district_id], overlaps="school")

    @property
    def display_name(self) -> str:
        return f"{self.preferred_name or self.first_name} {self.last_name}"

    @property
    def grade_label(self) -> str:
        return {-1: "Pre-K", 0: "Kindergarten"}.get(self.grade, f"Grade {self.grade}")

    def age_on(self, day: date) -> int:
        """Whole years; a 29 February birthday falls on 28 February in other years."""
        birthday = (self.birth_date.month, self.birth_date.day)
        if birthday == (2, 29) and not isleap(day.year):
            birthday = (2, 28)
        years = day.year - self.birth_date.year
        if (day.month, day.day) < birthday:
            years -= 1
        return years

    @classmethod
    def current_on(cls, day: date) -> sa.ColumnElement[bool]:
        """A condition: the student had not left the district's schools by `day`."""
        return sa.or_(cls.left_on.is_(None), cls.left_on > day)

    def is_eligible_on(self, day: date) -> bool:
        """FERPA rights pass to the student at 18 or on entering postsecondary."""
        return self.postsecondary or self.age_on(day) >= 18

    def __repr__(self) -> str:
        return f"<Student {self.state_id}>"


class SchoolEnrollment(db.Model):
    """A stay at a school: days enrolled count from entry to exit (SPEC §5)."""

    __tablename__ = "school_enrollments"
    __table_args__ = (
        sa.UniqueConstraint("student_id", "school_id", "entry_date"),
        sa.CheckConstraint("exit_date IS NULL OR exit_date >= entry_date", name="dates_ordered"),
        sa.CheckConstraint("grade BETWEEN -1 AND 12", name="grade_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(sa.ForeignKey("students.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    school_year: Mapped[int] = mapped_column(sa.SmallInteger)
    entry_date: Mapped[date]
    exit_date: Mapped[date | None]
    # the student's grade during this stay (Ed-Fi's entryGradeLevel): reports of earlier
    # school years count students by it
    grade: Mapped[int] = mapped_column(sa.SmallInteger)


class Guardian(PublicId, CreatedAt, db.Model):
    """A parent or guardian as the district knows them; `user_id` once they sign in."""

    __tablename__ = "guardians"
    __table_args__ = (sa.UniqueConstraint("district_id", "local_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    local_id: Mapped[str] = mapped_column(sa.String(32))
    first_name: Mapped[str] = mapped_column(sa.String(100))
    last_name: Mapped[str] = mapped_column(sa.String(100))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    preferred_language: Mapped[str] = mapped_column(sa.String(5), default="en", server_default="en")
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), unique=True)

    user: Mapped[User | None] = relationship()

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class GuardianLink(db.Model):
    """A guardian of a student; only `educational_rights` lets them see and consent."""

    __tablename__ = "guardian_links"
    __table_args__ = (one_of("relation", ("mother", "father", "parent", "guardian", "grandparent", "other")),)

    guardian_id: Mapped[int] = mapped_column(sa.ForeignKey("guardians.id", ondelete="CASCADE"), primary_key=True)
    student_id: Mapped[int] = mapped_column(
        sa.ForeignKey("students.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    relation: Mapped[str] = mapped_column(sa.String(20))
    educational_rights: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    guardian: Mapped[Guardian] = relationship()
    student: Mapped[Student] = relationship()


class Section(PublicId, db.Model):
    """A class section; the teacher of record sees its students (SPEC §2)."""

    __tablename__ = "sections"
    __table_args__ = (
        sa.UniqueConstraint("school_id", "school_year", "local_id"),
        one_of("subject", Subject),
        one_of("term", ("year", "S1", "S2", "Q1", "Q2", "Q3", "Q4")),
        sa.CheckConstraint("credits >= 0 AND credits <= 10", name="credits_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    school_year: Mapped[int] = mapped_column(sa.SmallInteger)
    local_id: Mapped[str] = mapped_column(sa.String(40))
    course_code: Mapped[str] = mapped_column(sa.String(40))
    course_title: Mapped[str] = mapped_column(sa.String(200))
    subject: Mapped[str] = mapped_column(sa.String(20))
    term: Mapped[str] = mapped_column(sa.String(4), default="year")
    credits: Mapped[Decimal] = mapped_column(sa.Numeric(4, 2), default=Decimal("1.00"))
    teacher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)

    school: Mapped[Organization] = relationship()
    teacher: Mapped[User | None] = relationship()


class SectionEnrollment(db.Model):
    __tablename__ = "section_enrollments"
    __table_args__ = (sa.CheckConstraint("exit_date IS NULL OR exit_date >= entry_date", name="dates_ordered"),)

    section_id: Mapped[int] = mapped_column(sa.ForeignKey("sections.id", ondelete="CASCADE"), primary_key=True)
    student_id: Mapped[int] = mapped_column(
        sa.ForeignKey("students.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    entry_date: Mapped[date]
    exit_date: Mapped[date | None]
