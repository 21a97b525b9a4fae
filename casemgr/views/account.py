"""Everyone's account page (issue 11 item 9): who they are, their language, their
password, their second factor, their recent sign-ins, and signing out everywhere."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField
from wtforms.validators import DataRequired, Length

from casemgr.extensions import db
from casemgr.i18n import LANGUAGE_NAMES
from casemgr.identity import begin_session, end_session
from casemgr.passwords import MAX_LENGTH
from casemgr.services import account as account_service
from casemgr.views.rendering import render

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.before_request
@login_required
def require_sign_in():
    return None


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[
        DataRequired(_l("Enter your current password.")), Length(max=MAX_LENGTH)])
    new_password = PasswordField(_l("New password"), validators=[
        DataRequired(_l("Enter a new password.")), Length(max=MAX_LENGTH)])
    confirm_password = PasswordField(_l("New password again"), validators=[
        DataRequired(_l("Enter the new password a second time.")), Length(max=MAX_LENGTH)])


class LanguageForm(FlaskForm):
    language = RadioField(_l("Language"), choices=list(LANGUAGE_NAMES.items()),
                          validators=[DataRequired(_l("Choose a language."))])


class ConfirmForm(FlaskForm):
    pass


def _page(status: int = 200, password_form: PasswordForm | None = None, errors: list[str] | None = None):
    user = current_user._get_current_object()
    return render(
        "account/index.html",
        status=status,
        user=user,
        password_form=password_form or PasswordForm(formdata=None),
        language_form=LanguageForm(formdata=None, language=user.locale or "en"),
        confirm_form=ConfirmForm(formdata=None),
        sign_ins=account_service.recent_sign_ins(user),
        errors=errors or [],
    )


@bp.get("")
def index():
    return _page()


@bp.post("/password")
def change_password():
    form = PasswordForm()
    if not form.validate():
        return _page(400, form)
    if form.new_password.data != form.confirm_password.data:
        form.confirm_password.errors = [gettext("The two new passwords are not the same.")]
        return _page(400, form)
    user = current_user._get_current_object()
    try:
        account_service.change_password(user, form.current_password.data, form.new_password.data)
    except account_service.AccountError as error:
        db.session.rollback()
        return _page(400, form, [str(error)])
    db.session.commit()
    begin_session(user)  # this browser goes on under the new generation; the others end
    flash(gettext("Your password was changed. You were signed out everywhere else."), "success")
    return redirect(url_for("account.index"))


@bp.post("/language")
def choose_language():
    form = LanguageForm()
    if not form.validate():
        return _page(400, errors=[gettext("Choose a language.")])
    account_service.choose_language(current_user._get_current_object(), form.language.data)
    db.session.commit()
    flash(gettext("Your language was saved."), "success")
    return redirect(url_for("account.index"))


@bp.post("/sign-out-everywhere")
def sign_out_everywhere():
    form = ConfirmForm()
    if not form.validate():
        return _page(400)
    account_service.sign_out_everywhere(current_user._get_current_object())
    db.session.commit()
    end_session()
    flash(gettext("You were signed out on every computer and phone. Sign in again to go on."), "info")
    return redirect(url_for("auth.login"))
