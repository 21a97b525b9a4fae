"""Per-district indicator thresholds (SPEC §5); every change is a new version."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from casemgr.extensions import db
from casemgr.models.base import CreatedAt


class ThresholdSettings(CreatedAt, db.Model):
    __tablename__ = "threshold_settings"
    __table_args__ = (
        sa.UniqueConstraint("district_id", "version"),
        sa.CheckConstraint(
            "0 < band_critical_below AND band_critical_below < band_at_risk_below "
            "AND band_at_risk_below < band_watch_below AND band_watch_below <= 1",
            name="bands_ordered",
        ),
        sa.CheckConstraint(
            "0 < chronic_absence_rate AND chronic_absence_rate < severe_absence_rate "
            "AND severe_absence_rate <= 1",
            name="absence_rates_ordered",
        ),
        sa.CheckConstraint(
            "0 <= credits_grade9 AND credits_grade9 <= credits_grade10 "
            "AND credits_grade10 <= credits_grade11 AND credits_grade11 <= credits_grade12",
            name="credits_ordered",
        ),
        sa.CheckConstraint("fafsa_deadline_month BETWEEN 1 AND 12", name="fafsa_month_range"),
        sa.CheckConstraint("fafsa_deadline_day BETWEEN 1 AND 31", name="fafsa_day_range"),
        sa.CheckConstraint("min_enrolled_days BETWEEN 1 AND 60", name="min_days_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    version: Mapped[int]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # attendance rate bands: >= watch_below is on track
    band_watch_below: Mapped[Decimal] = mapped_column(sa.Numeric(4, 3), default=Decimal("0.950"))
    band_at_risk_below: Mapped[Decimal] = mapped_column(sa.Numeric(4, 3), default=Decimal("0.900"))
    band_critical_below: Mapped[Decimal] = mapped_column(sa.Numeric(4, 3), default=Decimal("0.800"))
    chronic_absence_rate: Mapped[Decimal] = mapped_column(sa.Numeric(4, 3), default=Decimal("0.100"))
    severe_absence_rate: Mapped[Decimal] = mapped_column(sa.Numeric(4, 3), default=Decimal("0.200"))
    min_enrolled_days: Mapped[int] = mapped_column(sa.SmallInteger, default=10)
    ninth_grade_min_credits: Mapped[Decimal] = mapped_column(sa.Numeric(4, 2), default=Decimal("5"))
    ninth_grade_max_core_failures: Mapped[int] = mapped_column(sa.SmallInteger, default=1)
    credits_grade9: Mapped[Decimal] = mapped_column(sa.Numeric(4, 2), default=Decimal("5"))
    credits_grade10: Mapped[Decimal] = mapped_column(sa.Numeric(4, 2), default=Decimal("10"))
    credits_grade11: Mapped[Decimal] = mapped_column(sa.Numeric(4, 2), default=Decimal("15"))
    credits_grade12: Mapped[Decimal] = mapped_column(sa.Numeric(4, 2), default=Decimal("20"))
    fafsa_deadline_month: Mapped[int] = mapped_column(sa.SmallInteger, default=3)
    fafsa_deadline_day: Mapped[int] = mapped_column(sa.SmallInteger, default=1)
