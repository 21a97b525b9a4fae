"""Which counselor has which students: a school's principal splits the school between
its counselors by rules (a range of last-name initials, a grade, or both, such as
"grade 9, A–K") and by students assigned one by one. A student assigned individually
belongs to that counselor only, whatever the rules say; otherwise to every counselor
whose rule matches them (overlapping rules share a student)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgr.extensions import db
from casemgr.models.base import CreatedAt, PublicId
from casemgr.models.people import User


class CaseloadRule(PublicId, CreatedAt, db.Model):
    __tablename__ = "caseload_rules"
    __table_args__ = (
        sa.CheckConstraint("grade IS NULL OR grade BETWEEN -1 AND 12", name="grade_range"),
        sa.CheckConstraint(
            "(letters_from IS NULL) = (letters_to IS NULL) AND (letters_from IS NULL OR "
            "(letters_from ~ '^[A-Z]$' AND letters_to ~ '^[A-Z]$' AND letters_from <= letters_to))",
            name="letters_range",
        ),
        sa.CheckConstraint("grade IS NOT NULL OR letters_from IS NOT NULL", name="says_something"),
        sa.Index("ix_caseload_rules_school_counselor", "school_id", "counselor_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    counselor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    grade: Mapped[int | None] = mapped_column(sa.SmallInteger)
    # first letters of the last name, both ends included, A–Z
    letters_from: Mapped[str | None] = mapped_column(sa.String(1))
    letters_to: Mapped[str | None] = mapped_column(sa.String(1))
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))

    counselor: Mapped[User] = relationship(foreign_keys=[counselor_id])

    @property
    def description(self) -> str:
        parts = []
        if self.grade is not None:
            parts.append({-1: "Pre-K", 0: "Kindergarten"}.get(self.grade, f"Grade {self.grade}"))
        if self.letters_from is not None:
            parts.append(f"last names {self.letters_from}–{self.letters_to}")
        return ", ".join(parts)


class CaseloadAssignment(CreatedAt, db.Model):
    """A student assigned to one counselor by name: this wins over every rule."""

    __tablename__ = "caseload_assignments"
    __table_args__ = (sa.Index("ix_caseload_assignments_counselor", "counselor_id", "student_id"),)

    student_id: Mapped[int] = mapped_column(sa.ForeignKey("students.id", ondelete="CASCADE"), primary_key=True)
    counselor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    assigned_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
