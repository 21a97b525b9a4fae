"""The account events a district admin reads (issue 11 item 1): every account change
and every sign-in, with who acted, from which network address and which browser."""
from __future__ import annotations

import re

from flask import has_request_context, request
from flask_login import current_user

from casemgr.extensions import db
from casemgr.models import AccountEvent, User
from casemgr.models.enums import AccountAction

# the first that matches names the browser: Edge and Opera say "Chrome" too, Chrome says "Safari"
BROWSER_FAMILIES = (
    ("Edge", re.compile(r"\bEdg(e|A|iOS)?/")),
    ("Opera", re.compile(r"\bOPR/|\bOpera\b")),
    ("Samsung Internet", re.compile(r"\bSamsungBrowser/")),
    ("Firefox", re.compile(r"\b(Firefox|FxiOS)/")),
    ("Chrome", re.compile(r"(Chrome|Chromium|CriOS)/")),  # HeadlessChrome too
    ("Safari", re.compile(r"\bSafari/")),
)


def browser_family(user_agent: str | None) -> str | None:
    """"Firefox", "Chrome", ... from a User-Agent header; None when it names none we know."""
    if not user_agent:
        return None
    mobile = " on a phone" if re.search(r"\bMobile\b|\bAndroid\b|\biPhone\b", user_agent) else ""
    for family, pattern in BROWSER_FAMILIES:
        if pattern.search(user_agent):
            return family + mobile
    return None


def record(action: AccountAction, user: User | None, actor: User | None = None, **details) -> AccountEvent:
    """Append one event about `user`'s account (the caller commits). `actor` defaults
    to whoever is signed in; address and browser come from the request, if any."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    event = AccountEvent(
        action=str(action),
        user_id=user.id if user is not None else None,
        organization_id=user.organization_id if user is not None else None,
        actor_id=actor.id if actor is not None else None,
        details={key: value for key, value in details.items() if value is not None},
    )
    if has_request_context():
        event.address = (request.remote_addr or "")[:64] or None
        event.browser = browser_family(request.headers.get("User-Agent"))
    db.session.add(event)
    return event
