"""Requests to amend a student's record (FERPA 34 CFR 99.20), and the school's answers.

Both tables are append-only in the database: a request is never edited, and the
decision on it is a row of its own, with who decided and when. A request without a
decision is open.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgr.extensions import db
from casemgr.models.base import CreatedAt, PublicId, one_of
from casemgr.models.enums import AmendmentDecision, AmendmentPart
from casemgr.models.people import User

AMENDMENT_MESSAGE_MAX = 2000
AMENDMENT_ITEM_MAX = 200
AMENDMENT_ANSWER_MAX = 2000


class AmendmentRequest(PublicId, CreatedAt, db.Model):
    __tablename__ = "amendment_requests"
    __table_args__ = (
        one_of("part", AmendmentPart),
        sa.CheckConstraint(f"char_length(message) BETWEEN 1 AND {AMENDMENT_MESSAGE_MAX}", name="message_length"),
        sa.CheckConstraint(f"char_length(item) <= {AMENDMENT_ITEM_MAX}", name="item_length"),
        sa.Index("ix_amendment_requests_student_created", "student_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(sa.ForeignKey("students.id"))
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    part: Mapped[str] = mapped_column(sa.String(16))
    item: Mapped[str | None] = mapped_column(sa.String(AMENDMENT_ITEM_MAX))
    message: Mapped[str] = mapped_column(sa.Text)

    requested_by: Mapped[User] = relationship()
    decision_event: Mapped[AmendmentRequestEvent | None] = relationship(back_populates="request", uselist=False)


class AmendmentRequestEvent(CreatedAt, db.Model):
    """The school's decision on a request: accepted (the record will be corrected, with
    what was done) or denied (with the explanation). One per request."""

    __tablename__ = "amendment_request_events"
    __table_args__ = (
        one_of("decision", AmendmentDecision),
        sa.CheckConstraint(f"char_length(answer) BETWEEN 1 AND {AMENDMENT_ANSWER_MAX}", name="answer_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("amendment_requests.id"), unique=True)
    decision: Mapped[str] = mapped_column(sa.String(10))
    answer: Mapped[str] = mapped_column(sa.Text)
    decided_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))

    request: Mapped[AmendmentRequest] = relationship(back_populates="decision_event")
    decided_by: Mapped[User] = relationship()
