"""What partners have given students (issue 17): dosage per student and program, the
program groups of an organization, and a group's attendance sheet for a day.

Dosage counts the contacts attended in the school year under way (of the student's own
district), and in the current month: sessions, hours, the first and the last contact.
It is the `services` category: callers show it only where the policy lets the reader see
that category for the student, and log it so.
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
import sqlalchemy.orm
from sqlalchemy.dialects.postgresql import aggregate_order_by, distinct_on

from casemgr import policy
from casemgr.extensions import db
from casemgr.models import (
    Organization,
    ProgramGroup,
    ProgramGroupMember,
    SchoolYear,
    ServiceContact,
    Student,
    User,
)
from casemgr.models.enums import PARTNER_STAFF, Category
from casemgr.services import contacts as contact_service


def hours(minutes: int) -> Decimal:
    """Minutes as hours to one decimal place, as the pages show them."""
    return (Decimal(minutes) / 60).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Dosage:
    """One student's contacts with one program (an organization's service)."""

    student_id: int
    organization_id: int
    organization: str
    service: str
    sessions: int  # this school year
    minutes: int
    first_on: date
    last_on: date
    sessions_month: int  # this calendar month
    minutes_month: int

    @property
    def hours(self) -> Decimal:
        return hours(self.minutes)

    @property
    def hours_month(self) -> Decimal:
        return hours(self.minutes_month)


def current_years(today: date) -> sa.Subquery:
    """Each district's school year under way on `today` (the latest begun by then)."""
    return (
        sa.select(SchoolYear.district_id, SchoolYear.starts_on, SchoolYear.ends_on)
        .where(SchoolYear.starts_on <= today)
        .ext(distinct_on(SchoolYear.district_id))
        .order_by(SchoolYear.district_id, SchoolYear.starts_on.desc())
        .subquery("year")
    )


def dosage(student_ids: Iterable[int], today: date, organization_id: int | None = None) -> dict[int, list[Dosage]]:
    """Each student's programs this school year, with dosage, by student; one statement.
    With `organization_id`, only that organization's programs."""
    ids = list(student_ids)
    if not ids:
        return {}
    year = current_years(today)
    c = ServiceContact
    month_start = today.replace(day=1)
    this_month = c.contact_on >= month_start
    query = (
        sa.select(
            c.student_id, c.organization_id, Organization.name, c.service,
            sa.func.count(), sa.func.sum(c.minutes), sa.func.min(c.contact_on), sa.func.max(c.contact_on),
            sa.func.count().filter(this_month), sa.func.coalesce(sa.func.sum(c.minutes).filter(this_month), 0),
        )
        .join(Student, Student.id == c.student_id)
        .join(year, year.c.district_id == Student.district_id)
        .join(Organization, Organization.id == c.organization_id)
        .where(c.student_id.in_(ids), c.attended, c.contact_on >= year.c.starts_on,
               c.contact_on <= sa.func.least(year.c.ends_on, today))
        .group_by(c.student_id, c.organization_id, Organization.name, c.service)
        .order_by(c.student_id, sa.func.sum(c.minutes).desc(), Organization.name, c.service)
    )
    if organization_id is not None:
        query = query.where(c.organization_id == organization_id)
    found: dict[int, list[Dosage]] = defaultdict(list)
    for row in db.session.execute(query):
        found[row[0]].append(Dosage(*row))
    return dict(found)


def served_column(student_id: sa.ColumnElement[int], starts_on: date, ends_on: date) -> sa.ScalarSelect:
    """For a list's select: the programs that served the student between the days, as a
    JSON array of [organization, service, minutes], the most hours first (NULL: none)."""
    c = ServiceContact
    programs = (
        sa.select(c.organization_id, c.service, sa.func.sum(c.minutes).label("minutes"))
        .where(c.student_id == student_id, c.attended, c.contact_on >= starts_on, c.contact_on <= ends_on)
        .group_by(c.organization_id, c.service)
        .correlate_except(c)
        .subquery("programs")
    )
    return (
        sa.select(sa.func.jsonb_agg(aggregate_order_by(
            sa.func.jsonb_build_array(Organization.name, programs.c.service, programs.c.minutes),
            programs.c.minutes.desc())))
        .select_from(programs.join(Organization, Organization.id == programs.c.organization_id))
        .correlate_except(programs, Organization)
        .scalar_subquery()
    )


def recent_contacts(student_id: int, viewer: User, limit: int = 10) -> list[tuple[ServiceContact, str, str | None]]:
    """The student's latest contacts, with the organization's name and the group's name;
    a partner's staff read only their own organization's group names (a group's name can
    say more than the service: a recovery circle)."""
    own_groups = sa.or_(sa.literal(viewer.role_enum not in PARTNER_STAFF),
                        ServiceContact.organization_id == viewer.organization_id)
    return db.session.execute(
        sa.select(ServiceContact, Organization.name, sa.case((own_groups, ProgramGroup.name)))
        .join(Organization, Organization.id == ServiceContact.organization_id)
        .outerjoin(ProgramGroup, ProgramGroup.id == ServiceContact.group_id)
        .where(ServiceContact.student_id == student_id)
        .order_by(ServiceContact.contact_on.desc(), ServiceContact.id.desc())
        .limit(limit)
    ).all()


# --- program groups ------------------------------------------------------------------------

@dataclass(frozen=True)
class GroupRow:
    group: ProgramGroup
    members: int
    last_session: date | None


def groups_of(user: User, include_ended: bool = False) -> list[GroupRow]:
    """The user's organization's groups, by name, with their size and last session."""
    members = (sa.select(sa.func.count()).where(ProgramGroupMember.group_id == ProgramGroup.id)
               .correlate(ProgramGroup).scalar_subquery())
    last = (sa.select(sa.func.max(ServiceContact.contact_on)).where(ServiceContact.group_id == ProgramGroup.id)
            .correlate(ProgramGroup).scalar_subquery())
    query = (sa.select(ProgramGroup, members, last).options(sa.orm.selectinload(ProgramGroup.leader))
             .where(ProgramGroup.organization_id == user.organization_id)
             .order_by(ProgramGroup.archived_on.is_not(None), sa.func.lower(ProgramGroup.name)))
    if not include_ended:
        query = query.where(ProgramGroup.archived_on.is_(None))
    return [GroupRow(*row) for row in db.session.execute(query)]


@dataclass(frozen=True)
class SheetRow:
    student_uuid: uuid.UUID
    student_id: int
    name: str
    attended: bool | None  # None: not taken yet for the day
    grade_label: str | None  # where the user sees the student's identity: two of the same name told apart


@dataclass(frozen=True)
class Sheet:
    group: ProgramGroup
    day: date
    rows: list[SheetRow]
    minutes: int  # as recorded for the day, else the group's usual length
    taken: bool

    @property
    def members(self) -> dict[uuid.UUID, int]:
        return {row.student_uuid: row.student_id for row in self.rows}

    @property
    def present(self) -> int:
        return sum(1 for row in self.rows if row.attended)


def attendance_sheet(user: User, group: ProgramGroup, day: date, today: date) -> Sheet:
    """The group's members whose session of `day` can be recorded (`members_on`: their
    names, as the roster shows them; their grade where the user sees their identity),
    each with what was recorded for `day`; one statement."""
    recorded = sa.orm.aliased(ServiceContact)
    rows = db.session.execute(
        sa.select(Student.uuid, Student.id, Student.preferred_name, Student.first_name, Student.last_name,
                  recorded.attended, recorded.minutes, Student.grade,
                  policy.basis_column(user, Category.IDENTITY, today).label("identity"))
        .join(ProgramGroupMember, ProgramGroupMember.student_id == Student.id)
        .outerjoin(recorded, sa.and_(recorded.group_id == ProgramGroupMember.group_id,
                                     recorded.student_id == Student.id, recorded.contact_on == day))
        .where(ProgramGroupMember.group_id == group.id, policy.contact_scope(user, today),
               Student.id.in_(contact_service.members_on(group, day)))
        .order_by(Student.last_name, Student.first_name, Student.id)
    ).all()
    taken_minutes = next((r.minutes for r in rows if r.minutes is not None), None)
    return Sheet(
        group=group, day=day,
        rows=[SheetRow(r.uuid, r.id, f"{r.preferred_name or r.first_name} {r.last_name}", r.attended,
                       Student(grade=r.grade).grade_label if r.identity else None) for r in rows],
        minutes=taken_minutes or group.session_minutes, taken=taken_minutes is not None)


class Choice(NamedTuple):
    uuid: uuid.UUID
    name: str
    id: int  # for the log of the names a page shows


def roster_choices(user: User, today: date) -> list[Choice]:
    """The students the user may record a contact for, by name, for the form's list."""
    return [Choice(r.uuid, f"{r.preferred_name or r.first_name} {r.last_name}", r.id) for r in db.session.execute(
        sa.select(Student.uuid, Student.preferred_name, Student.first_name, Student.last_name, Student.id)
        .where(policy.contact_scope(user, today))
        .order_by(Student.last_name, Student.first_name, Student.id))]


def member_uuids(group: ProgramGroup) -> set[uuid.UUID]:
    return set(db.session.scalars(
        sa.select(Student.uuid).join(ProgramGroupMember, ProgramGroupMember.student_id == Student.id)
        .where(ProgramGroupMember.group_id == group.id)))
