"""Who is asking: flask-login loads the user, flask-principal carries the role need.

Sessions (issue 11 item 8): the cookie names the account and the session generation it
was issued under, and carries when it was signed in and last seen (signed, so a kept
cookie cannot be made younger). Every request checks all three: a raised generation
(sign-out, password change or reset, second-factor reset, deactivation), an idle spell
or the absolute lifetime ends the session, and the person is sent to the sign-in page
and back to where they were.

Object-level and consent decisions are not here; they belong to the policy module.
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Flask, Response, abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_required, login_user, logout_user
from flask_principal import AnonymousIdentity, Identity, Permission, RoleNeed, UserNeed, identity_changed, identity_loaded
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from casemgr.extensions import db, login_manager, principal
from casemgr.models import AccountEvent, Organization, User
from casemgr.models.enums import FAMILY, Role

LAST_SEEN_KEY = "last_seen"
SIGNED_IN_KEY = "signed_in_at"
PENDING_KEY = "second_factor_pending"
PENDING_SECONDS = 5 * 60  # the password proves who it is for this long, waiting for the code


def role_permission(*roles: Role) -> Permission:
    return Permission(*(RoleNeed(str(role)) for role in roles))


admin_permission = role_permission(Role.DISTRICT_ADMIN)


def restrict_blueprint(bp: Blueprint, permission: Permission) -> None:
    """Every page of `bp` needs a signed-in user with `permission`; others get 403."""

    @bp.before_request
    @login_required
    def require_permission():
        if not permission.can():
            abort(403)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The account named by the cookie, if it is active and the cookie was issued under
    its current session generation (User.get_id)."""
    public_id, _, generation = session_id.partition(".")
    try:
        public_id, generation = uuid.UUID(public_id), int(generation)
    except ValueError:
        return None
    return db.session.scalar(
        select(User)
        # the school's district comes along: whether it requires a second factor is asked on every request
        .options(joinedload(User.organization).joinedload(Organization.district))
        .where(User.uuid == public_id, User.active.is_(True), User.session_generation == generation)
    )


def begin_session(user: User) -> None:
    """A fresh session for `user`, who has just proved who they are."""
    session.clear()
    login_user(user)
    now = datetime.now(UTC).timestamp()
    session[SIGNED_IN_KEY] = now
    session[LAST_SEEN_KEY] = now
    identity_changed.send(current_app._get_current_object(), identity=Identity(user.id))


def end_session() -> None:
    """Forget this browser's session (the caller raises the generation to end others)."""
    logout_user()
    session.clear()
    identity_changed.send(current_app._get_current_object(), identity=AnonymousIdentity())


def end_every_session(user: User) -> None:
    """Every cookie issued to `user` so far stops working on its next request (the
    caller commits)."""
    user.session_generation = User.session_generation + 1


def begin_pending_sign_in(user: User) -> None:
    """The password was right and a second factor is due: remember that, for five
    minutes, instead of signing in. The proof names the account's session generation,
    so signing out everywhere or a reset in between voids it."""
    session.clear()
    session[PENDING_KEY] = {
        "user": str(user.uuid),
        "generation": user.session_generation,
        "at": datetime.now(UTC).timestamp(),
        # wrong codes are counted from here (account events are numbered in order)
        "events_after": db.session.scalar(select(func.max(AccountEvent.id))) or 0,
    }


def pending_account() -> str:
    """Whose second factor this browser is asked for (the account a code is throttled
    by): the public id in the pending proof, or nothing."""
    pending = session.get(PENDING_KEY)
    return str(pending.get("user") or "") if isinstance(pending, dict) else ""


def pending_sign_in_user() -> User | None:
    """The account whose password was given in this browser less than five minutes ago
    and still awaits its second factor; None when there is none (or it expired)."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    at = pending.get("at")
    if not isinstance(at, (int, float)) or not 0 <= datetime.now(UTC).timestamp() - at <= PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        return None
    try:
        public_id, generation = uuid.UUID(str(pending.get("user"))), int(pending.get("generation"))
    except (TypeError, ValueError):
        return None
    user = db.session.scalar(
        select(User).where(User.uuid == public_id, User.active.is_(True), User.session_generation == generation)
    )
    return user if user is not None and user.two_factor_enabled else None


def pending_sign_in_events_after() -> int:
    """The last account event before this browser's pending sign-in began."""
    pending = session.get(PENDING_KEY)
    value = pending.get("events_after") if isinstance(pending, dict) else None
    return value if isinstance(value, int) else 0


def drop_pending_sign_in() -> None:
    session.pop(PENDING_KEY, None)


def session_limits(user: User) -> tuple[float, float]:
    """(idle, absolute) lifetimes in seconds for `user`'s sessions."""
    config = current_app.config
    idle = config["FAMILY_IDLE_TIMEOUT"] if user.role in FAMILY else config["STAFF_IDLE_TIMEOUT"]
    return idle.total_seconds(), config["SESSION_LIFETIME"].total_seconds()


def _current_page() -> str | None:
    """Where the person was: the page itself, or for an htmx request the page the
    fragment belongs to (a path on this site only)."""
    if request.headers.get("HX-Request") == "true":
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        if current.netloc and current.netloc != request.host:
            return None
        target = current.path + (f"?{current.query}" if current.query else "")
    elif request.method == "GET":
        target = request.full_path.rstrip("?")
    else:
        return None
    return target if target.startswith("/") and not target.startswith("//") else None


def to_sign_in() -> Response:
    """Send the person to the sign-in page and back to where they were; an htmx
    request is told to load the sign-in page itself rather than swap it into a
    fragment."""
    page = _current_page()
    target = url_for("auth.login") + (f"?{urlencode({'next': page})}" if page else "")
    if request.headers.get("HX-Request") == "true":
        response = Response(status=401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


@login_manager.unauthorized_handler
def _unauthorized() -> Response:
    flash(gettext("Please sign in to continue."), "info")
    return to_sign_in()


@principal.identity_loader
def load_identity() -> Identity:
    if current_user.is_authenticated:
        return Identity(current_user.id, auth_type="session")
    return AnonymousIdentity()


def _provide_needs(sender, identity: Identity) -> None:
    identity.user = current_user
    if current_user.is_authenticated:
        identity.provides.add(UserNeed(current_user.id))
        identity.provides.add(RoleNeed(current_user.role))


def _enforce_session_limits():
    """Sessions end after a stretch of inactivity (staff 30 minutes, families 2 hours)
    and, whatever the activity, 12 hours after signing in. A session without its times
    (a cookie from before they were kept) has ended too."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now = datetime.now(UTC).timestamp()
    last_seen, signed_in = session.get(LAST_SEEN_KEY), session.get(SIGNED_IN_KEY)
    idle, lifetime = session_limits(current_user)
    if not isinstance(last_seen, (int, float)) or not isinstance(signed_in, (int, float)) or now - last_seen > idle:
        end_session()
        flash(gettext("You were signed out after a period of inactivity. Please sign in again."), "info")
        return to_sign_in()
    if now - signed_in > lifetime:
        end_session()
        flash(gettext("You were signed out %(hours)d hours after signing in, as every session is. "
                      "Please sign in again.", hours=lifetime // 3600), "info")
        return to_sign_in()
    session[LAST_SEEN_KEY] = now
    return None


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    # "basic", not "strong": a youth worker on a phone changes networks often
    login_manager.session_protection = "basic"
    identity_loaded.connect_via(app)(_provide_needs)
    app.before_request(_enforce_session_limits)
