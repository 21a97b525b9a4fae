"""The language switch in the footer: remembered on the signed-in user, and in a
cookie for everyone (so the sign-in page keeps the visitor's choice)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user

from casemgr.extensions import db
from casemgr.i18n import LANGUAGE_COOKIE, languages
from casemgr.views.auth import _safe_next

bp = Blueprint("language", __name__)

ONE_YEAR = 365 * 24 * 3600


def _back(asked: str | None) -> str | None:
    """Where to return: the page named by `next`, else the page the switch was on (the
    Referer, sent same-origin only), never another site."""
    if asked:
        return _safe_next(asked)
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host:
        return None
    return _safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else ""))


@bp.post("/language")
def choose():
    chosen = request.form.get("language", "")
    if chosen not in languages():
        abort(400)
    if current_user.is_authenticated:
        current_user.locale = chosen
        db.session.commit()
    response = redirect(_back(request.form.get("next")) or url_for("home.index"))
    response.set_cookie(LANGUAGE_COOKIE, chosen, max_age=ONE_YEAR, samesite="Lax", httponly=True,
                        secure=request.is_secure)
    return response
