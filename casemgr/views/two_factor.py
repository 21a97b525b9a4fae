"""The second factor's pages: the sign-in step after the password, enrolment and
recovery codes on the account, and for district admins the district's requirement
and resetting someone's second factor. A person who must have a second factor and
has none reaches only the enrolment page until they set it up."""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, abort, flash, redirect, request, url_for
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length

from casemgr import two_factor
from casemgr.extensions import db
from casemgr.identity import (
    admin_permission,
    drop_pending_sign_in,
    pending_account,
    pending_sign_in_events_after,
    pending_sign_in_user,
    restrict_blueprint,
)
from casemgr.models import AccountEvent, User
from casemgr.models.enums import AccountAction
from casemgr.services import account_events
from casemgr.services import two_factor as service
from casemgr.views.auth import _safe_next, complete_sign_in
from casemgr.throttle import throttled
from casemgr.views.input_bounds import page_number
from casemgr.views.rendering import render

bp = Blueprint("two_factor", __name__)
admin_bp = Blueprint("two_factor_admin", __name__, url_prefix="/admin")
restrict_blueprint(admin_bp, admin_permission)

PAGE_SIZE = 50
# wrong codes one password allows; then the password is asked again (and throttled)
MAX_WRONG_CODES = 5
# what a person who must enrol can still reach
OPEN_BEFORE_ENROLMENT = {"static", "two_factor.enrol", "auth.logout", "language.choose"}


class CodeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=64)])


class DistrictSettingForm(FlaskForm):
    require_staff_two_factor = BooleanField("Require two-factor sign-in for every staff role")


class ConfirmForm(FlaskForm):
    pass


@bp.route("/login/two-factor", methods=["GET", "POST"])
@throttled(account=pending_account)
def sign_in():
    """The second step of signing in: a code from the authenticator app, or a recovery
    code, within five minutes of the password."""
    next_page = _safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_page or url_for("home.index"))
    user = pending_sign_in_user()
    if user is None:
        flash(gettext("Your sign-in has timed out. Please enter your email and password again."), "info")
        return redirect(url_for("auth.login", next=next_page))
    if _wrong_codes(user) >= MAX_WRONG_CODES:
        drop_pending_sign_in()
        flash(gettext("That was too many wrong codes. Please enter your email and password again."), "error")
        return redirect(url_for("auth.login", next=next_page))
    form = CodeForm()
    status, wrong = 200, False
    if form.validate_on_submit():
        code = form.code.data
        if two_factor.looks_like_totp(code):
            if service.accept_code(user, code):
                complete_sign_in(user, second_factor="app")
                return redirect(next_page or url_for("home.index"))
        else:
            left = service.use_recovery_code(user, code)
            if left is not None:
                complete_sign_in(user, second_factor="recovery_code")
                flash(_recovery_codes_left(left), "info" if left > 2 else "error")
                return redirect(next_page or url_for("home.index"))
        account_events.record(AccountAction.SIGN_IN_FAILED, user, actor=user, step="second_factor")
        db.session.commit()
        status, wrong = 401, True
    elif form.errors:
        status = 400
    return render("auth/two_factor.html", form=form, wrong=wrong, next_page=next_page, status=status)


def _wrong_codes(user: User) -> int:
    """Wrong codes given since this browser's password step (counted on the server, so
    replaying an older cookie does not reset the count)."""
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(AccountEvent).where(
            AccountEvent.id > pending_sign_in_events_after(),
            AccountEvent.user_id == user.id,
            AccountEvent.action == str(AccountAction.SIGN_IN_FAILED),
            AccountEvent.details["step"].astext == "second_factor",
        )
    )


def _recovery_codes_left(left: int) -> str:
    if left == 0:
        return gettext("You signed in with your last recovery code. Get new recovery codes now, "
                       "from the two-factor page of your account.")
    return ngettext("You signed in with a recovery code. You have %(num)d recovery code left.",
                    "You signed in with a recovery code. You have %(num)d recovery codes left.", left)


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def enrol():
    """Set up the authenticator app: scan the QR code (or type the key), confirm with a
    code; the recovery codes are then shown once. Once set up, the page says so."""
    user = current_user._get_current_object()
    if user.two_factor_enabled:
        return render("two_factor/status.html", user=user, left=service.unused_recovery_codes(user))
    if user.totp_secret is None:
        service.start_enrolment(user)
        db.session.commit()
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        codes = service.confirm_enrolment(user, form.code.data)
        if codes is not None:
            db.session.commit()
            return render("two_factor/recovery_codes.html", codes=codes, enrolled=True)
        form.code.errors.append("That code did not match. Enter the 6 digits the app shows now; "
                                "if the app shows a new code, use that one.")
        status = 400
    elif form.errors:
        form.code.errors[:] = ["Enter the 6-digit code from the app."]
        status = 400
    uri = two_factor.provisioning_uri(user, user.totp_secret)
    return render("two_factor/enrol.html", form=form, user=user, qr_code=two_factor.qr_code_data_uri(uri),
                  secret=two_factor.grouped_secret(user.totp_secret), required=two_factor.required_for(user),
                  status=status)


@bp.route("/account/two-factor/recovery-codes", methods=["GET", "POST"])
@login_required
def recovery_codes():
    """Ten new recovery codes in place of the old ones; a current code is asked first."""
    user = current_user._get_current_object()
    if not user.two_factor_enabled:
        return redirect(url_for("two_factor.enrol"))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        codes = service.regenerate_recovery_codes(user, form.code.data)
        if codes is not None:
            db.session.commit()
            return render("two_factor/recovery_codes.html", codes=codes, enrolled=False)
        db.session.rollback()
        form.code.errors.append("That code did not work. Enter the 6 digits the app shows now.")
        status = 400
    elif form.errors:
        form.code.errors[:] = ["Enter the 6-digit code from the app."]
        status = 400
    return render("two_factor/regenerate.html", form=form, left=service.unused_recovery_codes(user), status=status)


@admin_bp.route("/security", methods=["GET", "POST"])
def security():
    """The district's requirement, and the people whose second factor the admin may reset."""
    district = current_user.organization
    form = DistrictSettingForm()
    if form.validate_on_submit():
        if service.set_district_requirement(district, form.require_staff_two_factor.data,
                                            current_user._get_current_object()):
            db.session.commit()
            flash("Saved: every staff role now needs two-factor sign-in." if district.require_staff_two_factor
                  else "Saved: two-factor sign-in is required of district admins only.", "success")
        return redirect(url_for("two_factor_admin.security"))
    if not form.is_submitted():
        form.require_staff_two_factor.data = district.require_staff_two_factor
    page = db.paginate(
        sa.select(User)
        .where(two_factor.resettable_by(current_user), User.totp_enabled_at.is_not(None))
        .order_by(User.full_name, User.id),
        page=page_number(), per_page=PAGE_SIZE, error_out=False,
    )
    return render("admin/security.html", form=form, district=district, enrolled=page,
                  status=400 if form.errors else 200)


def _resettable_user(user_id: uuid.UUID) -> User:
    user = db.session.scalar(sa.select(User).where(User.uuid == user_id, two_factor.resettable_by(current_user)))
    if user is None:
        abort(404)
    return user


@admin_bp.route("/users/<uuid:user_id>/two-factor/reset", methods=["GET", "POST"])
def reset(user_id: uuid.UUID):
    """Take away someone's second factor (a lost phone): they are signed out everywhere
    and set it up again at their next sign-in."""
    user = _resettable_user(user_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        service.reset(user, current_user._get_current_object())
        db.session.commit()
        flash(f"{user.full_name}'s two-factor sign-in was reset and their sessions ended. "
              "They set it up again at their next sign-in.", "success")
        return redirect(url_for("two_factor_admin.security"))
    return render("admin/reset_two_factor.html", form=form, person=user, status=400 if form.errors else 200)


def require_enrolment():
    """A person who must have a second factor and has none reaches only the enrolment
    page, sign-out, the language switch and static files."""
    if not current_user.is_authenticated or request.endpoint in OPEN_BEFORE_ENROLMENT:
        return None
    if not two_factor.must_enrol(current_user):
        return None
    target = url_for("two_factor.enrol")
    if request.headers.get("HX-Request") == "true":
        response = Response(status=403)
        response.headers["HX-Redirect"] = target
        return response
    if request.method == "GET":
        flash("Set up two-factor sign-in to continue: your role requires it.", "info")
    return redirect(target)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(admin_bp)
    app.before_request(require_enrolment)
