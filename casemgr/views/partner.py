"""The partner administrator's staff page: who is compliant, who is blocked and why."""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms.validators import Optional

from casemgr import policy
from casemgr.clock import today
from casemgr.extensions import db
from casemgr.identity import restrict_blueprint, role_permission
from casemgr.models import User
from casemgr.models.enums import PARTNER_STAFF, Role
from casemgr.services import compliance
from casemgr.views.forms import saved
from casemgr.views.rendering import render

bp = Blueprint("partner", __name__, url_prefix="/partner")
partner_admin_permission = role_permission(Role.PARTNER_ADMIN)

restrict_blueprint(bp, partner_admin_permission)


class ComplianceForm(FlaskForm):
    confidentiality_signed_on = DateField("Confidentiality agreement signed on", validators=[Optional()])
    ferpa_trained_on = DateField("FERPA training completed on", validators=[Optional()])


def _staff_query():
    return (
        sa.select(User)
        .where(User.organization_id == current_user.organization_id, User.role.in_([str(r) for r in PARTNER_STAFF]))
        .order_by(User.full_name)
    )


@bp.get("/staff")
def staff():
    day = today()
    members = [(member, policy.partner_block_reason(member, day)) for member in db.session.scalars(_staff_query())]
    return render("partner/staff.html", members=members)


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
