"""In-app notices (issue 5, item 4): what is new for a member of staff since they last
opened their notices, as a count in the navigation and a list.

Who is told what:

* counselors and principals: notes they may read about their school's students, and
  every step of those students' referrals (sent, accepted, declined, closed...);
* teachers: notes they may read about the students of their sections;
* youth workers: notes they may read about students on their roster, which the
  family's consent decides;
* partner administrators: the same notes, and every step of a referral in their
  organization's inbox (a new referral, one the family has now consented to, a
  withdrawal by the school, a colleague's answer);
* district administrators (the data stewards, whose "students" are the whole
  district), families and researchers: none.

Nothing the user did themselves is new to them: their own notes and referral steps do
not count. Nothing here decides access: notes are filtered in SQL by the policy's
`visible_students(user, notes)` and `note_text_readable(user)`, referrals by
`visible_students(user, services)` (the school's referral list) or `referral_inbox`
(the partner's inbox), so a note the user may not read, or one whose consent has just
been revoked, is neither counted nor listed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy.orm import aliased

from casemgr import policy
from casemgr.clock import start_of, today
from casemgr.extensions import db
from casemgr.models import Note, Organization, Referral, ReferralEvent, Student, User
from casemgr.models.enums import Category, ReferralStatus, Role
from casemgr.services import disclosure

NOTE_NOTICES = frozenset({Role.PRINCIPAL, Role.COUNSELOR, Role.TEACHER, Role.PARTNER_ADMIN, Role.YOUTH_WORKER})
SCHOOL_REFERRAL_NOTICES = frozenset({Role.PRINCIPAL, Role.COUNSELOR})
INBOX_REFERRAL_NOTICES = frozenset({Role.PARTNER_ADMIN})
NOTICE_ROLES = NOTE_NOTICES | SCHOOL_REFERRAL_NOTICES | INBOX_REFERRAL_NOTICES

COUNT_SHOWN_UP_TO = 99  # then "99+"
FIRST_VISIT_LOOKBACK = timedelta(days=30)  # "new" for someone who never opened their notices
PAGE_SIZE = 25
NOTE, REFERRAL = "note", "referral"
# the step a notice is about, apart from the policy's own subqueries on referral_events
Step = aliased(ReferralEvent, name="step")

STEP_LABELS = {
    ReferralStatus.AWAITING_CONSENT: "referral waiting for family consent",
    ReferralStatus.SENT: "referral sent",
    ReferralStatus.ACCEPTED: "referral accepted",
    ReferralStatus.DECLINED: "referral declined",
    ReferralStatus.CLOSED: "referral closed",
}


def has_notices(user: User) -> bool:
    return user.is_authenticated and user.role_enum in NOTICE_ROLES


def default_since(user: User) -> datetime:
    """Where "new" starts: the user's last visit to their notices, or, before their
    first, the start of the district's day 30 days ago (the same all day, so the
    statements that count them can be reused). Fixed once per request, so the count and
    the list agree."""
    if user.notices_seen_at is not None:
        return user.notices_seen_at
    cache = g.setdefault("notices_since", {}) if has_request_context() else {}
    if user.id not in cache:
        cache[user.id] = start_of(today() - FIRST_VISIT_LOOKBACK)
    return cache[user.id]


# --- what is new, in SQL ---------------------------------------------------------------


def _note_notices(user: User, day: date, since: datetime, until) -> sa.Select | None:
    """(kind, id, at) of the notes the user may read about their students, by others."""
    if user.role_enum not in NOTE_NOTICES:
        return None
    where = [
        policy.visible_students(user, Category.NOTES, day),
        policy.note_text_readable(user),
        Note.author_id != user.id,
        Note.created_at > since,
    ]
    if until is not None:
        where.append(Note.created_at <= until)
    return (
        sa.select(sa.literal(NOTE).label("kind"), Note.id.label("id"), Note.created_at.label("at"))
        .join(Student, Student.id == Note.student_id)
        .where(*where)
    )


def _referral_scope(user: User, day: date) -> sa.ColumnElement[bool] | None:
    """The referrals whose steps the user is told about (on `Referral` joined to `Student`)."""
    if user.role_enum in SCHOOL_REFERRAL_NOTICES:
        return policy.visible_students(user, Category.SERVICES, day)
    if user.role_enum in INBOX_REFERRAL_NOTICES:
        return policy.referral_inbox(user, day)
    return None


def _referral_notices(user: User, day: date, since: datetime, until) -> sa.Select | None:
    """(kind, id, at) of the steps of the referrals the user follows, taken by others."""
    scope = _referral_scope(user, day)
    if scope is None:
        return None
    where = [
        scope,
        sa.or_(Step.by_user_id.is_(None), Step.by_user_id != user.id),
        Step.created_at > since,
    ]
    if until is not None:
        where.append(Step.created_at <= until)
    return (
        sa.select(sa.literal(REFERRAL).label("kind"), Step.id.label("id"), Step.created_at.label("at"))
        .join(Referral, Referral.id == Step.referral_id)
        .join(Student, Student.id == Referral.student_id)
        .where(*where)
    )


def _sources(user: User, day: date, since: datetime, until) -> list[sa.Select]:
    found = (_note_notices(user, day, since, until), _referral_notices(user, day, since, until))
    return [source for source in found if source is not None]


def _union(selects: list[sa.Select]) -> sa.Subquery:
    return (selects[0] if len(selects) == 1 else sa.union_all(*selects)).subquery("notices")


# --- the count in the navigation ---------------------------------------------------------


def notice_count_query(user: User, day: date) -> sa.Select | None:
    """The count of new notices, up to COUNT_SHOWN_UP_TO + 1 ("99+"), each source
    stopping at that many rows; None when the user has no source of notices. "New" is
    what the page lists: (since, now], so a notice stamped later than now is counted
    only once the page can list it, and mark it seen."""
    sources = _sources(user, day, default_since(user), sa.func.now())
    if not sources:
        return None
    limited = [source.limit(COUNT_SHOWN_UP_TO + 1) for source in sources]
    return sa.select(sa.func.count()).select_from(_union(limited))


def notice_count(user: User, day: date) -> int:
    """How many notices are new, up to COUNT_SHOWN_UP_TO + 1 ("99+"): one query."""
    query = notice_count_query(user, day)
    return 0 if query is None else db.session.scalar(query)


def count_label(count: int) -> str:
    return f"{COUNT_SHOWN_UP_TO}+" if count > COUNT_SHOWN_UP_TO else str(count)


def badge(user: User, day: date) -> str | None:
    """The navigation's count ("3", "99+"), or None when nothing is new: counted once
    per request, and not at all for an error page of a failed request."""
    if not has_notices(user) or g.get("notices_unavailable"):
        return None
    if "notice_count" not in g:
        g.notice_count = notice_count(user, day)
    return count_label(g.notice_count) if g.notice_count else None


def remember_count(count: int) -> None:
    """The notices page has just counted what is new: the navigation need not again."""
    g.notice_count = count


# --- the list -------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteNotice:
    note: Note
    student: Student
    author_role: Role
    organization: str
    shared: dict[Category, str]  # what the item shows of the student, with the basis
    kind: str = NOTE

    @property
    def at(self) -> datetime:
        return self.note.created_at


@dataclass(frozen=True)
class ReferralNotice:
    event: ReferralEvent
    referral: Referral
    student: Student
    organization: str  # the receiving organization
    school: str
    by_role: Role | None
    by_organization: str | None
    shared: dict[Category, str]
    in_inbox: bool  # shown as the partner's inbox shows it: named only when consent allows
    kind: str = REFERRAL

    @property
    def at(self) -> datetime:
        return self.event.created_at

    @property
    def named(self) -> bool:
        return Category.IDENTITY in self.shared

    @property
    def step(self) -> str:
        return STEP_LABELS[ReferralStatus(self.event.status)]


@dataclass
class NoticesPage:
    items: list[NoteNotice | ReferralNotice]
    total: int
    page: int
    pages: int
    since: datetime
    until: datetime


def notices_page(user: User, day: date, page: int = 1, since: datetime | None = None,
                 until: datetime | None = None) -> NoticesPage:
    """A page of the notices in (since, until], newest first. Without a window it is
    (the user's last visit, now]: the links to further pages carry it, so opening the
    first page (which marks everything up to `until` seen) leaves the others as they
    were. A fixed number of queries, whatever the page holds."""
    since = since or default_since(user)
    # up to the start of this request's transaction as PostgreSQL sees it, never later:
    # a link cannot mark as seen what has not been written yet
    now = sa.func.now()
    upper = now if until is None else sa.func.least(sa.literal(until, sa.DateTime(timezone=True)), now)
    sources = _sources(user, day, since, upper)
    if not sources:
        return NoticesPage([], 0, 1, 1, since, datetime.now(UTC))
    union = _union(sources)
    total, until = db.session.execute(sa.select(sa.func.count(), upper).select_from(union)).one()
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(max(page, 1), pages)
    rows = db.session.execute(
        sa.select(union.c.kind, union.c.id)
        .order_by(union.c.at.desc(), union.c.kind, union.c.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    notes = _load_notes(user, day, [row.id for row in rows if row.kind == NOTE])
    referrals = _load_referral_steps(user, day, [row.id for row in rows if row.kind == REFERRAL])
    items = [(notes if row.kind == NOTE else referrals)[row.id] for row in rows]
    return NoticesPage(items, total, page, pages, since, until)


def _bases(row, categories) -> dict[Category, str]:
    return {c: row._mapping[f"basis_{c}"] for c in categories if row._mapping[f"basis_{c}"] is not None}


def _load_notes(user: User, day: date, ids: list[int]) -> dict[int, NoteNotice]:
    if not ids:
        return {}
    shown = (Category.IDENTITY, Category.NOTES)
    bases = [policy.basis_column(user, c, day).label(f"basis_{c}") for c in shown]
    rows = db.session.execute(
        sa.select(Note, Student, User.role, Organization.name, *bases)
        .join(Student, Student.id == Note.student_id)
        .join(User, User.id == Note.author_id)
        .join(Organization, Organization.id == Note.organization_id)
        .where(Note.id.in_(ids))
    )
    return {row[0].id: NoteNotice(row[0], row[1], Role(row[2]), row[3], _bases(row, shown)) for row in rows}


def _load_referral_steps(user: User, day: date, ids: list[int]) -> dict[int, ReferralNotice]:
    """The steps, with what the user may see of each referral's student: the school's
    staff see it as a school official; the partner administrator as the inbox shows it
    (`policy.referral_basis_column`), without the name before the family consents."""
    if not ids:
        return {}
    shown = (Category.IDENTITY, Category.SERVICES)
    in_inbox = user.role_enum in INBOX_REFERRAL_NOTICES
    basis = policy.referral_basis_column if in_inbox else policy.basis_column
    bases = [basis(user, c, day).label(f"basis_{c}") for c in shown]
    receiver, school, by, by_organization = aliased(Organization), aliased(Organization), aliased(User), aliased(Organization)
    rows = db.session.execute(
        sa.select(Step, Referral, Student, receiver.name, school.name, by.role, by_organization.name, *bases)
        .join(Referral, Referral.id == Step.referral_id)
        .join(Student, Student.id == Referral.student_id)
        .join(receiver, receiver.id == Referral.organization_id)
        .join(school, school.id == Student.school_id)
        .outerjoin(by, by.id == Step.by_user_id)
        .outerjoin(by_organization, by_organization.id == by.organization_id)
        .where(Step.id.in_(ids))
    )
    return {
        row[0].id: ReferralNotice(row[0], row[1], row[2], row[3], row[4], Role(row[5]) if row[5] else None, row[6],
                                  _bases(row, shown), in_inbox)
        for row in rows
    }


def log_notices(user: User, page: NoticesPage) -> None:
    """One entry per student shown, with the categories shown of them on their basis:
    a note's notice shows that a note on a topic exists (`notes`) and the student's
    name; a referral's, the referral (`services`) and, when allowed, the name. A
    referral shown without a name discloses no student, as in the inbox."""
    shown: dict[int, tuple[Student, dict[Category, str]]] = {}
    for item in page.items:
        if isinstance(item, ReferralNotice) and not item.named:
            continue
        shown.setdefault(item.student.id, (item.student, {}))[1].update(item.shared)
    for student, categories in shown.values():
        disclosure.log_view(user, student, categories)


def mark_seen(user: User, until: datetime) -> None:
    """Everything up to `until` has been seen; never moves the mark back (two tabs)."""
    db.session.execute(
        sa.update(User)
        .where(User.id == user.id)
        .values(notices_seen_at=sa.func.greatest(sa.func.coalesce(User.notices_seen_at, until), until))
    )
