"""The notices page: what is new since the user last opened it (`casemgr.reads.notices`).

Opening it shows the new notes and referral steps, newest first, logs what it showed
like any list of students, and then marks everything up to the moment it was built as
seen. Further pages carry that window in their links, so they list the same notices.
"""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, request
from flask_login import current_user, login_required

from casemgr import policy
from casemgr.clock import today
from casemgr.extensions import db
from casemgr.identity import role_permission
from casemgr.reads import consent_asks, notices
from casemgr.views.input_bounds import page_number
from casemgr.views.rendering import render

bp = Blueprint("notices", __name__)
notice_permission = role_permission(*notices.NOTICE_ROLES)


def _moment(value: str | None) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value or "")
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


@bp.get("/notices")
@login_required
@notice_permission.require(http_exception=403)
def index():
    day = today()
    blocked = policy.partner_block_reason(current_user, day)
    if blocked:
        return render("notices/index.html", blocked=blocked)
    since, until = _moment(request.args.get("since")), _moment(request.args.get("until"))
    if since is None or until is None or since >= until:
        since = until = None  # a window is given whole, or not at all
    seen_before = current_user.notices_seen_at
    page = notices.notices_page(current_user, day, page_number(), since, until)
    if since is None:
        notices.remember_count(page.total)
    asks = consent_asks.open_for_school(current_user)
    asks_total = consent_asks.open_count_for_school(current_user) if len(asks) >= consent_asks.SCHOOL_LISTED else len(asks)
    response = render("notices/index.html", "notices/partials/_list.html", blocked=None, notices=page,
                      seen_before=seen_before, windowed=since is not None, consent_asks=asks,
                      consent_asks_total=asks_total, back="notices")
    notices.log_notices(current_user, page)
    consent_asks.log_listed(current_user, asks)
    notices.mark_seen(current_user, page.until)
    db.session.commit()
    return response
