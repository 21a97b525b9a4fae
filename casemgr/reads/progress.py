"""Progress for the people doing the work (issue 17, item 3): for each student of a
partner's roster, what changed since the organization began serving them, as far as the
family's consent lets the worker see: the attendance rate month by month (`attendance`),
failing marks by term (`grades`), and the tier's changes (every category the tier is made
of, as on the student page's cards).

Each row carries the categories the policy's list face gives the user for that student
(`roster_page`), and reads only those; the page logs each row on its own bases. The
month-by-month rates come from the same enrollments, calendar and attendance bit strings
as the stored indicators, one statement per district for the whole page.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from casemgr.extensions import db
from casemgr.indicators import school_year_for
from casemgr.models import CourseMark, RosterEntry, ServiceContact, StudentIndicator, TierChange, User
from casemgr.models.enums import Category
from casemgr.reads import partner_workspace as workspace
from casemgr.reads.indicator_cards import MONTHLY_SQL, TIER_CATEGORIES, Month
from casemgr.services import disclosure

SHOWN = (Category.ATTENDANCE, Category.GRADES)


@dataclass
class Progress:
    """One student's changes since `since` (the first contact, else the day they joined
    the roster); None for what the user may not see."""

    since: date
    months: list[Month] | None = None  # this school year's, month by month
    failures: list[tuple[str, int, bool]] | None = None  # (term, failing marks, recorded since service began)
    tiers: list[tuple[date, int]] | None = None  # the tier when service began, then each change
    tier_at_start: bool = False  # a tier was recorded by the day service began (else the first is later)
    contacted: bool = False  # `since` is the first contact (else the day the student joined the roster)

    @property
    def before(self) -> Decimal | None:
        """The attendance rate over this school year's months before the one service
        began in (`after`: from that month on)."""
        return _rate([m for m in self.months or [] if m.month < self.since.replace(day=1)])

    @property
    def after(self) -> Decimal | None:
        return _rate([m for m in self.months or [] if m.month >= self.since.replace(day=1)])

    @property
    def points(self) -> int | None:
        if self.before is None or self.after is None:
            return None
        return round((self.after - self.before) * 100)


def _rate(months: list[Month]) -> Decimal | None:
    enrolled = sum(m.enrolled for m in months)
    return Decimal(enrolled - sum(m.absent for m in months)) / enrolled if enrolled else None


def service_began(organization_id: int, student_ids: list[int]) -> tuple[dict[int, date], dict[int, date]]:
    """(the organization's first attended contact with each student, the day each joined
    its roster: the roster's current entry)."""
    first = (sa.select(ServiceContact.student_id, sa.func.min(ServiceContact.contact_on))
             .where(ServiceContact.organization_id == organization_id, ServiceContact.student_id.in_(student_ids),
                    ServiceContact.attended)
             .group_by(ServiceContact.student_id))
    joined = (sa.select(RosterEntry.student_id, sa.func.max(RosterEntry.added_on))
              .where(RosterEntry.organization_id == organization_id, RosterEntry.student_id.in_(student_ids),
                     RosterEntry.removed_on.is_(None))
              .group_by(RosterEntry.student_id))
    return dict(db.session.execute(first).all()), dict(db.session.execute(joined).all())


def load_progress(user: User, roster: workspace.RosterPage, today: date) -> dict[int, Progress]:
    """The progress of each student of the roster's page whose row shows any category."""
    rows = [row for row in roster.rows if row.shared]
    if not rows:
        return {}
    first, joined = service_began(user.organization_id, [row.student.id for row in rows])
    found = {row.student.id: Progress(since=first.get(row.student.id) or joined.get(row.student.id, row.entry.added_on),
                                      contacted=row.student.id in first) for row in rows}

    attendance_by_district: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        if Category.ATTENDANCE in row.shared:
            attendance_by_district[row.student.district_id].append(row.student.id)
    for district_id, ids in sorted(attendance_by_district.items()):
        year = school_year_for(district_id, today)
        for student_id in ids:
            found[student_id].months = []
        if year is None:
            continue
        # up to the day the indicators were computed, as the student page's card: school
        # days since then may not be imported yet, and would count as days present
        as_of = db.session.scalar(sa.select(sa.func.max(StudentIndicator.as_of)).where(
            StudentIndicator.student_id.in_(ids), StudentIndicator.school_year == year.year)) or today
        for student_id, month, enrolled, absent in db.session.execute(MONTHLY_SQL, {
                "ids": ids, "as_of": min(as_of, today), "year_start": year.starts_on, "year_end": year.ends_on}):
            found[student_id].months.append(Month(month, enrolled, absent))

    graded = [row.student.id for row in rows if Category.GRADES in row.shared]
    if graded:
        for student_id in graded:
            found[student_id].failures = []
        year_of = {row.student.id: school_year_for(row.student.district_id, today) for row in rows
                   if Category.GRADES in row.shared}
        years = {year.year for year in year_of.values() if year is not None}
        marks = db.session.execute(
            sa.select(CourseMark.student_id, CourseMark.school_year, CourseMark.term,
                      sa.func.count().filter(CourseMark.failing), sa.func.min(CourseMark.recorded_on))
            .where(CourseMark.student_id.in_(graded), CourseMark.school_year.in_(years or {0}))
            .group_by(CourseMark.student_id, CourseMark.school_year, CourseMark.term)
            .order_by(CourseMark.student_id, sa.func.min(CourseMark.recorded_on), CourseMark.term))
        for student_id, school_year, term, failing, recorded_on in marks:
            year = year_of.get(student_id)
            if year is not None and school_year == year.year:
                found[student_id].failures.append((term, failing, recorded_on >= found[student_id].since))

    tiered = [row.student.id for row in rows if TIER_CATEGORIES <= row.shared.keys()]
    if tiered:
        history = db.session.execute(
            sa.select(TierChange.student_id, TierChange.since, TierChange.tier)
            .where(TierChange.student_id.in_(tiered))
            .order_by(TierChange.student_id, TierChange.since))
        changes: dict[int, list[tuple[date, int]]] = defaultdict(list)
        for student_id, since, tier in history:
            changes[student_id].append((since, tier))
        for student_id in tiered:
            began_on = found[student_id].since
            before = [c for c in changes[student_id] if c[0] <= began_on]
            after = [c for c in changes[student_id] if c[0] > began_on]
            found[student_id].tiers = before[-1:] + after
            found[student_id].tier_at_start = bool(before)
    return found


def log_progress(user: User, roster: workspace.RosterPage, progress: dict[int, Progress]) -> None:
    """Each row as a list entry on its own bases: the name, and the categories whose
    figures the row showed (the tier shows every category it is made of)."""
    shown: dict[int, dict[Category, str]] = {}
    for row in roster.rows:
        seen = shown.setdefault(row.student.id, {})
        if row.identity_basis:
            seen[Category.IDENTITY] = row.identity_basis
        item = progress.get(row.student.id)
        if item is None:
            continue
        for category in SHOWN:
            if category in row.shared:
                seen[category] = row.shared[category]
        if item.tiers is not None:
            seen.update({c: row.shared[c] for c in TIER_CATEGORIES})
    disclosure.log_list_views(user, {k: v for k, v in shown.items() if v}, [row.student.id for row in roster.rows])
