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

    def active_on(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


class ResearchProjectMember(db.Model):
    """A researcher account attached to a project."""

    __tablename__ = "research_project_members"

    project_id: Mapped[int] = mapped_column(sa.ForeignKey("research_projects.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True, index=True)
    added_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())

    project: Mapped[ResearchProject] = relationship(back_populates="members")
    user: Mapped[User] = relationship(foreign_keys=[user_id])
