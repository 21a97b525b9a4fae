"""Invitation letters for families (issue 11 item 3), issued by the student's school.

The page lists who may claim an account for the student (guardians with educational
rights, or the eligible student) and where each stands; issuing a letter answers with
the printable letter itself, the only time its code is shown. Both show who the
student is, so both are logged as reads of `identity`.
"""
from __future__ import annotations

import uuid

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import HiddenField, StringField

from casemgr import policy
from casemgr.extensions import db
from casemgr.i18n import LANGUAGE_NAMES
from casemgr.mail import MailError
from casemgr.models.enums import Category
from casemgr.services import disclosure
from casemgr.services import family_accounts as letters
from casemgr.views.rendering import render
from casemgr.views.students import load_access_or_404

bp = Blueprint("family_accounts", __name__)

LANGUAGE_CHOICES = [(code, name) for code, name in LANGUAGE_NAMES.items() if code in letters.LANGUAGES]


class IssueForm(FlaskForm):
    claimant = HiddenField()
    language = StringField()  # checked by the service


def load_issuer_access_or_404(student_id: uuid.UUID) -> policy.StudentAccess:
    access = load_access_or_404(student_id)
    if not policy.may_issue_letters(access):
        abort(404)
    return access


def _log_identity(access: policy.StudentAccess) -> None:
    disclosure.log_view(current_user, access.student, {Category.IDENTITY: access.visible[Category.IDENTITY]})


def _index(access: policy.StudentAccess, error: str | None = None, status: int = 200):
    response = render(
        "family_accounts/index.html", access=access, student=access.student,
        claimants=letters.claimants(access.student, access.today), languages=LANGUAGE_CHOICES,
        eligible=access.student.is_eligible_on(access.today), error=error, status=status,
    )
    _log_identity(access)
    db.session.commit()
    return response


@bp.get("/students/<uuid:student_id>/family-accounts")
@login_required
def index(student_id: uuid.UUID):
    return _index(load_issuer_access_or_404(student_id))


@bp.post("/students/<uuid:student_id>/family-accounts/invitations")
@login_required
def invite(student_id: uuid.UUID):
    """Email an invitation to a guardian whose address the district gave (again, for
    one not yet accepted)."""
    access = load_issuer_access_or_404(student_id)
    form = IssueForm()
    if not form.validate_on_submit():
        return _index(access, "This form has expired. Please reload the page and try again.", 400)
    claimant = letters.find_claimant(access.student, form.claimant.data or "", access.today)
    if claimant is None or claimant.guardian is None:
        abort(404)
    try:
        account = letters.invite_by_email(claimant, current_user._get_current_object())
    except (letters.ClaimError, MailError) as refusal:
        db.session.rollback()
        return _index(access, str(refusal), 400)
    db.session.commit()
    flash(f"An invitation was emailed to {account.email}. Its link works for "
          f"{current_app.config['INVITATION_LIFETIME'].days} days.", "success")
    return redirect(url_for("family_accounts.index", student_id=access.student.uuid))


@bp.post("/students/<uuid:student_id>/family-accounts/letters")
@login_required
def issue(student_id: uuid.UUID):
    """Issue (or reissue) a letter and answer with it, ready to print."""
    access = load_issuer_access_or_404(student_id)
    form = IssueForm()
    if not form.validate_on_submit():
        return _index(access, "This form has expired. Please reload the page and try again.", 400)
    claimant = letters.find_claimant(access.student, form.claimant.data or "", access.today)
    if claimant is None:
        abort(404)
    language = form.language.data or request.args.get("lang") or claimant.language
    try:
        letter, code = letters.issue_letter(claimant, language, current_user._get_current_object())
    except letters.ClaimError as refusal:
        db.session.rollback()
        return _index(access, str(refusal), 400)
    with force_locale(letter.language):
        document = Markup(render_template(
            "family_accounts/_letter.html", claimant=claimant, student=access.student, letter=letter,
            code=letters.grouped(code), claim_url=url_for("claim.start", _external=True),
        ))
    response = render("family_accounts/letter.html", access=access, student=access.student, claimant=claimant,
                      letter=letter, document=document)
    # the code is in this page only: no cache may keep it
    response.headers["Cache-Control"] = "no-store"
    _log_identity(access)
    db.session.commit()
    return response
