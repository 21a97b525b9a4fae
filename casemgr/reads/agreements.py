"""The district admin's agreements page: which service agreements can receive
referrals, and, before an agreement is ended, what ending it stops."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from casemgr import policy
from casemgr.extensions import db
from casemgr.models import (
    Consent,
    DataSharingAgreement,
    Referral,
    ServiceAgreement,
    Student,
    service_agreement_schools,
)
from casemgr.services.referrals import OPEN_STATUSES, in_force


def without_sharing_agreement(district_id: int, organization_ids: set[int], today: date) -> set[int]:
    """Of these organizations, those with no data-sharing agreement in force with the
    district: their service agreements, though running, can receive no referral."""
    if not organization_ids:
        return set()
    covered = db.session.scalars(
        sa.select(DataSharingAgreement.organization_id).where(
            DataSharingAgreement.district_id == district_id,
            DataSharingAgreement.organization_id.in_(organization_ids),
            policy.agreement_in_force(today),
        )
    )
    return organization_ids - set(covered)


@dataclass
class Ending:
    """What stops when `agreement` ends today."""

    agreement: DataSharingAgreement | ServiceAgreement
    students: int = 0  # whose records the organization's staff see today (consented, on its roster)
    open_referrals: int = 0  # to the organization, not yet closed (those the agreement covers)
    service_agreements: list[ServiceAgreement] = field(default_factory=list)  # left unable to receive referrals
    other_sharing: DataSharingAgreement | None = None  # another agreement in force: access goes on under it

    @property
    def sharing(self) -> bool:
        return isinstance(self.agreement, DataSharingAgreement)


def _open_referrals(agreement, *where) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Referral).join(Student, Student.id == Referral.student_id)
        .where(Referral.organization_id == agreement.organization_id, Student.district_id == agreement.district_id,
               Referral.status.in_([str(s) for s in OPEN_STATUSES]), *where)
    )


def ending(agreement: DataSharingAgreement | ServiceAgreement, today: date) -> Ending:
    """The consequences of ending `agreement` today, in a handful of counts."""
    if isinstance(agreement, ServiceAgreement):
        schools = sa.select(service_agreement_schools.c.school_id).where(
            service_agreement_schools.c.agreement_id == agreement.id)
        return Ending(agreement, open_referrals=_open_referrals(
            agreement, Referral.service.in_(agreement.services), Student.school_id.in_(schools)))
    organization_id = agreement.organization_id
    other = db.session.scalar(
        sa.select(DataSharingAgreement).where(
            DataSharingAgreement.district_id == agreement.district_id,
            DataSharingAgreement.organization_id == organization_id,
            DataSharingAgreement.id != agreement.id,
            policy.agreement_in_force(today),
        ).order_by(DataSharingAgreement.ends_on.desc()).limit(1)
    )
    consented = policy.active_consent(organization_id, today).where(
        Consent.categories.overlap(agreement.categories))
    students = db.session.scalar(
        sa.select(sa.func.count()).select_from(Student).where(
            Student.district_id == agreement.district_id, policy.on_roster(organization_id, today), consented.exists())
    )
    services = [] if other is not None else list(db.session.scalars(
        sa.select(ServiceAgreement).where(
            ServiceAgreement.district_id == agreement.district_id,
            ServiceAgreement.organization_id == organization_id,
            in_force(ServiceAgreement, today),
        ).order_by(ServiceAgreement.starts_on)
    ))
    return Ending(agreement, students=students, open_referrals=_open_referrals(agreement), service_agreements=services,
                  other_sharing=other)
