"""The navigation each role sees. An entry shows only once its page exists, so no
link points at a feature that has not been built."""
from __future__ import annotations

from flask import Flask, current_app
from flask_login import current_user

from casemgr import notices
from casemgr.clock import today
from casemgr.models.enums import Role

# role -> [(label, endpoint)]; later capabilities add their pages here
NAVIGATION: dict[Role, list[tuple[str, str]]] = {role: [("Home", "home.index")] for role in Role}
NAVIGATION[Role.DISTRICT_ADMIN] += [
    ("Caseload", "caseload.index"), ("Agreements", "admin.agreements"), ("Thresholds", "admin.thresholds"),
    ("Disclosure log", "admin.disclosures"),
]
NAVIGATION[Role.DISTRICT_ADMIN] += [("Imports", "imports.index")]
NAVIGATION[Role.PRINCIPAL] += [("Caseload", "caseload.index")]
NAVIGATION[Role.COUNSELOR] += [("Caseload", "caseload.index")]
for role in (Role.DISTRICT_ADMIN, Role.PRINCIPAL, Role.COUNSELOR):
    NAVIGATION[role].insert(2, ("Referrals", "referrals.index"))
NAVIGATION[Role.PARTNER_ADMIN] += [("Referral inbox", "inbox.index"), ("Roster", "roster.index"), ("Staff", "partner.staff")]
for role in notices.NOTICE_ROLES:
    NAVIGATION[role].append(("Notices", "notices.index"))


def nav_items() -> list[tuple[str, str]]:
    if not current_user.is_authenticated:
        return []
    endpoints = current_app.view_functions
    return [(label, endpoint) for label, endpoint in NAVIGATION[current_user.role_enum] if endpoint in endpoints]


def notice_badge() -> str | None:
    """The count of new notices beside "Notices" ("3", "99+"), or None."""
    if not current_user.is_authenticated:
        return None
    return notices.badge(current_user, today())


def init_app(app: Flask) -> None:
    app.context_processor(lambda: {"nav_items": nav_items, "notice_badge": notice_badge})
