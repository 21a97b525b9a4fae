"""Recording and revoking consents (SPEC §4 rule 1). Consents are never edited or
deleted: a change is a new consent, a revocation is a row of its own."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from casemgr.extensions import db
from casemgr.models import Consent, ConsentRevocation, Guardian, GuardianLink, Organization, Student, User
from casemgr.models.enums import Category, ConsentMethod, OrgKind, SignerRelationship
from casemgr.policy import active_agreements
from casemgr.services.referrals import release_awaiting_referrals


class ConsentError(ValueError):
    """A consent that cannot be recorded; the message says why, for the person."""


@dataclass(frozen=True)
class PaperConsent:
    organization: Organization
    categories: list[Category]
    purpose: str
    signer_name: str
    signer_relationship: SignerRelationship
    signer_guardian: Guardian | None
    signed_on: date
    expires_on: date


def guardians_with_rights(student: Student) -> list[Guardian]:
    return list(
        db.session.scalars(
            sa.select(Guardian)
            .join(GuardianLink, GuardianLink.guardian_id == Guardian.id)
            .where(GuardianLink.student_id == student.id, GuardianLink.educational_rights.is_(True))
            .order_by(Guardian.last_name, Guardian.first_name)
        )
    )


def agreement_categories(organization: Organization, student: Student, today: date) -> set[str]:
    """What the organization may ever receive about this student, today."""
    return {
        category
        for agreement in active_agreements(organization.id, today)
        if agreement.district_id == student.district_id
        for category in agreement.categories
    }


def check_paper_consent(student: Student, release: PaperConsent, today: date) -> None:
    org = release.organization
    if org.kind != OrgKind.PARTNER:
        raise ConsentError("Consents name a partner organization.")
    allowed = agreement_categories(org, student, today)
    if not allowed:
        raise ConsentError(f"{org.name} has no active data-sharing agreement with this district.")
    beyond = sorted(str(c) for c in release.categories if str(c) not in allowed)
    if beyond:
        raise ConsentError(f"{org.name}'s data-sharing agreement does not include {', '.join(beyond)}.")
    if release.signed_on > today:
        raise ConsentError("The signature date cannot be in the future.")
    if release.expires_on < today:
        raise ConsentError("The expiry date has already passed.")
    if release.expires_on < release.signed_on:
        raise ConsentError("The expiry date must be after the signature date.")
    eligible = student.is_eligible_on(release.signed_on)
    if eligible and release.signer_relationship is not SignerRelationship.ELIGIBLE_STUDENT:
        raise ConsentError("This student was 18 or in postsecondary when it was signed: only the student can sign.")
    if not eligible:
        if release.signer_relationship is SignerRelationship.ELIGIBLE_STUDENT:
            raise ConsentError("This student is not yet eligible: a parent or guardian with educational rights must sign.")
        if release.signer_guardian is None or release.signer_guardian not in guardians_with_rights(student):
            raise ConsentError("Choose the parent or guardian with educational rights who signed.")


def record_paper_consent(student: Student, release: PaperConsent, recorded_by: User, today: date) -> Consent:
    check_paper_consent(student, release, today)
    consent = Consent(
        student_id=student.id,
        organization_id=release.organization.id,
        categories=sorted(str(c) for c in release.categories),
        purpose=release.purpose.strip(),
        signer_name=release.signer_name.strip(),
        signer_relationship=str(release.signer_relationship),
        signer_guardian_id=release.signer_guardian.id if release.signer_guardian else None,
        signer_user_id=None,
        signed_on=release.signed_on,
        expires_on=release.expires_on,
        method=str(ConsentMethod.PAPER),
        recorded_by_id=recorded_by.id,
    )
    db.session.add(consent)
    db.session.flush()
    # referrals to the organization that were waiting for this consent go out now
    release_awaiting_referrals(student, release.organization.id, recorded_by, today)
    return consent


def revoke_consent(consent: Consent, revoked_by: User, reason: str | None = None) -> ConsentRevocation:
    if consent.revocation is not None:
        raise ConsentError("This consent has already been revoked.")
    revocation = ConsentRevocation(consent_id=consent.id, revoked_by_id=revoked_by.id, reason=(reason or "").strip() or None)
    db.session.add(revocation)
    db.session.flush()
    return revocation


def consent_state(consent: Consent, today: date) -> str:
    """active, expiring (within 30 days), expired, revoked or pending (not yet signed)."""
    if consent.revocation is not None:
        return "revoked"
    if consent.expires_on < today:
        return "expired"
    if consent.signed_on > today:
        return "pending"
    if (consent.expires_on - today).days <= 30:
        return "expiring"
    return "active"


def consent_history(student: Student, organization_id: int | None = None) -> list[Consent]:
    query = (
        sa.select(Consent)
        .where(Consent.student_id == student.id)
        .order_by(Consent.signed_on.desc(), Consent.id.desc())
    )
    if organization_id is not None:
        query = query.where(Consent.organization_id == organization_id)
    return list(db.session.scalars(query))
