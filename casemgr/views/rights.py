"""The student decides (issue 6 item 8): once 18 or in college, the student reviews each
consent a parent signed that is still in force, and confirms it by signing it themself
or revokes it.

Load → policy → act: the family pages' `load_family_access_or_404` for the student, then
`policy.reviews_parent_consents` (the eligible student themself, nobody else: 404 like
an unknown id). The pages show consents, not the record, so they log no category
themselves; one that names the student is logged at the edge of the response
(casemgr/views/disclosure_guard.py). A consent that is no longer in force gets a
message and no change.
"""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, Length

from casemgr import policy
from casemgr.clock import today
from casemgr.extensions import db
from casemgr.i18n import current_language
from casemgr.models import Consent, Student
from casemgr.services import consents as consent_service
from casemgr.services import eligibility
from casemgr.text import line_breaks
from casemgr.views.family import load_family_access_or_404
from casemgr.views.forms import saved
from casemgr.views.rendering import render
from casemgr.words.family import categories_words

bp = Blueprint("rights", __name__, url_prefix="/family")
bp.add_app_template_global(categories_words)


class ConfirmForm(FlaskForm):
    typed_name = StringField(_l("Your full name"), validators=[
        DataRequired(_l("Type your full name to sign.")), Length(max=consent_service.NAME_MAX)])
    agreed = BooleanField(_l("I have read this statement and I agree to it."))
    statement = HiddenField()
    locale = HiddenField()


class RevokeForm(FlaskForm):
    """Only the CSRF token: the one confirmation."""


def _student_or_404(student_id: uuid.UUID) -> Student:
    access = load_family_access_or_404(student_id)
    if not policy.reviews_parent_consents(current_user, access.student, today()):
        abort(404)
    return access.student


def _awaiting_or_404(consent_id: uuid.UUID) -> tuple[Consent, Student]:
    """A consent of the signed-in eligible student that a parent signed; else 404."""
    consent = db.session.scalar(sa.select(Consent).where(Consent.uuid == consent_id))
    if consent is None or consent.signer_relationship not in eligibility.PARENT_SIGNERS:
        abort(404)
    student = _student_or_404(db.session.get(Student, consent.student_id).uuid)
    return consent, student


def _no_longer_waiting(consent: Consent, student: Student):
    """The consent was decided on already, or ended: say so, change nothing."""
    try:
        eligibility.check_awaiting(consent, student, current_user, today())
    except consent_service.ConsentError as error:
        flash(str(error), "error")
        return redirect(url_for("rights.review", student_id=student.uuid))
    return None


@bp.get("/children/<uuid:student_id>/parent-consents")
@login_required
def review(student_id: uuid.UUID):
    student = _student_or_404(student_id)
    consents = eligibility.parent_signed_consents(student, today())
    return render("family/parent_consents.html", student=student, consents=consents)


@bp.route("/parent-consents/<uuid:consent_id>/confirm", methods=["GET", "POST"])
@login_required
def confirm(consent_id: uuid.UUID):
    consent, student = _awaiting_or_404(consent_id)
    day = today()
    if (answer := _no_longer_waiting(consent, student)) is not None:
        return answer
    form = ConfirmForm()
    if not form.is_submitted():
        form.statement.data = eligibility.confirmation_statement(consent, student, current_user, day)
        form.locale.data = current_language()
    if form.validate_on_submit():
        signature = consent_service.ElectronicSignature(
            typed_name=form.typed_name.data, agreed=bool(form.agreed.data),
            statement_text=line_breaks(form.statement.data),
            address=request.remote_addr, locale=form.locale.data or "")
        if saved(form, lambda: eligibility.confirm_parent_consent(consent, student, current_user, signature, day),
                 consent_service.ConsentError):
            flash(gettext("You signed the consent for %(organization)s yourself. Your parent's consent is replaced.",
                          organization=consent.organization.name), "success")
            return redirect(url_for("rights.review", student_id=student.uuid))
    status = 400 if form.is_submitted() and (form.errors or form.form_errors) else 200
    if status == 400:  # sign again what the page shows now
        form.statement.data = eligibility.confirmation_statement(consent, student, current_user, day)
        form.locale.data = current_language()
    return render("family/confirm_consent.html", student=student, consent=consent, form=form,
                  expires_on=eligibility.confirmed_expiry(consent, student, day),
                  paragraphs=(form.statement.data or "").split("\n\n"), status=status)


@bp.route("/parent-consents/<uuid:consent_id>/revoke", methods=["GET", "POST"])
@login_required
def revoke(consent_id: uuid.UUID):
    consent, student = _awaiting_or_404(consent_id)
    if (answer := _no_longer_waiting(consent, student)) is not None:
        return answer
    form = RevokeForm()
    if form.validate_on_submit():
        if saved(form, lambda: eligibility.revoke_parent_consent(consent, student, current_user, today()),
                 consent_service.ConsentError):
            flash(gettext("The consent for %(organization)s is revoked. It no longer applies from now on.",
                          organization=consent.organization.name), "success")
            return redirect(url_for("rights.review", student_id=student.uuid))
    status = 400 if form.is_submitted() and (form.errors or form.form_errors) else 200
    return render("family/revoke_parent_consent.html", student=student, consent=consent, form=form, status=status)
