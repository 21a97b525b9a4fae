"""The disclosure log in plain language (SPEC §4 rule 6, issue 6 item 4): each entry
of one student's log as a sentence a parent reads, in their language —
"Northside Youth (Ana Ruiz, youth worker) viewed attendance on March 3, 2027, under
the consent signed on January 12, 2027." Filterable by organization and date.

A record, not a flood (issue 14 item 3): the views (and the refusals, and the
exports) by one person of the same categories on the same basis on one day are one
line — "… viewed attendance 7 times on March 3, 2027, …" — that opens on the times of
its entries. The grouping is done in SQL and the page is paged by lines; the stored
log stays one row per read. The family's own views (a parent's, the student's) are
left out unless asked for.

Nothing here decides access: the caller has the policy's `StudentAccess`."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import format_date, format_time, gettext, ngettext
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import joinedload

from casemgr.clock import local_day
from casemgr.extensions import db
from casemgr.models import (
    Consent,
    DisclosureEntry,
    Guardian,
    GuardianLink,
    Organization,
    Student,
    User,
)
from casemgr.models.enums import FAMILY, DisclosureAction
from casemgr.policy import CONSENT_PREFIX, GUARDIAN, SCHOOL_OFFICIAL, SELF, TEACHER_OF_RECORD
from casemgr.services.disclosure import CONSENT_ASK_HANDLED, CONSENT_ASKED, NAME_ONLY
from casemgr.words.family import categories_words, role_words

PER_PAGE = 25
# the times a line opens on, newest first; a busier line says how many more there were
TIMES_SHOWN = 100
# the actions whose entries of one person, one day, one list of categories are one line;
# a referral, a note written, a change of a program list are each a line of their own
GROUPED = (DisclosureAction.VIEW, DisclosureAction.EXPORT, DisclosureAction.DENIED)


@dataclass(frozen=True)
class LogFilter:
    organization: Organization | None = None
    date_from: date | None = None
    date_to: date | None = None
    own_views: bool = False


@dataclass(frozen=True)
class Group:
    """A line of the log: one of its entries (they differ only in their time), how many
    it stands for, its first and last moments, and the times of the newest `TIMES_SHOWN`
    of them with whether each was a list of students."""

    entry: DisclosureEntry
    count: int
    first_at: datetime
    last_at: datetime
    times: list[datetime]
    listed: list[bool]


@dataclass(frozen=True)
class LogTime:
    occurred_at: datetime
    time: str
    listed: bool


@dataclass(frozen=True)
class LogLine:
    occurred_at: datetime
    allowed: bool
    sentences: list[str]
    time: str
    count: int = 1
    times: tuple[LogTime, ...] = ()
    more: int = 0  # entries of the line beyond the times shown


@dataclass(frozen=True)
class LogPage:
    """One page of a student's log: its lines (groups of entries), newest first, and
    where it stands."""

    items: list[Group]
    page: int
    total: int
    per_page: int = PER_PAGE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def _family_accounts(student: Student) -> sa.Select:
    """The accounts of the student's family: their parents' and guardians', and their own."""
    return sa.union_all(
        sa.select(Guardian.user_id).join(GuardianLink, GuardianLink.guardian_id == Guardian.id)
        .where(GuardianLink.student_id == student.id, Guardian.user_id.is_not(None)),
        sa.select(User.id).where(User.student_id == student.id))


def _groups(student: Student, zone: str) -> sa.CTE:
    """The student's entries (their own pages' and the lists naming them), grouped as
    they are read: one line per day (in `zone`), person, organization, action, outcome
    and list of categories with their basis, or one per entry for the actions not
    grouped; each with its count, its first and last moments, one of its entries (the
    highest id: they differ only in their time) and the times of its entries with
    whether each was a list of students (in one order, unsorted). Plain aggregates: no
    sort per line, and only the lines, not the entries, are kept for the rest of the
    statement; the filters, whose fields are all in the key, apply to the lines."""
    e = DisclosureEntry
    key = [local_day(e.occurred_at, zone).label("day"), e.user_id,
           sa.case((e.action.in_([str(a) for a in GROUPED]), None), else_=e.id).label("alone"),
           e.organization_id, e.action, e.allowed, e.reason, e.categories, e.basis]
    return (sa.select(*key, sa.func.max(e.id).label("id"), sa.func.max(e.occurred_at).label("last_at"),
                      sa.func.min(e.occurred_at).label("first_at"), sa.func.count().label("count"),
                      sa.func.array_agg(e.occurred_at).label("times"),
                      sa.func.array_agg(e.student_ids.is_not(None)).label("listed"))
            .where(e.names(student.id)).group_by(*key).cte("groups"))


def _newest_times(shown: sa.CTE) -> tuple[sa.ScalarSelect, sa.ScalarSelect]:
    """Of a line of the page: the newest `TIMES_SHOWN` times of its entries, and whether
    each was a list of students, in the same order."""
    each = sa.func.unnest(shown.c.times, shown.c.listed).table_valued("at", "listed").render_derived()
    newest = (each.c.at.desc(),)
    return (sa.select(sa.func.array_agg(aggregate_order_by(each.c.at, *newest))[1:TIMES_SHOWN]).scalar_subquery(),
            sa.select(sa.func.array_agg(aggregate_order_by(each.c.listed, *newest))[1:TIMES_SHOWN]).scalar_subquery())


def _summary(student: Student, organization_key: str, date_from: date | None, date_to: date | None,
             zone: str, page: int, own_views: bool = False) -> sa.Row:
    """In one statement over the student's log (the rows of their own pages and the list
    rows naming them, read once, grouped as read): the organizations in it, the one
    whose uuid is `organization_key` if it is among them, how many lines the filter
    keeps, and the chosen page's lines (one entry's id of each, its count, first and
    last moments, and its newest times). Only these few values leave the database, not
    a row per entry."""
    groups = _groups(student, zone)
    g = groups.c
    chosen = (sa.select(Organization.id)
              .where(sa.cast(Organization.uuid, sa.Text) == organization_key,
                     Organization.id.in_(sa.select(g.organization_id)))
              .scalar_subquery())
    kept = [sa.or_(chosen.is_(None), g.organization_id == chosen)]
    if date_from is not None:
        kept.append(g.day >= date_from)
    if date_to is not None:
        kept.append(g.day <= date_to)
    if not own_views:  # the views of the family's accounts (their refusals, and what they did, stay)
        viewed = sa.and_(g.action == str(DisclosureAction.VIEW), sa.func.cardinality(g.categories) > 0, g.allowed)
        kept.append(sa.not_(sa.and_(viewed, g.user_id.is_not(None), g.user_id.in_(_family_accounts(student)))))
    lines = sa.select(g.id, g.last_at, g.first_at, g.count, g.times, g.listed).where(*kept)
    shown = (lines.order_by(g.last_at.desc(), g.id.desc())
             .limit(PER_PAGE).offset((page - 1) * PER_PAGE).cte("shown"))
    times, listed = _newest_times(shown)
    line = sa.func.json_build_object("id", shown.c.id, "count", shown.c.count, "first_at", shown.c.first_at,
                                     "last_at", shown.c.last_at, "times", times, "listed", listed)
    return db.session.execute(sa.select(
        sa.select(sa.func.array_agg(g.organization_id.distinct())).scalar_subquery().label("organizations"),
        chosen.label("chosen"),
        sa.select(sa.func.count()).select_from(lines.subquery()).scalar_subquery().label("total"),
        sa.select(sa.func.json_agg(line)).select_from(shown).scalar_subquery().label("lines"),
    )).one()


def read_log(student: Student, organization_key: str, date_from: date | None, date_to: date | None, zone: str,
             page: int, own_views: bool = False) -> tuple[list[Organization], LogFilter, LogPage]:
    """The organizations in the student's log (for the filter), the filter chosen (the
    organization whose uuid is `organization_key`, if it is in the log; the family's own
    views or not) and the chosen page of the lines it keeps (days in `zone`)."""
    summary = _summary(student, organization_key, date_from, date_to, zone, page, own_views)
    named = [organization_id for organization_id in summary.organizations or () if organization_id is not None]
    organizations = list(db.session.scalars(
        sa.select(Organization).where(Organization.id.in_(named)).order_by(Organization.name)))
    organization = next((o for o in organizations if o.id == summary.chosen), None)
    groups: list[Group] = []
    if summary.lines:
        lines = sorted(summary.lines, key=lambda line: (_moment(line["last_at"]), line["id"]), reverse=True)
        moments = [_moment(line["last_at"]) for line in lines] + [_moment(line["first_at"]) for line in lines]
        # by id, and by time too, so that only the partitions of the page's months are read
        entries = {entry.id: entry for entry in db.session.scalars(
            sa.select(DisclosureEntry)
            .options(joinedload(DisclosureEntry.user).joinedload(User.organization),
                     joinedload(DisclosureEntry.organization))
            .where(DisclosureEntry.id.in_([line["id"] for line in lines]),
                   DisclosureEntry.occurred_at.between(min(moments), max(moments)))
        ).unique()}
        groups = [Group(entries[line["id"]], line["count"], _moment(line["first_at"]), _moment(line["last_at"]),
                        [_moment(t) for t in line["times"]], line["listed"]) for line in lines]
    chosen = LogFilter(organization, date_from, date_to, own_views)
    return organizations, chosen, LogPage(groups, page, summary.total)


def _moment(text: str) -> datetime:
    """A timestamptz as json_build_object writes it."""
    return datetime.fromisoformat(text)


def consent_dates(student: Student, entries: Iterable[DisclosureEntry]) -> dict[str, date]:
    """{consent uuid: signing date} for the consents the entries name, of this student."""
    uuids = {basis.removeprefix(CONSENT_PREFIX) for entry in entries for basis in (entry.basis or {}).values()
             if basis.startswith(CONSENT_PREFIX)}
    if not uuids:
        return {}
    rows = db.session.execute(
        sa.select(sa.cast(Consent.uuid, sa.Text), Consent.signed_on).where(
            Consent.student_id == student.id, sa.cast(Consent.uuid, sa.Text).in_(sorted(uuids)))
    )
    return dict(rows.all())


def who(entry: DisclosureEntry, reader: User) -> str:
    user = entry.user
    if user is None:
        return entry.organization.name if entry.organization else gettext("Someone")
    if user.id == reader.id:
        return gettext("You")
    if user.role_enum in FAMILY:
        return gettext("%(name)s (%(role)s)", name=user.full_name, role=role_words(user.role))
    return gettext("%(organization)s (%(name)s, %(role)s)", organization=user.organization.name,
                   name=user.full_name, role=role_words(user.role))


def _viewed(actor: str, what: str, day: str, basis: str, consents: dict[str, date]) -> str:
    if basis.startswith(CONSENT_PREFIX):
        signed = consents.get(basis.removeprefix(CONSENT_PREFIX))
        if signed is not None:
            return gettext("%(who)s viewed %(what)s on %(date)s, under the consent signed on %(signed)s.",
                           who=actor, what=what, date=day, signed=format_date(signed, "long"))
        return gettext("%(who)s viewed %(what)s on %(date)s, under a family's consent.", who=actor, what=what, date=day)
    reasons = {
        SCHOOL_OFFICIAL: gettext("%(who)s viewed %(what)s on %(date)s, as school staff.", who=actor, what=what, date=day),
        TEACHER_OF_RECORD: gettext("%(who)s viewed %(what)s on %(date)s, as a teacher of the student.",
                                   who=actor, what=what, date=day),
        GUARDIAN: gettext("%(who)s viewed %(what)s on %(date)s, as a parent or guardian.", who=actor, what=what, date=day),
        SELF: gettext("%(who)s viewed %(what)s on %(date)s, as the student.", who=actor, what=what, date=day),
    }
    return reasons.get(basis) or gettext("%(who)s viewed %(what)s on %(date)s.", who=actor, what=what, date=day)


def _by_basis(entry: DisclosureEntry) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for category in entry.categories:
        groups[(entry.basis or {}).get(category, "")].append(category)
    return groups


def _referral(entry: DisclosureEntry, actor: str, day: str) -> list[str]:
    organization = entry.organization.name if entry.organization else gettext("an organization")
    step = entry.reason or ""
    if "awaiting family consent" in step:
        first = gettext("%(who)s prepared a referral to %(organization)s on %(date)s. It waits for a family's consent; "
                        "nothing was shared.", who=actor, organization=organization, date=day)
    elif "family declined" in step:
        first = gettext("%(who)s said no to a referral to %(organization)s on %(date)s. Nothing was shared.",
                        who=actor, organization=organization, date=day)
    elif "sent" in step:
        first = gettext("%(organization)s was sent a referral by %(who)s on %(date)s.",
                        organization=organization, who=actor, date=day)
    elif "accepted" in step:
        first = gettext("%(organization)s accepted a referral on %(date)s.", organization=organization, date=day)
    elif "declined" in step:
        first = gettext("%(organization)s declined a referral on %(date)s.", organization=organization, date=day)
    elif "withdrawn" in step:
        first = gettext("The school withdrew a referral to %(organization)s on %(date)s.",
                        organization=organization, date=day)
    elif "closed" in step:
        first = gettext("%(organization)s closed a referral on %(date)s.", organization=organization, date=day)
    else:
        first = gettext("A referral to %(organization)s changed on %(date)s.", organization=organization, date=day)
    if entry.categories:
        return [first, gettext("Through it, %(organization)s may see %(what)s.", organization=organization,
                               what=categories_words(entry.categories))]
    return [first]


def _roster(entry: DisclosureEntry, day: str) -> str:
    organization = entry.organization.name if entry.organization else gettext("an organization")
    if (entry.reason or "").startswith(CONSENT_ASKED):
        return gettext("%(organization)s asked the school on %(date)s to ask you for a consent. It sees only the "
                       "name until a consent lets it see more.", organization=organization, date=day)
    if (entry.reason or "").startswith(CONSENT_ASK_HANDLED):
        return gettext("The school answered a program's request for your consent on %(date)s.", date=day)
    if (entry.reason or "").startswith("removed"):
        return gettext("%(organization)s took the student off its program list on %(date)s.",
                       organization=organization, date=day)
    return gettext("%(organization)s added the student to its program list on %(date)s. It sees only the name "
                   "until a consent lets it see more.", organization=organization, date=day)


def _times(what: str, count: int) -> str:
    """"attendance 7 times": what was seen, and how often that day when more than once."""
    if count == 1:
        return what
    return ngettext("%(what)s %(num)d time", "%(what)s %(num)d times", count, what=what)


def describe(entry: DisclosureEntry, reader: User, consents: dict[str, date], count: int = 1) -> list[str]:
    """The sentences of an entry, or of a line of `count` entries like it that day."""
    actor = who(entry, reader)
    day = format_date(entry.occurred_at, "long")
    action = DisclosureAction(entry.action)
    what = _times(categories_words(entry.categories), count)
    if action is DisclosureAction.REFERRAL:
        return _referral(entry, actor, day)
    if action is DisclosureAction.DENIED:
        if entry.categories:
            return [gettext("%(who)s asked to see %(what)s on %(date)s and was refused.", who=actor, what=what, date=day)]
        if count > 1:
            return [ngettext("%(who)s asked to see the record %(num)d time on %(date)s and was refused.",
                             "%(who)s asked to see the record %(num)d times on %(date)s and was refused.",
                             count, who=actor, date=day)]
        return [gettext("%(who)s asked to see the record on %(date)s and was refused.", who=actor, date=day)]
    if action is DisclosureAction.NOTE_WRITTEN:
        return [gettext("%(who)s wrote a note about the student on %(date)s.", who=actor, date=day)]
    if action is DisclosureAction.EXPORT:
        return [gettext("%(who)s exported %(what)s on %(date)s.", who=actor, what=what, date=day)]
    if not entry.categories:
        if entry.reason == NAME_ONLY:
            if count > 1:
                return [ngettext("%(who)s saw the student's name %(num)d time on %(date)s, and nothing else of the "
                                 "record.", "%(who)s saw the student's name %(num)d times on %(date)s, and nothing "
                                 "else of the record.", count, who=actor, date=day)]
            return [gettext("%(who)s saw the student's name on %(date)s, and nothing else of the record.",
                            who=actor, date=day)]
        return [_roster(entry, day)]
    return [_viewed(actor, _times(categories_words(categories), count), day, basis, consents)
            for basis, categories in _by_basis(entry).items()]


def _span(group: Group) -> str:
    """The time of a line: of its entry, or from its first entry's to its last's."""
    first, last = format_time(group.first_at, "short"), format_time(group.last_at, "short")
    if first == last:
        return last
    return gettext("%(first)s to %(last)s", first=first, last=last)


def log_lines(student: Student, groups: list[Group], reader: User) -> list[LogLine]:
    consents = consent_dates(student, (g.entry for g in groups))
    return [LogLine(g.last_at, g.entry.allowed, describe(g.entry, reader, consents, g.count), _span(g),
                    g.count, tuple(LogTime(t, format_time(t, "short"), listed) for t, listed in zip(g.times, g.listed)),
                    g.count - len(g.times))
            for g in groups]
