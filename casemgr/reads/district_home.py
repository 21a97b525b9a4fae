"""The district admin's home (issue 14, item 1): the district's state that needs its data
steward: the last imports and how they ended, agreements ending within 60 days, partner
staff the compliance rules keep from student records, the families' correction requests
open across schools, and accounts invited but not yet accepted.

Each list is one statement that also counts every match (a window count before the
limit), so the page reads five statements whatever the district's size.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from casemgr import policy, staff_policy
from casemgr.extensions import db
from casemgr.models import (
    AmendmentRequest,
    DataSharingAgreement,
    ImportBatch,
    Organization,
    ServiceAgreement,
    Student,
    User,
)
from casemgr.models.enums import PARTNER_STAFF
from casemgr.services import amendments

IMPORTS_SHOWN = 5
SHOWN = 10
AGREEMENTS_ENDING_WITHIN = timedelta(days=60)
COMPLIANCE_LABELS = {
    "confidentiality": "has not signed the confidentiality agreement",
    "ferpa_training": "has not completed FERPA training",
    "ferpa_expired": "FERPA training more than 12 months old",
}


@dataclass
class Listing:
    """The first rows of a list and how many there are in all."""

    rows: list = field(default_factory=list)
    total: int = 0


@dataclass(frozen=True)
class EndingAgreement:
    kind: str  # "sharing" or "service"
    uuid: uuid.UUID
    organization: str
    ends_on: date


@dataclass(frozen=True)
class BlockedStaff:
    uuid: uuid.UUID
    name: str
    role: str
    organization: str
    missing: str

    @property
    def reason(self) -> str:
        return COMPLIANCE_LABELS[self.missing]


@dataclass(frozen=True)
class Correction:
    uuid: uuid.UUID
    student_id: int
    student_uuid: uuid.UUID
    student_name: str
    school: str
    asked_at: datetime


@dataclass(frozen=True)
class Invited:
    uuid: uuid.UUID
    name: str
    role: str
    organization: str
    invited_at: datetime


@dataclass
class DistrictHome:
    imports: list[ImportBatch]
    agreements: Listing
    blocked: Listing
    corrections: Listing
    invited: Listing

    @property
    def student_ids(self) -> list[int]:
        return sorted({row.student_id for row in self.corrections.rows})


def _listing(query: sa.Select, limit: int, build) -> Listing:
    rows = db.session.execute(query.add_columns(sa.func.count().over().label("total")).limit(limit)).all()
    return Listing([build(row) for row in rows], rows[0].total if rows else 0)


def last_imports(district_id: int) -> list[ImportBatch]:
    return list(db.session.scalars(
        sa.select(ImportBatch).where(ImportBatch.district_id == district_id)
        .order_by(ImportBatch.started_at.desc(), ImportBatch.id.desc()).limit(IMPORTS_SHOWN)
    ))


def agreements_ending(district_id: int, today: date) -> Listing:
    """Data-sharing and service agreements in force that end within 60 days, soonest first."""
    def in_force(model):
        return sa.and_(model.district_id == district_id, model.starts_on <= today, model.ends_on >= today,
                       sa.or_(model.ended_on.is_(None), model.ended_on > today),
                       model.ends_on <= today + AGREEMENTS_ENDING_WITHIN)

    both = sa.union_all(*(
        sa.select(sa.literal(kind).label("kind"), model.uuid, model.organization_id, model.ends_on).where(in_force(model))
        for kind, model in (("sharing", DataSharingAgreement), ("service", ServiceAgreement))
    )).subquery()
    query = (sa.select(both.c.kind, both.c.uuid, Organization.name, both.c.ends_on)
             .join(Organization, Organization.id == both.c.organization_id)
             .order_by(both.c.ends_on, Organization.name, both.c.kind))
    return _listing(query, SHOWN, lambda row: EndingAgreement(row.kind, row.uuid, row.name, row.ends_on))


def blocked_staff(district_id: int, today: date) -> Listing:
    """Active staff of the partners the district shares data with (an agreement in
    force) who may see no student record until their compliance dates are recorded."""
    missing = policy.compliance_missing(today)
    partners = sa.select(DataSharingAgreement.organization_id).where(
        DataSharingAgreement.district_id == district_id, policy.agreement_in_force(today))
    query = (
        sa.select(User.uuid, User.full_name, User.role, Organization.name, missing.label("missing"))
        .join(Organization, Organization.id == User.organization_id)
        .where(User.active.is_(True), User.role.in_([str(role) for role in PARTNER_STAFF]),
               User.organization_id.in_(partners), missing.is_not(None))
        .order_by(Organization.name, User.full_name, User.id)
    )
    return _listing(query, SHOWN, lambda row: BlockedStaff(row.uuid, row.full_name, row.role, row.name, row.missing))


def corrections_open(user: User) -> Listing:
    """The families' correction requests not yet answered, across the district's schools,
    the longest waiting first."""
    query = (
        amendments.open_query(user)
        .with_only_columns(AmendmentRequest.uuid, AmendmentRequest.created_at, Student.id.label("student_id"),
                           Student.uuid.label("student_uuid"), Student.preferred_name, Student.first_name,
                           Student.last_name, Organization.name.label("school"))
        .join(Organization, Organization.id == Student.school_id)
        .order_by(AmendmentRequest.created_at, AmendmentRequest.id)
    )
    return _listing(query, SHOWN, lambda row: Correction(
        row.uuid, row.student_id, row.student_uuid, f"{row.preferred_name or row.first_name} {row.last_name}",
        row.school, row.created_at))


def invitations_waiting(user: User) -> Listing:
    """Accounts the admin manages that were invited and have not yet set a password,
    the oldest invitation first."""
    query = (
        sa.select(User.uuid, User.full_name, User.role, Organization.name, User.created_at)
        .join(Organization, Organization.id == User.organization_id)
        .where(staff_policy.managed_users(user), User.active.is_(True), User.password_hash.is_(None))
        .order_by(User.created_at, User.id)
    )
    return _listing(query, SHOWN, lambda row: Invited(row.uuid, row.full_name, row.role, row.name, row.created_at))


def load_district_home(user: User, today: date) -> DistrictHome:
    district_id = user.organization_id
    return DistrictHome(
        imports=last_imports(district_id),
        agreements=agreements_ending(district_id, today),
        blocked=blocked_staff(district_id, today),
        corrections=corrections_open(user),
        invited=invitations_waiting(user),
    )
