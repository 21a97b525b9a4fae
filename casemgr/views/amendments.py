"""Requests to amend a record (issue 6 item 7; FERPA 34 CFR 99.20).

The family side: a parent (before the student is eligible) or the student asks, from
the child's page, and reads the answer there. The school side: the principal and
counselors of the student's school list the open requests and answer them; district
admins read. Load → policy → act: anything else answers 404, and every look at a
request by staff is a read of the student's record, logged.
"""
from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import RadioField, SelectField, StringField, TextAreaField

from casemgr import policy
from casemgr.extensions import db
from casemgr.identity import role_permission
from casemgr.models import AmendmentRequest, Student
from casemgr.models.amendments import AMENDMENT_ANSWER_MAX, AMENDMENT_ITEM_MAX, AMENDMENT_MESSAGE_MAX
from casemgr.models.enums import AmendmentDecision, AmendmentPart, Category
from casemgr.services import amendments as amendment_service
from casemgr.services import disclosure
from casemgr.views.family import load_family_access_or_404
from casemgr.views.forms import saved
from casemgr.views.rendering import render
from casemgr.views.students import load_access_or_404
from casemgr.words.amendments import PART_WORDS, part_words, status_words

bp = Blueprint("amendments", __name__)
list_permission = role_permission(*policy.AMENDMENT_READERS)
STATUS_LABELS = {"open": "Open", "accepted": "Accepted", "denied": "Denied"}  # staff pages


@bp.app_context_processor
def amendment_words() -> dict:
    return {
        "amendment_status": amendment_service.status,
        "amendment_status_label": STATUS_LABELS.get,
        "amendment_part_label": lambda part: amendment_service.PART_LABELS[AmendmentPart(part)],
        "part_words": part_words,
        "status_words": status_words,
    }


class RequestForm(FlaskForm):
    # choices and lengths are checked by the service, whose messages are translated
    part = SelectField(_l("Which part of the record is wrong?"), validate_choice=False)
    item = StringField(_l("Which item or date (optional)"))
    message = TextAreaField(_l("What is wrong, and what should it say?"))


class AnswerForm(FlaskForm):
    decision = RadioField("Decision", choices=[
        (str(AmendmentDecision.ACCEPTED), "Accept: the record will be corrected"),
        (str(AmendmentDecision.DENIED), "Deny: the record stays as it is"),
    ], validate_choice=False)
    answer = TextAreaField("What was done, or why the record stays as it is")


@bp.route("/family/children/<uuid:student_id>/amendments/new", methods=["GET", "POST"])
@login_required
def new(student_id: uuid.UUID):
    access = load_family_access_or_404(student_id)
    if not policy.may_request_amendment(access):
        abort(404)
    form = RequestForm()
    form.part.choices = [("", gettext("Choose…"))] + [(str(p), str(words)) for p, words in PART_WORDS.items()]
    if form.validate_on_submit() and saved(
        form,
        lambda: amendment_service.request_amendment(access, form.part.data, form.item.data, form.message.data),
        amendment_service.AmendmentError,
    ):
        flash(gettext("Your request was sent to the school. Its answer will appear on this page."), "success")
        return redirect(url_for("family.child", student_id=access.student.uuid, _anchor="amendments"))
    status = 400 if form.is_submitted() else 200
    return render("amendments/new.html", student=access.student, form=form, status=status,
                  item_max=AMENDMENT_ITEM_MAX, message_max=AMENDMENT_MESSAGE_MAX)


@bp.get("/amendments")
@login_required
@list_permission.require(http_exception=403)
def index():
    open_requests = amendment_service.open_requests(current_user)
    answered = amendment_service.answered_requests(current_user)
    response = render("amendments/index.html", open_requests=open_requests, answered=answered)
    # each row names the student and the part of the record: logged per student
    by_categories: dict[tuple[Category, ...], set[int]] = {}
    for listed in open_requests + answered:
        by_categories.setdefault(tuple(amendment_service.shown_categories(listed.request)), set()).add(listed.student.id)
    for categories, student_ids in by_categories.items():
        disclosure.log_list_view(current_user, sorted(student_ids), categories, policy.SCHOOL_OFFICIAL)
    db.session.commit()
    return response


def _request_access_or_404(request_id: uuid.UUID) -> tuple[AmendmentRequest, policy.StudentAccess]:
    request = db.session.scalar(select(AmendmentRequest).where(AmendmentRequest.uuid == request_id))
    if request is None:
        abort(404)
    student = db.session.get(Student, request.student_id)
    access = load_access_or_404(student.uuid)
    if not policy.reads_amendments(access):
        abort(404)
    return request, access


def _log_read(request: AmendmentRequest, access: policy.StudentAccess) -> None:
    shown = amendment_service.shown_categories(request)
    disclosure.log_view(current_user, access.student, {c: access.visible[c] for c in shown})


@bp.route("/amendments/<uuid:request_id>", methods=["GET", "POST"])
@login_required
def show(request_id: uuid.UUID):
    request, access = _request_access_or_404(request_id)
    can_answer = policy.answers_amendments(access)
    form = AnswerForm()
    if form.is_submitted():
        if not can_answer:
            abort(404)
        if form.validate():
            _log_read(request, access)  # kept with the answer; a refused answer logs the page below instead
            if saved(
                form,
                lambda: amendment_service.answer_request(request, current_user, form.decision.data, form.answer.data),
                amendment_service.AmendmentError,
            ):
                flash(f"Answer recorded. {access.student.display_name}'s family sees it on their page.", "success")
                return redirect(url_for("amendments.show", request_id=request.uuid))
    status = 400 if form.is_submitted() else 200
    response = render("amendments/show.html", access=access, student=access.student, request=request, form=form,
                      can_answer=can_answer and request.decision_event is None, status=status,
                      answer_max=AMENDMENT_ANSWER_MAX)
    _log_read(request, access)
    db.session.commit()
    return response
