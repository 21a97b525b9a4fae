"""Data-sharing agreements, service agreements and program rosters (SPEC §4, §6)."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgr.extensions import db
from casemgr.models.base import CreatedAt, PublicId, all_of
from casemgr.models.enums import Category, Service
from casemgr.models.people import Organization


class DataSharingAgreement(PublicId, CreatedAt, db.Model):
    """The categories an organization may ever receive from a district, and why."""

    __tablename__ = "data_sharing_agreements"
    __table_args__ = (
        all_of("categories", Category),
        sa.CheckConstraint("starts_on <= ends_on", name="dates_ordered"),
        sa.CheckConstraint("ended_on IS NULL OR ended_on <= ends_on", name="ended_within"),
        sa.Index("ix_dsa_org_dates", "organization_id", "starts_on", "ends_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    categories: Mapped[list[str]] = mapped_column(ARRAY(sa.Text))
    purpose: Mapped[str] = mapped_column(sa.Text)  # in the district's default language
    # the purpose in each other language the district offers families: {"es": "..."}
    purpose_translations: Mapped[dict[str, str]] = mapped_column(JSONB, default=dict, server_default="{}")
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    ended_on: Mapped[date | None]  # ended early by a district admin
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    organization: Mapped[Organization] = relationship(foreign_keys=[organization_id])
    district: Mapped[Organization] = relationship(foreign_keys=[district_id])

    def purpose_in(self, language: str) -> tuple[str, str | None]:
        """The purpose in `language` and that language; without it, the purpose in the
        district's default language and None."""
        translated = (self.purpose_translations or {}).get(language)
        return (translated, language) if translated else (self.purpose, None)


service_agreement_schools = sa.Table(
    "service_agreement_schools",
    db.metadata,
    sa.Column("agreement_id", sa.ForeignKey("service_agreements.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("school_id", sa.ForeignKey("organizations.id"), primary_key=True, index=True),
)


class ServiceAgreement(PublicId, CreatedAt, db.Model):
    """The services an organization offers at which schools, and how many students."""

    __tablename__ = "service_agreements"
    __table_args__ = (
        all_of("services", Service),
        sa.CheckConstraint("capacity > 0", name="capacity_positive"),
        sa.CheckConstraint("starts_on <= ends_on", name="dates_ordered"),
        sa.CheckConstraint("ended_on IS NULL OR ended_on <= ends_on", name="ended_within"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    services: Mapped[list[str]] = mapped_column(ARRAY(sa.Text))
    capacity: Mapped[int]
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    ended_on: Mapped[date | None]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    organization: Mapped[Organization] = relationship(foreign_keys=[organization_id])
    schools: Mapped[list[Organization]] = relationship(secondary=service_agreement_schools)


class RosterEntry(CreatedAt, db.Model):
    """A student on an organization's program roster, from `added_on` until removed."""

    __tablename__ = "roster_entries"
    __table_args__ = (
        sa.CheckConstraint("removed_on IS NULL OR removed_on >= added_on", name="dates_ordered"),
        sa.Index(
            "uq_roster_entries_active",
            "organization_id",
            "student_id",
            unique=True,
            postgresql_where=sa.text("removed_on IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    student_id: Mapped[int] = mapped_column(sa.ForeignKey("students.id", ondelete="CASCADE"), index=True)
    program: Mapped[str | None] = mapped_column(sa.String(120))
    added_on: Mapped[date]
    added_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    removed_on: Mapped[date | None]
    removed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
