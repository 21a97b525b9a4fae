"""Appending to the disclosure log (SPEC §4 rule 6, FERPA 34 CFR 99.32).

Each request keeps a ledger of the students it has logged (`logged_in_request`), so
that the one check at the edge of every response (casemgr/views/disclosure_guard.py)
can log any student a page names without having logged them itself. An entry rolled
back leaves the ledger with its transaction.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import g, has_request_context, request
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, aggregate_order_by

from casemgr import policy
from casemgr.extensions import db
from casemgr.models import DisclosureEntry, Student, User
from casemgr.models.enums import Category, DisclosureAction

# the reason of an entry for a student's name on a page that shows no category of their
# record to this user: a name on a partner's roster without consent, a parent's child
# who now decides for themself
NAME_ONLY = "the name only"
# the reasons of the entries of a request for consent (`log_consent_ask`)
CONSENT_ASKED = "asked the school to request a consent"
CONSENT_ASK_HANDLED = "request for a consent handled by the school"


@dataclass
class Ledger:
    """The students this request has logged: committed, and not yet committed."""

    committed: set[int] = field(default_factory=set)
    pending: set[int] = field(default_factory=set)
    loaded: set[int] = field(default_factory=set)  # students the request read from the database


def ledger() -> Ledger | None:
    if not has_request_context():
        return None
    if "disclosure_ledger" not in g:
        g.disclosure_ledger = Ledger()
    return g.disclosure_ledger


def logged_in_request() -> set[int]:
    kept = ledger()
    return kept.committed | kept.pending if kept else set()


def _mark(student_ids: Iterable[int | None]) -> None:
    kept = ledger()
    if kept is not None:
        kept.pending.update(i for i in student_ids if i is not None)


def transaction_committed() -> None:
    kept = ledger()
    if kept is not None:
        kept.committed |= kept.pending
        kept.pending.clear()


def transaction_rolled_back() -> None:
    kept = ledger()
    if kept is not None:
        kept.pending.clear()


def _path() -> str | None:
    return request.full_path.rstrip("?")[:500] if has_request_context() else None


def log_view(
    user: User,
    student: Student,
    visible: Mapping[Category, str],
    action: DisclosureAction = DisclosureAction.VIEW,
) -> DisclosureEntry:
    """An allowed read of `visible` categories (basis per category)."""
    entry = DisclosureEntry(
        user_id=user.id,
        organization_id=user.organization_id,
        student_id=student.id,
        action=str(action),
        categories=[str(c) for c in sorted(visible)],
        basis={str(c): basis for c, basis in visible.items()},
        allowed=True,
        request_path=_path(),
    )
    db.session.add(entry)
    _mark([entry.student_id])
    return entry


def log_denied(
    user: User,
    student: Student | None,
    reason: str,
    categories: Iterable[Category] = (),
) -> DisclosureEntry:
    entry = DisclosureEntry(
        user_id=user.id,
        organization_id=user.organization_id,
        student_id=student.id if student is not None else None,
        action=str(DisclosureAction.DENIED),
        categories=[str(c) for c in sorted(categories)],
        basis={},
        allowed=False,
        reason=reason,
        request_path=_path(),
    )
    db.session.add(entry)
    _mark([entry.student_id])
    return entry


def _one_or_list(student_id: sa.ColumnElement[int]) -> tuple[sa.ColumnElement, sa.ColumnElement]:
    """(student_id, student_ids) of a group of students: a group of one is an entry like
    a view of one record, a larger group names its students in order."""
    one = sa.func.count() == 1
    return (sa.case((one, sa.func.min(student_id))),
            sa.case((~one, sa.func.array_agg(aggregate_order_by(student_id, student_id)))))


def log_list_view(user: User, student_ids: Iterable[int], categories: Iterable[Category], basis: str,
                  action: DisclosureAction = DisclosureAction.VIEW) -> None:
    """A list page (or its export: `action`) showing some categories of many students: one entry naming them all
    (`student_ids`; `student_id` when the list is of one), or one per district when they
    span districts, so that each entry is in one district's chain; a single INSERT …
    SELECT writes them in the order of their districts' chains."""
    ids = sorted(set(student_ids))
    if not ids:
        return
    _mark(ids)
    shown = [str(c) for c in sorted(categories)]
    _insert_list_entries(
        sa.select(*_list_entry(user, Student.id, sa.literal(shown, ARRAY(sa.Text)),
                               sa.literal({c: basis for c in shown}, JSONB), action))
        .where(Student.id.in_(ids)).group_by(Student.district_id).order_by(Student.district_id)
    )


def _list_entry(user: User, student_id: sa.ColumnElement[int], categories: sa.ColumnElement,
                basis: sa.ColumnElement, action: DisclosureAction = DisclosureAction.VIEW) -> list[sa.ColumnElement]:
    """The columns of a list entry (`LIST_ENTRY_COLUMNS`) grouping `student_id`."""
    return [sa.literal(user.id), sa.literal(user.organization_id), *_one_or_list(student_id),
            sa.literal(str(action)), categories, basis, sa.true(), sa.literal(_path(), sa.String)]


LIST_ENTRY_COLUMNS = ["user_id", "organization_id", "student_id", "student_ids", "action", "categories", "basis",
                      "allowed", "request_path"]


def _insert_list_entries(select: sa.Select) -> None:
    db.session.execute(sa.insert(DisclosureEntry).from_select(LIST_ENTRY_COLUMNS, select))


# one list entry per district and kind (categories and bases) of the students given as
# parallel arrays, the kinds as a JSON array; a text statement, so that nothing of it is
# compiled again for each page's own students
LIST_VIEWS_SQL = sa.text("""
INSERT INTO disclosure_log (user_id, organization_id, student_id, student_ids, action, categories, basis, allowed,
                            reason, request_path)
SELECT :user_id, :organization_id,
       CASE WHEN count(*) = 1 THEN min(m.student_id) END,
       CASE WHEN count(*) <> 1 THEN array_agg(m.student_id ORDER BY m.student_id) END,
       :action, k.categories, k.basis, true, k.reason, :request_path
FROM unnest(CAST(:student_ids AS integer[]), CAST(:kind_of AS integer[])) AS m(student_id, kind)
JOIN students s ON s.id = m.student_id
JOIN (SELECT (x.n - 1)::integer AS kind,
             ARRAY(SELECT jsonb_array_elements_text(x.e -> 'categories')) AS categories,
             x.e -> 'basis' AS basis, x.e ->> 'reason' AS reason
      FROM jsonb_array_elements(CAST(:kinds AS jsonb)) WITH ORDINALITY AS x(e, n)) k ON k.kind = m.kind
GROUP BY s.district_id, k.kind, k.categories, k.basis, k.reason
ORDER BY s.district_id, k.kind
""")


def log_list_views(user: User, shown: Mapping[int, Mapping[Category, str]], names_only: Iterable[int] = ()) -> None:
    """A list page showing each student's own categories on their own bases (a partner's
    staff see each student under that student's consent): one list entry for each set of
    categories and bases shown and each district, all written by one INSERT … SELECT. A
    student shown no category is not logged here, unless the page names them
    (`names_only`: a name on a partner's roster without consent), which the same
    statement logs as the edge of the response would (`log_names_shown`): the name only."""
    groups: dict[tuple, list[int]] = {}
    for student_id, categories in shown.items():
        if categories:
            key = tuple(sorted((str(c), basis) for c, basis in categories.items()))
            groups.setdefault(key, []).append(student_id)
    keys = sorted(groups)
    kinds = [{"categories": [c for c, _ in key], "basis": dict(key)} for key in keys]
    members = [(student_id, index) for index, key in enumerate(keys) for student_id in sorted(groups[key])]
    named = sorted(set(names_only) - {m[0] for m in members})
    if named:
        kinds.append({"categories": [], "basis": {}, "reason": NAME_ONLY})
        members += [(student_id, len(keys)) for student_id in named]
    if not members:
        return
    _mark(m[0] for m in members)
    db.session.execute(LIST_VIEWS_SQL, {
        "user_id": user.id, "organization_id": user.organization_id, "action": str(DisclosureAction.VIEW),
        "request_path": _path(), "student_ids": [m[0] for m in members], "kind_of": [m[1] for m in members],
        "kinds": json.dumps(kinds),
    })


def log_referral(
    user: User,
    student: Student,
    organization_id: int,
    shared: Mapping[Category, str],
    step: str,
) -> DisclosureEntry:
    """A step of a referral (sent, consent recorded, accepted, declined, closed): the
    entry names the receiving organization, whoever took the step, so the log of what
    went to that organization is complete. `shared` is what the organization may see
    through the referral after the step (nothing while it awaits family consent), and
    `reason` says which step it was."""
    entry = DisclosureEntry(
        user_id=user.id,
        organization_id=organization_id,
        student_id=student.id,
        action=str(DisclosureAction.REFERRAL),
        categories=[str(c) for c in sorted(shared)],
        basis={str(c): basis for c, basis in shared.items()},
        allowed=True,
        reason=step,
        request_path=_path(),
    )
    db.session.add(entry)
    _mark([entry.student_id])
    return entry


def log_roster_change(user: User, student: Student, what: str) -> DisclosureEntry:
    """A student added to or removed from an organization's roster: it decides whether
    the organization's staff see the student's name, though it shows no category by
    itself. `reason` says what changed."""
    return _log_step(user, student, what)


def log_consent_ask(user: User, student: Student, what: str) -> DisclosureEntry:
    """A request that the school ask the family for a consent, or the school's answer to
    one (`what`, starting with `CONSENT_ASKED` or `CONSENT_ASK_HANDLED`): it shows no
    category, and the family reads that it was made."""
    return _log_step(user, student, what)


def _log_step(user: User, student: Student, what: str) -> DisclosureEntry:
    entry = DisclosureEntry(
        user_id=user.id,
        organization_id=user.organization_id,
        student_id=student.id,
        action=str(DisclosureAction.VIEW),
        categories=[],
        basis={},
        allowed=True,
        reason=what,
        request_path=_path(),
    )
    db.session.add(entry)
    _mark([entry.student_id])
    return entry


def log_names_shown(user: User, student_ids: Iterable[int]) -> None:
    """Students a page named without logging them itself, in a single INSERT … SELECT:
    their identity on the basis on which the user sees it, or, where the user sees no
    category of theirs, the name only (`NAME_ONLY`). One entry per district and basis
    naming its students (`student_ids`, or `student_id` for one): one entry for school
    staff, whose basis is the same for every student; one per consent for a partner's
    staff."""
    ids = sorted(set(student_ids))
    if not ids:
        return
    _mark(ids)
    named = sa.select(
        Student.id, Student.district_id, policy.basis_column(user, Category.IDENTITY).label("basis")
    ).where(Student.id.in_(ids)).subquery()
    seen = named.c.basis.is_not(None)
    identity = str(Category.IDENTITY)
    db.session.execute(
        sa.insert(DisclosureEntry).from_select(
            ["user_id", "organization_id", "student_id", "student_ids", "action", "categories", "basis", "allowed",
             "reason", "request_path"],
            sa.select(
                sa.literal(user.id),
                sa.literal(user.organization_id),
                *_one_or_list(named.c.id),
                sa.literal(str(DisclosureAction.VIEW)),
                sa.case((seen, sa.literal([identity], ARRAY(sa.Text))), else_=sa.literal([], ARRAY(sa.Text))),
                sa.case((seen, sa.func.jsonb_build_object(identity, named.c.basis)), else_=sa.literal({}, JSONB)),
                sa.true(),
                sa.case((seen, sa.null()), else_=sa.literal(NAME_ONLY, sa.Text)),
                sa.literal(_path(), sa.String),
            ).group_by(named.c.district_id, named.c.basis).order_by(named.c.district_id, named.c.basis),
        )
    )
