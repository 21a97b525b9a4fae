"""Reading one student's records, category by category, for a page that the policy
has already allowed. Nothing here decides access; it only loads what it is asked for."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from casemgr import attendance
from casemgr.extensions import db
from casemgr.models import (
    Assessment,
    CourseMark,
    CreditRecord,
    DisciplineIncident,
    FafsaRecord,
    Organization,
    PostsecondaryOutcome,
    PostsecondaryRecord,
    Referral,
    RosterEntry,
    Section,
)
from casemgr.models.enums import ABSENT_STATUSES, AttendanceStatus, Category
from casemgr.policy import StudentAccess, why_hidden
from casemgr.reads import services_delivered as delivered

RECENT_ABSENCES = 30


@dataclass
class RecordSection:
    """One category of the student page: its records, or why they are hidden."""

    category: Category
    visible: bool
    basis: str | None = None
    reason: str | None = None
    data: dict = field(default_factory=dict)


def load_attendance(access: StudentAccess) -> dict:
    counts = Counter(attendance.counts_of(access.student.id))
    days = sum(counts.values())
    absent = sum(counts[str(s)] for s in ABSENT_STATUSES)
    not_present = [s for s in attendance.STATUSES if s != AttendanceStatus.PRESENT]
    recent = attendance.days_of(access.student.id, not_present, limit=RECENT_ABSENCES)
    return {"counts": counts, "days": days, "absent": absent, "recent": recent}


def load_grades(access: StudentAccess) -> dict:
    marks = db.session.execute(
        sa.select(CourseMark, Section)
        .join(Section, Section.id == CourseMark.section_id)
        .where(CourseMark.student_id == access.student.id)
        .order_by(CourseMark.school_year.desc(), Section.course_title, CourseMark.term)
    ).all()
    credits = db.session.scalars(
        sa.select(CreditRecord).where(CreditRecord.student_id == access.student.id).order_by(CreditRecord.school_year)
    ).all()
    return {"marks": marks, "credits": credits}


def load_assessments(access: StudentAccess) -> dict:
    rows = db.session.scalars(
        sa.select(Assessment)
        .where(Assessment.student_id == access.student.id)
        .order_by(Assessment.administered_on.desc(), Assessment.test_code)
    ).all()
    return {"assessments": rows}


def load_behavior(access: StudentAccess) -> dict:
    rows = db.session.scalars(
        sa.select(DisciplineIncident)
        .where(DisciplineIncident.student_id == access.student.id)
        .order_by(DisciplineIncident.occurred_on.desc())
    ).all()
    return {"incidents": rows}


def load_college(access: StudentAccess) -> dict:
    rows = db.session.scalars(
        sa.select(FafsaRecord).where(FafsaRecord.student_id == access.student.id).order_by(FafsaRecord.school_year.desc())
    ).all()
    return {"fafsa": rows}


def load_postsecondary(access: StudentAccess) -> dict:
    """The graduate's measures and the Clearinghouse's records, the latest first."""
    student_id = access.student.id
    records = db.session.scalars(
        sa.select(PostsecondaryRecord).where(PostsecondaryRecord.student_id == student_id)
        .order_by(PostsecondaryRecord.begins_on.desc().nulls_last(), PostsecondaryRecord.graduated_on.desc().nulls_last(),
                  PostsecondaryRecord.row_no)).all()
    return {"outcome": db.session.get(PostsecondaryOutcome, student_id), "records": records}


def load_notes(access: StudentAccess) -> dict:
    """Notes are on the timeline (casemgr.reads.notes), merged with the rest of the casework."""
    return {}


def load_services(access: StudentAccess) -> dict:
    """Programs and referrals; flags and support plans are on the timeline."""
    student_id = access.student.id
    programs = db.session.execute(
        sa.select(RosterEntry, Organization.name)
        .join(Organization, Organization.id == RosterEntry.organization_id)
        .where(RosterEntry.student_id == student_id)
        .order_by(RosterEntry.added_on.desc())
    ).all()
    referrals = db.session.scalars(
        sa.select(Referral)
        .options(joinedload(Referral.organization))
        .where(Referral.student_id == student_id)
        .order_by(Referral.created_at.desc())
    ).all()
    return {"programs": programs, "referrals": referrals,
            "dosage": delivered.dosage([student_id], access.today).get(student_id, []),
            "contacts": delivered.recent_contacts(student_id, access.user)}


def load_identity(access: StudentAccess) -> dict:
    return {"student": access.student}


LOADERS = {
    Category.IDENTITY: load_identity,
    Category.ATTENDANCE: load_attendance,
    Category.GRADES: load_grades,
    Category.ASSESSMENTS: load_assessments,
    Category.BEHAVIOR: load_behavior,
    Category.COLLEGE: load_college,
    Category.NOTES: load_notes,
    Category.SERVICES: load_services,
    Category.POSTSECONDARY: load_postsecondary,
}


def record_section(access: StudentAccess, category: Category) -> RecordSection:
    if not access.can_see(category):
        return RecordSection(category, visible=False, reason=why_hidden(access, category))
    return RecordSection(category, visible=True, basis=access.visible[category], data=LOADERS[category](access))
