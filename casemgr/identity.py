"""Who is asking: flask-login loads the user, flask-principal carries the role need.

Object-level and consent decisions are not here; they belong to the policy module.
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

from flask import Blueprint, Flask, abort, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_required, logout_user
from flask_principal import AnonymousIdentity, Identity, Permission, RoleNeed, UserNeed, identity_loaded
from sqlalchemy import select

from casemgr.extensions import db, login_manager, principal
from casemgr.models import User
from casemgr.models.enums import FAMILY, Role

LAST_SEEN_KEY = "last_seen"


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
def load_user(user_id: str) -> User | None:
    try:
        public_id = uuid.UUID(user_id)
    except ValueError:
        return None
    return db.session.scalar(select(User).where(User.uuid == public_id, User.active.is_(True)))


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


def _enforce_staff_idle_timeout():
    """Staff sessions end after a stretch of inactivity (SPEC §8)."""
    if not current_user.is_authenticated or request.endpoint == "static":
        return None
    now = datetime.now(UTC).timestamp()
    last_seen = session.get(LAST_SEEN_KEY)
    limit = current_app.config["STAFF_IDLE_TIMEOUT"].total_seconds()
    if current_user.role not in FAMILY and last_seen is not None and now - last_seen > limit:
        logout_user()
        session.clear()
        flash("You were signed out after a period of inactivity. Please sign in again.", "info")
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    session[LAST_SEEN_KEY] = now
    return None


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    # "basic", not "strong": a youth worker on a phone changes networks often
    login_manager.session_protection = "basic"
    identity_loaded.connect_via(app)(_provide_needs)
    app.before_request(_enforce_staff_idle_timeout)
