"""Claiming a family account with a printed invitation letter (issue 11 item 3).

Step 1 asks the letter's code and the student's birth date. A wrong code, a used,
revoked or expired one and a wrong birth date all get the same answer, so the form
tells a stranger nothing; a wrong birth date counts against the letter (void after
five). The proof is kept in the signed session, never in the form. Step 2 asks an
email and a password, creates the account, uses the letter and signs the person in.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask import Blueprint, flash, redirect, session, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from wtforms import DateField, EmailField, PasswordField, StringField

from casemgr.extensions import db
from casemgr.identity import begin_session
from casemgr.models import ClaimCode
from casemgr.services import family_accounts as letters
from casemgr.text import has_control_characters
from casemgr.throttle import posted, throttled
from casemgr.views.rendering import render

bp = Blueprint("claim", __name__)

PROOF_KEY = "claim_letter"
# time to choose an email and a password once the code and birth date are proved
PROOF_LIFETIME = timedelta(minutes=30)
CODE_MAX = 40
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class CodeForm(FlaskForm):
    code = StringField(_l("Code from the letter"))
    birth_date = DateField(_l("Student's date of birth"))


class AccountForm(FlaskForm):
    email = EmailField(_l("Email address"))
    password = PasswordField(_l("Password"))
    confirm = PasswordField(_l("Password again"))


def _proved_letter() -> ClaimCode | None:
    """The letter whose code and birth date this browser proved, while live and recent."""
    proof = session.get(PROOF_KEY)
    if not isinstance(proof, dict):
        return None
    letter_id, proved_at = proof.get("letter"), proof.get("at")
    if not isinstance(letter_id, int) or not isinstance(proved_at, (int, float)):
        return None
    if datetime.now(UTC).timestamp() - proved_at > PROOF_LIFETIME.total_seconds():
        return None
    letter = db.session.get(ClaimCode, letter_id)
    return letter if letter is not None and letters.is_live(letter) else None


@bp.route("/claim", methods=["GET", "POST"])
@throttled(account=posted("code"))
def start():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = CodeForm()
    error, status = None, 200
    if form.is_submitted():
        code = form.code.data or ""
        if not form.validate():
            error, status = _form_error(form), 400
        elif len(code) > CODE_MAX:
            error, status = gettext(letters.NO_MATCH), 400
        else:
            letter = letters.check_code(code, form.birth_date.data)
            db.session.commit()  # a wrong birth date counts, whatever comes next
            if letter is None:
                error, status = gettext(letters.NO_MATCH), 400
            elif not letters.letter_still_applies(letter):
                error, status = gettext(letters.NO_LONGER_VALID), 400
            else:
                session[PROOF_KEY] = {"letter": letter.id, "at": datetime.now(UTC).timestamp()}
                return redirect(url_for("claim.account"))
    return render("claim/start.html", form=form, error=error, code_max=CODE_MAX, status=status)


def _form_error(form: FlaskForm) -> str:
    if "csrf_token" in form.errors:
        return gettext("This form has expired. Please reload the page and try again.")
    return gettext(letters.NO_MATCH)


@bp.route("/claim/account", methods=["GET", "POST"])
def account():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    letter = _proved_letter()
    if letter is None:
        session.pop(PROOF_KEY, None)
        flash(gettext("Please enter the code from your letter and the birth date first."), "info")
        return redirect(url_for("claim.start"))
    form = AccountForm()
    error, status = None, 200
    if form.is_submitted():
        error = _account_problem(form)
        if error is None:
            try:
                user = letters.claim_account(letter.id, form.email.data, form.password.data)
                db.session.commit()
            except letters.ClaimError as refusal:
                db.session.rollback()
                error = str(refusal)
            except IntegrityError:  # the same email claimed at the same moment
                db.session.rollback()
                error = gettext("That email address already has an account. Use another, or sign in with it.")
            else:
                session.pop(PROOF_KEY, None)
                begin_session(user)
                flash(gettext("Welcome! Your account is ready."), "success")
                return redirect(url_for("home.index"))
        status = 400
    claimant_name = letter.guardian.full_name if letter.guardian is not None else None
    return render("claim/account.html", form=form, error=error, letter=letter, student=letter.student,
                  claimant_name=claimant_name, status=status)


def _account_problem(form: AccountForm) -> str | None:
    """What is wrong with the form before the service looks at it, or None."""
    if not form.validate():
        return gettext("This form has expired. Please reload the page and try again.")
    email = (form.email.data or "").strip()
    password, confirm = form.password.data or "", form.confirm.data or ""
    if not EMAIL.match(email) or len(email) > letters.EMAIL_MAX or has_control_characters(email):
        return gettext("Enter your email address, like name@example.com.")
    if has_control_characters(password):
        return gettext("The password holds a character that cannot be typed. Choose another.")
    if password != confirm:
        return gettext("The two passwords are not the same. Type the same password twice.")
    return None
