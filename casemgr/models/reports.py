"""Stored figures of the reports (issue 15)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from casemgr.extensions import db
from casemgr.models.base import PublicId


class StoredCube(db.Model):
    """The protected figures of one measure in one school year of a district, for one
    minimum n (`casemgr.reads.report_cube`): computed on first use, kept until the year's
    indicators are recomputed, which removes them."""

    __tablename__ = "report_cubes"

    district_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), primary_key=True)
    school_year: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    measure: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    minimum_n: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    month: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, default=0, server_default="0")  # 0: the year
    # {grouping: [[value, ..., n, k, coded, bound], ...]}, the grouping its breakdowns
    # joined by "|" ("" the total, "grade", "school|grade"), a value for each of them
    figures: Mapped[dict] = mapped_column(JSONB)
    computed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())


class ReportLogEntry(db.Model):
    """A file exported or a report published (`casemgr.services.report_log`): append-only."""

    __tablename__ = "report_log"
    __table_args__ = (sa.Index("ix_report_log_occurred_at", "occurred_at"),)

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    organization_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"))
    # the district whose figures the file or report holds: its admins search the log
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(20))
    title: Mapped[str] = mapped_column(sa.String(300))
    parameters: Mapped[dict] = mapped_column(JSONB)
    filename: Mapped[str | None] = mapped_column(sa.String(200))
    file_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    request_path: Mapped[str | None] = mapped_column(sa.String(500))


class PublishedReport(PublicId, db.Model):
    """An annual partnership report as published (`casemgr.reads.annual_report`): its
    content is frozen at publication, never recomputed; readable by the partnership's
    signed-in people, and by anyone at its public link when the district chose so."""

    __tablename__ = "published_reports"
    __table_args__ = (sa.CheckConstraint("baseline_year < school_year", name="baseline_before"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    school_year: Mapped[int] = mapped_column(sa.SmallInteger)
    baseline_year: Mapped[int] = mapped_column(sa.SmallInteger)
    content: Mapped[dict] = mapped_column(JSONB)
    published_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    published_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    # the public link's secret part; None while the report is for signed-in people only
    public_token: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
