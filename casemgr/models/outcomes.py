"""Outcomes by program (issue 17): how the students a partner's program served fared
after service began, beside matched students of the same school, grade and tier who
were not served by it. Written by `casemgr.outcomes.rebuild`; a comparison, not proof
that the program caused the difference."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from casemgr.extensions import db
from casemgr.models.base import one_of
from casemgr.models.enums import Service

RATE = sa.Numeric(5, 4)  # a rate or a share, 0 to 1
MEAN = sa.Numeric(6, 3)  # a mean count or change per student


class ProgramOutcome(db.Model):
    """One program (a partner organization's service) in one school year of a district,
    at one school (the school the served students attended when service began) or, with
    `school_id` NULL, at all of them.

    Served: attended contacts of the program that year of at least `served_min_hours`
    hours. Each served student is matched with the students of the same school, grade and
    tier in the week service began who had no attended contact of the program that year;
    one with none is unmatched and left out of both sides. Each measure runs from that
    week to `as_of` (or the end of the school year, if it ended). A side's mean leaves
    out the students without the measure; the comparison mean is the average, over the
    served students counted, of the mean of each one's matched students, and its n the
    number of distinct matched students counted. The comparison leaves out every student on
    the organization's roster at any time in the school year.

    Each row has two versions (`audience`): "district", of every served student, for the
    district's readers; and "partner", for the organization's own administrators, of only
    the served students on its roster on `as_of` with a consent naming it in force that
    day covering attendance (a page shows them only the attendance measure)."""

    __tablename__ = "program_outcomes"
    __table_args__ = (
        one_of("service", Service),
        sa.CheckConstraint("matched_n + unmatched_n = served_n", name="served_matched_or_not"),
        one_of("audience", ("district", "partner")),
        sa.Index("uq_program_outcomes_program_school", "district_id", "school_year", "organization_id", "service",
                 "school_id", "audience", unique=True, postgresql_nulls_not_distinct=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # who may read the row: "district" (every served student) or "partner" (the served
    # students the organization may read one by one)
    audience: Mapped[str] = mapped_column(sa.String(8), default="district", server_default="district")
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    school_year: Mapped[int] = mapped_column(sa.SmallInteger)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    service: Mapped[str] = mapped_column(sa.String(24))
    school_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"))  # NULL: all schools
    as_of: Mapped[date]
    served_min_hours: Mapped[int] = mapped_column(sa.SmallInteger)  # the district's threshold when computed
    computed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    served_n: Mapped[int]
    matched_n: Mapped[int]
    unmatched_n: Mapped[int]
    comparison_n: Mapped[int]  # distinct matched students, not served by the program
    served_hours: Mapped[Decimal] = mapped_column(sa.Numeric(10, 1))  # attended hours of the served students
    # attendance rate before the week service began (the prior school year's when too few
    # days enrolled before it) and from it on
    attendance_n: Mapped[int]
    attendance_comparison_n: Mapped[int]
    attendance_before_served: Mapped[Decimal | None] = mapped_column(RATE)
    attendance_after_served: Mapped[Decimal | None] = mapped_column(RATE)
    attendance_before_comparison: Mapped[Decimal | None] = mapped_column(RATE)
    attendance_after_comparison: Mapped[Decimal | None] = mapped_column(RATE)
    # courses with a failing mark recorded from the week service began: per student, and
    # the share of students with any
    failures_n: Mapped[int]
    failures_comparison_n: Mapped[int]
    failures_served: Mapped[Decimal | None] = mapped_column(MEAN)
    failures_comparison: Mapped[Decimal | None] = mapped_column(MEAN)
    failing_share_served: Mapped[Decimal | None] = mapped_column(RATE)
    failing_share_comparison: Mapped[Decimal | None] = mapped_column(RATE)
    # tier now minus tier then (negative: a lower, better tier), and the shares improved
    # and worsened
    tier_n: Mapped[int]
    tier_comparison_n: Mapped[int]
    tier_change_served: Mapped[Decimal | None] = mapped_column(MEAN)
    tier_change_comparison: Mapped[Decimal | None] = mapped_column(MEAN)
    tier_improved_served: Mapped[Decimal | None] = mapped_column(RATE)
    tier_improved_comparison: Mapped[Decimal | None] = mapped_column(RATE)
    tier_worsened_served: Mapped[Decimal | None] = mapped_column(RATE)
    tier_worsened_comparison: Mapped[Decimal | None] = mapped_column(RATE)
