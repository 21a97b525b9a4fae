"""The one place that makes sure no page names a student without a disclosure-log row
(SPEC §4 rule 6, §8).

Views log what they show, category by category (the student page, the timeline, the
lists). This guard stands at the edge of every response, so that a page that forgets
cannot disclose unseen: every student read from the database during the request whose
name or state ID is in the response, and whom the request has not logged, is logged
before the response leaves, as a view of their identity on the user's basis (or of the
name only, where the user sees no category of the student's record).

Only the pages that read the log itself are exempt (`exempt`): they show who saw a
record, not the record, and logging each look at the log would grow it on every look.
A streamed response (a file sent in pieces) is not read here: whatever streams one
logs it as an export. A failure to write the entries fails the response: no entry, no
disclosure.
"""
from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask, Response, current_app, request
from flask_login import current_user
from markupsafe import escape
from sqlalchemy import event
from sqlalchemy.orm import Session

from casemgr.extensions import db
from casemgr.models import Student
from casemgr.services import disclosure

EXEMPT_ATTRIBUTE = "disclosure_exempt"


def exempt(reason: str) -> Callable:
    """Mark a view as one the guard leaves alone, saying why."""

    def mark(view: Callable) -> Callable:
        setattr(view, EXEMPT_ATTRIBUTE, reason)
        return view

    return mark


def exempt_endpoints(app: Flask) -> set[str]:
    return {endpoint for endpoint, view in app.view_functions.items() if getattr(view, EXEMPT_ATTRIBUTE, None)}


def _student_loaded(student: Student, context) -> None:
    kept = disclosure.ledger()
    if kept is not None:
        kept.loaded.add(student.__dict__.get("id"))


def _committed(session: Session) -> None:
    disclosure.transaction_committed()


def _rolled_back(session: Session) -> None:
    disclosure.transaction_rolled_back()


def _identifiers(first: str, preferred: str | None, last: str, state_id: str) -> set[str]:
    names = {f"{first} {last}", f"{preferred or first} {last}"}
    return {state_id} | names | {str(escape(name)) for name in names}


def _named(student_ids: set[int], body: str) -> list[int]:
    rows = db.session.execute(
        sa.select(Student.id, Student.first_name, Student.preferred_name, Student.last_name, Student.state_id)
        .where(Student.id.in_(sorted(student_ids)))
    )
    return [row.id for row in rows if any(token in body for token in _identifiers(*row[1:]))]


def _shows_students(response: Response) -> bool:
    if 300 <= response.status_code < 400 or response.status_code >= 500:
        return False
    return not (response.direct_passthrough or response.is_streamed)


def log_named_students(response: Response) -> Response:
    kept = disclosure.ledger()
    if kept is None or not kept.loaded or not _shows_students(response):
        return response
    unlogged = kept.loaded - disclosure.logged_in_request() - {None}
    view = current_app.view_functions.get(request.endpoint or "")
    if not unlogged or getattr(view, EXEMPT_ATTRIBUTE, None) or not current_user.is_authenticated:
        return response
    if not db.session.is_active:
        db.session.rollback()
    named = _named(unlogged, response.get_data(as_text=True))
    if named:
        disclosure.log_names_shown(current_user, named)
        db.session.commit()
    return response


def init_app(app: Flask) -> None:
    if not event.contains(Student, "load", _student_loaded):
        event.listen(Student, "load", _student_loaded)
        event.listen(Session, "after_commit", _committed)
        event.listen(Session, "after_rollback", _rolled_back)
    app.after_request(log_named_students)
