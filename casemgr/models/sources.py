"""Where imported records came from: a source system's own ids, kept per district so
that a later file (a OneRoster delta bundle) can refer to rows of an earlier one, and
the district's mapping of a source's schools to casemgr's."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from casemgr.extensions import db
from casemgr.models.base import one_of

SOURCE_ENTITIES = ("org", "student", "teacher", "guardian", "class", "enrollment")


class SourceId(db.Model):
    """A source's id (a OneRoster `sourcedId`) for a casemgr record: `record_id` is the
    id of the organization, student, user (teacher), guardian or section; an enrollment
    is the section (`record_id`) and the student (`member_id`)."""

    __tablename__ = "source_ids"
    __table_args__ = (
        sa.UniqueConstraint("district_id", "source", "entity", "sourced_id"),
        one_of("entity", SOURCE_ENTITIES),
        one_of("source", ("oneroster",)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    source: Mapped[str] = mapped_column(sa.String(20))
    entity: Mapped[str] = mapped_column(sa.String(20))
    sourced_id: Mapped[str] = mapped_column(sa.String(255))
    record_id: Mapped[int]
    member_id: Mapped[int | None]


class SourceSchool(db.Model):
    """A district's mapping of a source's org (its `sourcedId` or `identifier`) to a
    casemgr school, for a source whose codes differ from casemgr's."""

    __tablename__ = "source_schools"
    __table_args__ = (sa.UniqueConstraint("district_id", "source", "org_key"), one_of("source", ("oneroster",)))

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    source: Mapped[str] = mapped_column(sa.String(20), default="oneroster")
    org_key: Mapped[str] = mapped_column(sa.String(255))
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="CASCADE"))
