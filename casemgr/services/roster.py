"""An organization's roster (SPEC §6): partner administrators add a student only by the
exact state ID and birth date, never by browsing or searching the district, and remove
students. The roster is what lets staff see a student's name and, with consent, more.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa

from casemgr import policy
from casemgr.extensions import db
from casemgr.models import DisclosureEntry, Organization, RosterEntry, Student, User
from casemgr.models.enums import Category, DisclosureAction
from casemgr.services import disclosure
from casemgr.services.locks import lock_student

NO_MATCH = "No student matches that state ID and birth date. Check both and try again."
TOO_MANY = "Too many refused attempts in the last hour. Try again later, or ask the student's school to check the state ID."
REFUSED = "roster add refused"
MAX_REFUSED_PER_HOUR = 10
PROGRAM_MAX = 120
STATE_ID_MAX = 32


class RosterError(ValueError):
    """A roster change that cannot be made; the message says why, for the person."""


def _refused_in_the_last_hour(user: User) -> int:
    since = datetime.now(timezone.utc) - timedelta(hours=1)
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(DisclosureEntry).where(
            DisclosureEntry.user_id == user.id,
            DisclosureEntry.occurred_at > since,
            DisclosureEntry.action == str(DisclosureAction.DENIED),
            DisclosureEntry.reason.startswith(REFUSED),
        )
    )


def add_by_state_id(organization: Organization, state_id: str, birth_date: date | None, program: str | None,
                    added_by: User, today: date) -> RosterEntry | None:
    """Add the student whose state ID and birth date both match exactly, or return None.

    A refusal looks the same whether the state ID exists or not: the same message, and
    the same work on either path (one lookup by state ID, the agreements read once, one
    log entry). The attempt is logged; a wrong birth date for an existing state ID is
    logged against that student, so the district and the family can see it. Past
    `MAX_REFUSED_PER_HOUR` refusals, further attempts are turned away unanswered.

    A student who moved between districts of the partnership has a record in each, with
    the same state ID (SPEC §2): the record found is one of a district the organization
    has an agreement in force with, and of those the one still at the district's schools."""
    cleaned = (state_id or "").strip()
    program = (program or "").strip() or None
    if program is not None and len(program) > PROGRAM_MAX:
        raise RosterError(f"Keep the program name to {PROGRAM_MAX} characters or fewer.")
    if _refused_in_the_last_hour(added_by) >= MAX_REFUSED_PER_HOUR:
        raise RosterError(TOO_MANY)
    districts = {a.district_id for a in policy.active_agreements(organization.id, today)}
    student = None
    if cleaned and len(cleaned) <= STATE_ID_MAX:
        student = db.session.scalar(
            sa.select(Student).where(Student.state_id == cleaned)
            .order_by(Student.district_id.in_(districts).desc(), Student.current_on(today).desc(), Student.id.desc())
            .limit(1))
    if student is None or birth_date is None or student.birth_date != birth_date:
        disclosure.log_denied(added_by, student, f"{REFUSED}: no student with this state ID and birth date",
                              [Category.IDENTITY])
        return None
    if student.district_id not in districts:
        disclosure.log_denied(added_by, student,
                              f"{REFUSED}: {organization.name} has no data-sharing agreement in force with the district",
                              [Category.IDENTITY])
        return None
    lock_student(student)
    already = db.session.scalar(sa.select(sa.exists().where(
        RosterEntry.organization_id == organization.id, RosterEntry.student_id == student.id,
        RosterEntry.removed_on.is_(None),
    )))
    if already:
        raise RosterError(f"{student.display_name} is already on your roster.")
    entry = RosterEntry(organization_id=organization.id, student_id=student.id, program=program, added_on=today,
                        added_by_id=added_by.id)
    db.session.add(entry)
    disclosure.log_roster_change(added_by, student, f"added to the roster of {organization.name} by state ID and birth date")
    db.session.flush()
    return entry


def active_entry(organization_id: int, student: Student, today: date) -> RosterEntry | None:
    return db.session.scalar(
        sa.select(RosterEntry).where(
            RosterEntry.organization_id == organization_id,
            RosterEntry.student_id == student.id,
            RosterEntry.added_on <= today,
            sa.or_(RosterEntry.removed_on.is_(None), RosterEntry.removed_on > today),
        ).order_by(RosterEntry.added_on.desc(), RosterEntry.id.desc()).limit(1)
    )


def remove_from_roster(organization: Organization, student: Student, removed_by: User, today: date) -> RosterEntry:
    """End the student's roster entry today: from the next request, the organization's
    staff no longer see the student at all. The entry itself stays, as history."""
    entry = active_entry(organization.id, student, today)
    if entry is None:
        raise RosterError(f"{student.display_name} is not on your roster.")
    db.session.refresh(entry, with_for_update=True)
    if entry.removed_on is not None and entry.removed_on <= today:
        raise RosterError(f"{student.display_name} is not on your roster.")
    entry.removed_on = max(today, entry.added_on)
    entry.removed_by_id = removed_by.id
    disclosure.log_roster_change(removed_by, student, f"removed from the roster of {organization.name}")
    db.session.flush()
    return entry
