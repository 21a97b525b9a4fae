"""What the family home reminds of (issue 6 items 6 and 8): each child's consents that
end within 30 days; for a student who is now eligible, the consents a parent signed that
wait for the student's own decision; for a parent, the children who now decide.

A consent is a reminder when it is in force today, ends within 30 days (its state is
`expiring`, as in `services.consents.consent_state`), and no other consent in force for
the same organization runs past those 30 days: once the family has renewed, the
reminder goes, exactly as the organization's roster stops counting the student. One
query for all of a family's children, through the policy's `family_children`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload

from casemgr import policy
from casemgr.extensions import db
from casemgr.models import Consent, Student, User
from casemgr.models.enums import Role
from casemgr.reads.partner_workspace import EXPIRING_WITHIN_DAYS
from casemgr.services.eligibility import awaiting_decision


@dataclass(frozen=True)
class Reminder:
    consent: Consent
    days_left: int


def family_reminders(user: User, today: date) -> dict[int, list[Reminder]]:
    """{student id: the child's consents ending soon, soonest first} for the children
    the user's family pages show (nothing for staff)."""
    soon = today + timedelta(days=EXPIRING_WITHIN_DAYS)
    later = aliased(Consent)
    renewed = sa.exists().where(
        later.student_id == Consent.student_id,
        later.organization_id == Consent.organization_id,
        policy.consent_in_force(later, today),
        later.expires_on > soon,
    )
    consents = db.session.scalars(
        sa.select(Consent)
        .join(Student, Student.id == Consent.student_id)
        .options(joinedload(Consent.organization))
        .where(policy.family_children(user, today), policy.consent_in_force(Consent, today),
               Consent.expires_on <= soon, ~renewed)
        .order_by(Consent.expires_on, Consent.id)
    )
    reminders: dict[int, list[Reminder]] = {}
    for consent in consents:
        reminders.setdefault(consent.student_id, []).append(Reminder(consent, (consent.expires_on - today).days))
    return reminders


def children_now_deciding(user: User, today: date) -> list[Student]:
    """A parent's children who are now eligible: the home says they decide now."""
    return list(
        db.session.scalars(
            sa.select(Student)
            .where(policy.children_now_deciding(user, today))
            .order_by(Student.last_name, Student.first_name, Student.id)
        )
    )


@dataclass
class HomeNotices:
    today: date
    reminders: dict[int, list[Reminder]] = field(default_factory=dict)
    may_renew: dict[int, bool] = field(default_factory=dict)  # who signs a renewal: the user, or a parent
    awaiting_decision: list[Consent] = field(default_factory=list)  # the eligible student's banner
    now_deciding: list[Student] = field(default_factory=list)  # the parent's children who now decide


def home_notices(user: User, children: list[Student], may_sign: dict[int, bool], today: date) -> HomeNotices:
    """`may_sign`: whether the user signs each child's consents today
    (`policy.may_sign_consents`), which the home has already asked."""
    notices = HomeNotices(today, family_reminders(user, today))
    notices.may_renew = {child.id: may_sign[child.id] for child in children if child.id in notices.reminders}
    if user.role_enum is Role.STUDENT:
        notices.awaiting_decision = [c for child in children for c in awaiting_decision(user, child, today)]
    else:
        notices.now_deciding = children_now_deciding(user, today)
    return notices
