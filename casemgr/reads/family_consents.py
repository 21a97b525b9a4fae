"""What the family's consent pages show (issue 6 items 2 and 3): a student's consents
grouped by organization with their state, the referrals waiting for the family's
consent, and the organizations a new consent may name.

Nothing here decides access: callers have the policy's `ConsentStanding`."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from casemgr.extensions import db
from casemgr.models import Consent, DataSharingAgreement, Organization, Referral, Student
from casemgr.models.enums import Category, ReferralStatus
from casemgr.policy import agreement_in_force
from casemgr.services.consents import consent_state, partners_with_agreement

# a consent that still lets the organization in, and so can be revoked
REVOCABLE = ("active", "expiring", "pending")


@dataclass
class ConsentLine:
    consent: Consent
    state: str

    @property
    def revocable(self) -> bool:
        return self.state in REVOCABLE


@dataclass
class OrganizationConsents:
    organization: Organization
    lines: list[ConsentLine] = field(default_factory=list)


@dataclass(frozen=True)
class ConsentRequest:
    """A referral waiting for the family's consent, and what the organization could be
    allowed to see (the family chooses among these when it consents)."""

    referral: Referral
    may_see: list[str]

    @property
    def organization(self) -> Organization:
        return self.referral.organization


@dataclass(frozen=True)
class Offer:
    organization: Organization
    may_see: list[str]


def _in_order(categories) -> list[str]:
    chosen = set(categories)
    return [str(c) for c in Category if c in chosen]


def consents_by_organization(student: Student, today: date) -> list[OrganizationConsents]:
    """Every consent of the student, newest first within each organization; organizations
    by name."""
    consents = db.session.scalars(
        sa.select(Consent)
        .options(joinedload(Consent.organization), selectinload(Consent.revocation))
        .where(Consent.student_id == student.id)
        .order_by(Consent.signed_on.desc(), Consent.id.desc())
    )
    groups: dict[int, OrganizationConsents] = {}
    for consent in consents:
        group = groups.setdefault(consent.organization_id, OrganizationConsents(consent.organization))
        group.lines.append(ConsentLine(consent, consent_state(consent, today)))
    return sorted(groups.values(), key=lambda g: (g.organization.name, g.organization.id))


def agreement_categories_by_organization(district_id: int, organization_ids, today: date) -> dict[int, list[str]]:
    """{organization id: the categories its agreements in force with the district allow}."""
    allowed: dict[int, set[str]] = defaultdict(set)
    rows = db.session.execute(
        sa.select(DataSharingAgreement.organization_id, DataSharingAgreement.categories).where(
            DataSharingAgreement.district_id == district_id,
            DataSharingAgreement.organization_id.in_(list(organization_ids)),
            agreement_in_force(today),
        )
    )
    for organization_id, categories in rows:
        allowed[organization_id].update(categories)
    return {organization_id: _in_order(categories) for organization_id, categories in allowed.items()}


def consent_requests(students: list[Student], today: date) -> dict[int, list[ConsentRequest]]:
    """{student id: the referrals waiting for the family's consent}, oldest first, in two
    queries whatever the number of students."""
    if not students:
        return {}
    referrals = list(db.session.scalars(
        sa.select(Referral)
        .options(joinedload(Referral.organization))
        .where(Referral.student_id.in_([s.id for s in students]),
               Referral.status == str(ReferralStatus.AWAITING_CONSENT))
        .order_by(Referral.created_at, Referral.id)
    ))
    districts = {s.id: s.district_id for s in students}
    allowed: dict[tuple[int, int], list[str]] = {}
    for district_id in set(districts.values()):
        organizations = {r.organization_id for r in referrals if districts[r.student_id] == district_id}
        for organization_id, categories in agreement_categories_by_organization(district_id, organizations,
                                                                                today).items():
            allowed[district_id, organization_id] = categories
    requests: dict[int, list[ConsentRequest]] = defaultdict(list)
    for referral in referrals:
        may_see = allowed.get((districts[referral.student_id], referral.organization_id), [])
        requests[referral.student_id].append(ConsentRequest(referral, may_see))
    return dict(requests)


def offers(student: Student, today: date) -> list[Offer]:
    """The organizations a new consent may name, with what each may receive at most."""
    partners = partners_with_agreement(student, today)
    allowed = agreement_categories_by_organization(student.district_id, [p.id for p in partners], today)
    return [Offer(p, allowed.get(p.id, [])) for p in partners]
