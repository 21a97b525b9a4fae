"""Postsecondary outcomes from the National Student Clearinghouse (issue 16 item 4): the
enrollment and degree records of the district's graduates that StudentTracker for High
Schools returns, and the four measures derived from them per graduate."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from casemgr.extensions import db


class PostsecondaryRecord(db.Model):
    """One row of a StudentTracker detail report: an enrollment term or a degree at a
    college, or (`found` false) a search that found the graduate nowhere. A report holds
    every record of each graduate it names, so importing it replaces theirs."""

    __tablename__ = "postsecondary_records"
    __table_args__ = (
        sa.CheckConstraint("college_level IS NULL OR college_level IN ('4', '2', 'L')", name="college_level_valid"),
        sa.CheckConstraint("ends_on IS NULL OR begins_on IS NULL OR ends_on >= begins_on", name="dates_ordered"),
        sa.CheckConstraint("found OR college_code IS NULL", name="not_found_has_no_college"),
        sa.Index("ix_postsecondary_records_district_student", "district_id", "student_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    student_id: Mapped[int] = mapped_column(sa.ForeignKey("students.id", ondelete="CASCADE"), index=True)
    row_no: Mapped[int]  # the row of the report it came from
    found: Mapped[bool]
    searched_on: Mapped[date]  # the report's "Search Date": from when the Clearinghouse searched
    reported_on: Mapped[date]  # the day the report was imported: what it knows is as of then
    college_code: Mapped[str | None] = mapped_column(sa.String(20))
    college_name: Mapped[str | None] = mapped_column(sa.String(200))
    college_state: Mapped[str | None] = mapped_column(sa.String(2))
    college_level: Mapped[str | None] = mapped_column(sa.String(1))  # 4-year, 2-year, less than 2-year
    public: Mapped[bool | None]
    begins_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    enrollment_status: Mapped[str | None] = mapped_column(sa.String(1))
    graduated: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    graduated_on: Mapped[date | None]
    degree_title: Mapped[str | None] = mapped_column(sa.String(200))
    major: Mapped[str | None] = mapped_column(sa.String(200))


class PostsecondaryOutcome(db.Model):
    """A graduate's four measures, derived from their records (`casemgr.postsecondary`):
    the graduating class is the school year of the last year at high school. `persisted`
    stays unknown (NULL) until the fall a year after the first has begun."""

    __tablename__ = "postsecondary_outcomes"
    __table_args__ = (sa.Index("ix_postsecondary_outcomes_district_class", "district_id", "class_year"),)

    student_id: Mapped[int] = mapped_column(sa.ForeignKey("students.id", ondelete="CASCADE"), primary_key=True)
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    class_year: Mapped[int] = mapped_column(sa.SmallInteger)
    graduated_on: Mapped[date]
    reported_on: Mapped[date]  # the latest report's day
    enrolled_fall: Mapped[bool]
    enrolled_within_year: Mapped[bool]
    persisted: Mapped[bool | None]
    completed_degree: Mapped[bool]
