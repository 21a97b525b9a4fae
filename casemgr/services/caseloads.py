"""A school's principal (or the district admin) splits the school's students between
its counselors: rules by grade and last-name initials, and students assigned one by one
by state or local ID. A refusal writes nothing and says why."""
from __future__ import annotations

import re
import string

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from casemgr import policy
from casemgr.clock import today
from casemgr.extensions import db
from casemgr.models import CaseloadAssignment, CaseloadRule, Organization, Student, User
from casemgr.models.enums import Role

MAX_STUDENTS_AT_ONCE = 500
LETTERS = string.ascii_uppercase


class CaseloadError(ValueError):
    """An assignment that cannot be made; the message says why, for the person."""


def _may_assign(actor: User, school: Organization) -> None:
    if not policy.assigns_caseloads(actor, school):
        raise CaseloadError("Only the school's principal or a district admin can assign its caseloads.")


def _counselor_at(school: Organization, counselor: User | None) -> User:
    if (counselor is None or counselor.role_enum is not Role.COUNSELOR or counselor.organization_id != school.id
            or not counselor.active):
        raise CaseloadError(f"Choose a counselor of {school.name}: caseloads go only to the school's own counselors.")
    return counselor


def add_rule(actor: User, school: Organization, counselor: User | None, grade: int | None,
             letters_from: str | None, letters_to: str | None) -> CaseloadRule:
    """A rule giving the counselor the students of a grade, of a range of last-name
    initials (both ends included), or of both."""
    _may_assign(actor, school)
    counselor = _counselor_at(school, counselor)
    if grade is not None and not -1 <= grade <= 12:
        raise CaseloadError("Choose a grade from Pre-K to 12.")
    letters_from = (letters_from or "").strip().upper() or None
    letters_to = (letters_to or "").strip().upper() or None
    if (letters_from is None) != (letters_to is None):
        raise CaseloadError("Give both ends of the range of last names, such as A to K.")
    if letters_from is not None:
        if letters_from not in LETTERS or letters_to not in LETTERS:
            raise CaseloadError("A range of last names runs from one letter A–Z to another.")
        if letters_from > letters_to:
            raise CaseloadError(f"The range of last names runs backwards: {letters_from} comes after {letters_to}.")
    if grade is None and letters_from is None:
        raise CaseloadError("Give a grade, a range of last names, or both.")
    rule = CaseloadRule(school_id=school.id, counselor_id=counselor.id, grade=grade, letters_from=letters_from,
                        letters_to=letters_to, created_by_id=actor.id)
    db.session.add(rule)
    db.session.flush()
    return rule


def remove_rule(actor: User, school: Organization, rule: CaseloadRule) -> None:
    _may_assign(actor, school)
    if rule.school_id != school.id:
        raise CaseloadError("That rule is not one of this school's.")
    db.session.delete(rule)
    db.session.flush()


def parse_ids(text: str) -> list[str]:
    """State or local IDs separated by commas, semicolons, spaces or new lines, each once."""
    return list(dict.fromkeys(i for i in re.split(r"[\s,;]+", text or "") if i))


def assign_students(actor: User, school: Organization, counselor: User | None, ids_text: str) -> list[Student]:
    """Assign each student named by state or local ID to the counselor, whatever the
    rules say; a student assigned to someone else moves. Every ID must be a student of
    the school, or nothing is assigned."""
    _may_assign(actor, school)
    counselor = _counselor_at(school, counselor)
    ids = parse_ids(ids_text)
    if not ids:
        raise CaseloadError("Enter the state or local ID of at least one student.")
    if len(ids) > MAX_STUDENTS_AT_ONCE:
        raise CaseloadError(f"Assign at most {MAX_STUDENTS_AT_ONCE} students at once.")
    if any(len(i) > 32 for i in ids):
        raise CaseloadError("A student ID has at most 32 characters.")
    students = db.session.scalars(
        sa.select(Student).where(Student.school_id == school.id,
                                 sa.or_(Student.state_id.in_(ids), Student.local_id.in_(ids)))
        .order_by(Student.last_name, Student.first_name, Student.id)).all()
    found = {s.state_id for s in students} | {s.local_id for s in students}
    missing = [i for i in ids if i not in found]
    if missing:
        raise CaseloadError(f"Not a student of {school.name}: {', '.join(missing[:20])}"
                            f"{' …' if len(missing) > 20 else ''}. Nothing was assigned.")
    day = today()
    left = [s for s in students if s.left_on is not None and s.left_on <= day]
    if left:
        raise CaseloadError(f"No longer at {school.name}: {', '.join(s.state_id for s in left[:20])}"
                            f"{' …' if len(left) > 20 else ''} left the district's schools. Nothing was assigned.")
    statement = insert(CaseloadAssignment).values(
        [{"student_id": s.id, "counselor_id": counselor.id, "assigned_by_id": actor.id} for s in students])
    db.session.execute(statement.on_conflict_do_update(
        index_elements=[CaseloadAssignment.student_id],
        set_={"counselor_id": statement.excluded.counselor_id, "assigned_by_id": statement.excluded.assigned_by_id,
              "created_at": sa.func.now()}))
    return students


def unassign_student(actor: User, school: Organization, student: Student) -> None:
    """The student's individual assignment ends: the school's rules apply to them again."""
    _may_assign(actor, school)
    if student.school_id != school.id:
        raise CaseloadError(f"Not a student of {school.name}.")
    removed = db.session.execute(
        sa.delete(CaseloadAssignment).where(CaseloadAssignment.student_id == student.id)).rowcount
    if not removed:
        raise CaseloadError("That student is not assigned to anyone one by one: nothing changed.")
