"""The partner administrator's roster page (SPEC §6): add a student by exact state ID and
birth date, remove students. There is no search: a student the administrator cannot
name exactly is not found, and the refusal never says whether the state ID exists."""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, StringField
from wtforms.validators import DataRequired, Length, Optional

from casemgr import policy
from casemgr.clock import today
from casemgr.extensions import db
from casemgr.identity import restrict_blueprint, role_permission
from casemgr.models import Student
from casemgr.models.enums import Role
from casemgr.reads import partner_workspace as workspace
from casemgr.services import roster as roster_service
from casemgr.services.roster import RosterError
from casemgr.views.input_bounds import page_number
from casemgr.views.rendering import render

bp = Blueprint("roster", __name__, url_prefix="/partner/roster")
restrict_blueprint(bp, role_permission(Role.PARTNER_ADMIN))


class AddStudentForm(FlaskForm):
    state_id = StringField("State ID", validators=[
        DataRequired("Enter the student's state ID."),
        Length(max=roster_service.STATE_ID_MAX, message=f"A state ID has at most {roster_service.STATE_ID_MAX} characters.")])
    birth_date = DateField("Birth date", validators=[DataRequired("Enter the student's birth date (YYYY-MM-DD).")])
    program = StringField("Program (optional)", validators=[
        Optional(), Length(max=roster_service.PROGRAM_MAX, message=f"Keep the program name to {roster_service.PROGRAM_MAX} characters or fewer.")])


class ConfirmForm(FlaskForm):
    """Only the CSRF token."""


@bp.route("", methods=["GET", "POST"])
def index():
    day = today()
    if not policy.manages_roster(current_user, day):
        if request.method == "POST":
            abort(403)
        return render("roster/index.html", blocked=policy.partner_block_reason(current_user, day))
    form = AddStudentForm()
    if form.validate_on_submit():
        try:
            entry = roster_service.add_by_state_id(current_user.organization, form.state_id.data, form.birth_date.data,
                                                   form.program.data, current_user, day)
        except RosterError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()  # the entry, or the logged refusal
            if entry is None:
                form.form_errors.append(roster_service.NO_MATCH)
            else:
                student = db.session.get(Student, entry.student_id)
                flash(f"{student.display_name} added to your roster.", "success")
                return redirect(url_for("roster.index"))
    roster = workspace.roster_page(current_user, day, page_number(),
                                   request.args.get("consent", ""))
    status = 400 if form.is_submitted() and (form.errors or form.form_errors) else 200
    response = render("roster/index.html", "partner/partials/_roster.html", blocked=None, form=form, roster=roster,
                      roster_endpoint="roster.index", manage=True, status=status)
    workspace.log_workspace(current_user, roster, [])
    db.session.commit()
    return response


@bp.route("/<uuid:student_id>/remove", methods=["GET", "POST"])
def remove(student_id: uuid.UUID):
    day = today()
    student = None
    if policy.manages_roster(current_user, day):
        student = db.session.scalar(
            sa.select(Student).where(Student.uuid == student_id, policy.roster_scope(current_user, day)))
    if student is None:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            roster_service.remove_from_roster(current_user.organization, student, current_user, day)
        except RosterError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(f"{student.display_name} removed from your roster.", "success")
        return redirect(url_for("roster.index"))
    entry = roster_service.active_entry(current_user.organization_id, student, day)
    return render("roster/remove.html", student=student, entry=entry, form=form)

bp.add_app_template_global(workspace.CONSENT_FILTERS, "consent_filters")
