"""Requests to amend a student's record (FERPA 34 CFR 99.20): a parent or the student
asks, the student's school decides.

    open ──(principal or counselor of the student's school)──▶ accepted (what was done)
    open ──────────────────────────────────────────────────────▶ denied (why; the family is
                                                                 told of its right to a hearing
                                                                 and to add a statement)

Requests and decisions are rows that are never edited (append-only in the database).
The callers have asked the policy (`may_request_amendment`, `answers_amendments`);
the checks here are the rules of the request itself. Text is kept as plain text: the
pages escape it, and control characters never reach the database.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from casemgr import policy
from casemgr.extensions import db
from casemgr.models import AmendmentRequest, AmendmentRequestEvent, Student, User
from casemgr.models.amendments import AMENDMENT_ANSWER_MAX, AMENDMENT_ITEM_MAX, AMENDMENT_MESSAGE_MAX
from casemgr.models.enums import AmendmentDecision, AmendmentPart, Category
from casemgr.services.locks import lock_student
from casemgr.text import plain_text

OPEN = "open"
# the categories of the record a request is about, for the disclosure log
PART_CATEGORIES = {
    AmendmentPart.ATTENDANCE: Category.ATTENDANCE,
    AmendmentPart.COURSE_MARK: Category.GRADES,
    AmendmentPart.CREDITS: Category.GRADES,
    AmendmentPart.ASSESSMENTS: Category.ASSESSMENTS,
    AmendmentPart.DISCIPLINE: Category.BEHAVIOR,
    AmendmentPart.FAFSA: Category.COLLEGE,
    AmendmentPart.CONTACT: Category.IDENTITY,
    AmendmentPart.OTHER: Category.IDENTITY,
}
PART_LABELS = {  # staff pages
    AmendmentPart.ATTENDANCE: "Attendance",
    AmendmentPart.COURSE_MARK: "A course mark",
    AmendmentPart.CREDITS: "Credits",
    AmendmentPart.ASSESSMENTS: "Test scores",
    AmendmentPart.DISCIPLINE: "Discipline",
    AmendmentPart.FAFSA: "FAFSA",
    AmendmentPart.CONTACT: "Contact details",
    AmendmentPart.OTHER: "Something else",
}
LIST_LIMIT = 50


class AmendmentError(ValueError):
    """A request or an answer that cannot be kept; the message says why, for the person."""


@dataclass(frozen=True)
class Listed:
    request: AmendmentRequest
    student: Student


def status(request: AmendmentRequest) -> str:
    return request.decision_event.decision if request.decision_event is not None else OPEN


def shown_categories(request: AmendmentRequest) -> list[Category]:
    """What reading the request shows of the student: who they are, and the part."""
    return sorted({Category.IDENTITY, PART_CATEGORIES[AmendmentPart(request.part)]})


def request_amendment(access: policy.StudentAccess, part: str, item: str | None, message: str) -> AmendmentRequest:
    if part not in set(AmendmentPart):
        raise AmendmentError(gettext("Choose which part of the record is wrong."))
    item_text = plain_text(item).replace("\n", " ") or None
    if item_text and len(item_text) > AMENDMENT_ITEM_MAX:
        raise AmendmentError(gettext("Keep the item or date to %(num)s characters or fewer.", num=AMENDMENT_ITEM_MAX))
    text = plain_text(message)
    if not text:
        raise AmendmentError(gettext("Write what is wrong and what it should say."))
    if len(text) > AMENDMENT_MESSAGE_MAX:
        raise AmendmentError(gettext("Keep the message to %(num)s characters or fewer (it has %(length)s).",
                                     num=AMENDMENT_MESSAGE_MAX, length=len(text)))
    # the same request sent twice (a double click) is kept once, while it waits
    lock_student(access.student)
    waiting = db.session.scalar(
        sa.select(AmendmentRequest).where(
            AmendmentRequest.student_id == access.student.id, AmendmentRequest.requested_by_id == access.user.id,
            AmendmentRequest.part == part, AmendmentRequest.item.is_not_distinct_from(item_text),
            AmendmentRequest.message == text,
            ~sa.exists().where(AmendmentRequestEvent.request_id == AmendmentRequest.id),
        ).limit(1)
    )
    if waiting is not None:
        return waiting
    request = AmendmentRequest(student_id=access.student.id, requested_by_id=access.user.id, part=part,
                               item=item_text, message=text)
    db.session.add(request)
    db.session.flush()
    return request


def answer_request(request: AmendmentRequest, decided_by: User, decision: str, answer: str) -> AmendmentRequestEvent:
    if decision not in set(AmendmentDecision):
        raise AmendmentError("Choose to accept or to deny the request.")
    if request.decision_event is not None:
        raise AmendmentError("This request has already been answered.")
    text = plain_text(answer)
    if not text:
        raise AmendmentError("Write what was corrected." if decision == AmendmentDecision.ACCEPTED
                             else "Write why the record stays as it is.")
    if len(text) > AMENDMENT_ANSWER_MAX:
        raise AmendmentError(f"The answer is {len(text)} characters long; the limit is {AMENDMENT_ANSWER_MAX}.")
    event = AmendmentRequestEvent(request_id=request.id, decision=decision, answer=text, decided_by_id=decided_by.id)
    try:
        with db.session.begin_nested():
            db.session.add(event)
    except IntegrityError:  # answered at the same moment by someone else
        raise AmendmentError("This request has already been answered.") from None
    return event


def requests_for_student(student: Student) -> list[AmendmentRequest]:
    """The student's requests, newest first, with their decisions."""
    return list(
        db.session.scalars(
            sa.select(AmendmentRequest)
            .options(joinedload(AmendmentRequest.decision_event).joinedload(AmendmentRequestEvent.decided_by),
                     joinedload(AmendmentRequest.requested_by))
            .where(AmendmentRequest.student_id == student.id)
            .order_by(AmendmentRequest.created_at.desc(), AmendmentRequest.id.desc())
        ).unique()
    )


def _listed(user: User) -> sa.Select:
    return (
        sa.select(AmendmentRequest, Student)
        .join(Student, Student.id == AmendmentRequest.student_id)
        .where(policy.amendment_students(user))
    )


def open_query(user: User) -> sa.Select:
    """(request, student) of the open requests of the students whose requests the user reads."""
    decided = sa.exists().where(AmendmentRequestEvent.request_id == AmendmentRequest.id)
    return _listed(user).where(~decided.correlate_except(AmendmentRequestEvent))


def open_requests(user: User) -> list[Listed]:
    """The open requests of the students whose requests the user reads, oldest first
    (the longest waiting at the top)."""
    query = open_query(user).options(joinedload(AmendmentRequest.requested_by))
    rows = db.session.execute(query.order_by(AmendmentRequest.created_at, AmendmentRequest.id).limit(LIST_LIMIT))
    return [Listed(request, student) for request, student in rows]


def answered_requests(user: User) -> list[Listed]:
    """The latest answered requests, newest decision first."""
    query = (
        _listed(user)
        .join(AmendmentRequestEvent, AmendmentRequestEvent.request_id == AmendmentRequest.id)
        .options(joinedload(AmendmentRequest.decision_event))
        .order_by(AmendmentRequestEvent.created_at.desc(), AmendmentRequest.id.desc())
        .limit(LIST_LIMIT)
    )
    return [Listed(request, student) for request, student in db.session.execute(query)]


def open_count_query(user: User) -> sa.Select:
    return sa.select(sa.func.count()).select_from(open_query(user).subquery())


def open_count(user: User) -> int:
    return db.session.scalar(open_count_query(user)) or 0
