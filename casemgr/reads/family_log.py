"""The disclosure log in plain language (SPEC §4 rule 6, issue 6 item 4): each entry
of one student's log as a sentence a parent reads, in their language —
"Northside Youth (Ana Ruiz, youth worker) viewed attendance on March 3, 2027, under
the consent signed on January 12, 2027." Filterable by organization and date.

Nothing here decides access: the caller has the policy's `StudentAccess`."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import format_date, format_time, gettext
from sqlalchemy.orm import joinedload

from casemgr.clock import local_day
from casemgr.extensions import db
from casemgr.models import Consent, DisclosureEntry, Organization, Student, User
from casemgr.models.enums import FAMILY, DisclosureAction
from casemgr.policy import CONSENT_PREFIX, GUARDIAN, SCHOOL_OFFICIAL, SELF, TEACHER_OF_RECORD
from casemgr.services.disclosure import CONSENT_ASK_HANDLED, CONSENT_ASKED, NAME_ONLY
from casemgr.words.family import categories_words, role_words

PER_PAGE = 25


@dataclass(frozen=True)
class LogFilter:
    organization: Organization | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class LogLine:
    occurred_at: datetime
    allowed: bool
    sentences: list[str]
    time: str


@dataclass(frozen=True)
class LogPage:
    """One page of a student's log: its entries, newest first, and where it stands."""

    items: list[DisclosureEntry]
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


def _summary(student: Student, organization_key: str, date_from: date | None, date_to: date | None,
             zone: str, page: int) -> sa.Row:
    """In one statement over the student's log (the rows of their own pages and the list
    rows naming them, read once): the organizations in it, the one whose uuid is
    `organization_key` if it is among them, how many entries the filter keeps, and the
    ids and times of the chosen page's entries. Only these few values leave the
    database, not a row per entry."""
    entries = (sa.select(DisclosureEntry.id, DisclosureEntry.occurred_at, DisclosureEntry.organization_id)
               .where(DisclosureEntry.names(student.id)).cte("entries"))
    chosen = (sa.select(Organization.id)
              .where(sa.cast(Organization.uuid, sa.Text) == organization_key,
                     Organization.id.in_(sa.select(entries.c.organization_id)))
              .scalar_subquery())
    day = local_day(entries.c.occurred_at, zone)
    kept = [sa.or_(chosen.is_(None), entries.c.organization_id == chosen)]
    if date_from is not None:
        kept.append(day >= date_from)
    if date_to is not None:
        kept.append(day <= date_to)
    shown = (sa.select(entries.c.id, entries.c.occurred_at).where(*kept)
             .order_by(entries.c.occurred_at.desc(), entries.c.id.desc())
             .limit(PER_PAGE).offset((page - 1) * PER_PAGE).subquery())
    return db.session.execute(sa.select(
        sa.select(sa.func.array_agg(entries.c.organization_id.distinct())).scalar_subquery().label("organizations"),
        chosen.label("chosen"),
        sa.select(sa.func.count()).select_from(entries).where(*kept).scalar_subquery().label("total"),
        sa.select(sa.func.array_agg(shown.c.id)).scalar_subquery().label("ids"),
        sa.select(sa.func.array_agg(shown.c.occurred_at)).scalar_subquery().label("times"),
    )).one()


def read_log(student: Student, organization_key: str, date_from: date | None, date_to: date | None, zone: str,
             page: int) -> tuple[list[Organization], LogFilter, LogPage]:
    """The organizations in the student's log (for the filter), the filter chosen (the
    organization whose uuid is `organization_key`, if it is in the log) and the chosen
    page of the entries it keeps (days in `zone`)."""
    summary = _summary(student, organization_key, date_from, date_to, zone, page)
    named = [organization_id for organization_id in summary.organizations or () if organization_id is not None]
    organizations = list(db.session.scalars(
        sa.select(Organization).where(Organization.id.in_(named)).order_by(Organization.name)))
    organization = next((o for o in organizations if o.id == summary.chosen), None)
    items: list[DisclosureEntry] = []
    if summary.ids:
        # by id, and by time too, so that only the partitions of the page's months are read
        items = list(db.session.scalars(
            sa.select(DisclosureEntry)
            .options(joinedload(DisclosureEntry.user).joinedload(User.organization),
                     joinedload(DisclosureEntry.organization))
            .where(DisclosureEntry.id.in_(summary.ids), DisclosureEntry.occurred_at.in_(summary.times))
            .order_by(DisclosureEntry.occurred_at.desc(), DisclosureEntry.id.desc())
        ).unique())
    return organizations, LogFilter(organization, date_from, date_to), LogPage(items, page, summary.total)


def consent_dates(student: Student, entries: list[DisclosureEntry]) -> dict[str, date]:
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


def describe(entry: DisclosureEntry, reader: User, consents: dict[str, date]) -> list[str]:
    actor = who(entry, reader)
    day = format_date(entry.occurred_at, "long")
    action = DisclosureAction(entry.action)
    what = categories_words(entry.categories)
    if action is DisclosureAction.REFERRAL:
        return _referral(entry, actor, day)
    if action is DisclosureAction.DENIED:
        if entry.categories:
            return [gettext("%(who)s asked to see %(what)s on %(date)s and was refused.", who=actor, what=what, date=day)]
        return [gettext("%(who)s asked to see the record on %(date)s and was refused.", who=actor, date=day)]
    if action is DisclosureAction.NOTE_WRITTEN:
        return [gettext("%(who)s wrote a note about the student on %(date)s.", who=actor, date=day)]
    if action is DisclosureAction.EXPORT:
        return [gettext("%(who)s exported %(what)s on %(date)s.", who=actor, what=what, date=day)]
    if not entry.categories:
        if entry.reason == NAME_ONLY:
            return [gettext("%(who)s saw the student's name on %(date)s, and nothing else of the record.",
                            who=actor, date=day)]
        return [_roster(entry, day)]
    return [_viewed(actor, categories_words(categories), day, basis, consents)
            for basis, categories in _by_basis(entry).items()]


def log_lines(student: Student, entries: list[DisclosureEntry], reader: User) -> list[LogLine]:
    consents = consent_dates(student, entries)
    return [LogLine(e.occurred_at, e.allowed, describe(e, reader, consents), format_time(e.occurred_at, "short"))
            for e in entries]
