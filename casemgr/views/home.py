"""Each role's home page. Partner staff work from theirs: the roster with each
student's consent status and the latest notes; the administrator also sees the inbox,
roster and staff at a glance."""
from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user, login_required

from casemgr import policy
from casemgr.clock import today
from casemgr.extensions import db
from casemgr.models.enums import FAMILY, PARTNER_STAFF, Role
from casemgr.reads import partner_workspace as workspace
from casemgr.views import family
from casemgr.views.input_bounds import page_number
from casemgr.views.rendering import render

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required
def index():
    if current_user.role_enum in PARTNER_STAFF:
        return _partner_home()
    if current_user.role_enum in FAMILY:
        return family.home()
    return render(f"home/{current_user.role}.html", user=current_user)


def _partner_home():
    day = today()
    template = f"home/{current_user.role}.html"
    blocked = policy.partner_block_reason(current_user, day)
    summary = workspace.admin_summary(current_user, day) if current_user.role_enum is Role.PARTNER_ADMIN else None
    if blocked:
        return render(template, user=current_user, blocked=blocked, summary=summary)
    roster = workspace.roster_page(current_user, day, page_number(),
                                   request.args.get("consent", ""))
    notes = workspace.latest_notes(current_user, day)
    expiring = workspace.expiring_consents(current_user, day)
    response = render(template, "partner/partials/_roster.html", user=current_user, blocked=None, roster=roster,
                      notes=notes, summary=summary, expiring=expiring, roster_endpoint="home.index", manage=False)
    workspace.log_workspace(current_user, roster, notes, expiring)
    db.session.commit()
    return response
