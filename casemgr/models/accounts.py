"""How accounts come to exist and stay safe (issue 11): account events, invitation and
reset links, family claim codes and second-factor recovery codes.

No secret is stored as given: links and codes keep only a SHA-256 of the token (they
are long and random, so a hash is enough), recovery codes likewise.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgr.extensions import db
from casemgr.models.base import CreatedAt, PublicId, one_of
from casemgr.models.enums import AccountAction, TokenPurpose
from casemgr.models.people import Organization, User
from casemgr.models.students import Guardian, Student


class AccountEvent(db.Model):
    """One change to an account, or one sign-in: who did what to whom, when, from which
    address. Append-only in the database, like the disclosure log."""

    __tablename__ = "account_events"
    __table_args__ = (
        one_of("action", AccountAction),
        sa.Index("ix_account_events_user_at", "user_id", "occurred_at"),
        sa.Index("ix_account_events_org_at", "organization_id", "occurred_at"),
        sa.Index("ix_account_events_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    # who acted: None for the command line, or someone not signed in (a reset, a claim)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # whose account, and its organization then (partner admins read their own's)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    organization_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"))
    action: Mapped[str] = mapped_column(sa.String(40))
    details: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    address: Mapped[str | None] = mapped_column(sa.String(64))
    browser: Mapped[str | None] = mapped_column(sa.String(60))

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    organization: Mapped[Organization | None] = relationship()


class AccountToken(CreatedAt, db.Model):
    """A single-use link: an invitation (7 days) or a password reset (30 minutes).
    Sending a new one of the same purpose revokes the earlier ones."""

    __tablename__ = "account_tokens"
    __table_args__ = (
        one_of("purpose", TokenPurpose),
        sa.Index("ix_account_tokens_user_purpose", "user_id", "purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    purpose: Mapped[str] = mapped_column(sa.String(20))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class ClaimCode(PublicId, CreatedAt, db.Model):
    """The one-time code of a printed invitation letter: a guardian with educational
    rights (guardian_id set) or the eligible student themself (guardian_id NULL) claims
    an account with it and the student's birth date. 30 days, single use; reissuing
    revokes the earlier letter, and so do five wrong birth dates."""

    __tablename__ = "claim_codes"
    __table_args__ = (
        sa.CheckConstraint("language IN ('en', 'es')", name="language_valid"),
        sa.Index("ix_claim_codes_student", "student_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(sa.ForeignKey("students.id"))
    guardian_id: Mapped[int | None] = mapped_column(sa.ForeignKey("guardians.id"))
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    language: Mapped[str] = mapped_column(sa.String(5), default="en", server_default="en")
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # wrong birth dates given with this code; the letter is void after a few (migration 0009)
    failed_attempts: Mapped[int] = mapped_column(sa.SmallInteger, default=0, server_default="0")
    # the account the code was claimed for
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    student: Mapped[Student] = relationship()
    guardian: Mapped[Guardian | None] = relationship()
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])


class RecoveryCode(db.Model):
    """One of the ten single-use codes that stand in for the authenticator app."""

    __tablename__ = "recovery_codes"
    __table_args__ = (sa.Index("ix_recovery_codes_user", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
