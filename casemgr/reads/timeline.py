"""A student's timeline: what happened around the student, newest first, from
several tables merged in one query.

Each kind of event is an `EventKind`: the category a user must see for it to appear,
a query giving one row per event (day, at, ref_id, actor_id), a loader for the rows it
refers to, and the partial that draws it. A page of the timeline is one UNION ALL over
the kinds the user may see (each branch already cut to the page, so it stays cheap on a
long history), then one query per loader and one for the people named. Notes and
referrals join by appending their kinds to `EVENT_KINDS`.

A kind's query is built from a bound parameter for the student and the user's
`NoteViewer` (their note rule and organization, nothing else of them), so the UNION
for a given set of kinds, viewer and time zone is built once and reused by every
request: building it anew cost more than running it.

Events sort by their day (what a person reads), then by when they were recorded.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.util import identity_key

from casemgr.clock import district_zone, local_day
from casemgr.extensions import db
from casemgr.models import Flag, Referral, ReferralEvent, SupportPlan, SupportPlanCheckIn, User
from casemgr.models.enums import CaseStatus, Category
from casemgr.policy import NoteViewer, StudentAccess, note_viewer, why_hidden
from casemgr.reads.notes import load_notes, load_restricted_notes, readable_notes, restricted_notes

PAGE_SIZE = 10
MAX_PAGE = 10_000

Loader = Callable[[list[int]], dict[int, Any]]


@dataclass(frozen=True)
class EventKind:
    name: str
    category: Category
    # (student id parameter, viewer, time zone) -> rows of day, at, ref_id, actor_id
    rows: Callable[[sa.BindParameter, NoteViewer, str], sa.Select]
    load: Loader
    template: str


@dataclass(frozen=True)
class TimelineEvent:
    kind: EventKind
    day: date
    at: datetime | None
    subject: Any
    actor: User | None


@dataclass
class TimelinePage:
    """One page of the timeline, or why it is hidden."""

    visible: bool
    page: int = 1
    events: list[TimelineEvent] = field(default_factory=list)
    has_older: bool = False
    shown: dict[Category, str] = field(default_factory=dict)  # category -> basis, for the log
    reason: str | None = None

    @property
    def has_newer(self) -> bool:
        return self.page > 1


# --- flags and support plans ------------------------------------------------------------


def load_flags(ids: list[int]) -> dict[int, Flag]:
    return {f.id: f for f in db.session.scalars(sa.select(Flag).where(Flag.id.in_(ids)))}


def load_plans(ids: list[int]) -> dict[int, SupportPlan]:
    query = sa.select(SupportPlan).options(joinedload(SupportPlan.owner)).where(SupportPlan.id.in_(ids))
    return {p.id: p for p in db.session.scalars(query)}


def load_check_ins(ids: list[int]) -> dict[int, SupportPlanCheckIn]:
    query = sa.select(SupportPlanCheckIn).options(joinedload(SupportPlanCheckIn.plan)).where(SupportPlanCheckIn.id.in_(ids))
    return {c.id: c for c in db.session.scalars(query)}


def flags_raised(student_id, viewer: NoteViewer, zone: str) -> sa.Select:
    return sa.select(
        local_day(Flag.created_at, zone), Flag.created_at, Flag.id, Flag.raised_by_id
    ).where(Flag.student_id == student_id)


def flags_closed(student_id, viewer: NoteViewer, zone: str) -> sa.Select:
    return sa.select(
        local_day(Flag.closed_at, zone), Flag.closed_at, Flag.id, Flag.closed_by_id
    ).where(Flag.student_id == student_id, Flag.status == str(CaseStatus.CLOSED))


def plans_opened(student_id, viewer: NoteViewer, zone: str) -> sa.Select:
    return sa.select(
        local_day(SupportPlan.created_at, zone), SupportPlan.created_at, SupportPlan.id, SupportPlan.created_by_id
    ).where(SupportPlan.student_id == student_id)


def plan_check_ins(student_id, viewer: NoteViewer, zone: str) -> sa.Select:
    return (
        sa.select(SupportPlanCheckIn.occurred_on, SupportPlanCheckIn.created_at, SupportPlanCheckIn.id,
                  SupportPlanCheckIn.recorded_by_id)
        .join(SupportPlan, SupportPlan.id == SupportPlanCheckIn.plan_id)
        .where(SupportPlan.student_id == student_id)
    )


def plans_closed(student_id, viewer: NoteViewer, zone: str) -> sa.Select:
    """A plan records the day it closed, and (since migration 0007) the moment and who
    closed it; for older plans `at` is NULL, which sorts them after everything else of
    that day (PostgreSQL's DESC puts NULLs first)."""
    return sa.select(
        SupportPlan.closed_on, SupportPlan.closed_at, SupportPlan.id, SupportPlan.closed_by_id
    ).where(SupportPlan.student_id == student_id, SupportPlan.status == str(CaseStatus.CLOSED))


def load_referral_events(ids: list[int]) -> dict[int, ReferralEvent]:
    query = (
        sa.select(ReferralEvent)
        .options(joinedload(ReferralEvent.referral).joinedload(Referral.organization),
                 joinedload(ReferralEvent.by_user))
        .where(ReferralEvent.id.in_(ids))
    )
    return {e.id: e for e in db.session.scalars(query)}


def referral_events(student_id, viewer: NoteViewer, zone: str) -> sa.Select:
    """Every step of every referral of the student: sent, consent recorded, accepted,
    declined, closed."""
    return (
        sa.select(local_day(ReferralEvent.created_at, zone), ReferralEvent.created_at, ReferralEvent.id,
                  ReferralEvent.by_user_id)
        .join(Referral, Referral.id == ReferralEvent.referral_id)
        .where(Referral.student_id == student_id)
    )


EVENT_KINDS: list[EventKind] = [
    EventKind("note", Category.NOTES, readable_notes, load_notes, "notes/partials/_event_note.html"),
    EventKind("note_restricted", Category.NOTES, restricted_notes, load_restricted_notes,
              "notes/partials/_event_note_restricted.html"),
    EventKind("flag_raised", Category.SERVICES, flags_raised, load_flags, "casework/partials/_event_flag_raised.html"),
    EventKind("flag_closed", Category.SERVICES, flags_closed, load_flags, "casework/partials/_event_flag_closed.html"),
    EventKind("plan_opened", Category.SERVICES, plans_opened, load_plans, "casework/partials/_event_plan_opened.html"),
    EventKind("plan_check_in", Category.SERVICES, plan_check_ins, load_check_ins,
              "casework/partials/_event_plan_check_in.html"),
    EventKind("plan_closed", Category.SERVICES, plans_closed, load_plans, "casework/partials/_event_plan_closed.html"),
    EventKind("referral", Category.SERVICES, referral_events, load_referral_events,
              "casework/partials/_event_referral.html"),
]


def timeline_categories() -> list[Category]:
    return [c for c in Category if any(k.category == c for k in EVENT_KINDS)]


STUDENT_ID = sa.bindparam("timeline_student_id", type_=sa.Integer)


@lru_cache(maxsize=256)
def _merged_statement(kind_names: tuple[str, ...], viewer: NoteViewer, zone: str) -> sa.Select:
    """The page query for these kinds, viewer and zone; its parameters are the student,
    `branch_limit` (offset + limit: each branch is cut to what the page can need),
    `page_offset` and `page_limit`."""
    by_name = {k.name: k for k in EVENT_KINDS}
    branches = []
    for name in kind_names:
        inner = by_name[name].rows(STUDENT_ID, viewer, zone)
        day, at, ref_id, actor_id = inner.selected_columns
        cut = (
            inner.with_only_columns(
                sa.literal(name, sa.Text).label("kind"),
                day.label("day"), at.label("at"), ref_id.label("ref_id"), actor_id.label("actor_id"),
            )
            .order_by(sa.desc("day"), sa.desc("at"), sa.desc("ref_id"))
            .limit(sa.bindparam("branch_limit", type_=sa.Integer))
            .subquery()
        )
        branches.append(sa.select(cut.c.kind, cut.c.day, cut.c.at, cut.c.ref_id, cut.c.actor_id))
    merged = sa.union_all(*branches).subquery()
    return (
        sa.select(merged)
        .order_by(merged.c.day.desc(), merged.c.at.desc(), merged.c.kind, merged.c.ref_id.desc())
        .offset(sa.bindparam("page_offset", type_=sa.Integer))
        .limit(sa.bindparam("page_limit", type_=sa.Integer))
    )


def _merged_rows(access: StudentAccess, kinds: list[EventKind], offset: int, limit: int) -> list[sa.Row]:
    statement = _merged_statement(tuple(k.name for k in kinds), note_viewer(access.user), district_zone())
    parameters = {"timeline_student_id": access.student.id, "branch_limit": offset + limit,
                  "page_offset": offset, "page_limit": limit}
    return list(db.session.execute(statement, parameters))


def _users(ids: set[int]) -> dict[int, User]:
    """The users by id: those the request has already loaded (the notes' authors,
    say) without asking the database again, the others in one query."""
    found = {}
    for user_id in ids:
        user = db.session.identity_map.get(identity_key(User, user_id))
        if user is not None and not sa.inspect(user).expired_attributes:
            found[user_id] = user
    missing = ids - found.keys()
    if missing:
        found |= {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(missing)))}
    return found


def timeline_page(access: StudentAccess, page: int = 1, size: int = PAGE_SIZE) -> TimelinePage:
    """The page's events for what `access` lets the user see; hidden, with the reason,
    when the user sees none of the timeline's categories."""
    kinds = [k for k in EVENT_KINDS if access.can_see(k.category)]
    if not kinds:
        hidden = timeline_categories()
        return TimelinePage(visible=False, reason=why_hidden(access, hidden[0]))
    page = min(max(page, 1), MAX_PAGE)
    rows = _merged_rows(access, kinds, (page - 1) * size, size + 1)
    has_older, rows = len(rows) > size, rows[:size]
    by_name = {k.name: k for k in kinds}

    wanted: dict[Loader, set[int]] = defaultdict(set)
    for row in rows:
        wanted[by_name[row.kind].load].add(row.ref_id)
    loaded = {load: load(sorted(ids)) for load, ids in wanted.items()}
    actor_ids = {row.actor_id for row in rows if row.actor_id is not None}
    actors = _users(actor_ids)

    events = [
        TimelineEvent(kind, row.day, row.at, loaded[kind.load][row.ref_id], actors.get(row.actor_id))
        for row in rows
        for kind in (by_name[row.kind],)
    ]
    shown = {k.category: access.visible[k.category] for k in kinds}
    return TimelinePage(visible=True, page=page, events=events, has_older=has_older, shown=shown)
