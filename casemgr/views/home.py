"""Each role's home page."""
from __future__ import annotations

from flask import Blueprint
from flask_login import current_user, login_required

from casemgr.views.rendering import render

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required
def index():
    return render(f"home/{current_user.role}.html", user=current_user)
