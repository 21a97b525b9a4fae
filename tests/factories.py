"""Factory functions for test data: each creates one thing, flushes, returns it."""
from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

from sqlalchemy import select

from casemgr.clock import today
from casemgr.extensions import db
from casemgr.models import (
    Consent,
    DataSharingAgreement,
    Flag,
    Guardian,
    GuardianLink,
    Organization,
    ProgramGroup,
    ProgramGroupMember,
    Referral,
    ReferralEvent,
    RosterEntry,
    ServiceAgreement,
    ServiceContact,
    Student,
    SupportPlan,
    SupportPlanCheckIn,
    User,
)
from casemgr.models.enums import Category, Role
from casemgr.passwords import hash_password

PASSWORD = "correct horse battery staple"
# the authenticator key of every district admin the factory makes (they must have one)
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
_counter = itertools.count(1)
_password_hash: str | None = None


def _n() -> int:
    return next(_counter)


def _hash() -> str:
    global _password_hash
    if _password_hash is None:
        _password_hash = hash_password(PASSWORD)
    return _password_hash


def _add(obj):
    db.session.add(obj)
    db.session.flush()
    return obj


def create_district(name: str | None = None) -> Organization:
    n = _n()
    return _add(Organization(kind="district", code=f"D{n}", name=name or f"District {n}"))


def create_school(district: Organization | None = None, level: str = "high", name: str | None = None) -> Organization:
    district = district or create_district()
    n = _n()
    return _add(
        Organization(kind="school", code=f"S{n}", name=name or f"School {n}", district_id=district.id, level=level)
    )


def create_partner(name: str | None = None) -> Organization:
    n = _n()
    return _add(Organization(kind="partner", code=f"P{n}", name=name or f"Partner {n}"))


def create_research_org() -> Organization:
    n = _n()
    return _add(Organization(kind="research", code=f"R{n}", name=f"Research Partner {n}"))


def create_student(school: Organization | None = None, **fields) -> Student:
    school = school or create_school()
    n = _n()
    values = dict(
        district_id=school.district_id,
        school_id=school.id,
        state_id=f"ST{n:08d}",
        local_id=f"L{n}",
        first_name=f"Student{n}",
        last_name="Testcase",
        birth_date=date(2010, 5, 17),
        grade=9,
    )
    values.update(fields)
    return _add(Student(**values))


def create_user(role: Role | str = Role.COUNSELOR, organization: Organization | None = None, **fields) -> User:
    role = Role(role)
    if organization is None:
        organization = {
            Role.DISTRICT_ADMIN: create_district,
            Role.PARENT: create_district,
            Role.PRINCIPAL: create_school,
            Role.COUNSELOR: create_school,
            Role.TEACHER: create_school,
            Role.PARTNER_ADMIN: create_partner,
            Role.YOUTH_WORKER: create_partner,
            Role.RESEARCHER: create_research_org,
        }[role]() if role is not Role.STUDENT else None
    n = _n()
    values = dict(
        email=f"user{n}@example.test",
        full_name=f"Test User {n}",
        role=str(role),
        password_hash=_hash(),
    )
    if role is Role.DISTRICT_ADMIN:
        values.update(totp_secret=TOTP_SECRET, totp_enabled_at=datetime.now(UTC))
    if role is Role.STUDENT:
        student = fields.pop("student", None) or create_student()
        values["student_id"] = student.id
        organization = organization or db.session.get(Organization, student.district_id)
    values["organization_id"] = organization.id
    values.update(fields)
    return _add(User(**values))


def create_guardian(student: Student, user: User | None = None, educational_rights: bool = True, relation: str = "mother") -> Guardian:
    """Link a guardian to `student`; a user who is already a guardian keeps one record."""
    guardian = None
    if user is not None:
        guardian = db.session.scalar(select(Guardian).where(Guardian.user_id == user.id))
    if guardian is None:
        n = _n()
        guardian = _add(
            Guardian(
                district_id=student.district_id,
                local_id=f"G{n}",
                first_name=f"Guardian{n}",
                last_name="Testcase",
                user_id=user.id if user else None,
            )
        )
    _add(GuardianLink(guardian_id=guardian.id, student_id=student.id, relation=relation, educational_rights=educational_rights))
    return guardian


def create_agreement(partner: Organization, district: Organization, categories=None, **fields) -> DataSharingAgreement:
    values = dict(
        district_id=district.id,
        organization_id=partner.id,
        categories=[str(c) for c in (categories if categories is not None else [Category.IDENTITY, Category.ATTENDANCE])],
        purpose="Attendance mentoring",
        starts_on=date(2026, 8, 1),
        ends_on=date(2027, 7, 31),
    )
    values.update(fields)
    return _add(DataSharingAgreement(**values))


def create_consent(student: Student, partner: Organization, categories=None, **fields) -> Consent:
    values = dict(
        student_id=student.id,
        organization_id=partner.id,
        categories=[str(c) for c in (categories if categories is not None else [Category.IDENTITY, Category.ATTENDANCE])],
        purpose="Attendance mentoring",
        signer_name="Pat Testcase",
        signer_relationship="parent",
        signed_on=date(2026, 9, 1),
        expires_on=date(2027, 6, 30),
        method="paper",
    )
    values.update(fields)
    return _add(Consent(**values))


def add_to_roster(student: Student, partner: Organization, **fields) -> RosterEntry:
    values = dict(organization_id=partner.id, student_id=student.id, added_on=date(2026, 9, 1))
    values.update(fields)
    return _add(RosterEntry(**values))


def create_flag(student: Student, raised_by: User, need: str = "attendance_support", **fields) -> Flag:
    values = dict(student_id=student.id, need=need, raised_by_id=raised_by.id)
    values.update(fields)
    return _add(Flag(**values))


def create_support_plan(student: Student, owner: User, **fields) -> SupportPlan:
    values = dict(
        student_id=student.id,
        tier=2,
        goal="Attend every day for six weeks",
        strategies="Weekly meeting with the counselor",
        owner_id=owner.id,
        created_by_id=owner.id,
        starts_on=today(),
    )
    values.update(fields)
    return _add(SupportPlan(**values))


def create_check_in(plan: SupportPlan, recorded_by: User, occurred_on: date, summary: str = "Met and talked") -> SupportPlanCheckIn:
    return _add(SupportPlanCheckIn(plan_id=plan.id, occurred_on=occurred_on, summary=summary, recorded_by_id=recorded_by.id))


def create_school_year(district: Organization, year: int, starts_on: date | None = None, ends_on: date | None = None):
    from casemgr.models import SchoolYear

    return _add(SchoolYear(district_id=district.id, year=year, starts_on=starts_on or date(year, 8, 1),
                           ends_on=ends_on or date(year + 1, 6, 30)))


def create_calendar(school: Organization, days, school_year: int, instructional: bool = True) -> int:
    """School days of `school`; returns how many were added."""
    from casemgr.models import CalendarDay

    count = 0
    for day in days:
        db.session.add(CalendarDay(school_id=school.id, day=day, school_year=school_year, instructional=instructional))
        count += 1
    db.session.flush()
    return count


def create_attendance(student, days) -> None:
    """Record a student's attendance: `days` maps each day to its status (or is a list
    of (day, status) pairs); each day must fall in a school year of the district."""
    from casemgr import attendance

    pairs = days.items() if isinstance(days, dict) else days
    attendance.record((student.id, day, status) for day, status in pairs)


def create_service_agreement(partner: Organization, district: Organization, services=("mentoring",), schools=(),
                             capacity: int = 25, **fields) -> ServiceAgreement:
    values = dict(
        district_id=district.id,
        organization_id=partner.id,
        services=[str(s) for s in services],
        capacity=capacity,
        starts_on=date(2000, 8, 1),
        ends_on=date(2999, 7, 31),
    )
    values.update(fields)
    agreement = ServiceAgreement(**values)
    agreement.schools = list(schools)
    return _add(agreement)


def create_group(partner: Organization, students=(), service: str = "tutoring", name: str | None = None,
                 **fields) -> ProgramGroup:
    """A program group of `partner` with `students` as members (put them on the roster first)."""
    values = dict(organization_id=partner.id, name=name or f"Group {_n()}", service=str(service),
                  weekdays=[1, 3], session_minutes=90)
    values.update(fields)
    group = _add(ProgramGroup(**values))
    for student in students:
        db.session.add(ProgramGroupMember(group_id=group.id, student_id=student.id))
    db.session.flush()
    return group


def create_contact(student: Student, partner: Organization, contact_on: date, minutes: int = 60,
                   service: str = "tutoring", **fields) -> ServiceContact:
    values = dict(student_id=student.id, organization_id=partner.id, service=str(service), contact_on=contact_on,
                  minutes=minutes, mode="individual")
    values.update(fields)
    return _add(ServiceContact(**values))


def create_referral(student: Student, partner: Organization, created_by: User, status: str = "sent",
                    service: str = "mentoring", **fields) -> Referral:
    """A referral with the history its status implies (sent, then answered)."""
    values = dict(student_id=student.id, organization_id=partner.id, service=service, status=status,
                  created_by_id=created_by.id)
    values.update(fields)
    referral = _add(Referral(**values))
    chain = {"awaiting_consent": ["awaiting_consent"], "sent": ["sent"], "accepted": ["sent", "accepted"],
             "declined": ["sent", "declined"], "closed": ["sent", "accepted", "closed"]}[status]
    for step in chain:
        _add(ReferralEvent(referral_id=referral.id, status=step, by_user_id=created_by.id))
    return referral


def create_section(teacher: User, students=(), school_year: int | None = None, entry_date: date | None = None,
                   **fields):
    """A section taught by `teacher` at their school, with `students` enrolled since
    `entry_date` (the start of the school year by default)."""
    from casemgr.models import Section, SectionEnrollment

    year = school_year if school_year is not None else (today().year if today().month >= 8 else today().year - 1)
    n = _n()
    values = dict(school_id=teacher.organization_id, school_year=year, local_id=f"SEC{n}", course_code=f"C{n}",
                  course_title=f"Course {n}", subject="english", teacher_id=teacher.id)
    values.update(fields)
    section = _add(Section(**values))
    for student in students:
        db.session.add(SectionEnrollment(section_id=section.id, student_id=student.id,
                                         entry_date=entry_date or date(year, 8, 1)))
    db.session.flush()
    return section


def create_mark(student: Student, section, mark: str = "F", term: str = "Q1", **fields):
    from casemgr.models import CourseMark

    values = dict(student_id=student.id, section_id=section.id, term=term, school_year=section.school_year, mark=mark,
                  failing=mark == "F", recorded_on=today())
    values.update(fields)
    return _add(CourseMark(**values))


def create_indicator(student: Student, school_year: int, tier: int = 1, rate: str = "0.9500", **fields):
    """The student's stored indicators for `school_year`, as a recompute would leave them."""
    from decimal import Decimal

    from casemgr.indicators import current_settings
    from casemgr.models import StudentIndicator

    values = dict(student_id=student.id, school_year=school_year, as_of=today(),
                  settings_id=current_settings(student.district_id).id, days_enrolled=50,
                  days_absent=int((1 - Decimal(rate)) * 50), attendance_rate=Decimal(rate), attendance_band="on_track",
                  chronic_absence=False, severe_absence=False, course_failures=0, core_failure=False, suspensions=0,
                  off_track_count=tier - 1, tier=tier, sort_last_name=student.last_name,
                  sort_first_name=student.first_name)
    values.update(fields)
    return _add(StudentIndicator(**values))
