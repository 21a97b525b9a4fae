"""The district's search of its disclosure log (SPEC §4 rule 6): the query behind the
district admin's log page and its CSV export, the students a name or an ID finds, and
each entry's basis said once per legal ground.

A student is found by state or local ID (exact) or by name: every word of the search
the beginning of a first, last or preferred name, whatever the case and the accents
("jose" finds José, "ÁLV" finds Álvarez), among the district's own students only. The
accents are folded with translate() (the unaccent and pg_trgm extensions are not
relied on), so a name search scans the district's students (an ID search does not);
the students found are looked up once, and the log is then searched on its student
indexes.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased

from casemgr.extensions import db
from casemgr.models import DisclosureEntry, Organization, Student, User
from casemgr.models.enums import Category
from casemgr.text import fold, unaccented

STUDENTS_SHOWN = 10


@dataclass(frozen=True)
class LogSearch:
    """What the district admin searched for (already validated)."""

    district_id: int
    zone: str
    student: str = ""
    user_email: str = ""
    organization: uuid.UUID | None = None
    start: date | None = None
    end: date | None = None


def _folded(column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    return sa.func.lower(unaccented(column))


def student_matches(district_id: int, text: str) -> sa.Select:
    """The ids of the district's students whose state or local ID is `text`, or each of
    whose words begins one of their names (a search with a digit, such as an ID, is not
    a name: the ID indexes serve it alone)."""
    key = text.strip()
    conditions = [Student.state_id == key, Student.local_id == key]
    words = [fold(w).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
             for w in key.replace(",", " ").split()]
    if words and not any(c.isdigit() for c in key):
        conditions.append(sa.and_(*(
            sa.or_(*(_folded(column).like(f"{word}%", escape="\\")
                     for column in (Student.last_name, Student.first_name, Student.preferred_name)))
            for word in words)))
    return sa.select(Student.id).where(Student.district_id == district_id, sa.or_(*conditions))


def students_found(search: LogSearch) -> tuple[list[Student], bool]:
    """The first students (by name) a student search finds, and whether there are more."""
    found = list(db.session.scalars(
        sa.select(Student).where(Student.id.in_(student_matches(search.district_id, search.student)))
        .order_by(Student.last_name, Student.first_name, Student.id).limit(STUDENTS_SHOWN + 1)))
    return found[:STUDENTS_SHOWN], len(found) > STUDENTS_SHOWN


def _day_start(day: date, zone: str) -> datetime:
    return datetime.combine(day, time.min, ZoneInfo(zone))


def entries(search: LogSearch) -> sa.Select:
    """The district's entries about its students that the search keeps, newest first.
    The students are looked up first, the user and the organization inside the
    statement, so that the log is searched on its indexes."""
    query = (
        sa.select(DisclosureEntry)
        # the rows about the district's students: each is in its students' district's chain
        .where(DisclosureEntry.chain_district_id == search.district_id,
               sa.or_(DisclosureEntry.student_id.is_not(None), DisclosureEntry.student_ids.is_not(None)))
        .order_by(DisclosureEntry.occurred_at.desc(), DisclosureEntry.id.desc())
    )
    if search.student:
        # the students found first, in a statement of their own: the planner then knows
        # how few they are, and reads the log on its student indexes
        found = list(db.session.scalars(student_matches(search.district_id, search.student)))
        ids = sa.literal(found, ARRAY(sa.Integer))
        query = query.where(sa.or_(DisclosureEntry.student_id == sa.any_(ids), DisclosureEntry.student_ids.overlap(ids)))
    if search.user_email:
        who = sa.select(User.id).where(User.email == search.user_email.strip().lower()).scalar_subquery()
        query = query.where(DisclosureEntry.user_id == who)
    if search.organization:
        which = sa.select(Organization.id).where(Organization.uuid == search.organization).scalar_subquery()
        query = query.where(DisclosureEntry.organization_id == which)
    if search.start:
        query = query.where(DisclosureEntry.occurred_at >= _day_start(search.start, search.zone))
    if search.end:
        query = query.where(DisclosureEntry.occurred_at < _day_start(search.end + timedelta(days=1), search.zone))
    return query


def basis_groups(basis: dict[str, str]) -> list[tuple[str, list[str]]]:
    """An entry's basis, each ground once with its categories (in the order of SPEC §3):
    [("school_official", ["attendance", "grades"]), ("consent:…", ["notes"])]."""
    grounds: dict[str, list[str]] = {}
    for category in Category:
        if str(category) in (basis or {}):
            grounds.setdefault(basis[str(category)], []).append(str(category))
    return list(grounds.items())


def basis_summary(basis: dict[str, str], label_basis: Callable[[str], str],
                  label_category: Callable[[str], str]) -> str:
    """"school official" when every category was seen on one ground; otherwise each
    ground once with its categories: "school official (attendance); a family's consent
    to your organization (notes)"."""
    grounds = basis_groups(basis)
    if len(grounds) == 1:
        return label_basis(grounds[0][0])
    return "; ".join(f"{label_basis(ground)} ({', '.join(label_category(c) for c in categories)})"
                     for ground, categories in grounds)


EXPORT_COLUMNS = ("When", "Who", "Email", "Organization", "Student", "State ID", "Students listed", "Outcome",
                  "Reason", "Categories", "Basis")


def exported_students(search: LogSearch, limit: int) -> list[int]:
    """The students the export of a search names (its entries about one student), for
    the export's own entry in the log."""
    found = entries(search).limit(limit).subquery()
    return list(db.session.scalars(sa.select(found.c.student_id).where(found.c.student_id.is_not(None)).distinct()))


def export_rows(search: LogSearch, limit: int, label_basis: Callable[[str], str],
                label_category: Callable[[str], str]) -> Iterator[list[str]]:
    """The rows of the CSV export of a search, newest first, `limit` at most: one
    statement, streamed; the labels of categories and bases given by the caller."""
    found = entries(search).limit(limit).subquery()
    user, organization, student = aliased(User), aliased(Organization), aliased(Student)
    rows = db.session.execute(
        sa.select(sa.func.timezone(search.zone, found.c.occurred_at).label("at"), user.full_name, user.email,
                  organization.name.label("organization"), student.last_name, student.first_name, student.state_id,
                  sa.func.cardinality(found.c.student_ids).label("listed"), found.c.action, found.c.allowed,
                  found.c.reason, found.c.categories, found.c.basis)
        .outerjoin(user, user.id == found.c.user_id)
        .outerjoin(organization, organization.id == found.c.organization_id)
        .outerjoin(student, student.id == found.c.student_id)
        .order_by(found.c.occurred_at.desc(), found.c.id.desc())
        .execution_options(yield_per=1000))
    for r in rows:
        yield [
            f"{r.at:%Y-%m-%d %H:%M:%S}", r.full_name or "casemgr", r.email or "", r.organization or "",
            f"{r.last_name}, {r.first_name}" if r.last_name is not None else "", r.state_id or "",
            str(r.listed or ""), r.action.replace("_", " ") if r.allowed else "denied", r.reason or "",
            ", ".join(label_category(c) for c in r.categories), basis_summary(r.basis, label_basis, label_category),
        ]
