"""The pages an emailed link opens, seen by staff and families alike (translated):
accepting an invitation, and forgetting and resetting a password."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from casemgr.extensions import db
from casemgr.identity import begin_session
from casemgr.mail import MailError, deliver_after_response
from casemgr.models.enums import TokenPurpose
from casemgr.passwords import MAX_LENGTH
from casemgr.services import account_links, invitations, password_reset
from casemgr.services.account_links import LinkState
from casemgr.text import CONTROL
from casemgr.views.forms import EmailAddress
from casemgr.throttle import every_attempt, from_url, posted_email, throttled
from casemgr.views.rendering import render

bp = Blueprint("accounts", __name__)


def typeable(form, field) -> None:
    if field.data and CONTROL.search(field.data):
        raise ValidationError(_l("Use letters, digits, spaces and punctuation only."))


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[
        DataRequired(_l("Choose a password.")), Length(max=MAX_LENGTH, message=_l("Use at most 1024 characters.")),
        typeable])
    confirm = PasswordField(_l("The same password again"), validators=[
        DataRequired(_l("Type the password a second time.")),
        EqualTo("password", message=_l("The two passwords are not the same. Type them again."))])


class ForgotForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[
        DataRequired(_l("Enter your email address.")), Length(max=254, message=_l("Enter your email address.")),
        EmailAddress(_l("Enter an email address like name@example.org."))])


class ConfirmForm(FlaskForm):
    pass


def _link_or_404(token: str, purpose: TokenPurpose):
    link = account_links.find(token, purpose)
    if link is None:
        return None, render("accounts/link_problem.html", purpose=str(purpose), state="unknown", token=token,
                            renew_form=None, status=404)
    return link, None


# --- invitations ---------------------------------------------------------------------------


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@throttled(account=from_url("token"))
def invitation(token: str):
    link, problem = _link_or_404(token, TokenPurpose.INVITATION)
    if problem:
        return problem
    state = account_links.state(link)
    if state is not LinkState.VALID:
        renewable = state in (LinkState.EXPIRED, LinkState.REVOKED) and link.user.active and link.user.invitation_pending
        return render("accounts/link_problem.html", purpose="invitation", state=str(state), token=token,
                      renew_form=ConfirmForm() if renewable else None, status=400)
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            user = invitations.accept(link, form.password.data)
        except invitations.InvitationError as error:
            db.session.rollback()
            form.password.errors = [str(error)]
        else:
            db.session.commit()
            begin_session(user)
            flash(gettext("Welcome to casemgr. Your password is set and you are signed in."), "success")
            return redirect(url_for("home.index"))
    status = 400 if form.is_submitted() else 200
    return render("accounts/invitation.html", form=form, user=link.user, status=status)


@bp.post("/invitations/<token>/renew")
@throttled(account=from_url("token"), failed=every_attempt)
def renew_invitation(token: str):
    """An expired (or replaced) invitation asks for a fresh link, sent to the same address."""
    link, problem = _link_or_404(token, TokenPurpose.INVITATION)
    if problem:
        return problem
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    user = link.user
    state = account_links.state(link)
    if state is LinkState.VALID or state is LinkState.USED or not user.active or not user.invitation_pending:
        return redirect(url_for("accounts.invitation", token=token))
    try:
        invitations.send_invitation(user, None)
    except MailError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("accounts.invitation", token=token))
    db.session.commit()
    return render("accounts/sent.html", heading=gettext("A new invitation is on its way"),
                  message=gettext("We sent a new link to the email address the invitation went to. "
                                  "It works for %(days)d days.",
                                  days=current_app.config["INVITATION_LIFETIME"].days))


# --- password reset ------------------------------------------------------------------------


@bp.route("/password/forgot", methods=["GET", "POST"])
@throttled(account=posted_email, failed=every_attempt)
def forgot_password():
    form = ForgotForm()
    if form.validate_on_submit():
        message = password_reset.request_reset(form.email.data)
        db.session.commit()
        minutes = int(current_app.config["PASSWORD_RESET_LIFETIME"].total_seconds() // 60)
        response = render("accounts/sent.html", heading=gettext("Check your email"),
                          message=gettext("If an account uses this address, we sent it a link to choose a new password. "
                                          "The link works for %(minutes)d minutes, once. If nothing arrives, check the "
                                          "spam folder or ask your school or organization.", minutes=minutes))
        if message is not None:
            # sent once the answer has gone, so its timing does not tell that the account exists
            deliver_after_response(response, message)
        return response
    status = 400 if form.is_submitted() else 200
    return render("accounts/forgot.html", form=form, status=status)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@throttled(account=from_url("token"))
def reset_password(token: str):
    link, problem = _link_or_404(token, TokenPurpose.PASSWORD_RESET)
    if problem:
        return problem
    state = account_links.state(link)
    if state is not LinkState.VALID:
        return render("accounts/link_problem.html", purpose="password_reset", state=str(state), token=token,
                      renew_form=None, status=400)
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            password_reset.reset(link, form.password.data)
        except password_reset.ResetError as error:
            db.session.rollback()
            form.password.errors = [str(error)]
        else:
            db.session.commit()
            flash(gettext("Your password was changed and every earlier session ended. Sign in with the new password."),
                  "success")
            return redirect(url_for("auth.login"))
    status = 400 if form.is_submitted() else 200
    return render("accounts/reset.html", form=form, user=link.user, status=status)
