"""Asking the school to request a family's consent (issue 14, item 4).

A partner's staff member who sees only a student's name (or part of their record) asks
the school; the student's counselors and principal see the request and mark it handled
once they have asked the family (or printed a release form). One open request per
student and organization: a second one is refused with a clear message. Both steps are
written to the disclosure log, where the family reads them.
"""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from casemgr import policy
from casemgr.extensions import db
from casemgr.models import ConsentAsk, Student, User
from casemgr.services import disclosure
from casemgr.services.locks import lock_student
from casemgr.text import has_control_characters

NOTE_MAX = 500
ALREADY_OPEN = "Your organization has already asked the school about this student; the request is still open."
NOTHING_TO_ASK = "There is nothing to ask: a consent could not show you more of this student's record."
ALREADY_HANDLED = "This request has already been marked handled."


class ConsentAskError(ValueError):
    """A request that cannot be made or answered, with the reason to show."""


def open_ask(student: Student, organization_id: int) -> ConsentAsk | None:
    return db.session.scalar(sa.select(ConsentAsk).where(
        ConsentAsk.student_id == student.id, ConsentAsk.organization_id == organization_id,
        ConsentAsk.handled_at.is_(None)))


def ask_for_consent(access: policy.StudentAccess) -> ConsentAsk:
    """Record the user's organization's request for a consent covering what it may not
    see of the student (`policy.consent_askable`)."""
    if not policy.may_ask_for_consent(access):
        raise ConsentAskError(NOTHING_TO_ASK)
    user, student = access.user, access.student
    lock_student(student)  # two clicks at once: the second sees the first's request
    if open_ask(student, user.organization_id) is not None:
        raise ConsentAskError(ALREADY_OPEN)
    ask = ConsentAsk(student_id=student.id, organization_id=user.organization_id, asked_by_id=user.id,
                     categories=[str(c) for c in policy.consent_askable(access)])
    db.session.add(ask)
    db.session.flush()
    disclosure.log_consent_ask(user, student, f"{disclosure.CONSENT_ASKED} for {user.organization.name}")
    return ask


def mark_handled(ask: ConsentAsk, student: Student, user: User, note: str | None = None) -> ConsentAsk:
    """A counselor or the principal of the student's school has acted on the request."""
    note = (note or "").strip() or None
    if note is not None and (len(note) > NOTE_MAX or has_control_characters(note)):
        raise ConsentAskError(f"Keep the note to {NOTE_MAX} characters of plain text.")
    lock_student(student)
    db.session.refresh(ask)
    if ask.handled_at is not None:
        raise ConsentAskError(ALREADY_HANDLED)
    ask.handled_at = datetime.now(UTC)
    ask.handled_by_id = user.id
    ask.handled_note = note
    db.session.flush()
    disclosure.log_consent_ask(user, student, f"{disclosure.CONSENT_ASK_HANDLED} for {ask.organization.name}")
    return ask
