"""Requests for consent (issue 14, item 4): the panel a partner's staff member sees on a
student whose record a consent does not (fully) open, and the open requests the
school's counselors and principal read and answer.

Nothing here decides access: the school's list is filtered in SQL by
`policy.consent_ask_scope`, the panel by `policy.consent_askable`.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from casemgr import policy
from casemgr.extensions import db
from casemgr.models import ConsentAsk, Organization, Student, User
from casemgr.models.enums import PARTNER_STAFF, Category
from casemgr.services import disclosure
from casemgr.services.consent_asks import open_ask
from casemgr.words import consent_states

SCHOOL_LISTED = 50


@dataclass(frozen=True)
class ConsentPanel:
    """One panel instead of a hidden section per category: where the organization
    stands with the student's consent, what a consent would show, what the district's
    agreement never lets the organization see, and the request to the school."""

    organization: str
    standing: consent_states.ConsentState
    signer: str  # who would sign: "a parent" or "the student"
    askable: list[Category]
    outside_agreement: list[Category]
    no_agreement: str | None  # why nothing can be asked (no agreement in force)
    open_ask: ConsentAsk | None
    may_ask: bool


def consent_panel(access: policy.StudentAccess) -> ConsentPanel | None:
    """The panel for partner staff who do not see every category of the student; None
    for everyone else (they keep one section per category, each saying why). Where the
    student is still at school, what they did after it is no part of the panel."""
    user, student = access.user, access.student
    hidden = [c for c in access.hidden if c != Category.POSTSECONDARY or student.left_on is not None]
    if user.role_enum not in PARTNER_STAFF or not hidden:
        return None
    askable = [c for c in policy.consent_askable(access) if c in hidden]
    outside = [c for c in hidden if c not in askable]
    covering = [a for a in policy.active_agreements(user.organization_id, access.today)
                if a.district_id == student.district_id]
    no_agreement = None if covering else policy.why_hidden(access, hidden[0])
    may_ask = policy.may_ask_for_consent(access)
    return ConsentPanel(
        organization=user.organization.name,
        standing=consent_states.standing(access.own_consents, access.today),
        signer="the student" if student.is_eligible_on(access.today) else "a parent",
        askable=askable,
        outside_agreement=outside if covering else [],
        no_agreement=no_agreement,
        open_ask=open_ask(student, user.organization_id) if may_ask else None,
        may_ask=may_ask,
    )


@dataclass(frozen=True)
class OpenAsk:
    ask: ConsentAsk
    student: Student
    organization: str
    asked_by: str


def _open_asks(user: User, *where) -> list[OpenAsk]:
    if user.role_enum not in policy.CONSENT_ASK_READERS:
        return []
    asker = aliased(User)
    rows = db.session.execute(
        sa.select(ConsentAsk, Student, Organization.name, asker.full_name)
        .join(Student, Student.id == ConsentAsk.student_id)
        .join(Organization, Organization.id == ConsentAsk.organization_id)
        .join(asker, asker.id == ConsentAsk.asked_by_id)
        .where(ConsentAsk.handled_at.is_(None), policy.consent_ask_scope(user), *where)
        .order_by(ConsentAsk.created_at, ConsentAsk.id)
        .limit(SCHOOL_LISTED)
    ).all()
    return [OpenAsk(ask, student, organization, asked_by) for ask, student, organization, asked_by in rows]


def open_for_school(user: User) -> list[OpenAsk]:
    """The open requests about the students of the user's school, oldest first (the
    first 50); none for anyone but its counselors and principal."""
    return _open_asks(user)


def open_count_for_school(user: User) -> int:
    """How many requests about the students of the user's school are open, in one
    query (for a home's queue); 0 for anyone but its counselors and principal."""
    if user.role_enum not in policy.CONSENT_ASK_READERS:
        return 0
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(ConsentAsk).join(Student, Student.id == ConsentAsk.student_id)
        .where(ConsentAsk.handled_at.is_(None), policy.consent_ask_scope(user)))


def open_for_student(user: User, student: Student) -> list[OpenAsk]:
    """The open requests about one student that the user answers."""
    return _open_asks(user, Student.id == student.id)


def log_listed(user: User, asks: list[OpenAsk]) -> None:
    """The students a list of requests names, in one entry (SPEC §4 rule 6)."""
    disclosure.log_names_shown(user, [item.student.id for item in asks])
