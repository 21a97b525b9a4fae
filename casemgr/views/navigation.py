"""The navigation each role sees. An entry shows only once its page exists, so no
link points at a feature that has not been built."""
from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
from flask import Flask, current_app, g
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from casemgr import policy, statement_cache
from casemgr.clock import today
from casemgr.extensions import db
from casemgr.models.enums import Role
from casemgr.reads import notices
from casemgr.services import amendments

# role -> [(label, endpoint)]; later capabilities add their pages here
NAVIGATION: dict[Role, list[tuple[object, str]]] = {role: [(_l("Home"), "home.index")] for role in Role}
NAVIGATION[Role.DISTRICT_ADMIN] += [
    (_l("Caseload"), "caseload.index"), (_l("Agreements"), "admin.agreements"), (_l("Thresholds"), "admin.thresholds"),
    (_l("Disclosure log"), "admin.disclosures"),
]
NAVIGATION[Role.DISTRICT_ADMIN] += [(_l("Imports"), "imports.index"), (_l("Organizations"), "organizations.index"),
                                    (_l("Staff accounts"), "users.index"), (_l("Research projects"), "research_admin.index")]
NAVIGATION[Role.RESEARCHER] += [(_l("Research projects"), "research.projects")]
NAVIGATION[Role.PRINCIPAL] += [(_l("Caseload"), "caseload.index")]
NAVIGATION[Role.COUNSELOR] += [(_l("Caseload"), "caseload.index")]
NAVIGATION[Role.TEACHER] += [(_l("My classes"), "home.classes")]
for role in (Role.DISTRICT_ADMIN, Role.PRINCIPAL, Role.COUNSELOR):
    NAVIGATION[role].insert(2, (_l("Referrals"), "referrals.index"))
NAVIGATION[Role.PARTNER_ADMIN] += [(_l("Referral inbox"), "inbox.index"), (_l("Roster"), "roster.index"), (_l("Staff"), "partner.staff")]
for role in (Role.PARTNER_ADMIN, Role.YOUTH_WORKER):
    NAVIGATION[role].insert(1, (_l("Groups"), "contacts.groups"))
NAVIGATION[Role.PARTNER_ADMIN].append((_l("Imports"), "imports.index"))
for role in (Role.DISTRICT_ADMIN, Role.PRINCIPAL, Role.RESEARCHER):
    NAVIGATION[role].append((_l("Reports"), "reports.index"))
for role in policy.OUTCOME_READERS:
    NAVIGATION[role].append((_l("Program outcomes"), "outcomes.index"))
for role in Role:  # the partnership's published annual reports are everyone's to read
    NAVIGATION[role].append((_l("Annual reports"), "annual_reports.index"))
for role in notices.NOTICE_ROLES:
    NAVIGATION[role].append((_l("Notices"), "notices.index"))
for role in policy.AMENDMENT_READERS:
    NAVIGATION[role].append((_l("Amendment requests"), "amendments.index"))


def nav_items() -> list[tuple[object, str]]:
    if not current_user.is_authenticated:
        return []
    endpoints = current_app.view_functions
    return [(label, endpoint) for label, endpoint in NAVIGATION[current_user.role_enum] if endpoint in endpoints]


def notice_badge() -> str | None:
    """The count of new notices beside "Notices" ("3", "99+"), or None."""
    if not current_user.is_authenticated:
        return None
    _count_both_badges()
    return notices.badge(current_user, today())


def amendment_badge() -> str | None:
    """The count of open amendment requests beside "Amendment requests", or None."""
    if not current_user.is_authenticated or not policy.lists_amendments(current_user) or g.get("notices_unavailable"):
        return None
    _count_both_badges()
    if "open_amendments" not in g:
        g.open_amendments = amendments.open_count(current_user)
    return notices.count_label(g.open_amendments) if g.open_amendments else None


def _count_both_badges() -> None:
    """A user with both counts in their navigation (a principal, a counselor) gets them
    from one statement, once per request; the badges then read what it kept."""
    if "notice_count" in g or "open_amendments" in g or g.get("notices_unavailable"):
        return
    if not (notices.has_notices(current_user) and policy.lists_amendments(current_user)):
        return
    notice_count = notices.notice_count_query(current_user, today())
    if notice_count is None:
        return
    counts = db.session.execute(sa.select(notice_count.scalar_subquery().label("notices"),
                                          amendments.open_count_query(current_user).scalar_subquery().label("open"))).one()
    g.notice_count, g.open_amendments = counts.notices, counts.open or 0


def badge_columns() -> tuple[sa.Label, ...]:
    """The navigation's counts (new notices, open amendment requests) as columns a page's
    own statement can carry, so that they cost no statement of their own; give the row
    read back to `remember_badges`. Empty when the navigation shows no count, or has
    already counted."""
    if not current_user.is_authenticated or g.get("notices_unavailable"):
        return ()
    user, day = current_user._get_current_object(), today()
    count_notices = notices.has_notices(user) and "notice_count" not in g
    count_open = policy.lists_amendments(user) and "open_amendments" not in g
    return statement_cache.reuse(("badges", statement_cache.user_facts(user, day), notices.default_since(user),
                                  count_notices, count_open),
                                 lambda: _badge_columns(user, day, count_notices, count_open))


def _badge_columns(user, day, count_notices: bool, count_open: bool) -> tuple[sa.Label, ...]:
    columns = []
    if count_notices:
        notice_count = notices.notice_count_query(user, day)
        if notice_count is not None:
            columns.append(notice_count.scalar_subquery().label("nav_notices"))
    if count_open:
        columns.append(amendments.open_count_query(user).scalar_subquery().label("nav_open"))
    return tuple(columns)


def remember_badges(values: Mapping[str, object]) -> None:
    """The counts of `badge_columns` in a row read with them (its mapping): the badges
    read them rather than count again. A page that read no row leaves the navigation to
    count."""
    if "nav_notices" in values:
        g.notice_count = values["nav_notices"]
    if "nav_open" in values:
        g.open_amendments = values["nav_open"] or 0


# endpoint -> (the count beside its entry, what the count is of, for screen readers)
NAV_BADGES = {"notices.index": (notice_badge, "new"), "amendments.index": (amendment_badge, "open")}


def nav_badge(endpoint: str) -> tuple[str, str] | None:
    badge = NAV_BADGES.get(endpoint)
    if badge is None:
        return None
    count = badge[0]()
    return (count, badge[1]) if count else None


def init_app(app: Flask) -> None:
    app.context_processor(lambda: {"nav_items": nav_items, "nav_badge": nav_badge})
