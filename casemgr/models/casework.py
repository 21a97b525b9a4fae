"""Notes, flags, support plans and referrals: the work done around a student (SPEC §6)."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgr.extensions import db
from casemgr.models.base import CreatedAt, PublicId, one_of
from casemgr.models.enums import CaseStatus, NoteAudience, NoteTopic, ReferralStatus, Service
from casemgr.models.people import Organization, User

NOTE_MAX_LENGTH = 5000


class Note(PublicId, CreatedAt, db.Model):
    """A case note; append-only in the database. A correction is an amendment that
    points at the note it corrects (SPEC §4 rule 4)."""

    __tablename__ = "notes"
    __table_args__ = (
        one_of("audience", NoteAudience),
        one_of("topic", NoteTopic),
        sa.CheckConstraint(
            f"char_length(body) BETWEEN 1 AND {NOTE_MAX_LENGTH}", name="body_length"
        ),
        sa.CheckConstraint("amends_id IS NULL OR amends_id <> id", name="not_self_amending"),
        sa.Index("ix_notes_student_created", "student_id", "created_at"),
        # notices: the notes written since a user's last visit, whatever the student
        sa.Index("ix_notes_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(sa.ForeignKey("students.id"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    audience: Mapped[str] = mapped_column(sa.String(14))
    topic: Mapped[str] = mapped_column(sa.String(20))
    body: Mapped[str] = mapped_column(sa.Text)
    amends_id: Mapped[int | None] = mapped_column(sa.ForeignKey("notes.id"), index=True)

    author: Mapped[User] = relationship()
    organization: Mapped[Organization] = relationship()
    amends: Mapped[Note | None] = relationship(remote_side=[id])


class Flag(PublicId, CreatedAt, db.Model):
    """A need a counselor has seen (attendance support, tutoring, ...)."""

    __tablename__ = "flags"
    __table_args__ = (
        one_of("need", Service),
        one_of("status", CaseStatus),
        sa.CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name="closed_has_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(sa.ForeignKey("students.id"), index=True)
    need: Mapped[str] = mapped_column(sa.String(24))
    details: Mapped[str | None] = mapped_column(sa.Text)
    raised_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(sa.String(8), default=CaseStatus.OPEN, server_default="open")
    closed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    raised_by: Mapped[User] = relationship(foreign_keys=[raised_by_id])


class SupportPlan(PublicId, CreatedAt, db.Model):
    __tablename__ = "support_plans"
    __table_args__ = (
        one_of("status", CaseStatus),
        sa.CheckConstraint("tier BETWEEN 1 AND 3", name="tier_range"),
        sa.CheckConstraint("duration_weeks BETWEEN 1 AND 52", name="duration_range"),
        sa.CheckConstraint("checkin_every_days BETWEEN 1 AND 90", name="checkin_range"),
        sa.CheckConstraint("(status = 'closed') = (closed_on IS NOT NULL)", name="closed_has_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(sa.ForeignKey("students.id"), index=True)
    flag_id: Mapped[int | None] = mapped_column(sa.ForeignKey("flags.id"))
    tier: Mapped[int] = mapped_column(sa.SmallInteger)
    goal: Mapped[str] = mapped_column(sa.Text)
    strategies: Mapped[str] = mapped_column(sa.Text)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    starts_on: Mapped[date]
    duration_weeks: Mapped[int] = mapped_column(sa.SmallInteger, default=6, server_default="6")
    checkin_every_days: Mapped[int] = mapped_column(sa.SmallInteger, default=7, server_default="7")
    status: Mapped[str] = mapped_column(sa.String(8), default=CaseStatus.OPEN, server_default="open")
    closed_on: Mapped[date | None]
    # when and by whom it was closed (plans closed before migration 0007 have neither)
    closed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    outcome: Mapped[str | None] = mapped_column(sa.Text)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    check_ins: Mapped[list[SupportPlanCheckIn]] = relationship(
        back_populates="plan", order_by="SupportPlanCheckIn.occurred_on"
    )


class SupportPlanCheckIn(CreatedAt, db.Model):
    __tablename__ = "support_plan_check_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("support_plans.id", ondelete="CASCADE"), index=True)
    occurred_on: Mapped[date]
    summary: Mapped[str] = mapped_column(sa.Text)
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))

    plan: Mapped[SupportPlan] = relationship(back_populates="check_ins")


class Referral(PublicId, CreatedAt, db.Model):
    """A need handed to a partner organization; its history is in ReferralEvent."""

    __tablename__ = "referrals"
    __table_args__ = (
        one_of("service", Service),
        one_of("status", ReferralStatus),
        sa.Index("ix_referrals_org_status", "organization_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(sa.ForeignKey("students.id"), index=True)
    flag_id: Mapped[int | None] = mapped_column(sa.ForeignKey("flags.id"))
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    service: Mapped[str] = mapped_column(sa.String(24))
    status: Mapped[str] = mapped_column(sa.String(20))
    message: Mapped[str | None] = mapped_column(sa.Text)
    decline_reason: Mapped[str | None] = mapped_column(sa.Text)
    outcome: Mapped[str | None] = mapped_column(sa.Text)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )

    organization: Mapped[Organization] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    events: Mapped[list[ReferralEvent]] = relationship(
        back_populates="referral", order_by="ReferralEvent.created_at"
    )


class ReferralEvent(CreatedAt, db.Model):
    """One status change of a referral, with who made it."""

    __tablename__ = "referral_events"
    __table_args__ = (one_of("status", ReferralStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(sa.ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(sa.String(20))
    by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    comment: Mapped[str | None] = mapped_column(sa.Text)

    referral: Mapped[Referral] = relationship(back_populates="events")
    by_user: Mapped[User | None] = relationship()
