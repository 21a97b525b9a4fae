"""What the district's student information system sends: calendar, attendance,
marks, credits, assessments, FAFSA status and discipline (SPEC §3, §7)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import BIT
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgr.extensions import db
from casemgr.models.base import PublicId, one_of
from casemgr.models.enums import AttendanceStatus, DisciplineAction, FafsaState
from casemgr.models.students import Section


class CalendarDay(db.Model):
    """A day of a school's calendar; only instructional days count as enrolled days."""

    __tablename__ = "calendar_days"

    school_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    school_year: Mapped[int] = mapped_column(sa.SmallInteger)
    instructional: Mapped[bool] = mapped_column(default=True, server_default=sa.true())


class AttendanceYear(db.Model):
    """A student's daily attendance over one school year, stored compactly: one bit
    string per status, where bit i stands for the day `first_day + i` (the year's first
    day). A set bit records that status for that day; a day with no set bit has no
    record. One row per student-year instead of one per day keeps a full year of a large
    district small (50,000 rows, not 9 million) and lets a whole file merge in one
    statement (SPEC §7). `casemgr.attendance` reads and writes it; the view
    `attendance_days` shows it as one row per student and recorded day.
    """

    __tablename__ = "attendance_years"
    __table_args__ = (
        sa.CheckConstraint(
            "length(present) = length(tardy) AND length(present) = length(excused)"
            " AND length(present) = length(unexcused) AND length(present) = length(suspended)"
            " AND length(present) BETWEEN 1 AND 400",
            name="same_length",
        ),
        sa.CheckConstraint(
            "bit_count(present) + bit_count(tardy) + bit_count(excused) + bit_count(unexcused)"
            " + bit_count(suspended) = bit_count(present | tardy | excused | unexcused | suspended)",
            name="one_status_a_day",
        ),
    )

    student_id: Mapped[int] = mapped_column(sa.ForeignKey("students.id", ondelete="CASCADE"), primary_key=True)
    school_year_id: Mapped[int] = mapped_column(sa.ForeignKey("school_years.id"), primary_key=True)
    first_day: Mapped[date]
    present: Mapped[str] = mapped_column(BIT(varying=True))
    tardy: Mapped[str] = mapped_column(BIT(varying=True))
    excused: Mapped[str] = mapped_column(BIT(varying=True))
    unexcused: Mapped[str] = mapped_column(BIT(varying=True))
    suspended: Mapped[str] = mapped_column(BIT(varying=True))


class CourseMark(db.Model):
    """A term or final mark in a section; final marks carry the credits earned."""

    __tablename__ = "course_marks"
    __table_args__ = (
        one_of("term", ("Q1", "Q2", "Q3", "Q4", "S1", "S2", "FINAL")),
        sa.CheckConstraint("credits_earned >= 0 AND credits_earned <= credits_attempted", name="credits_range"),
    )

    student_id: Mapped[int] = mapped_column(sa.ForeignKey("students.id", ondelete="CASCADE"), primary_key=True)
    section_id: Mapped[int] = mapped_column(sa.ForeignKey("sections.id", ondelete="CASCADE"), primary_key=True)
    term: Mapped[str] = mapped_column(sa.String(5), primary_key=True)
    school_year: Mapped[int] = mapped_column(sa.SmallInteger)
    mark: Mapped[str] = mapped_column(sa.String(8))
    failing: Mapped[bool]
    credits_attempted: Mapped[Decimal] = mapped_column(sa.Numeric(4, 2), default=Decimal("0"))
    credits_earned: Mapped[Decimal] = mapped_column(sa.Numeric(4, 2), default=Decimal("0"))
    recorded_on: Mapped[date]

    section: Mapped[Section] = relationship()


class CreditRecord(db.Model):
    """Credits earned in a past school year (the transcript summary)."""

    __tablename__ = "credit_records"
    __table_args__ = (
        sa.CheckConstraint("credits_earned >= 0 AND credits_earned <= credits_attempted", name="credits_range"),
        sa.CheckConstraint("grade BETWEEN 6 AND 12", name="grade_range"),
    )

    student_id: Mapped[int] = mapped_column(sa.ForeignKey("students.id", ondelete="CASCADE"), primary_key=True)
    school_year: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    grade: Mapped[int] = mapped_column(sa.SmallInteger)
    credits_attempted: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2))
    credits_earned: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2))


class Assessment(db.Model):
    __tablename__ = "assessments"
    __table_args__ = (
        sa.CheckConstraint("performance_level BETWEEN 1 AND 4", name="level_range"),
    )

    student_id: Mapped[int] = mapped_column(sa.ForeignKey("students.id", ondelete="CASCADE"), primary_key=True)
    test_code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    administered_on: Mapped[date] = mapped_column(primary_key=True)
    school_year: Mapped[int] = mapped_column(sa.SmallInteger)
    subject: Mapped[str] = mapped_column(sa.String(40))
    scale_score: Mapped[int | None]
    performance_level: Mapped[int | None] = mapped_column(sa.SmallInteger)


class FafsaRecord(db.Model):
    """A senior's FAFSA status for a school year."""

    __tablename__ = "fafsa_records"
    __table_args__ = (one_of("status", FafsaState),)

    student_id: Mapped[int] = mapped_column(sa.ForeignKey("students.id", ondelete="CASCADE"), primary_key=True)
    school_year: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(12))
    status_on: Mapped[date]


class DisciplineIncident(PublicId, db.Model):
    __tablename__ = "discipline_incidents"
    __table_args__ = (
        sa.UniqueConstraint("school_id", "incident_code", "student_id"),
        one_of("action", DisciplineAction),
        sa.CheckConstraint("days >= 0 AND days <= 365", name="days_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(sa.ForeignKey("students.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    incident_code: Mapped[str] = mapped_column(sa.String(40))
    occurred_on: Mapped[date]
    school_year: Mapped[int] = mapped_column(sa.SmallInteger)
    incident_type: Mapped[str] = mapped_column(sa.String(60))
    action: Mapped[str] = mapped_column(sa.String(30))
    days: Mapped[Decimal] = mapped_column(sa.Numeric(4, 1), default=Decimal("0"))
    description: Mapped[str | None] = mapped_column(sa.Text)
