"""The partner workspace (SPEC §6): an organization's roster with each student's consent
status, the latest notes its staff may read, and the administrator's counts.

Every list filters in SQL through the policy (`roster_scope`, `visible_students`,
`note_text_readable`) and carries, per row, the basis on which each category is seen,
so each row is logged on its own basis once the page is built.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased, joinedload

from casemgr import policy, statement_cache
from casemgr.clock import start_of
from casemgr.extensions import db
from casemgr.models import (
    Consent,
    ConsentRevocation,
    CourseMark,
    DisciplineIncident,
    Note,
    Referral,
    RosterEntry,
    Student,
    StudentIndicator,
    User,
)
from casemgr.models.enums import PARTNER_STAFF, Category, ReferralStatus
from casemgr.reads.changes import (
    attendance_rates_on,
    attendance_rates_on_subquery,
    tier_on,
)
from casemgr.reads.indicator_cards import TIER_CATEGORIES
from casemgr.reads.services_delivered import Dosage, dosage
from casemgr.services import disclosure
from casemgr.services.referrals import Load, load_columns
from casemgr.words.consent_states import (
    ENDING_WITHIN_DAYS,
    ConsentState,
    from_newest,
    in_force,
)

ROSTER_PAGE_SIZE = 50
LATEST_NOTES = 10
EXPIRING_WITHIN_DAYS = ENDING_WITHIN_DAYS
EXPIRING_LISTED = 10  # the reminder lists the soonest; the roster's filter shows them all
CONSENT_FILTERS = {
    "": "Everyone",
    "active": "Consent active",
    "expiring": "Consent ending soon (within 30 days)",
    "missing": "No active consent",
}


@dataclass(frozen=True)
class RosterRow:
    student: Student
    entry: RosterEntry
    consent: ConsentState  # the organization's standing with the student's consent
    shared: dict[Category, str]  # what the user sees of the student, with the basis

    @property
    def identity_basis(self) -> str | None:
        return self.shared.get(Category.IDENTITY)

    @property
    def consent_expires_on(self) -> date | None:
        return self.consent.on if self.consent.in_force else None


@dataclass
class RosterPage:
    rows: list[RosterRow] = field(default_factory=list)
    total: int = 0
    page: int = 1
    pages: int = 1
    consent: str = ""
    alongside: dict[str, object] = field(default_factory=dict)  # the columns read with the page, by label


def consent_status(organization_id: int, today: date) -> tuple[sa.ColumnElement, dict[str, sa.ColumnElement[bool]]]:
    """(latest expiry of an active consent naming the organization, as a column on
    `Student`; the condition of each state on it): missing without one, expiring when it
    ends within 30 days, else active. Each condition reads the expiry once."""
    expires = (
        policy.active_consent(organization_id, today)
        .with_only_columns(sa.func.max(Consent.expires_on))
        .scalar_subquery()
    )
    soon = today + timedelta(days=EXPIRING_WITHIN_DAYS)
    return expires, {"missing": expires.is_(None), "expiring": expires <= soon, "active": expires > soon}


def newest_consent(organization_id: int) -> list[sa.Label]:
    """The newest consent naming the organization for the outer student (signed_on,
    expires_on, revoked_at), for what the roster says of a student without an active one:
    columns of the select list, so that PostgreSQL looks them up for the rows of the page
    only, after its sort and limit (a join would look them up for the whole roster)."""
    newest = (
        sa.select(Consent.id)
        .where(Consent.student_id == Student.id, Consent.organization_id == organization_id)
        .order_by(Consent.signed_on.desc(), Consent.id.desc())
        .limit(1)
        .correlate(Student)  # the listed student, also from within the revocation's subquery
    )
    return [newest.with_only_columns(Consent.signed_on).scalar_subquery().label("signed_on"),
            newest.with_only_columns(Consent.expires_on).scalar_subquery().label("expires_on"),
            sa.select(ConsentRevocation.revoked_at).where(ConsentRevocation.consent_id == newest.scalar_subquery())
            .scalar_subquery().label("revoked_at")]


def _roster_query(user: User, today: date, consent: str) -> tuple[sa.Select, sa.ColumnElement]:
    """(the roster's entries joined to their students, with the given consent status,
    within the policy's `roster_scope`; the expiry column)."""
    return _roster_statement(user.organization_id, today, consent, policy.roster_scope(user, today))


@lru_cache(maxsize=256)  # SQL expressions are immutable: built once, shared by every request
def _roster_statement(organization_id: int, today: date, consent: str,
                      scope: sa.ColumnElement[bool]) -> tuple[sa.Select, sa.ColumnElement]:
    expires, states = consent_status(organization_id, today)
    entry = aliased(RosterEntry)  # apart from the policy's own roster subquery
    where = [
        scope,
        entry.organization_id == organization_id,
        entry.added_on <= today,
        sa.or_(entry.removed_on.is_(None), entry.removed_on > today),
    ]
    if consent:
        where.append(states[consent])
    return sa.select(entry).join(Student, Student.id == entry.student_id).where(*where), expires


def _count(query: sa.Select) -> sa.Select:
    return query.with_only_columns(sa.func.count()).order_by(None)


def expiring_count(user: User, today: date) -> sa.Label:
    """How many students of the roster have their consent ending soon, as a column for
    `roster_page`'s `alongside` (`expiring`)."""
    return statement_cache.reuse(
        ("expiring count", statement_cache.user_facts(user, today)),
        lambda: _count(_roster_query(user, today, "expiring")[0]).scalar_subquery().label("expiring"))


def roster_page(user: User, today: date, page: int = 1, consent: str = "",
                alongside: Sequence[sa.Label] = ()) -> RosterPage:
    """A page of the user's organization's roster, by name; empty for anyone who may not
    see it (the policy's `roster_scope`). One statement reads the page with its total (a
    window count) and the `alongside` columns (uncorrelated counts: the navigation's, the
    reminder's), kept in `RosterPage.alongside`; an empty page counts them in a second,
    and a page past the last reads the last in a third."""
    consent = consent if consent in CONSENT_FILTERS else ""
    key = ("roster page", statement_cache.user_facts(user, today), consent, ROSTER_PAGE_SIZE,
           statement_cache.columns_key(alongside))
    base, listed, bases = statement_cache.reuse(key, lambda: _roster_page_statement(user, today, consent, alongside))
    page = max(page, 1)
    rows = db.session.execute(listed, {"roster_offset": (page - 1) * ROSTER_PAGE_SIZE}).all()
    if rows:
        total, kept = rows[0].total, rows[0]._mapping
    else:
        kept = db.session.execute(sa.select(_count(base).scalar_subquery().label("total"), *alongside)).one()._mapping
        total = kept["total"]
    pages = max((total + ROSTER_PAGE_SIZE - 1) // ROSTER_PAGE_SIZE, 1)
    if page > pages and total:
        page = pages
        rows = db.session.execute(listed, {"roster_offset": (page - 1) * ROSTER_PAGE_SIZE}).all()
    page = min(page, pages)
    return RosterPage(
        rows=[
            RosterRow(row[1], row[0],
                      from_newest(row.expires, row.signed_on, row.expires_on, row.revoked_at, today), bases.read(row))
            for row in rows
        ],
        total=total, page=page, pages=pages, consent=consent,
        alongside={column.name: kept[column.name] for column in alongside},
    )


def _roster_page_statement(user: User, today: date, consent: str,
                           alongside: Sequence[sa.Label]) -> tuple[sa.Select, sa.Select, policy.ListBases]:
    """(the roster's entries, a page of them with everything the page shows, the bases
    that read each row), the page's offset a parameter (`roster_offset`)."""
    base, expires = _roster_query(user, today, consent)
    bases = policy.list_bases(user, today)
    listed = (base.add_columns(Student, expires.label("expires"), *bases.columns, *newest_consent(user.organization_id),
                               sa.func.count().over().label("total"), *alongside)
              .order_by(Student.last_name, Student.first_name, Student.id).limit(ROSTER_PAGE_SIZE)
              .offset(sa.bindparam("roster_offset", 0)))
    return base, listed, bases


@dataclass(frozen=True)
class ListedNote:
    note: Note
    student: Student
    shared: dict[Category, str]


def latest_notes(user: User, today: date, limit: int = LATEST_NOTES) -> list[ListedNote]:
    """The newest notes the user may read, about students whose notes they may see."""
    def build() -> tuple[sa.Select, policy.ListBases]:
        bases = policy.list_bases(user, today, frozenset({Category.NOTES, Category.IDENTITY}))
        return (
            sa.select(Note, Student, *bases.columns)
            .join(Student, Student.id == Note.student_id)
            .options(joinedload(Note.author), joinedload(Note.organization))
            .where(policy.visible_students(user, Category.NOTES, today), policy.note_text_readable(user))
            .order_by(Note.created_at.desc(), Note.id.desc())
            .limit(limit)
        ), bases

    query, bases = statement_cache.reuse(("latest notes", statement_cache.user_facts(user, today), limit), build)
    rows = db.session.execute(query).all()
    return [ListedNote(row[0], row[1], bases.read(row)) for row in rows]


@dataclass(frozen=True)
class ExpiringConsents:
    """The reminder on a partner home (issue 6 item 6): how many students on the roster
    have their consent for the organization ending within 30 days, the first of them
    soonest first, so staff can ask the family to renew."""

    total: int
    rows: list[RosterRow]
    today: date

    def days_left(self, row: RosterRow) -> int:
        return (row.consent_expires_on - self.today).days


def expiring_consents(user: User, today: date, limit: int = EXPIRING_LISTED,
                      total: int | None = None) -> ExpiringConsents:
    """The roster's `expiring` students, in two queries whatever the roster's size (one,
    given the count of `expiring_count`); none for anyone who may not see the roster (the
    policy's `roster_scope`)."""
    base, expires = _roster_query(user, today, "expiring")
    if total is None:
        total = db.session.scalar(_count(base))
    if not total:
        return ExpiringConsents(0, [], today)

    def build() -> tuple[sa.Select, policy.ListBases]:
        bases = policy.list_bases(user, today, frozenset({Category.IDENTITY}))
        return (
            base.add_columns(Student, expires.label("expires"), *bases.columns)
            .order_by(expires, Student.last_name, Student.first_name, Student.id)
            .limit(limit)
        ), bases

    query, bases = statement_cache.reuse(("expiring consents", statement_cache.user_facts(user, today), limit), build)
    rows = db.session.execute(query).all()
    listed = [RosterRow(row[1], row[0], in_force(row.expires, today), bases.read(row)) for row in rows]
    return ExpiringConsents(total, listed, today)


# --- what changed since the last visit (issue 14, item 1) ------------------------------------

FIRST_VISIT_LOOKBACK = timedelta(days=30)  # "since your last visit" before the first


def last_visit(user: User, today: date) -> date:
    """The day the changes on the user's home count from: the last day before today on
    which they opened it (reloading during a day keeps the same changes), or 30 days
    back before their first visit. Records today's visit on the user, for the caller's
    commit."""
    if user.home_seen_on != today:
        user.home_changes_since, user.home_seen_on = user.home_seen_on, today
    return user.home_changes_since or today - FIRST_VISIT_LOOKBACK


@dataclass(frozen=True)
class RosterChange:
    """What changed for a student since a day, each part None where the user may not
    see its categories: the tier (shown only with every category it rests on), the
    attendance rate, new failing marks, new discipline incidents, new notes by others."""

    tier: int | None = None
    tier_then: int | None = None
    rate: Decimal | None = None
    rate_then: Decimal | None = None
    new_failing: int | None = None
    new_incidents: int | None = None
    new_notes: int | None = None

    @property
    def categories(self) -> set[Category]:
        """The categories this change shows of the student, for the log."""
        shown = set(TIER_CATEGORIES) if self.tier is not None else set()
        for value, category in ((self.rate, Category.ATTENDANCE), (self.new_failing, Category.GRADES),
                                (self.new_incidents, Category.BEHAVIOR), (self.new_notes, Category.NOTES)):
            if value is not None:
                shown.add(category)
        return shown


def roster_changes(user: User, roster: RosterPage, since: date, today: date) -> dict[int, RosterChange]:
    """Each shown student's changes since `since`, reading only the categories their row
    lets the user see, in one statement with the attendance rates then (their school
    year is looked up once per request); students of several districts have their rates
    then read in one more statement per district."""
    seeing: dict[Category, list[int]] = defaultdict(list)
    for row in roster.rows:
        for category in row.shared:
            seeing[category].append(row.student.id)
        if TIER_CATEGORIES <= row.shared.keys():
            seeing[None].append(row.student.id)
    ids = sorted({row.student.id for row in roster.rows if row.shared})
    if not ids:
        return {}

    # the attendance rates then, joined when the students seen are of one district (as a
    # partner's roster usually is), else read per district
    by_district: dict[int, list[int]] = defaultdict(list)
    for row in roster.rows:
        if row.student.id in seeing[Category.ATTENDANCE]:
            by_district[row.student.district_id].append(row.student.id)
    joined = len(by_district) == 1
    rates_then: dict[int, Decimal | None] = {}
    if len(by_district) > 1:
        for district_id, students in sorted(by_district.items()):
            rates_then.update(attendance_rates_on(district_id, students, since))
    changes = statement_cache.reuse(("roster changes", statement_cache.user_facts(user, today), since, joined),
                                    lambda: _changes_statement(user, since, joined))
    values = {_seeing(key): seeing[key] for key in (None, *_SEEN)} | {"shown_ids": ids}
    if joined:
        district_id, students = next(iter(by_district.items()))
        values |= {"ids": sorted(set(students)), "as_of": since, "district_id": district_id}
    rows = db.session.execute(changes, values).all()
    return {row.id: RosterChange(row.tier, row.tier_then, row.rate, row.rate_then if joined
                                 else rates_then.get(row.id), row.failing, row.incidents, row.notes) for row in rows}


_SEEN = (Category.ATTENDANCE, Category.GRADES, Category.BEHAVIOR, Category.NOTES)  # and None: the tier


def _seeing(key: Category | None) -> str:
    return f"seeing_{key or 'tier'}"


def _changes_statement(user: User, since: date, joined: bool) -> sa.Select:
    """The changes of `roster_changes`, its students and what is seen of each given when it
    runs: `shown_ids`, `seeing_<category>` (and, `joined`, the rates' `ids`, `as_of` and
    `district_id`)."""
    def when_seen(key, value) -> sa.ColumnElement:
        # an array parameter rather than IN (...): the statement is compiled once, not per page
        return sa.case((Student.id == sa.any_(sa.bindparam(_seeing(key), type_=ARRAY(sa.Integer))), value))

    def count_since(model, *where) -> sa.ScalarSelect:
        return sa.select(sa.func.count()).select_from(model).where(*where).scalar_subquery()

    # its values given when it runs, by the names of its text (`ids`, `as_of`, `district_id`):
    # every other parameter of this statement is anonymous, so none can be taken for them
    rates = attendance_rates_on_subquery(0, [0], since) if joined else None
    latest_year = (sa.select(sa.func.max(StudentIndicator.school_year))
                   .where(StudentIndicator.student_id == Student.id).correlate(Student).scalar_subquery())
    readable = sa.and_(Note.student_id == Student.id, Note.created_at >= start_of(since), Note.author_id != user.id,
                       policy.note_text_readable(user))
    changes = (
        sa.select(
            Student.id,
            (rates.c.rate if rates is not None else sa.null()).label("rate_then"),
            when_seen(None, StudentIndicator.tier).label("tier"),
            when_seen(None, tier_on(Student.id, since)).label("tier_then"),
            when_seen(Category.ATTENDANCE, StudentIndicator.attendance_rate).label("rate"),
            when_seen(Category.GRADES, count_since(CourseMark, CourseMark.student_id == Student.id,
                                                   CourseMark.failing.is_(True), CourseMark.recorded_on > since))
            .label("failing"),
            when_seen(Category.BEHAVIOR, count_since(DisciplineIncident, DisciplineIncident.student_id == Student.id,
                                                     DisciplineIncident.occurred_on > since)).label("incidents"),
            when_seen(Category.NOTES, count_since(Note, readable)).label("notes"),
        )
        .outerjoin(StudentIndicator, sa.and_(StudentIndicator.student_id == Student.id,
                                             StudentIndicator.school_year == latest_year))
        .where(Student.id == sa.any_(sa.bindparam("shown_ids", type_=ARRAY(sa.Integer))))
    )
    if rates is not None:
        changes = changes.outerjoin(rates, rates.c.id == Student.id)
    return changes


def log_workspace(user: User, roster: RosterPage | None, notes: list[ListedNote],
                  expiring: ExpiringConsents | None = None,
                  changes: dict[int, RosterChange] | None = None,
                  dosage: Mapping[int, list[Dosage]] | None = None) -> None:
    """The students shown, as list entries: one for each set of categories shown on the
    same bases (a partner's staff see each student on the basis of that student's own
    consent, which the log must name). A name on the roster without any consent shows
    no category (SPEC §4 rule 3): it is logged as the name only, in the same statement."""
    shown: dict[int, dict[Category, str]] = {}
    listed = [*(roster.rows if roster else []), *(expiring.rows if expiring else [])]
    for row in listed:
        if row.identity_basis:
            shown.setdefault(row.student.id, {})[Category.IDENTITY] = row.identity_basis
    for row in roster.rows if roster and changes else []:  # the changes of the roster's rows
        change = changes.get(row.student.id)
        if change is not None:
            shown.setdefault(row.student.id, {}).update({c: row.shared[c] for c in change.categories})
    for row in roster.rows if roster and dosage else []:  # the services given, where shown
        if row.student.id in dosage:
            shown.setdefault(row.student.id, {})[Category.SERVICES] = row.shared[Category.SERVICES]
    for item in notes:
        shown.setdefault(item.student.id, {}).update(item.shared)
    disclosure.log_list_views(user, shown, [row.student.id for row in listed])


def roster_dosage(user: User, roster: RosterPage, today: date) -> dict[int, list[Dosage]]:
    """The organization's own services this year to each student of the page whose
    `services` category the user sees (issue 17), by student."""
    ids = [row.student.id for row in roster.rows if Category.SERVICES in row.shared]
    return dosage(ids, today, organization_id=user.organization_id)


@dataclass(frozen=True)
class AdminSummary:
    waiting_answer: int  # referrals sent, to accept or decline
    awaiting_consent: int
    in_progress: int  # accepted, to close with an outcome
    blocked_staff: int
    load: Load


def admin_summary(user: User, today: date) -> AdminSummary:
    """The administrator's counts in one statement (`admin_summary_columns`)."""
    return summary_of(db.session.execute(sa.select(*admin_summary_columns(user, today))).one()._mapping)


def admin_summary_columns(user: User, today: date) -> tuple[sa.Label, ...]:
    """The administrator's counts as columns, for a statement of their own or alongside
    the roster's page (`summary_of` reads them back): the inbox's referrals by state, the
    staff the compliance rules block (`policy.compliance_missing`, the list face of
    `partner_block_reason`), and the organization's load. Built once per user and day."""
    return statement_cache.reuse(("admin summary", statement_cache.user_facts(user, today)),
                                 lambda: _admin_summary_columns(user, today))


def _admin_summary_columns(user: User, today: date) -> tuple[sa.Label, ...]:
    inbox = sa.select(sa.func.count()).where(policy.referral_inbox(user, today))

    def referrals(status: ReferralStatus) -> sa.ScalarSelect:
        return inbox.where(Referral.status == str(status)).scalar_subquery()

    blocked = sa.select(sa.func.count()).where(
        User.organization_id == user.organization_id, User.active.is_(True),
        User.role.in_([str(r) for r in PARTNER_STAFF]), policy.compliance_missing(today).is_not(None),
    ).scalar_subquery()
    capacity, on_roster, pending = load_columns(user.organization_id, today)
    return (referrals(ReferralStatus.SENT).label("summary_sent"),
            referrals(ReferralStatus.AWAITING_CONSENT).label("summary_awaiting"),
            referrals(ReferralStatus.ACCEPTED).label("summary_accepted"), blocked.label("summary_blocked"),
            capacity.label("summary_capacity"), on_roster.label("summary_on_roster"),
            pending.label("summary_pending"))


def summary_of(values: Mapping[str, object]) -> AdminSummary:
    return AdminSummary(waiting_answer=values["summary_sent"], awaiting_consent=values["summary_awaiting"],
                        in_progress=values["summary_accepted"], blocked_staff=values["summary_blocked"],
                        load=Load(int(values["summary_capacity"]), values["summary_on_roster"],
                                  values["summary_pending"]))
