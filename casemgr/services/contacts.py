"""Recording the services a partner gives (issue 17): one contact with a student, a
group session's attendance, and the program groups themselves.

Each use-case checks everything against the policy and the organization's service
agreements itself (the forms check too) and raises `ContactError` with a sentence for the
person, so a forged form changes nothing. A group session's attendance is one statement:
every member of the group on the roster gets a row for the day, present or absent, and
saving the sheet again rewrites only the rows that changed.
"""
from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from datetime import date, time, timedelta

import sqlalchemy as sa
import sqlalchemy.orm
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError

from casemgr import policy
from casemgr.extensions import db
from casemgr.models import ProgramGroup, ProgramGroupMember, RosterEntry, ServiceContact, Student, User
from casemgr.models.enums import ContactMode, ContactSource, NoteTopic, Service
from casemgr.models.services import GROUP_NAME_MAX, SESSION_MINUTES_MAX
from casemgr.services import notes as note_service
from casemgr.text import plain_text

DAYS_BACK = 366  # a contact is recorded within a year of the day it happened
# the topic of the note written with a contact, by service
NOTE_TOPICS = {
    Service.ATTENDANCE_SUPPORT: NoteTopic.ATTENDANCE,
    Service.TUTORING: NoteTopic.ACADEMIC,
    Service.MENTORING: NoteTopic.SOCIAL_EMOTIONAL,
    Service.COLLEGE_APPLICATION: NoteTopic.COLLEGE,
    Service.FAFSA_HELP: NoteTopic.COLLEGE,
    Service.FAMILY_SUPPORT: NoteTopic.FAMILY,
    Service.OTHER: NoteTopic.OTHER,
}


class ContactError(ValueError):
    """A contact, a session or a group that cannot be saved; the message says why."""


def day_problem(day: date | None, today: date) -> str | None:
    if day is None:
        return "Enter the day of the contact."
    if day > today:
        return "The day is in the future: record a contact once it has happened."
    if day < today - timedelta(days=DAYS_BACK):
        return "The day is more than a year ago: ask your administrator to import older records."
    return None


def minutes_problem(minutes: int | None) -> str | None:
    if minutes is None or not 1 <= minutes <= SESSION_MINUTES_MAX:
        return f"Enter the minutes, from 1 to {SESSION_MINUTES_MAX}."
    return None


def _check(problem: str | None) -> None:
    if problem:
        raise ContactError(problem)


def _require_recorder(user: User, today: date) -> None:
    if not policy.records_contacts(user, today):
        raise ContactError(policy.partner_block_reason(user, today) or "You cannot record services.")


def _on_roster_by(user: User, student: Student, day: date, today: date) -> bool:
    """The student is on the user's organization's roster today and was on it on `day`."""
    entry = sa.orm.aliased(RosterEntry)
    return db.session.scalar(
        sa.select(sa.literal(True)).select_from(Student)
        .join(entry, sa.and_(entry.student_id == Student.id, entry.organization_id == user.organization_id,
                             entry.removed_on.is_(None), entry.added_on <= day))
        .where(Student.id == student.id, policy.contact_scope(user, today))
    ) is not None


def record_contact(user: User, student: Student, day: date, service: str, minutes: int, mode: str,
                   today: date, note_audience: str | None = None, note_body: str | None = None,
                   contact_id: uuid.UUID | None = None) -> ServiceContact:
    """One contact with a student of the user's roster; with `note_body`, a note too,
    written as any note is (its audience, its log entry). `contact_id` is the form's own
    identifier: the same form sent twice (a double tap, a retry on a slow connection)
    records one contact."""
    _require_recorder(user, today)
    if contact_id is not None:
        earlier = _sent_before(user, contact_id)
        if earlier is not None:
            return earlier
    _check(day_problem(day, today) or minutes_problem(minutes))
    if not _on_roster_by(user, student, day, today):
        raise ContactError(f"{student.display_name} was not on your organization's roster on that day.")
    if service not in policy.services_offered(user.organization_id, day, student.district_id, student.school_id):
        raise ContactError(f"Choose one of the services your organization's service agreement offers at "
                           f"{student.display_name}'s school.")
    if mode not in set(ContactMode):
        raise ContactError("Choose individual or group.")
    try:
        with db.session.begin_nested():
            return _write_contact(user, student, day, service, minutes, mode, today, note_audience, note_body,
                                  contact_id)
    except IntegrityError:  # the same form, saved meanwhile by its other sending
        earlier = _sent_before(user, contact_id) if contact_id is not None else None
        if earlier is None:
            raise ContactError("This form cannot be saved again: reload the page and try once more.") from None
        return earlier


def _sent_before(user: User, contact_id: uuid.UUID) -> ServiceContact | None:
    return db.session.scalar(sa.select(ServiceContact).where(ServiceContact.uuid == contact_id,
                                                             ServiceContact.recorded_by_id == user.id))


def _write_contact(user: User, student: Student, day: date, service: str, minutes: int, mode: str, today: date,
                   note_audience: str | None, note_body: str | None, contact_id: uuid.UUID | None) -> ServiceContact:
    note = None
    if plain_text(note_body):
        access = policy.student_access(user, student, today)
        if access is None:
            raise ContactError("You cannot write notes about this student.")
        try:
            note = note_service.post_note(access, note_audience or "", str(NOTE_TOPICS[Service(service)]), note_body)
        except note_service.NoteError as error:
            raise ContactError(str(error)) from None
    contact = ServiceContact(
        student_id=student.id, organization_id=user.organization_id, service=service, contact_on=day,
        minutes=minutes, mode=mode, attended=True, source=str(ContactSource.APP), recorded_by_id=user.id,
        note_id=note.id if note else None, **({"uuid": contact_id} if contact_id else {}))
    db.session.add(contact)
    db.session.flush()
    return contact


# --- a group session's attendance ----------------------------------------------------------

def members_on(group: ProgramGroup, day: date) -> sa.Select:
    """The group's members whose session of `day` can be recorded: on the organization's
    roster since that day at the latest, at a school where a service agreement in force
    that day offers the group's service (the attendance sheet lists exactly these)."""
    entry = sa.orm.aliased(RosterEntry)
    return (
        sa.select(ProgramGroupMember.student_id)
        .join(Student, Student.id == ProgramGroupMember.student_id)
        .join(entry, sa.and_(entry.organization_id == group.organization_id, entry.student_id == Student.id,
                             entry.removed_on.is_(None), entry.added_on <= day))
        .where(ProgramGroupMember.group_id == group.id,
               policy.service_covered(sa.literal(group.organization_id), sa.literal(group.service),
                                      Student.district_id, Student.school_id, day))
    )


def group_of(user: User, group_id: uuid.UUID, today: date) -> ProgramGroup | None:
    """The user's organization's group (archived ones too), or None, like one that does not exist."""
    if not policy.records_contacts(user, today):
        return None
    return db.session.scalar(sa.select(ProgramGroup).where(
        ProgramGroup.uuid == group_id, ProgramGroup.organization_id == user.organization_id))


def take_attendance(user: User, group: ProgramGroup, day: date, present: Collection[uuid.UUID], minutes: int,
                    members: dict[uuid.UUID, int], today: date) -> int:
    """Record the session of `day`: the `members` (uuid -> id, as the sheet listed them)
    in `present` attended, the others did not. Returns the rows written or changed."""
    _require_recorder(user, today)
    if group.organization_id != user.organization_id:
        raise ContactError("This group is not your organization's.")
    if group.archived_on is not None:
        raise ContactError("This group has ended: its attendance can no longer be taken.")
    _check(day_problem(day, today) or minutes_problem(minutes))
    strangers = set(present) - set(members)
    if strangers:
        raise ContactError("The sheet names a student who is not in this group: reload it and try again.")
    listed = members_on(group, day).subquery()
    present_ids = [members[p] for p in present]
    rows = sa.select(
        listed.c.student_id, sa.literal(group.organization_id), sa.literal(group.service), sa.literal(day),
        sa.literal(minutes), sa.literal(str(ContactMode.GROUP)), listed.c.student_id.in_(present_ids),
        sa.literal(group.id), sa.literal(str(ContactSource.APP)), sa.literal(user.id))
    statement = insert(ServiceContact).from_select(
        ["student_id", "organization_id", "service", "contact_on", "minutes", "mode", "attended", "group_id", "source",
         "recorded_by_id"], rows, include_defaults=False)  # each row its own UUID, from the database
    statement = statement.on_conflict_do_update(
        index_elements=["group_id", "contact_on", "student_id"], index_where=ServiceContact.group_id.is_not(None),
        set_={"attended": statement.excluded.attended, "minutes": statement.excluded.minutes,
              "recorded_by_id": statement.excluded.recorded_by_id, "updated_at": sa.func.now()},
        where=sa.or_(ServiceContact.attended != statement.excluded.attended,
                     ServiceContact.minutes != statement.excluded.minutes))
    return db.session.execute(statement).rowcount


# --- program groups --------------------------------------------------------------------------

def _require_manager(user: User, today: date) -> None:
    if not policy.manages_groups(user, today):
        raise ContactError(policy.partner_block_reason(user, today) or "Only your organization's administrator manages groups.")


def _group_fields(user: User, name: str | None, service: str, weekdays: Iterable[int], starts_at: time | None,
                  session_minutes: int | None, leader_id: int | None, today: date) -> dict:
    cleaned = plain_text(name)
    if not cleaned:
        raise ContactError("Name the group.")
    if len(cleaned) > GROUP_NAME_MAX:
        raise ContactError(f"Keep the group's name to {GROUP_NAME_MAX} characters or fewer.")
    if service not in policy.services_offered(user.organization_id, today):
        raise ContactError("Choose one of the services your organization's service agreement offers.")
    days = sorted(set(weekdays))
    if any(not 0 <= d <= 6 for d in days):
        raise ContactError("Choose the days of the week the group meets.")
    _check(minutes_problem(session_minutes))
    if leader_id is not None and db.session.scalar(sa.select(User.id).where(
            User.id == leader_id, User.organization_id == user.organization_id, User.active)) is None:
        raise ContactError("Choose a leader from your organization's staff.")
    return dict(name=cleaned, service=service, weekdays=days, starts_at=starts_at, session_minutes=session_minutes,
                leader_id=leader_id)


def create_group(user: User, today: date, **fields) -> ProgramGroup:
    _require_manager(user, today)
    group = ProgramGroup(organization_id=user.organization_id, created_by_id=user.id,
                         **_group_fields(user, today=today, **fields))
    return _saved(group)


def update_group(user: User, group: ProgramGroup, today: date, **fields) -> ProgramGroup:
    _require_manager(user, today)
    if group.organization_id != user.organization_id:
        raise ContactError("This group is not your organization's.")
    for key, value in _group_fields(user, today=today, **fields).items():
        setattr(group, key, value)
    return _saved(group)


def _saved(group: ProgramGroup) -> ProgramGroup:
    try:
        with db.session.begin_nested():
            db.session.add(group)
            db.session.flush()
    except IntegrityError:
        raise ContactError(f"Your organization already has a group named “{group.name}”.") from None
    return group


def set_members(user: User, group: ProgramGroup, student_ids: Collection[uuid.UUID], today: date) -> tuple[int, int]:
    """Make the group's members exactly the students named, each of them on the roster
    today. Returns (added, removed)."""
    _require_manager(user, today)
    if group.organization_id != user.organization_id:
        raise ContactError("This group is not your organization's.")
    chosen = dict(db.session.execute(
        sa.select(Student.uuid, Student.id).where(Student.uuid.in_(list(student_ids)), policy.roster_scope(user, today))
    ).all())
    if len(chosen) != len(set(student_ids)):
        raise ContactError("Choose members from your organization's roster.")
    ids = list(chosen.values())
    removed = db.session.execute(sa.delete(ProgramGroupMember).where(
        ProgramGroupMember.group_id == group.id, ProgramGroupMember.student_id.not_in(ids))).rowcount
    added = db.session.execute(insert(ProgramGroupMember).values(
        [{"group_id": group.id, "student_id": i, "added_by_id": user.id} for i in ids]
    ).on_conflict_do_nothing()).rowcount if ids else 0
    return added, removed


def end_group(user: User, group: ProgramGroup, today: date) -> None:
    _require_manager(user, today)
    if group.organization_id != user.organization_id:
        raise ContactError("This group is not your organization's.")
    if group.archived_on is None:
        group.archived_on = today
        db.session.flush()
