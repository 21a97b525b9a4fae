"""The district admin's staff accounts (issue 11 item 1): /admin/users and the account
events of the district's accounts."""
from __future__ import annotations

import uuid

from flask import Blueprint

from casemgr.identity import admin_permission, restrict_blueprint
from casemgr.views import staff_accounts as accounts
from casemgr.views.staff_accounts import ADMIN

bp = Blueprint("users", __name__, url_prefix="/admin")

restrict_blueprint(bp, admin_permission)


@bp.get("/users")
def index():
    return accounts.list_accounts(ADMIN, "staff/index.html")


@bp.route("/users/new", methods=["GET", "POST"])
def invite():
    return accounts.invite(ADMIN)


@bp.route("/users/<uuid:user_id>", methods=["GET", "POST"])
def edit(user_id: uuid.UUID):
    return accounts.edit(ADMIN, user_id)


@bp.post("/users/<uuid:user_id>/deactivate")
def deactivate(user_id: uuid.UUID):
    return accounts.deactivate(ADMIN, user_id)


@bp.post("/users/<uuid:user_id>/reactivate")
def reactivate(user_id: uuid.UUID):
    return accounts.reactivate(ADMIN, user_id)


@bp.post("/users/<uuid:user_id>/resend-invitation")
def resend_invitation(user_id: uuid.UUID):
    return accounts.resend_invitation(ADMIN, user_id)


@bp.get("/account-events")
def events():
    return accounts.list_events(ADMIN, accounts.district_events())
