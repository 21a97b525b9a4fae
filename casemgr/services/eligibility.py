"""When the rights pass to the student (issue 6 item 8; FERPA 34 CFR 99.5): at 18, or on
entering postsecondary, the student decides who sees their records. Each consent a
parent signed and that is still in force waits for the student's own decision: the
student confirms it by signing it themself (a new consent with the same organization,
records, purpose and expiry; the parent's is revoked as replaced, never edited) or
revokes it.
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext
from sqlalchemy.orm import joinedload

from casemgr import policy
from casemgr.extensions import db
from casemgr.models import Consent, Organization, Student, User
from casemgr.models.enums import SignerRelationship
from casemgr.services.consents import (
    ConsentError,
    ElectronicSignature,
    consent_statement,
    expiry_bounds,
    record_electronic_consent,
    revoke_consent,
)

PARENT_SIGNERS = (str(SignerRelationship.PARENT), str(SignerRelationship.GUARDIAN))
REPLACED = "Replaced by the student's own consent {uuid}, signed online on {day} once the rights were the student's."
REVOKED = "Revoked online by the student, who now decides who sees their records."


def signed_by_a_parent() -> sa.ColumnElement[bool]:
    return Consent.signer_relationship.in_(PARENT_SIGNERS)


def parent_signed_consents(student: Student, today: date) -> list[Consent]:
    """The student's consents in force today that a parent or guardian signed, by
    organization."""
    return list(
        db.session.scalars(
            sa.select(Consent)
            .join(Organization, Organization.id == Consent.organization_id)
            .options(joinedload(Consent.organization))
            .where(Consent.student_id == student.id, signed_by_a_parent(), policy.consent_in_force(Consent, today))
            .order_by(Organization.name, Consent.expires_on, Consent.id)
        )
    )


def awaiting_decision(user: User, student: Student, today: date) -> list[Consent]:
    """What the student's banner counts: the parent-signed consents in force, for the
    eligible student themself; nothing for anyone else."""
    if not policy.reviews_parent_consents(user, student, today):
        return []
    return parent_signed_consents(student, today)


def confirmed_expiry(consent: Consent, student: Student, today: date) -> date:
    """The parent's expiry, unless a consent signed today may not run that long (a year
    at most, and not past the organization's agreement)."""
    bounds = expiry_bounds(consent.organization, student, today)
    return consent.expires_on if bounds is None else min(consent.expires_on, bounds[1])


def confirmation_statement(consent: Consent, student: Student, signer: User, today: date) -> str:
    """The exact statement the student reads and signs to confirm `consent`."""
    return consent_statement(student, consent.organization, consent.categories, consent.purpose,
                             confirmed_expiry(consent, student, today), signer)


def check_awaiting(consent: Consent, student: Student, user: User, today: date) -> None:
    """`consent` is the student's, signed by a parent, in force, and `user` is the
    eligible student; else ConsentError with a message for the student."""
    if consent.student_id != student.id or not policy.reviews_parent_consents(user, student, today):
        raise ConsentError(gettext("Only the student, once 18 or in college, decides on these consents."))
    if consent.signer_relationship not in PARENT_SIGNERS:
        raise ConsentError(gettext("You signed this consent yourself: there is nothing to confirm."))
    if consent.revocation is not None:
        raise ConsentError(gettext("This consent has already been revoked."))
    if not consent.signed_on <= today <= consent.expires_on:
        raise ConsentError(gettext("This consent is no longer in force: there is nothing to confirm or revoke."))


def confirm_parent_consent(consent: Consent, student: Student, signer: User, signature: ElectronicSignature,
                           today: date) -> Consent:
    """The student signs `consent` themself: a new consent, then the parent's revoked as
    replaced by it. Both or neither (the caller commits)."""
    check_awaiting(consent, student, signer, today)
    own = record_electronic_consent(student, consent.organization, consent.categories, consent.purpose,
                                    confirmed_expiry(consent, student, today), signer, signature, today)
    revoke_consent(consent, signer, REPLACED.format(uuid=own.uuid, day=today.isoformat()))
    return own


def revoke_parent_consent(consent: Consent, student: Student, user: User, today: date) -> None:
    check_awaiting(consent, student, user, today)
    revoke_consent(consent, user, REVOKED)
