"""Referrals, the school's side (SPEC §6): from a flag, the ranked organizations and the
referral form; each referral's page with its history; withdrawing; the school's list.

Load, ask the policy, act: reading a referral needs the student's `services`; sending
and withdrawing need `policy.may_refer`; anything else answers 404.
"""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import joinedload
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from casemgr import policy
from casemgr.clock import today
from casemgr.extensions import db
from casemgr.identity import role_permission
from casemgr.models import Flag, Organization, Referral, ReferralEvent, Student
from casemgr.models.enums import Category, ReferralStatus, Role, Service
from casemgr.services import disclosure
from casemgr.services import referrals as referral_service
from casemgr.services.casework import SERVICE_LABELS
from casemgr.services.referrals import ReferralError
from casemgr.views.input_bounds import page_number
from casemgr.views.rendering import render
from casemgr.views.students import load_access_or_404

bp = Blueprint("referrals", __name__)
list_permission = role_permission(Role.DISTRICT_ADMIN, Role.PRINCIPAL, Role.COUNSELOR)
PAGE_SIZE = 25
STATUS_FILTERS = {
    "open": ("Open (awaiting consent, sent or accepted)", referral_service.OPEN_STATUSES),
    **{str(s): (label, (s,)) for s, label in referral_service.STATUS_LABELS.items()},
    "all": ("All", tuple(ReferralStatus)),
}


class OrganizationChoice(RadioField):
    def pre_validate(self, form):
        try:
            super().pre_validate(form)
        except (ValidationError, ValueError):
            raise ValidationError("Choose one of the organizations that can take this referral.") from None


class ReferralForm(FlaskForm):
    organization = OrganizationChoice("Organization", validators=[DataRequired("Choose an organization.")])
    message = TextAreaField("Message to the organization (optional)", validators=[
        Length(max=referral_service.MESSAGE_MAX, message=f"Keep the message to {referral_service.MESSAGE_MAX} characters or fewer.")])


class WithdrawForm(FlaskForm):
    reason = TextAreaField("Why the referral is withdrawn", validators=[
        DataRequired("Write why the referral is withdrawn."),
        Length(max=referral_service.REASON_MAX, message=f"Keep the reason to {referral_service.REASON_MAX} characters or fewer.")])


# --- loading and checking -------------------------------------------------------------------


def _refuse(access: policy.StudentAccess, reason: str):
    disclosure.log_denied(access.user, access.student, reason, [Category.SERVICES])
    db.session.commit()
    abort(404)


def _reader_access_or_404(student_id: uuid.UUID) -> policy.StudentAccess:
    access = load_access_or_404(student_id)
    if not access.can_see(Category.SERVICES):
        _refuse(access, policy.why_hidden(access, Category.SERVICES))
    return access


def _referrer_access_or_404(student_id: uuid.UUID) -> policy.StudentAccess:
    access = load_access_or_404(student_id)
    if not policy.may_refer(access):
        _refuse(access, "only the student's counselors and principal send and withdraw referrals")
    return access


def _with_student_uuid(model, public_id: uuid.UUID) -> tuple:
    found = db.session.execute(
        sa.select(model, Student.uuid).join(Student, Student.id == model.student_id).where(model.uuid == public_id)
    ).one_or_none()
    if found is None:
        abort(404)
    return found


def _log_services_view(access: policy.StudentAccess) -> None:
    disclosure.log_view(access.user, access.student, {Category.SERVICES: access.visible[Category.SERVICES]})


def _fail(form: FlaskForm, error: ReferralError) -> None:
    db.session.rollback()
    form.form_errors.append(str(error))


def _status(form: FlaskForm) -> int:
    return 400 if form.is_submitted() and (form.errors or form.form_errors) else 200


# --- from a flag: the ranked organizations, and sending ------------------------------------------


@bp.route("/flags/<uuid:flag_id>/refer", methods=["GET", "POST"])
@login_required
def new(flag_id: uuid.UUID):
    flag, student_uuid = _with_student_uuid(Flag, flag_id)
    access = _referrer_access_or_404(student_uuid)
    student, day = access.student, today()
    options = referral_service.referral_options(student, flag.need, day)
    form = ReferralForm()
    form.organization.choices = [(str(o.organization.uuid), o.organization.name) for o in options if o.available]
    if form.validate_on_submit():
        chosen = next((o.organization for o in options if str(o.organization.uuid) == form.organization.data), None)
        try:
            referral = referral_service.send_referral(student, flag, chosen, form.message.data, current_user, day)
        except ReferralError as error:
            _fail(form, error)
        else:
            db.session.commit()
            if referral.status == ReferralStatus.SENT:
                flash(f"Referral sent to {chosen.name}.", "success")
            else:
                flash(f"Referral to {chosen.name} saved. It waits for the family's consent: nothing is shared until then.",
                      "success")
            return redirect(url_for("referrals.show", referral_id=referral.uuid))
    response = render("referrals/new.html", access=access, student=student, flag=flag, options=options, form=form,
                      service=Service(flag.need), status=_status(form))
    _log_services_view(access)
    db.session.commit()
    return response


# --- one referral -------------------------------------------------------------------------------


def _events(referral: Referral) -> list[ReferralEvent]:
    return list(db.session.scalars(
        sa.select(ReferralEvent).options(joinedload(ReferralEvent.by_user))
        .where(ReferralEvent.referral_id == referral.id)
        .order_by(ReferralEvent.created_at, ReferralEvent.id)
    ))


@bp.get("/referrals/<uuid:referral_id>")
@login_required
def show(referral_id: uuid.UUID):
    referral, student_uuid = _with_student_uuid(Referral, referral_id)
    access = _reader_access_or_404(student_uuid)
    day = today()
    response = render(
        "referrals/show.html", access=access, student=access.student, referral=referral, events=_events(referral),
        flag=db.session.get(Flag, referral.flag_id) if referral.flag_id else None,
        shared=policy.referral_disclosure(referral, access.student, day),
        can_refer=policy.may_refer(access), can_record_consent=policy.may_manage_consents(access),
    )
    _log_services_view(access)
    db.session.commit()
    return response


@bp.route("/referrals/<uuid:referral_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(referral_id: uuid.UUID):
    referral, student_uuid = _with_student_uuid(Referral, referral_id)
    access = _referrer_access_or_404(student_uuid)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            referral_service.withdraw_referral(referral, access.student, form.reason.data, current_user, today())
        except ReferralError as error:
            _fail(form, error)
        else:
            db.session.commit()
            flash(f"Referral to {referral.organization.name} withdrawn.", "success")
            return redirect(url_for("referrals.show", referral_id=referral.uuid))
    response = render("referrals/withdraw.html", access=access, student=access.student, referral=referral, form=form,
                      status=_status(form))
    _log_services_view(access)
    db.session.commit()
    return response


# --- the school's referrals -----------------------------------------------------------------------


class ListFilter(FlaskForm):
    class Meta:
        csrf = False

    status = SelectField("Status", default="open")


@bp.get("/referrals")
@login_required
@list_permission.require(http_exception=403)
def index():
    form = ListFilter(request.args)
    form.status.choices = [(key, label) for key, (label, _) in STATUS_FILTERS.items()]
    key = form.status.data if form.status.data in STATUS_FILTERS else "open"
    statuses = [str(s) for s in STATUS_FILTERS[key][1]]
    where = [policy.visible_students(current_user, Category.SERVICES), Referral.status.in_(statuses)]
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(Referral).join(Student, Student.id == Referral.student_id).where(*where))
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(page_number(), pages)
    rows = db.session.execute(
        sa.select(Referral, Student, Organization.name)
        .join(Student, Student.id == Referral.student_id)
        .join(Organization, Organization.id == Referral.organization_id)
        .where(*where)
        .order_by(Referral.updated_at.desc(), Referral.id.desc())
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    response = render("referrals/index.html", "referrals/partials/_rows.html", form=form, rows=rows, total=total,
                      page_number=page, pages=pages, status_key=key)
    disclosure.log_list_view(current_user, sorted({student.id for _, student, _ in rows}),
                             [Category.IDENTITY, Category.SERVICES], policy.SCHOOL_OFFICIAL)
    db.session.commit()
    return response


bp.add_app_template_global(referral_service.status_label, "referral_status_label")
bp.add_app_template_global(SERVICE_LABELS, "SERVICE_LABELS")
