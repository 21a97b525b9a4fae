"""Flags, support plans and the student timeline (SPEC §6).

Every handler loads, asks the policy, then acts: reading casework needs the
student's `services` category, writing it needs `policy.may_write_casework`;
anything else answers 404, like a student that does not exist.
"""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, ValidationError

from casemgr import policy
from casemgr.clock import today
from casemgr.extensions import db
from casemgr.models import Flag, Student, SupportPlan, User
from casemgr.models.enums import Category, Service
from casemgr.reads.indicator_cards import current_indicator
from casemgr.reads.timeline import timeline_categories, timeline_page
from casemgr.services import casework as casework_service
from casemgr.services import disclosure
from casemgr.services.casework import SERVICE_LABELS, CaseworkError
from casemgr.views.forms import flashed
from casemgr.views.input_bounds import page_number
from casemgr.views.rendering import render
from casemgr.views.students import load_access_or_404

bp = Blueprint("casework", __name__)

TIER_CHOICES = [("", "Choose…"), ("1", "Tier 1: universal support"), ("2", "Tier 2: targeted support"),
                ("3", "Tier 3: intensive support")]


class ChoiceField(SelectField):
    """A select whose "not one of the options" message says what to choose."""

    def __init__(self, label=None, validators=None, not_a_choice="Choose one of the options.", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.not_a_choice = not_a_choice

    def pre_validate(self, form):
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(self.not_a_choice) from None


def _length(limit: int, what: str) -> Length:
    return Length(max=limit, message=f"Keep the {what} to {limit} characters or fewer.")


class RaiseFlagForm(FlaskForm):
    need = ChoiceField("Need", validators=[DataRequired("Choose the kind of need.")],
                       not_a_choice="Choose the kind of need.")
    details = TextAreaField("Details (optional)", validators=[_length(casework_service.DETAILS_MAX, "details")])


class CloseForm(FlaskForm):
    """Only the CSRF token: closing a flag asks for nothing else."""


class SupportPlanForm(FlaskForm):
    flag = ChoiceField("For the flagged need", not_a_choice="Choose one of this student's open flags, or none.")
    tier = ChoiceField("Tier", validators=[DataRequired("Choose the tier of support.")],
                       not_a_choice="Choose tier 1, 2 or 3.")
    goal = TextAreaField("Goal", validators=[DataRequired("Write the goal of the plan."),
                                             _length(casework_service.GOAL_MAX, "goal")])
    strategies = TextAreaField("Strategies", validators=[DataRequired("Write the strategies the plan will use."),
                                                         _length(casework_service.STRATEGIES_MAX, "strategies")])
    owner = ChoiceField("Owner", validators=[DataRequired("Choose who owns the plan.")])
    starts_on = DateField("Start date", validators=[DataRequired("Enter the start date (YYYY-MM-DD).")])
    duration_weeks = IntegerField("Duration in weeks", validators=[
        DataRequired("Enter a duration from 1 to 52 weeks."),
        NumberRange(*casework_service.DURATION_WEEKS, message="Enter a duration from 1 to 52 weeks.")])
    checkin_every_days = IntegerField("Check in every (days)", validators=[
        DataRequired("Enter how often to check in, from 1 to 90 days."),
        NumberRange(*casework_service.CHECK_IN_EVERY_DAYS, message="Enter how often to check in, from 1 to 90 days.")])


class CheckInForm(FlaskForm):
    occurred_on = DateField("Date of the check-in", validators=[DataRequired("Enter the date of the check-in (YYYY-MM-DD).")])
    summary = TextAreaField("What happened", validators=[DataRequired("Write a summary of the check-in."),
                                                        _length(casework_service.SUMMARY_MAX, "summary")])


class ClosePlanForm(FlaskForm):
    outcome = TextAreaField("Outcome", validators=[DataRequired("Write the outcome of the plan."),
                                                   _length(casework_service.OUTCOME_MAX, "outcome")])


# --- loading and checking -------------------------------------------------------------------


def _refuse(access: policy.StudentAccess, reason: str):
    disclosure.log_denied(access.user, access.student, reason, [Category.SERVICES])
    db.session.commit()
    abort(404)


def _services_access_or_404(student_id: uuid.UUID) -> policy.StudentAccess:
    access = load_access_or_404(student_id)
    if not access.can_see(Category.SERVICES):
        _refuse(access, policy.why_hidden(access, Category.SERVICES))
    return access


def _writer_access_or_404(student_id: uuid.UUID) -> policy.StudentAccess:
    access = load_access_or_404(student_id)
    if not policy.may_write_casework(access):
        _refuse(access, "only the student's counselors and principal write flags and support plans")
    return access


def _student_uuid_of(model, public_id: uuid.UUID) -> tuple:
    """A flag or plan by its public id, with its student's public id; 404 if none."""
    found = db.session.execute(
        sa.select(model, Student.uuid).join(Student, Student.id == model.student_id).where(model.uuid == public_id)
    ).one_or_none()
    if found is None:
        abort(404)
    return found


def _log_services_view(access: policy.StudentAccess) -> None:
    disclosure.log_view(access.user, access.student, {Category.SERVICES: access.visible[Category.SERVICES]})


def _fail(form: FlaskForm, error: CaseworkError) -> None:
    db.session.rollback()
    form.form_errors.append(str(error))


def _status(form: FlaskForm) -> int:
    return 400 if form.is_submitted() and (form.errors or form.form_errors) else 200


# --- the timeline -----------------------------------------------------------------------


@bp.get("/students/<uuid:student_id>/timeline")
@login_required
def timeline(student_id: uuid.UUID):
    access = load_access_or_404(student_id)
    shown = timeline_page(access, page_number())
    response = render("casework/timeline.html", "casework/partials/_timeline.html",
                      access=access, student=access.student, timeline=shown)
    if shown.visible:
        disclosure.log_view(access.user, access.student, shown.shown)
    else:
        disclosure.log_denied(access.user, access.student, shown.reason, timeline_categories())
    db.session.commit()
    return response


# --- flags --------------------------------------------------------------------------------


@bp.route("/students/<uuid:student_id>/flags/new", methods=["GET", "POST"])
@login_required
def new_flag(student_id: uuid.UUID):
    access = _writer_access_or_404(student_id)
    form = RaiseFlagForm()
    form.need.choices = [("", "Choose…")] + [(str(s), SERVICE_LABELS[s]) for s in Service]
    if form.validate_on_submit():
        try:
            flag = casework_service.raise_flag(access.student, form.need.data, form.details.data, current_user)
        except CaseworkError as error:
            _fail(form, error)
        else:
            db.session.commit()
            flash(f"Flag raised: {SERVICE_LABELS[Service(flag.need)].lower()}.", "success")
            return redirect(url_for("students.show", student_id=access.student.uuid, _anchor="timeline"))
    return render("casework/new_flag.html", access=access, student=access.student, form=form, status=_status(form))


@bp.route("/flags/<uuid:flag_id>/close", methods=["GET", "POST"])
@login_required
def close_flag(flag_id: uuid.UUID):
    flag, student_uuid = _student_uuid_of(Flag, flag_id)
    access = _writer_access_or_404(student_uuid)
    form = CloseForm()
    if form.validate_on_submit():
        flashed(lambda: casework_service.close_flag(flag, current_user), CaseworkError,
                f"Flag closed: {SERVICE_LABELS[Service(flag.need)].lower()}.")
        return redirect(url_for("students.show", student_id=student_uuid, _anchor="timeline"))
    response = render("casework/close_flag.html", access=access, student=access.student, flag=flag, form=form)
    _log_services_view(access)
    db.session.commit()
    return response


# --- support plans ------------------------------------------------------------------------


def _plan_form(access: policy.StudentAccess) -> tuple[SupportPlanForm, list[Flag], list[User]]:
    student = access.student
    flags = casework_service.open_flags(student)
    staff = list(db.session.scalars(policy.casework_staff(student)))
    form = SupportPlanForm()
    form.flag.choices = [("", "None")] + [
        (str(f.uuid), f"{SERVICE_LABELS[Service(f.need)]}, raised {f.created_at.day} {f.created_at:%B %Y}") for f in flags
    ]
    form.tier.choices = TIER_CHOICES
    form.owner.choices = [("", "Choose…")] + [(str(u.uuid), f"{u.full_name} ({u.role_enum.label.lower()})") for u in staff]
    form.owner.not_a_choice = f"Choose a counselor or the principal of {student.school.name}."
    if not form.is_submitted():
        form.flag.data = request.args.get("flag", "")
        form.owner.data = str(current_user.uuid)
        form.starts_on.data = today()
        form.duration_weeks.data = casework_service.DEFAULT_DURATION_WEEKS
        form.checkin_every_days.data = casework_service.DEFAULT_CHECK_IN_EVERY_DAYS
        computed = current_indicator(student, today())
        if computed is not None:  # start from the computed tier; the counselor may change it
            form.tier.data = str(computed.tier)
    return form, flags, staff


@bp.route("/students/<uuid:student_id>/plans/new", methods=["GET", "POST"])
@login_required
def new_plan(student_id: uuid.UUID):
    access = _writer_access_or_404(student_id)
    form, flags, staff = _plan_form(access)
    if form.validate_on_submit():
        new = casework_service.NewSupportPlan(
            tier=int(form.tier.data),
            goal=form.goal.data,
            strategies=form.strategies.data,
            owner=next((u for u in staff if str(u.uuid) == form.owner.data), None),
            starts_on=form.starts_on.data,
            duration_weeks=form.duration_weeks.data,
            checkin_every_days=form.checkin_every_days.data,
            flag=next((f for f in flags if str(f.uuid) == form.flag.data), None),
        )
        try:
            plan = casework_service.open_support_plan(access.student, new, current_user, today())
        except CaseworkError as error:
            _fail(form, error)
        else:
            db.session.commit()
            flash("Support plan opened.", "success")
            return redirect(url_for("casework.plan", plan_id=plan.uuid))
    response = render("casework/new_plan.html", access=access, student=access.student, form=form, status=_status(form))
    if flags:  # the form lists the student's open flags: a read of services
        _log_services_view(access)
    db.session.commit()
    return response


def _plan_page(plan: SupportPlan, access: policy.StudentAccess, form: CheckInForm | None = None, status: int = 200):
    """The plan page, logged as a read of services once it is built."""
    can_write = policy.may_write_casework(access)
    if form is None and can_write:
        form = CheckInForm(formdata=None)
        form.occurred_on.data = today()
    flag = db.session.get(Flag, plan.flag_id) if plan.flag_id else None
    response = render(
        "casework/plan.html", access=access, student=access.student, plan=plan, flag=flag,
        schedule=casework_service.plan_schedule(plan, today()), can_write=can_write, form=form, status=status,
        check_ins=sorted(plan.check_ins, key=lambda c: (c.occurred_on, c.id), reverse=True),
    )
    _log_services_view(access)
    db.session.commit()
    return response


@bp.get("/plans/<uuid:plan_id>")
@login_required
def plan(plan_id: uuid.UUID):
    plan, student_uuid = _student_uuid_of(SupportPlan, plan_id)
    return _plan_page(plan, _services_access_or_404(student_uuid))


@bp.post("/plans/<uuid:plan_id>/check-ins")
@login_required
def record_check_in(plan_id: uuid.UUID):
    plan, student_uuid = _student_uuid_of(SupportPlan, plan_id)
    access = _writer_access_or_404(student_uuid)
    form = CheckInForm()
    if form.validate_on_submit():
        try:
            casework_service.record_check_in(plan, form.occurred_on.data, form.summary.data, current_user, today())
        except CaseworkError as error:
            _fail(form, error)
        else:
            db.session.commit()
            flash("Check-in recorded.", "success")
            return redirect(url_for("casework.plan", plan_id=plan.uuid))
    return _plan_page(plan, access, form, status=400)


@bp.route("/plans/<uuid:plan_id>/close", methods=["GET", "POST"])
@login_required
def close_plan(plan_id: uuid.UUID):
    plan, student_uuid = _student_uuid_of(SupportPlan, plan_id)
    access = _writer_access_or_404(student_uuid)
    form = ClosePlanForm()
    if form.validate_on_submit():
        try:
            casework_service.close_support_plan(plan, form.outcome.data, current_user, today())
        except CaseworkError as error:
            _fail(form, error)
        else:
            db.session.commit()
            flash("Support plan closed.", "success")
            return redirect(url_for("casework.plan", plan_id=plan.uuid))
    response = render("casework/close_plan.html", access=access, student=access.student, plan=plan, form=form,
                      status=_status(form))
    _log_services_view(access)
    db.session.commit()
    return response


def need_label(need: str) -> str:
    return SERVICE_LABELS[Service(need)]


# The student page draws the timeline's first page through these, so its view stays as
# it is; that page already logs every category it shows.
bp.add_app_template_global(timeline_page, "student_timeline")
bp.add_app_template_filter(need_label, "need_label")
bp.add_app_template_global(policy.may_write_casework, "may_write_casework")
