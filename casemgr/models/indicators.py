"""Each student's computed indicators and tier for a school year (SPEC §5).

Rows are written set-based by `casemgr.indicators.recompute`; each keeps the date it
was computed "as of" and the threshold settings version it used.

The caseload lists a whole district ordered by a measure, then by name. So that a page
is read in index order instead of sorting every student, each row also keeps the
student's name as it was when computed (`sort_last_name`, `sort_first_name`; a recompute
follows every student import), and each sortable measure has an index per direction:
school year, the measure, then that name and the student. Every recompute rewrites these
indexes, so those of a measure that can be missing (attendance with no day enrolled,
credits below grade 9) leave such students out.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgr.extensions import db
from casemgr.models.base import one_of
from casemgr.models.settings import ThresholdSettings

ATTENDANCE_BANDS = ("on_track", "watch", "at_risk", "critical")
# the measures the caseload sorts by (credits: how far ahead or behind), and whether
# a student can have none
SORTED_MEASURES = {
    "tier": ("tier", False),
    "attendance": ("attendance_rate", True),
    "failures": ("course_failures", False),
    "credits": ("(credits_earned - credits_expected)", True),
}
SORT_NAME = ("sort_last_name", "sort_first_name", "student_id")


def _sort_indexes() -> list[sa.Index]:
    return [
        sa.Index(
            f"ix_student_indicators_{name}_{direction}", "school_year", order(sa.literal_column(measure)).nulls_last(),
            *SORT_NAME, postgresql_where=sa.text(f"{measure} IS NOT NULL") if nullable else None,
        )
        for name, (measure, nullable) in SORTED_MEASURES.items()
        for direction, order in (("asc", sa.asc), ("desc", sa.desc))
    ]


class StudentIndicator(db.Model):
    __tablename__ = "student_indicators"
    __table_args__ = (
        sa.CheckConstraint("tier BETWEEN 1 AND 3", name="tier_range"),
        sa.CheckConstraint("attendance_band IS NULL OR attendance_band IN ('on_track', 'watch', 'at_risk', 'critical')",
                           name="attendance_band_valid"),
        sa.CheckConstraint("fafsa_status IS NULL OR fafsa_status IN ('not_started', 'submitted', 'incomplete', 'complete')",
                           name="fafsa_status_valid"),
        sa.CheckConstraint("days_absent >= 0 AND days_enrolled >= 0", name="days_non_negative"),
        *_sort_indexes(),
        # the students above tier 1, the only ones who can have become tier 3 or risen a
        # tier: the school queue looks them up without visiting the rest (most are tier 1)
        sa.Index("ix_student_indicators_above_tier_1", "student_id", "school_year", postgresql_where=sa.text("tier > 1")),
    )

    student_id: Mapped[int] = mapped_column(sa.ForeignKey("students.id", ondelete="CASCADE"), primary_key=True)
    school_year: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    as_of: Mapped[date]
    settings_id: Mapped[int] = mapped_column(sa.ForeignKey("threshold_settings.id"))
    computed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    days_enrolled: Mapped[int]
    days_absent: Mapped[int]
    attendance_rate: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 4))
    attendance_band: Mapped[str | None] = mapped_column(sa.String(10))
    chronic_absence: Mapped[bool]
    severe_absence: Mapped[bool]
    course_failures: Mapped[int] = mapped_column(sa.SmallInteger)
    core_failure: Mapped[bool]  # a failing mark in English or math
    ninth_grade_on_track: Mapped[bool | None]
    credits_earned: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    credits_expected: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    credits_on_track: Mapped[bool | None]
    suspensions: Mapped[int] = mapped_column(sa.SmallInteger)
    fafsa_status: Mapped[str | None] = mapped_column(sa.String(12))
    fafsa_off_track: Mapped[bool | None]
    off_track_count: Mapped[int] = mapped_column(sa.SmallInteger)
    tier: Mapped[int] = mapped_column(sa.SmallInteger)
    sort_last_name: Mapped[str] = mapped_column(sa.String(100))
    sort_first_name: Mapped[str] = mapped_column(sa.String(100))

    settings: Mapped[ThresholdSettings] = relationship()


class TierChange(db.Model):
    """A student's tier from a recompute on: one row each time a recompute finds the tier
    different from the one before, so "the tier on a day" is the newest row on or before
    it, and "who rose a tier since" reads only the students who changed."""

    __tablename__ = "tier_history"
    __table_args__ = (
        sa.CheckConstraint("tier BETWEEN 1 AND 3", name="tier_history_range"),
        sa.Index("ix_tier_history_since", "since"),
    )

    student_id: Mapped[int] = mapped_column(sa.ForeignKey("students.id", ondelete="CASCADE"), primary_key=True)
    school_year: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    since: Mapped[date] = mapped_column(primary_key=True)
    tier: Mapped[int] = mapped_column(sa.SmallInteger)


class IndicatorMonth(db.Model):
    """A student's indicators as of the end of a month of the current school year, written
    by `casemgr.indicators.recompute_months` with the same computation as `StudentIndicator`:
    the reports' trend month by month (issue 15) counts them."""

    __tablename__ = "indicator_months"
    __table_args__ = (sa.Index("ix_indicator_months_year_month", "school_year", "month_end"),)

    student_id: Mapped[int] = mapped_column(sa.ForeignKey("students.id", ondelete="CASCADE"), primary_key=True)
    school_year: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    month_end: Mapped[date] = mapped_column(primary_key=True)
    settings_id: Mapped[int] = mapped_column(sa.ForeignKey("threshold_settings.id"))
    days_enrolled: Mapped[int]
    chronic_absence: Mapped[bool]
    severe_absence: Mapped[bool]
    course_failures: Mapped[int] = mapped_column(sa.SmallInteger)
    core_failure: Mapped[bool]
    ninth_grade_on_track: Mapped[bool | None]
    credits_on_track: Mapped[bool | None]
    suspensions: Mapped[int] = mapped_column(sa.SmallInteger)
    fafsa_status: Mapped[str | None] = mapped_column(sa.String(12))
    tier: Mapped[int] = mapped_column(sa.SmallInteger)
