"""Reports: figures about groups of students, never a row about one (SPEC §6)."""
from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from casemgr.clock import today
from casemgr.identity import restrict_blueprint, role_permission
from casemgr.reads import reports
from casemgr.views.rendering import render

bp = Blueprint("reports", __name__)

restrict_blueprint(bp, role_permission(*reports.REPORTERS))


@bp.get("/reports")
def index():
    return render("reports/index.html", report=reports.indicators_by_group(current_user, today()))
