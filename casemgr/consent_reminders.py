"""Reminders of consents that end within 30 days, on the family home (issue 6 item 6).

A consent is a reminder when it is in force today, ends within 30 days (its state is
`expiring`, as in `services.consents.consent_state`), and no other consent in force for
the same organization runs past those 30 days: once the family has renewed, the
reminder goes, exactly as the organization's roster stops counting the student. One
query for all of a family's children, through the policy's `family_children`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload

from casemgr import policy
from casemgr.extensions import db
from casemgr.models import Consent, ConsentRevocation, Student, User
from casemgr.partner_workspace import EXPIRING_WITHIN_DAYS


@dataclass(frozen=True)
class Reminder:
    consent: Consent
    days_left: int


def in_force(consent, today: date) -> sa.ColumnElement[bool]:
    """`consent` (the model or an alias) is signed, not expired and not revoked on `today`."""
    return sa.and_(
        consent.signed_on <= today,
        consent.expires_on >= today,
        ~sa.exists().where(ConsentRevocation.consent_id == consent.id),
    )


def family_reminders(user: User, today: date) -> dict[int, list[Reminder]]:
    """{student id: the child's consents ending soon, soonest first} for the children
    the user's family pages show (nothing for staff)."""
    soon = today + timedelta(days=EXPIRING_WITHIN_DAYS)
    later = aliased(Consent)
    renewed = sa.exists().where(
        later.student_id == Consent.student_id,
        later.organization_id == Consent.organization_id,
        in_force(later, today),
        later.expires_on > soon,
    )
    consents = db.session.scalars(
        sa.select(Consent)
        .join(Student, Student.id == Consent.student_id)
        .options(joinedload(Consent.organization))
        .where(policy.family_children(user, today), in_force(Consent, today), Consent.expires_on <= soon, ~renewed)
        .order_by(Consent.expires_on, Consent.id)
    )
    reminders: dict[int, list[Reminder]] = {}
    for consent in consents:
        reminders.setdefault(consent.student_id, []).append(Reminder(consent, (consent.expires_on - today).days))
    return reminders
