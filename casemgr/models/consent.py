"""Consents to disclose, and their revocations (SPEC §4 rule 1).

Both tables are append-only in the database: a consent is never edited; a change is a
new consent, and a revocation is a row of its own.
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, INET
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgr.extensions import db
from casemgr.models.base import CreatedAt, PublicId, all_of, one_of
from casemgr.models.enums import Category, ConsentMethod, SignerRelationship
from casemgr.models.people import Organization


class Consent(PublicId, CreatedAt, db.Model):
    __tablename__ = "consents"
    __table_args__ = (
        all_of("categories", Category),
        one_of("signer_relationship", SignerRelationship),
        one_of("method", ConsentMethod),
        sa.CheckConstraint("signed_on <= expires_on", name="dates_ordered"),
        sa.CheckConstraint(
            "method = 'paper' OR (statement_text IS NOT NULL AND signed_at IS NOT NULL)",
            name="electronic_has_statement",
        ),
        sa.Index("ix_consents_student_org", "student_id", "organization_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(sa.ForeignKey("students.id"))
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    categories: Mapped[list[str]] = mapped_column(ARRAY(sa.Text))
    purpose: Mapped[str] = mapped_column(sa.Text)
    signer_name: Mapped[str] = mapped_column(sa.String(200))
    signer_relationship: Mapped[str] = mapped_column(sa.String(20))
    signer_guardian_id: Mapped[int | None] = mapped_column(sa.ForeignKey("guardians.id"))
    signer_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    signed_on: Mapped[date]
    expires_on: Mapped[date]
    method: Mapped[str] = mapped_column(sa.String(12))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # electronic signature (34 CFR 99.30): the exact text shown, when and from where
    statement_text: Mapped[str | None] = mapped_column(sa.Text)
    signed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    signer_address: Mapped[str | None] = mapped_column(INET)
    locale: Mapped[str] = mapped_column(sa.String(5), default="en", server_default="en")

    organization: Mapped[Organization] = relationship()
    revocation: Mapped[ConsentRevocation | None] = relationship(back_populates="consent", uselist=False)


class ConsentRevocation(CreatedAt, db.Model):
    __tablename__ = "consent_revocations"

    consent_id: Mapped[int] = mapped_column(sa.ForeignKey("consents.id"), primary_key=True)
    revoked_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(sa.Text)

    consent: Mapped[Consent] = relationship(back_populates="revocation")


class ConsentAsk(PublicId, CreatedAt, db.Model):
    """A partner's request that the school ask a student's family for consent (issue 14):
    the organization's staff see the student's name only, and `categories` are what a
    consent would let them see. Open until a counselor or principal of the student's
    school marks it handled; one open request per student and organization."""

    __tablename__ = "consent_asks"
    __table_args__ = (
        all_of("categories", Category),
        sa.CheckConstraint("(handled_at IS NULL) = (handled_by_id IS NULL)", name="handled_by_someone"),
        sa.CheckConstraint("char_length(handled_note) <= 500", name="handled_note_length"),
        sa.Index("uq_consent_asks_open", "student_id", "organization_id", unique=True,
                 postgresql_where=sa.text("handled_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(sa.ForeignKey("students.id"))
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    categories: Mapped[list[str]] = mapped_column(ARRAY(sa.Text))
    asked_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    handled_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    handled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    handled_note: Mapped[str | None] = mapped_column(sa.Text)

    organization: Mapped[Organization] = relationship()
