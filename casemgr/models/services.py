"""Services delivered (issue 17): the contacts a partner's workers have with students,
one by one or in a program group's sessions, from which dosage and outcomes are counted."""
from __future__ import annotations

from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgr.extensions import db
from casemgr.models.base import CreatedAt, PublicId, one_of
from casemgr.models.enums import ContactMode, ContactSource, Service
from casemgr.models.people import User

SESSION_MINUTES_MAX = 720  # a contact longer than a 12-hour day is a typing slip
GROUP_NAME_MAX = 80


class ProgramGroup(PublicId, CreatedAt, db.Model):
    """A partner's group that meets on a schedule to deliver one service (a homework club
    on Tuesdays and Thursdays): its members are a subset of the organization's roster, and
    a worker takes attendance for all of them at once."""

    __tablename__ = "program_groups"
    __table_args__ = (
        one_of("service", Service),
        sa.CheckConstraint(f"char_length(name) BETWEEN 1 AND {GROUP_NAME_MAX}", name="name_length"),
        sa.CheckConstraint(f"session_minutes BETWEEN 1 AND {SESSION_MINUTES_MAX}", name="session_minutes_range"),
        sa.CheckConstraint("weekdays <@ ARRAY[0, 1, 2, 3, 4, 5, 6]::smallint[]", name="weekdays_valid"),
        sa.Index("uq_program_groups_name", "organization_id", sa.text("lower(name)"), unique=True,
                 postgresql_where=sa.text("archived_on IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(GROUP_NAME_MAX))
    service: Mapped[str] = mapped_column(sa.String(24))
    weekdays: Mapped[list[int]] = mapped_column(ARRAY(sa.SmallInteger), default=list, server_default="{}")  # 0 = Monday
    starts_at: Mapped[time | None]
    session_minutes: Mapped[int] = mapped_column(sa.SmallInteger, default=60, server_default="60")
    leader_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    archived_on: Mapped[date | None]

    leader: Mapped[User | None] = relationship(foreign_keys=[leader_id])


class ProgramGroupMember(CreatedAt, db.Model):
    """A student in a program group; leaving the group deletes the row (the sessions the
    student attended stay, as service contacts)."""

    __tablename__ = "program_group_members"

    group_id: Mapped[int] = mapped_column(sa.ForeignKey("program_groups.id", ondelete="CASCADE"), primary_key=True)
    student_id: Mapped[int] = mapped_column(sa.ForeignKey("students.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)
    added_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


class ServiceContact(PublicId, CreatedAt, db.Model):
    """A service a partner gave a student on a day: minutes of one service from the
    organization's service agreement, one to one or in a group. A group session records
    every member, present or absent (`attended`), so the sheet shows what was taken and
    saving it again changes the same rows; dosage counts only the contacts attended."""

    __tablename__ = "service_contacts"
    __table_args__ = (
        one_of("service", Service),
        one_of("mode", ContactMode),
        one_of("source", ContactSource),
        sa.CheckConstraint(f"minutes BETWEEN 1 AND {SESSION_MINUTES_MAX}", name="minutes_range"),
        sa.CheckConstraint("group_id IS NULL OR mode = 'group'", name="group_session_is_group"),
        sa.CheckConstraint("attended OR group_id IS NOT NULL", name="absence_only_in_groups"),
        # one row per member and day of a group's session; one per student, day and service
        # of a partner's imported attendance (re-importing a file changes nothing)
        sa.Index("uq_service_contacts_group_day", "group_id", "contact_on", "student_id", unique=True,
                 postgresql_where=sa.text("group_id IS NOT NULL")),
        sa.Index("uq_service_contacts_imported", "organization_id", "student_id", "contact_on", "service",
                 unique=True, postgresql_where=sa.text("source = 'import'")),
        sa.Index("ix_service_contacts_student_day", "student_id", "contact_on"),
        sa.Index("ix_service_contacts_program_day", "organization_id", "service", "contact_on"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    student_id: Mapped[int] = mapped_column(sa.ForeignKey("students.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    service: Mapped[str] = mapped_column(sa.String(24))
    contact_on: Mapped[date]
    minutes: Mapped[int] = mapped_column(sa.SmallInteger)
    mode: Mapped[str] = mapped_column(sa.String(10))
    attended: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    group_id: Mapped[int | None] = mapped_column(sa.ForeignKey("program_groups.id"))
    source: Mapped[str] = mapped_column(sa.String(6), default="app", server_default="app")
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    note_id: Mapped[int | None] = mapped_column(sa.ForeignKey("notes.id"))
    updated_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
