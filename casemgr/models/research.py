"""Research projects under written agreement (issue 16; FERPA 34 CFR 99.31(a)(6), the
studies exception): what a research organization may receive of a district, for which
school years and schools, between which dates, and until when it may keep it."""
from __future__ import annotations

import secrets
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgr.extensions import db
from casemgr.models.base import CreatedAt, PublicId, all_of
from casemgr.models.people import Organization, User
from casemgr.research import VARIABLES


class ResearchProject(PublicId, CreatedAt, db.Model):
    """A study: its research organization, purpose and ethics approval, the variables
    approved from `casemgr.research.VARIABLES`, the school years and schools it covers
    (no school listed: every school of the district), when it runs and by when its data
    must be destroyed."""

    __tablename__ = "research_projects"
    __table_args__ = (
        all_of("variables", VARIABLES),
        sa.CheckConstraint("cardinality(school_years) > 0", name="school_years_given"),
        sa.CheckConstraint("starts_on <= ends_on", name="dates_ordered"),
        sa.CheckConstraint("ends_on <= destroy_by", name="destroyed_after_it_ends"),
        sa.Index("ix_research_projects_district", "district_id", "starts_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    purpose: Mapped[str] = mapped_column(sa.Text)
    approval_reference: Mapped[str] = mapped_column(sa.String(200))  # the ethics/IRB approval
    variables: Mapped[list[str]] = mapped_column(ARRAY(sa.Text))
    school_years: Mapped[list[int]] = mapped_column(ARRAY(sa.SmallInteger))
    school_ids: Mapped[list[int]] = mapped_column(ARRAY(sa.Integer), default=list, server_default="{}")
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    destroy_by: Mapped[date]
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    # the key of the project's pseudonyms (`casemgr.deidentify.pseudonym`): casemgr keeps
    # it, no page or file shows it, so pseudonyms link within a project and never across
    pseudonym_secret: Mapped[bytes] = mapped_column(sa.LargeBinary(32), default=lambda: secrets.token_bytes(32))
    # how far its last extract generalized each quasi-identifier, and the values merged
    # into "Other": a later extract never shows more (`casemgr.reads.research_extract`)
    extract_generalization: Mapped[dict | None] = mapped_column(JSONB)

    organization: Mapped[Organization] = relationship(foreign_keys=[organization_id])
    district: Mapped[Organization] = relationship(foreign_keys=[district_id])
    members: Mapped[list[ResearchProjectMember]] = relationship(back_populates="project",
                                                                 order_by="ResearchProjectMember.added_at")
    districts: Mapped[list[ResearchProjectDistrict]] = relationship(
        back_populates="project", order_by="ResearchProjectDistrict.invited_at")

    def active_on(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on

    @property
    def covered_district_ids(self) -> list[int]:
        """The districts whose students the project's extracts hold."""
        return sorted(row.district_id for row in self.districts if row.covered)


class ResearchProjectMember(db.Model):
    """A researcher account attached to a project."""

    __tablename__ = "research_project_members"

    project_id: Mapped[int] = mapped_column(sa.ForeignKey("research_projects.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True, index=True)
    added_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())

    project: Mapped[ResearchProject] = relationship(back_populates="members")
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class ResearchProjectDistrict(db.Model):
    """A district of the partnership that a project covers (issue 16 item 3). The
    district that records the project covers it from the start; another district is
    invited and covers it once its own district admin approves (each district discloses
    its own students under its own written agreement) until it withdraws. Students are
    linked across the districts by their state ID."""

    __tablename__ = "research_project_districts"
    __table_args__ = (
        sa.CheckConstraint("(approved_at IS NULL) = (approved_by_id IS NULL)", name="approval_complete"),
        sa.CheckConstraint("(withdrawn_at IS NULL) = (withdrawn_by_id IS NULL)", name="withdrawal_complete"),
        sa.CheckConstraint("withdrawn_at IS NULL OR approved_at IS NOT NULL", name="withdrawn_after_approval"),
    )

    project_id: Mapped[int] = mapped_column(sa.ForeignKey("research_projects.id"), primary_key=True)
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), primary_key=True, index=True)
    invited_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    withdrawn_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    project: Mapped[ResearchProject] = relationship(back_populates="districts")
    district: Mapped[Organization] = relationship(foreign_keys=[district_id])

    @property
    def covered(self) -> bool:
        return self.approved_at is not None and self.withdrawn_at is None

    @property
    def state(self) -> str:
        """"invited", "approved" or "withdrawn"."""
        if self.approved_at is None:
            return "invited"
        return "withdrawn" if self.withdrawn_at is not None else "approved"


class ResearchOptOut(db.Model):
    """A family's request that their child be left out of every research extract (issue
    16 item 5), where the district lets families ask. Kept when withdrawn, so the record
    shows who asked and when. Extracts leave out every record of the child's state ID,
    in whichever district of the partnership it is."""

    __tablename__ = "research_opt_outs"
    __table_args__ = (
        sa.CheckConstraint("(withdrawn_at IS NULL) = (withdrawn_by_id IS NULL)", name="withdrawal_complete"),
        # one request in force per student
        sa.Index("uq_research_opt_outs_in_force", "student_id", unique=True,
                 postgresql_where=sa.text("withdrawn_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(sa.ForeignKey("students.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    withdrawn_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
