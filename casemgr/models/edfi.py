"""What an Ed-Fi import keeps between files: the district's mapping of attendance event
descriptors to casemgr's statuses, and the students an InterchangeStudent file
describes before their StudentSchoolAssociation gives them a school and a grade."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from casemgr.extensions import db
from casemgr.models.base import one_of
from casemgr.models.enums import AttendanceStatus


class EdFiDescriptorMapping(db.Model):
    """A district's casemgr status for an attendance event descriptor casemgr does not
    know, or one it maps otherwise than the defaults (casemgr.importers.edfi_map).
    `descriptor` as the district's files write it: a code value ("Sick") or a full URI
    ("uri://district.org/AttendanceEventCategoryDescriptor#Sick"), matched ignoring case."""

    __tablename__ = "edfi_descriptor_mappings"
    __table_args__ = (
        one_of("status", AttendanceStatus),
        sa.UniqueConstraint("district_id", "descriptor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="CASCADE"))
    descriptor: Mapped[str] = mapped_column(sa.String(306))  # a namespace (255) + '#' + a code value (50)
    status: Mapped[str] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())


class EdFiStudent(db.Model):
    """A student an InterchangeStudent file describes who is not in casemgr yet: an Ed-Fi
    Student has no school or grade, so the student is created when a
    StudentSchoolAssociation names them."""

    __tablename__ = "edfi_students"

    district_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    student_unique_id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    first_name: Mapped[str] = mapped_column(sa.String(100))
    middle_name: Mapped[str | None] = mapped_column(sa.String(100))
    last_name: Mapped[str] = mapped_column(sa.String(100))
    preferred_name: Mapped[str | None] = mapped_column(sa.String(100))
    birth_date: Mapped[date]
    sex: Mapped[str | None] = mapped_column(sa.String(20))
