"""The principal's page splitting the school's students between its counselors: rules
by grade and last-name initials, students one by one, and how many each counselor gets."""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import Length

from casemgr import policy
from casemgr.extensions import db
from casemgr.identity import restrict_blueprint, role_permission
from casemgr.models import CaseloadRule, Organization, Student, User
from casemgr.models.enums import Category, OrgKind, Role
from casemgr.reads import caseload_assignments as reads
from casemgr.services import caseloads, disclosure
from casemgr.services.caseloads import CaseloadError
from casemgr.views.formatting import grade_label
from casemgr.views.forms import flashed, saved
from casemgr.views.rendering import render

bp = Blueprint("caseload_assignments", __name__, url_prefix="/caseload/assignments")
restrict_blueprint(bp, role_permission(Role.PRINCIPAL, Role.DISTRICT_ADMIN))
LETTER_CHOICES = [("", "—")] + [(c, c) for c in caseloads.LETTERS]


class RuleForm(FlaskForm):
    counselor = SelectField("Counselor", validate_choice=False)
    grade = SelectField("Grade", choices=[("", "Any grade")] + [(str(g), grade_label(g)) for g in range(-1, 13)])
    letters_from = SelectField("Last names from", choices=LETTER_CHOICES)
    letters_to = SelectField("to", choices=LETTER_CHOICES)


class AssignForm(FlaskForm):
    counselor = SelectField("Counselor", validate_choice=False)
    student_ids = TextAreaField("State or local IDs", validators=[
        Length(max=20_000, message="Paste at most 500 student IDs at once.")])


class ConfirmForm(FlaskForm):
    """Only the CSRF token."""


def _school() -> Organization | None:
    """The principal's school, or the school a district admin picked (`?school=`)."""
    if current_user.role_enum is Role.PRINCIPAL:
        return current_user.organization
    try:
        picked = uuid.UUID(request.args.get("school", ""))
    except ValueError:
        return None
    return db.session.scalar(sa.select(Organization).where(
        Organization.uuid == picked, Organization.kind == str(OrgKind.SCHOOL),
        Organization.district_id == current_user.organization_id))


def _counselor(raw: str | None) -> User | None:
    try:
        return db.session.scalar(sa.select(User).where(User.uuid == uuid.UUID(raw or "")))
    except ValueError:
        return None


def _page(school: Organization | None, rule_form: RuleForm | None = None, assign_form: AssignForm | None = None,
          status: int = 200):
    if school is None:
        if current_user.role_enum is not Role.DISTRICT_ADMIN:
            abort(403)
        schools = db.session.scalars(sa.select(Organization).where(
            Organization.kind == str(OrgKind.SCHOOL), Organization.district_id == current_user.organization_id)
            .order_by(Organization.name)).all()
        return render("caseload/assignments.html", school=None, schools=schools, status=status)
    if not policy.assigns_caseloads(current_user, school):
        abort(403)
    split = reads.assignments_page(school)
    rule_form, assign_form = rule_form or RuleForm(prefix="rule"), assign_form or AssignForm(prefix="assign")
    choices = [(str(c.uuid), c.full_name) for c, _ in split.counselors]
    rule_form.counselor.choices = assign_form.counselor.choices = choices
    response = render("caseload/assignments.html", school=school, split=split, rule_form=rule_form,
                      assign_form=assign_form, confirm=ConfirmForm(), here=_here(school), status=status)
    disclosure.log_list_view(current_user, [i.student.id for i in split.individuals], [Category.IDENTITY],
                             policy.SCHOOL_OFFICIAL)
    db.session.commit()
    return response


def _here(school: Organization) -> dict:
    return {} if current_user.role_enum is Role.PRINCIPAL else {"school": str(school.uuid)}


def _back(school: Organization):
    return redirect(url_for("caseload_assignments.index", **_here(school)))


@bp.get("")
def index():
    return _page(_school())


@bp.post("/rules")
def add_rule():
    school = _school()
    form = RuleForm(prefix="rule")
    if school is not None and form.validate_on_submit():
        grade = int(form.grade.data) if form.grade.data else None
        if saved(form, lambda: caseloads.add_rule(current_user, school, _counselor(form.counselor.data), grade,
                                                  form.letters_from.data, form.letters_to.data), CaseloadError):
            flash("Rule added.", "success")
            return _back(school)
    return _page(school, rule_form=form, status=400)


def _remove(model: type[CaseloadRule | Student], public_id: uuid.UUID, remove, done: str):
    """A confirmed removal of a rule, or of a student's individual assignment, of the school."""
    school = _school()
    thing = db.session.scalar(sa.select(model).where(model.uuid == public_id))
    if school is None or thing is None or thing.school_id != school.id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    flashed(lambda: remove(current_user, school, thing), CaseloadError, done)
    return _back(school)


@bp.post("/rules/<uuid:rule_id>/remove")
def remove_rule(rule_id: uuid.UUID):
    return _remove(CaseloadRule, rule_id, caseloads.remove_rule, "Rule removed.")


@bp.post("/students")
def assign():
    school = _school()
    form = AssignForm(prefix="assign")
    if school is not None and form.validate_on_submit():
        assigned = []
        if saved(form, lambda: assigned.extend(caseloads.assign_students(
                current_user, school, _counselor(form.counselor.data), form.student_ids.data)), CaseloadError):
            flash(f"{len(assigned)} student{'' if len(assigned) == 1 else 's'} assigned.", "success")
            return _back(school)
    return _page(school, assign_form=form, status=400)


@bp.post("/students/<uuid:student_id>/remove")
def unassign(student_id: uuid.UUID):
    return _remove(Student, student_id, caseloads.unassign_student,
                   "The student now follows the school's rules.")
