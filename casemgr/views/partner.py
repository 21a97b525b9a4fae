"""The partner administrator's staff page: who is compliant, who is blocked and why;
and their accounts (invite, edit, deactivate), shared with the district admin's pages."""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms.validators import Optional

from casemgr import policy, staff_policy
from casemgr.clock import today
from casemgr.extensions import db
from casemgr.identity import restrict_blueprint, role_permission
from casemgr.models import User
from casemgr.models.enums import Role
from casemgr.services import compliance
from casemgr.views import staff_accounts as accounts
from casemgr.views.forms import saved
from casemgr.views.staff_accounts import PARTNER
from casemgr.views.rendering import render

bp = Blueprint("partner", __name__, url_prefix="/partner")
partner_admin_permission = role_permission(Role.PARTNER_ADMIN)

restrict_blueprint(bp, partner_admin_permission)


class ComplianceForm(FlaskForm):
    confidentiality_signed_on = DateField("Confidentiality agreement signed on", validators=[Optional()])
    ferpa_trained_on = DateField("FERPA training completed on", validators=[Optional()])


def _staff_query():
    return sa.select(User).where(staff_policy.managed_users(current_user)).order_by(User.full_name, User.id)


@bp.get("/staff")
def staff():
    day = today()
    members = [(member, policy.partner_block_reason(member, day, reader=current_user))
               for member in db.session.scalars(_staff_query())]
    return render("partner/staff.html", members=members, area=PARTNER)


@bp.route("/staff/<uuid:user_id>/compliance", methods=["GET", "POST"])
def compliance_form(user_id: uuid.UUID):
    member = db.session.scalar(_staff_query().where(User.uuid == user_id))
    if member is None:
        abort(404)
    form = ComplianceForm(obj=member)
    if form.validate_on_submit() and saved(form, lambda: compliance.record_compliance(
        member, form.confidentiality_signed_on.data, form.ferpa_trained_on.data, today()
    ), compliance.ComplianceError):
        flash(f"Compliance dates for {member.full_name} saved.", "success")
        return redirect(url_for("partner.staff"))
    status = 400 if form.is_submitted() else 200
    return render("partner/compliance.html", form=form, member=member, status=status)


@bp.route("/staff/new", methods=["GET", "POST"])
def invite():
    return accounts.invite(PARTNER)


@bp.route("/staff/<uuid:user_id>/account", methods=["GET", "POST"])
def edit_member(user_id: uuid.UUID):
    return accounts.edit(PARTNER, user_id)


@bp.post("/staff/<uuid:user_id>/deactivate")
def deactivate(user_id: uuid.UUID):
    return accounts.deactivate(PARTNER, user_id)


@bp.post("/staff/<uuid:user_id>/reactivate")
def reactivate(user_id: uuid.UUID):
    return accounts.reactivate(PARTNER, user_id)


@bp.post("/staff/<uuid:user_id>/resend-invitation")
def resend_invitation(user_id: uuid.UUID):
    return accounts.resend_invitation(PARTNER, user_id)


@bp.get("/account-events")
def account_events():
    return accounts.list_events(PARTNER, accounts.organization_events())
