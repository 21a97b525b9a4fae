"""Consent history, recording a paper release, revoking a consent (staff side)."""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from casemgr import policy
from casemgr.clock import today
from casemgr.extensions import db
from casemgr.models import Consent, Student
from casemgr.models.enums import Category, SignerRelationship
from casemgr.school_year import end_of_school_year
from casemgr.services import consents as consent_service
from casemgr.views.forms import CheckboxListField, saved
from casemgr.views.formatting import category_label
from casemgr.views.rendering import render
from casemgr.views.students import load_access_or_404

bp = Blueprint("consents", __name__)


class PaperConsentForm(FlaskForm):
    organization = SelectField("Organization named on the release", validators=[DataRequired("Choose the organization.")])
    categories = CheckboxListField("Records the family agreed to share", validators=[DataRequired("Choose at least one kind of record.")])
    purpose = TextAreaField("Purpose stated on the release", validators=[DataRequired("Write the purpose stated on the release."), Length(max=2000)])
    signer = SelectField("Signed by", validators=[DataRequired("Choose who signed.")])
    signed_on = DateField("Date signed", validators=[DataRequired("Enter the date it was signed (YYYY-MM-DD).")])
    expires_on = DateField("Expires on", validators=[Optional()])


class RevokeForm(FlaskForm):
    reason = TextAreaField("Reason (optional)", validators=[Optional(), Length(max=1000)])


def _signer_choices(student: Student, day) -> list[tuple[str, str]]:
    if student.is_eligible_on(day):
        return [("student", f"{student.first_name} {student.last_name} (the student, eligible)")]
    return [(f"guardian:{g.uuid}", f"{g.full_name} (parent or guardian)") for g in consent_service.guardians_with_rights(student)]


def _manager_access_or_404(student_id: uuid.UUID) -> policy.StudentAccess:
    access = load_access_or_404(student_id)
    if not policy.may_manage_consents(access):
        abort(404)
    return access


@bp.get("/students/<uuid:student_id>/consents")
@login_required
def history(student_id: uuid.UUID):
    access = load_access_or_404(student_id)
    scope = policy.consent_organizations_visible(access)
    if scope is False:
        abort(404)
    day = today()
    rows = [(c, consent_service.consent_state(c, day)) for c in consent_service.consent_history(access.student, scope)]
    return render(
        "consents/history.html", access=access, student=access.student, rows=rows,
        can_manage=policy.may_manage_consents(access),
    )


@bp.route("/students/<uuid:student_id>/consents/new", methods=["GET", "POST"])
@login_required
def new(student_id: uuid.UUID):
    access = _manager_access_or_404(student_id)
    student, day = access.student, today()
    partners = consent_service.partners_with_agreement(student, day)
    form = PaperConsentForm()
    form.organization.choices = [("", "Choose…")] + [(str(o.uuid), o.name) for o in partners]
    form.categories.choices = [(str(c), category_label(c)) for c in Category]
    form.signer.choices = [("", "Choose…")] + _signer_choices(student, day)
    if not form.is_submitted():
        form.organization.data = request.args.get("organization", "")  # from a referral awaiting consent
        form.signed_on.data = day
        form.expires_on.data = end_of_school_year(student.district_id, day)
    if form.validate_on_submit():
        organization = next((o for o in partners if str(o.uuid) == form.organization.data), None)
        guardian = None
        if form.signer.data.startswith("guardian:"):
            guardian = next(
                (g for g in consent_service.guardians_with_rights(student) if f"guardian:{g.uuid}" == form.signer.data),
                None,
            )
        signer_name = guardian.full_name if guardian else f"{student.first_name} {student.last_name}"
        release = consent_service.PaperConsent(
            organization=organization,
            categories=[Category(c) for c in form.categories.data],
            purpose=form.purpose.data,
            signer_name=signer_name,
            signer_relationship=SignerRelationship.PARENT if guardian else SignerRelationship.ELIGIBLE_STUDENT,
            signer_guardian=guardian,
            signed_on=form.signed_on.data,
            expires_on=form.expires_on.data or end_of_school_year(student.district_id, day),
        )
        if saved(form, lambda: consent_service.record_paper_consent(student, release, current_user, day),
                 consent_service.ConsentError):
            flash(f"Consent for {organization.name} recorded.", "success")
            return redirect(url_for("consents.history", student_id=student.uuid))
    status = 400 if form.is_submitted() and (form.errors or form.form_errors) else 200
    return render("consents/new.html", access=access, student=student, form=form, status=status)


def _consent_for_manager_or_404(consent_id: uuid.UUID) -> tuple[Consent, policy.StudentAccess]:
    consent = db.session.scalar(sa.select(Consent).where(Consent.uuid == consent_id))
    if consent is None:
        abort(404)
    student = db.session.get(Student, consent.student_id)
    return consent, _manager_access_or_404(student.uuid)


@bp.route("/consents/<uuid:consent_id>/revoke", methods=["GET", "POST"])
@login_required
def revoke(consent_id: uuid.UUID):
    consent, access = _consent_for_manager_or_404(consent_id)
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            consent_service.revoke_consent(consent, current_user, form.reason.data)
        except consent_service.ConsentError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(f"Consent for {consent.organization.name} revoked. It no longer applies from now on.", "success")
        return redirect(url_for("consents.history", student_id=access.student.uuid))
    return render("consents/revoke.html", access=access, student=access.student, consent=consent, form=form,
                  state=consent_service.consent_state(consent, today()))
