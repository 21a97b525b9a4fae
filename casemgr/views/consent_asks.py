"""Requests for consent (issue 14, item 4): partner staff ask the school to request a
family's consent; the school's counselors and principal mark a request handled. The
requests are read on the student page and the notices page."""
from __future__ import annotations

import uuid
from collections.abc import Callable

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField

from casemgr import policy
from casemgr.extensions import db
from casemgr.models import ConsentAsk, Student
from casemgr.services import consent_asks as service
from casemgr.views.forms import flashed
from casemgr.views.students import load_access_or_404

bp = Blueprint("consent_asks", __name__)


class AskForm(FlaskForm):
    """Only the CSRF token."""


class HandledForm(FlaskForm):
    note = StringField("What was done (optional)")


@bp.post("/students/<uuid:student_id>/consent-asks")
@login_required
def ask(student_id: uuid.UUID):
    access = load_access_or_404(student_id)
    if not policy.may_ask_for_consent(access):
        abort(404)
    return _saved(AskForm(), lambda: service.ask_for_consent(access),
                  f"The school has been asked to request a consent from the family of {access.student.display_name}.",
                  url_for("students.show", student_id=student_id, _anchor="consent-panel"))


@bp.post("/consent-asks/<uuid:ask_id>/handled")
@login_required
def handled(ask_id: uuid.UUID):
    row = db.session.execute(
        sa.select(ConsentAsk, Student).join(Student, Student.id == ConsentAsk.student_id)
        .where(ConsentAsk.uuid == ask_id, policy.consent_ask_scope(current_user))
    ).one_or_none()
    if row is None:
        abort(404)
    ask_row, student = row
    back = (url_for("students.show", student_id=student.uuid, _anchor="consent-asks")
            if request.args.get("back") == "student" else url_for("notices.index", _anchor="consent-asks"))
    form = HandledForm()
    return _saved(form, lambda: service.mark_handled(ask_row, student, current_user, form.note.data),
                  f"The request from {ask_row.organization.name} about {student.display_name} is marked handled.",
                  back)


def _saved(form: FlaskForm, write: Callable[[], object], done: str, back: str):
    """Run the write and commit it, or say why not (nothing written); back to the page."""
    if not form.validate_on_submit():
        flash("This form has expired. Please reload the page and try again.", "error")
        return redirect(back)
    flashed(write, service.ConsentAskError, done)
    return redirect(back)
