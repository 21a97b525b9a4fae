"""Organizations and the people who sign in."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgr.extensions import db
from casemgr.models.base import CreatedAt, PublicId, one_of
from casemgr.models.enums import OrgKind, Role

if TYPE_CHECKING:
    from casemgr.models.students import Student


class Organization(PublicId, CreatedAt, db.Model):
    """A district, one of its schools, a youth-serving partner or a research partner."""

    __tablename__ = "organizations"
    __table_args__ = (
        one_of("kind", OrgKind),
        sa.CheckConstraint("level IS NULL OR level IN ('elementary', 'middle', 'high')", name="level_valid"),
        sa.CheckConstraint(
            "(kind = 'school') = (district_id IS NOT NULL AND level IS NOT NULL)",
            name="school_has_district_and_level",
        ),
        sa.CheckConstraint("report_minimum_n BETWEEN 5 AND 100", name="report_minimum_n_range"),
        sa.CheckConstraint("served_min_hours BETWEEN 1 AND 500", name="served_min_hours_range"),
        sa.CheckConstraint("act_code ~ '^[0-9A-Za-z]{6}$'", name="act_code_format"),
        # lets students and sections reference (school, district) together
        sa.UniqueConstraint("id", "district_id", name="uq_organizations_id_district"),
        # the caseload sorted by school reads schools in name order
        sa.Index("ix_organizations_name", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    district_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    level: Mapped[str | None] = mapped_column(sa.String(16))
    # a district's setting: every staff role, not only district admins, needs a second factor
    require_staff_two_factor: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # a district's setting: no report shows a figure about fewer students (NCES 2011-603)
    report_minimum_n: Mapped[int] = mapped_column(sa.SmallInteger, default=10, server_default="10")
    # a district's setting: the hours of a program after which a student counts as served
    # by it, in the outcomes by program (issue 17)
    served_min_hours: Mapped[int] = mapped_column(sa.SmallInteger, default=10, server_default="10")
    # a district's setting: families may keep their child out of research extracts
    research_opt_out_allowed: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # a high school's ACT (CEEB) code: the Clearinghouse's graduates file names the school by it
    act_code: Mapped[str | None] = mapped_column(sa.String(6))
    # a district's account code (service agreement number) with the Clearinghouse
    clearinghouse_account: Mapped[str | None] = mapped_column(sa.String(20))

    district: Mapped[Organization | None] = relationship(remote_side=[id])

    @property
    def kind_enum(self) -> OrgKind:
        return OrgKind(self.kind)

    def __repr__(self) -> str:
        return f"<Organization {self.code} {self.kind}>"


class User(UserMixin, PublicId, CreatedAt, db.Model):
    """A person who signs in: one role, one organization (SPEC §2)."""

    __tablename__ = "users"
    __table_args__ = (
        one_of("role", Role),
        sa.CheckConstraint("(role = 'student') = (student_id IS NOT NULL)", name="student_role_has_student"),
        sa.CheckConstraint("email = lower(email)", name="email_lowercase"),
        sa.CheckConstraint("locale IS NULL OR locale IN ('en', 'es')", name="locale_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(200))
    job_title: Mapped[str | None] = mapped_column(sa.String(120))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(20), index=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    student_id: Mapped[int | None] = mapped_column(sa.ForeignKey("students.id"), unique=True)
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    locale: Mapped[str | None] = mapped_column(sa.String(5))
    last_login_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # partner staff compliance (SPEC §2): both needed before a youth worker sees anything
    confidentiality_signed_on: Mapped[date | None]
    ferpa_trained_on: Mapped[date | None]
    # when the user last opened their notices: what is newer is "new" (casemgr.reads.notices)
    notices_seen_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # partner staff's home says what changed since their last visit: the day they last
    # opened it, and the day before that, from which the changes shown count
    home_seen_on: Mapped[date | None]
    home_changes_since: Mapped[date | None]
    # every session cookie carries the generation it was issued under; signing out, a
    # password change or reset, a second-factor reset and deactivation raise it, which
    # ends every earlier session of the account (issue 11 item 8)
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    password_changed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # TOTP second factor: the shared secret (set while enrolling), when it was confirmed,
    # and the last time step accepted (a code is never accepted twice)
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    totp_last_counter: Mapped[int | None] = mapped_column(sa.BigInteger)
    # a demo login made by the seed: one-step sign-in outside production
    demo_login: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    organization: Mapped[Organization] = relationship(lazy="joined")
    student: Mapped[Student | None] = relationship(foreign_keys=[student_id])

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def is_active(self) -> bool:  # flask-login
        return self.active

    @property
    def two_factor_enabled(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def invitation_pending(self) -> bool:
        """Invited, and has not yet set a password."""
        return self.password_hash is None

    def get_id(self) -> str:
        """What flask-login keeps in the session: the public id and the session
        generation, so a raised generation refuses every earlier cookie."""
        return f"{self.uuid}.{self.session_generation}"

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"
