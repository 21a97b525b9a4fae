"""The counselor's and principal's home (issue 14, item 1): a work queue of what needs
them, most urgent first, in sections.

Each section is a `QueueSection`: a title, the partial that words one of its items, and
a function building its SELECT with the same labelled columns (`student_id`, `ref`,
`day`, `detail`, `number`, `party`) ordered most urgent first, over the students the policy lets
the user see. Adding a section is adding one to `SECTIONS` and one partial (a macro).

Whatever the number of sections, the queue reads in one statement: the first
`SHOWN_PER_SECTION` items of every section with their students and each section's
count (a UNION ALL).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from casemgr import policy, statement_cache
from casemgr.clock import district_zone, local_day, start_of
from casemgr.extensions import db
from casemgr.indicators import school_year_number
from casemgr.models import (
    AmendmentRequest,
    Consent,
    ConsentAsk,
    Flag,
    Organization,
    Referral,
    Student,
    StudentIndicator,
    SupportPlan,
    SupportPlanCheckIn,
    TierChange,
    User,
)
from casemgr.models.enums import CaseStatus, Category, ReferralStatus
from casemgr.reads.caseload import district_of
from casemgr.reads.caseload_assignments import has_caseload, in_caseload_of
from casemgr.reads.changes import tier_on
from casemgr.reads.indicator_cards import TIER_CATEGORIES
from casemgr.services import amendments

SHOWN_PER_SECTION = 10
DEFAULT_LOOKBACK = timedelta(days=30)  # "since" before the user chooses a date
CONSENTS_ENDING_WITHIN = timedelta(days=30)
# referral states that ask something of the school, the most pressing first
REFERRAL_STATES = (ReferralStatus.DECLINED, ReferralStatus.AWAITING_CONSENT, ReferralStatus.ACCEPTED,
                   ReferralStatus.CLOSED)
COLUMNS = ("student_id", "ref", "day", "detail", "number", "party")


@dataclass(frozen=True)
class Situation:
    """What every section's query is built from."""

    user: User
    today: date
    since: date
    mine: bool = False  # a counselor's own caseload (when they have one) rather than the whole school

    @property
    def scope(self) -> list[sa.ColumnElement[bool]]:
        """The students of the queue beyond what the policy lets the user see: with
        `mine`, the counselor's caseload, or the whole school while they have none (the
        check is uncorrelated: read once in the statement)."""
        # a CASE, not an OR: PostgreSQL then looks for the caseload only when there is one
        return [sa.case((has_caseload(self.user), in_caseload_of(self.user.id, self.today)), else_=sa.true())] \
            if self.mine else []

    @property
    def since_moment(self) -> datetime:
        """The first moment of `since` in the district's time zone."""
        return start_of(self.since)


@dataclass(frozen=True)
class QueueSection:
    key: str
    title: str
    partial: str  # its macro `item(item)` words one item: templates/home/partials/queue/_<key>.html
    query: Callable[[Situation], sa.Select]
    categories: frozenset[Category]  # what an item shows of its student, for the log
    more: tuple[str, dict] | None = None  # (endpoint, arguments) of the page listing them all


@dataclass(frozen=True)
class QueueStudent:
    id: int
    uuid: object
    name: str


@dataclass(frozen=True)
class QueueItem:
    student: QueueStudent
    ref: object  # the uuid of the plan, referral or request the item links to; None: the student
    day: date | None
    detail: str | None
    number: int | None
    party: str | None  # the organization a referral or consent names


@dataclass
class QueuePart:
    section: QueueSection
    count: int
    items: list[QueueItem] = field(default_factory=list)


@dataclass
class Queue:
    since: date
    today: date
    parts: list[QueuePart]
    alongside: dict[str, object] = field(default_factory=dict)  # the columns read with the queue, by label

    @property
    def student_ids(self) -> list[int]:
        return sorted({item.student.id for part in self.parts for item in part.items})

    def shown(self) -> dict[int, set[Category]]:
        """Each listed student and the categories the sections listing them show."""
        shown: dict[int, set[Category]] = {}
        for part in self.parts:
            for item in part.items:
                shown.setdefault(item.student.id, set()).update(part.section.categories)
        return shown

    @property
    def total(self) -> int:
        return sum(part.count for part in self.parts)


def _select(student_id, ref, day, detail, number, party=None) -> sa.Select:
    """One section's columns; a moment (`day` a timestamp) becomes the district's day it fell on."""
    if day is not None and isinstance(day.type, sa.DateTime):
        day = local_day(day, district_zone())
    return sa.select(
        student_id.label("student_id"),
        sa.cast(ref, sa.Uuid).label("ref"),
        sa.cast(day, sa.Date).label("day"),
        sa.cast(detail, sa.Text).label("detail"),
        sa.cast(number, sa.Integer).label("number"),
        sa.cast(party, sa.Text).label("party"),
    )


def _organization_name(organization_id) -> sa.ScalarSelect:
    return sa.select(Organization.name).where(Organization.id == organization_id).scalar_subquery()


# --- the sections ------------------------------------------------------------------------


def tier_rises(s: Situation) -> sa.Select:
    """Current students whose tier rose after `since` (a tier recorded then, and a higher one
    now), or who became tier 3 with none recorded then: tier 3 first, then the largest
    known rise; `number` is the tier now, `detail` the tier then (none: unknown), `day` the
    day the current tier was recorded."""
    year = school_year_number(district_of(s.user), s.today)  # none begun yet: no row
    then, now = tier_on(StudentIndicator.student_id, s.since), StudentIndicator.tier
    changed_on = (sa.select(sa.func.max(TierChange.since))
                  .where(TierChange.student_id == StudentIndicator.student_id, TierChange.since > s.since)
                  .scalar_subquery())
    seen = [policy.visible_students(s.user, category, s.today) for category in sorted(TIER_CATEGORIES)]
    return (
        _select(StudentIndicator.student_id, None, changed_on, then, now)
        .join(Student, Student.id == StudentIndicator.student_id)
        # tiers run from 1 (the check on both tables): a rise or a tier 3 is a tier above 1,
        # a plain comparison that spares most students the look-ups in the history
        .where(StudentIndicator.school_year == year, now > 1, changed_on.is_not(None), Student.current_on(s.today),
               sa.or_(now > then, sa.and_(then.is_(None), now == 3)), *seen, *s.scope)
        .order_by(now.desc(), (now - sa.func.coalesce(then, now)).desc(), Student.last_name, Student.id)
    )


def open_flags_without_plan(s: Situation) -> sa.Select:
    """Open flags with no open support plan for them, the longest waiting first."""
    planned = sa.exists().where(SupportPlan.flag_id == Flag.id, SupportPlan.status == CaseStatus.OPEN)
    return (
        _select(Flag.student_id, Flag.uuid, Flag.created_at, Flag.need, None)
        .join(Student, Student.id == Flag.student_id)
        .where(Flag.status == CaseStatus.OPEN, ~planned, policy.visible_students(s.user, Category.SERVICES, s.today),
               *s.scope)
        .order_by(Flag.created_at, Flag.id)
    )


def plan_check_in_due(plan=SupportPlan) -> sa.ColumnElement[date]:
    """The day an open plan's next check-in falls due: its last check-in (or its start)
    and its interval."""
    last = sa.select(sa.func.max(SupportPlanCheckIn.occurred_on)).where(SupportPlanCheckIn.plan_id == plan.id)
    return sa.func.coalesce(last.scalar_subquery(), plan.starts_on) + plan.checkin_every_days


def check_ins_due(s: Situation) -> sa.Select:
    """Open plans whose check-in is due today or overdue, the longest overdue first;
    `number` is the days overdue."""
    due = plan_check_in_due()
    return (
        _select(SupportPlan.student_id, SupportPlan.uuid, due, SupportPlan.goal, s.today - due)
        .join(Student, Student.id == SupportPlan.student_id)
        .where(SupportPlan.status == CaseStatus.OPEN, due <= s.today,
               policy.visible_students(s.user, Category.SERVICES, s.today), *s.scope)
        .order_by(due, SupportPlan.id)
    )


def consents_asked(s: Situation) -> sa.Select:
    """Partners' requests that the school ask a family for consent, not yet handled,
    the oldest first; `party` is the organization asking."""
    return (
        _select(ConsentAsk.student_id, ConsentAsk.uuid, ConsentAsk.created_at, None, None,
                _organization_name(ConsentAsk.organization_id))
        .join(Student, Student.id == ConsentAsk.student_id)
        .where(ConsentAsk.handled_at.is_(None), policy.consent_ask_scope(s.user), *s.scope)
        .order_by(ConsentAsk.created_at, ConsentAsk.id)
    )


def referrals_changed(s: Situation) -> sa.Select:
    """Referrals now accepted, declined, closed or waiting on family consent, whose last
    step came on or after `since`: declined and waiting first (they ask something of the
    school), then the newest; `detail` is the state."""
    pressing = sa.case(*((Referral.status == str(state), rank) for rank, state in enumerate(REFERRAL_STATES)))
    return (
        _select(Referral.student_id, Referral.uuid, Referral.updated_at, Referral.status, None,
                _organization_name(Referral.organization_id))
        .join(Student, Student.id == Referral.student_id)
        .where(Referral.status.in_([str(state) for state in REFERRAL_STATES]),
               Referral.updated_at >= s.since_moment,
               policy.visible_students(s.user, Category.SERVICES, s.today), *s.scope)
        .order_by(pressing, Referral.updated_at.desc(), Referral.id)
    )


def corrections_waiting(s: Situation) -> sa.Select:
    """A family's requests to correct the record not yet answered, the oldest first."""
    open_requests = amendments.open_query(s.user).where(*s.scope)
    return (
        open_requests.with_only_columns(
            *_select(AmendmentRequest.student_id, AmendmentRequest.uuid, AmendmentRequest.created_at,
                     AmendmentRequest.part, None).selected_columns
        )
        .order_by(AmendmentRequest.created_at, AmendmentRequest.id)
    )


LATER_CONSENT = aliased(Consent, name="later_consent")


def consents_ending(s: Situation) -> sa.Select:
    """Consents in force that end within 30 days and that no later consent for the same
    organization outlasts, the soonest first; `number` is the days left."""
    later = LATER_CONSENT
    renewed = sa.exists().where(
        later.student_id == Consent.student_id, later.organization_id == Consent.organization_id,
        later.expires_on > Consent.expires_on, policy.consent_in_force(later, s.today),
    )
    return (
        _select(Consent.student_id, Consent.uuid, Consent.expires_on, None, Consent.expires_on - s.today,
                _organization_name(Consent.organization_id))
        .join(Student, Student.id == Consent.student_id)
        .where(policy.consent_in_force(Consent, s.today),
               Consent.expires_on <= s.today + CONSENTS_ENDING_WITHIN, ~renewed,
               policy.visible_students(s.user, Category.IDENTITY, s.today), *s.scope)
        .order_by(Consent.expires_on, Consent.id)
    )


SECTIONS: list[QueueSection] = [
    QueueSection("tiers", "Became tier 3 or rose a tier", "home/partials/queue/_tiers.html", tier_rises,
                 frozenset({Category.IDENTITY} | TIER_CATEGORIES)),
    QueueSection("check_ins", "Support plan check-ins due", "home/partials/queue/_check_ins.html", check_ins_due,
                 frozenset({Category.IDENTITY, Category.SERVICES})),
    QueueSection("flags", "Open flags without a support plan", "home/partials/queue/_flags.html",
                 open_flags_without_plan, frozenset({Category.IDENTITY, Category.SERVICES})),
    QueueSection("consent_asks", "Partners asking for a family's consent", "home/partials/queue/_consent_asks.html",
                 consents_asked, frozenset({Category.IDENTITY}), ("notices.index", {"_anchor": "consent-asks"})),
    QueueSection("referrals", "Referrals that changed", "home/partials/queue/_referrals.html", referrals_changed,
                 frozenset({Category.IDENTITY, Category.SERVICES}), ("referrals.index", {})),
    QueueSection("corrections", "Family correction requests waiting", "home/partials/queue/_corrections.html",
                 corrections_waiting, frozenset({Category.IDENTITY}), ("amendments.index", {})),
    QueueSection("consents", "Consents ending within 30 days", "home/partials/queue/_consents.html", consents_ending,
                 frozenset({Category.IDENTITY})),
]


# --- reading the queue ---------------------------------------------------------------------


def default_since(today: date) -> date:
    return today - DEFAULT_LOOKBACK


def load_queue(user: User, today: date, since: date, sections: list[QueueSection] | None = None,
               alongside: Sequence[sa.ColumnElement] = (), mine: bool = False) -> Queue:
    """Every section's first items and how many it holds, in one statement: each
    section's rows numbered and counted (window functions, before its limit), the
    sections joined by UNION ALL, then their students; with the `alongside` columns
    (uncorrelated: the navigation's counts), whose values are kept when a row is read.
    The statement is built once per user, day and choice (`casemgr.statement_cache`)."""
    sections = SECTIONS if sections is None else sections
    key = ("school queue", statement_cache.user_facts(user, today), since, mine, SHOWN_PER_SECTION,
           CONSENTS_ENDING_WITHIN,
           tuple((section.key, section.query) for section in sections), statement_cache.columns_key(alongside))
    statement = statement_cache.reuse(key, lambda: _queue_statement(Situation(user, today, since, mine), sections,
                                                                    alongside))
    rows = db.session.execute(statement).all()
    parts = [QueuePart(section, 0) for section in sections]
    kept = {column.name: rows[0]._mapping[column.name] for column in alongside} if rows else {}
    for row in rows:
        parts[row.part].count = row.total
        student = QueueStudent(row.student_id, row.student_uuid,
                               f"{row.preferred_name or row.first_name} {row.last_name}")
        parts[row.part].items.append(QueueItem(student, row.ref, row.day, row.detail, row.number, row.party))
    return Queue(since, today, parts, kept)


def _queue_statement(situation: Situation, sections: list[QueueSection],
                     alongside: Sequence[sa.ColumnElement]) -> sa.Select:
    ranked = []
    for index, section in enumerate(sections):
        query = section.query(situation)
        position = sa.func.row_number().over(order_by=list(query._order_by_clauses)).label("position")
        first = query.add_columns(position, sa.func.count().over().label("total")).limit(SHOWN_PER_SECTION).subquery()
        ranked.append(sa.select(sa.literal(index).label("part"), first.c.position, first.c.total,
                                *(first.c[name] for name in COLUMNS)))
    items = sa.union_all(*ranked).subquery()
    return (
        sa.select(items, Student.uuid.label("student_uuid"), Student.preferred_name, Student.first_name,
                  Student.last_name, *alongside)
        .join(Student, Student.id == items.c.student_id)
        .order_by(items.c.part, items.c.position)
    )
