"""One vocabulary of consent states (issue 14): where an organization stands with a
student's consent, in the same words on the roster, the student page, the consent
history and the family's pages, in English and Spanish.

The states: active (until a day), ending soon (within 30 days, on a day), expired on a
day, revoked on a day, starting on a day (signed for a later start), or none. A
consent is active through its expiry day; "expired on" names that last day.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_babel import format_date, get_locale, gettext
from flask_babel import lazy_gettext as _l

from casemgr.clock import district_zone
from casemgr.clock import today as clock_today

ACTIVE, ENDING, EXPIRED, REVOKED, PENDING, NONE = "active", "expiring", "expired", "revoked", "pending", "missing"
IN_FORCE = frozenset({ACTIVE, ENDING})
ENDING_WITHIN_DAYS = 30

# the state alone, where the day is said apart (a filter, a table's heading)
STATE_NAMES = {
    ACTIVE: _l("Active"),
    ENDING: _l("Ending soon"),
    EXPIRED: _l("Expired"),
    REVOKED: _l("Revoked"),
    PENDING: _l("Not yet in effect"),
    NONE: _l("No consent"),
}


@dataclass(frozen=True)
class ConsentState:
    """`state` (one of the six above) and the day it names: the last day of an active
    or ending consent, the day it expired, was revoked or starts; None for none."""

    state: str
    on: date | None = None

    @property
    def in_force(self) -> bool:
        return self.state in IN_FORCE

    def __str__(self) -> str:
        return consent_words(self)


def in_force(expires_on: date, today: date) -> ConsentState:
    """An active consent ending on `expires_on`: ending soon within 30 days."""
    return ConsentState(ENDING if (expires_on - today).days <= ENDING_WITHIN_DAYS else ACTIVE, expires_on)


def _district_day(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(district_zone())).date() if moment.tzinfo else moment.date()


def state_of(consent, today: date) -> ConsentState:
    """The state of one consent on `today`."""
    if consent.revocation is not None:
        return ConsentState(REVOKED, _district_day(consent.revocation.revoked_at))
    if consent.expires_on < today:
        return ConsentState(EXPIRED, consent.expires_on)
    if consent.signed_on > today:
        return ConsentState(PENDING, consent.signed_on)
    return in_force(consent.expires_on, today)


def standing(consents: Iterable, today: date) -> ConsentState:
    """Where an organization stands with a student, from its consents for them: the
    active one that lasts longest; else the newest consent's state; else none."""
    newest = None
    longest: date | None = None
    for consent in consents:
        state = state_of(consent, today)
        if state.in_force:
            longest = max(longest or state.on, state.on)
        if newest is None or (consent.signed_on, consent.id) > (newest[0].signed_on, newest[0].id):
            newest = (consent, state)
    if longest is not None:
        return in_force(longest, today)
    return newest[1] if newest else ConsentState(NONE)


def from_newest(active_until: date | None, newest_signed_on: date | None, newest_expires_on: date | None,
                newest_revoked_at: datetime | None, today: date) -> ConsentState:
    """`standing` from what a list reads in SQL: the last day of the longest active
    consent, and the newest consent's dates (all None when there is none)."""
    if active_until is not None:
        return in_force(active_until, today)
    if newest_signed_on is None:
        return ConsentState(NONE)
    if newest_revoked_at is not None:
        return ConsentState(REVOKED, _district_day(newest_revoked_at))
    if newest_signed_on > today:
        return ConsentState(PENDING, newest_signed_on)
    return ConsentState(EXPIRED, newest_expires_on)


def _day(value: date) -> str:
    """"6 October 2026" as the staff pages write dates; "6 de octubre de 2026"."""
    if str(get_locale() or "en").startswith("en"):
        return f"{value.day} {value:%B %Y}"
    return format_date(value, "long")


def consent_words(state: ConsentState) -> str:
    """The state in words, with its day: "Active until 30 June 2027", "Ending soon:
    6 January 2027", "Expired on 6 October 2026", "Revoked on 6 October 2026",
    "Starts on 1 March 2027", "No consent"."""
    if state.on is None:
        return str(STATE_NAMES[NONE] if state.state == NONE else STATE_NAMES[state.state])
    day = _day(state.on)
    if state.state == ACTIVE:
        return gettext("Active until %(date)s", date=day)
    if state.state == ENDING:
        return gettext("Ending soon: %(date)s", date=day)
    if state.state == EXPIRED:
        return gettext("Expired on %(date)s", date=day)
    if state.state == REVOKED:
        return gettext("Revoked on %(date)s", date=day)
    return gettext("Starts on %(date)s", date=day)


def consent_words_of(consent, today: date | None = None) -> str:
    """One consent's state in words, on `today` (the district's today by default)."""
    return consent_words(state_of(consent, today or clock_today()))
