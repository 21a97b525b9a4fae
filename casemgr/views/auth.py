"""Sign in and sign out."""
from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length, ValidationError

from casemgr.extensions import db
from casemgr.identity import begin_pending_sign_in, begin_session, end_every_session, end_session
from casemgr.models import User
from casemgr.models.enums import AccountAction
from casemgr.passwords import hash_password, needs_rehash, verify_password
from casemgr.services import account_events
from casemgr.text import has_control_characters
from casemgr.throttle import posted_email, throttled
from casemgr.views.rendering import render

bp = Blueprint("auth", __name__)


def N_(message: str) -> str:
    """Marks a message for the catalog; it is translated where it is shown."""
    return message


WRONG_CREDENTIALS = N_("That email and password do not match an account. Check both and try again.")


def _no_control_characters(form, field) -> None:
    if field.data and has_control_characters(field.data):
        raise ValidationError(_l("Enter your email address."))


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254), _no_control_characters])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never another host, never a scheme."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def complete_sign_in(user: User, **details) -> None:
    """`user` has proved who they are (password, and code when they have a second
    factor): record it and begin their session."""
    user.last_login_at = datetime.now(UTC)
    account_events.record(AccountAction.SIGNED_IN, user, actor=user, **details)
    db.session.commit()
    begin_session(user)


@bp.route("/login", methods=["GET", "POST"])
@throttled(account=posted_email)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(select(User).where(User.email == email))
        # the hash is checked even for an unknown email, so both take as long
        password_ok = verify_password(user.password_hash if user else None, form.password.data)
        if user is not None and user.active and password_ok:
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(form.password.data)
            if user.two_factor_enabled:
                # not signed in yet: the code comes next (casemgr.views.two_factor)
                db.session.commit()
                begin_pending_sign_in(user)
                return redirect(url_for("two_factor.sign_in", next=_safe_next(request.args.get("next"))))
            complete_sign_in(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("home.index"))
        if user is not None:
            account_events.record(AccountAction.SIGN_IN_FAILED, user, actor=user)
            db.session.commit()
        flash(gettext(WRONG_CREDENTIALS), "error")
        status = 401
    else:
        status = 400 if form.errors else 200
    return render("auth/login.html", form=form, status=status)


@bp.route("/logout", methods=["POST"])
def logout():
    """Signing out ends every session of the account, so a cookie kept from before is
    refused from now on."""
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        end_every_session(user)
        account_events.record(AccountAction.SIGNED_OUT, user, actor=user)
        db.session.commit()
    end_session()
    flash(gettext("You have signed out."), "info")
    return redirect(url_for("auth.login"))
