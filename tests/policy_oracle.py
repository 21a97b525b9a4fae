"""An independent reference model of the access policy (SPEC §2–§4), for the property
test in `test_policy_property.py`.

Plain Python over an in-memory description of a world: it imports nothing from
`casemgr.policy` and runs no SQL, so a mistake in the policy's SQL (or in how its two
faces are built) cannot also be a mistake here. The rules encoded, in order of
precedence (the basis of the first rule that grants a category wins):

* an inactive user sees nothing;
* district_admin: students of their district, every category, `school_official`;
* principal, counselor: students of their school, every category, `school_official`;
* teacher: students currently enrolled (entry <= day <= exit, or no exit) in a section
  they teach: identity, attendance, grades, assessments, notes; `teacher_of_record`;
* partner_admin, youth_worker: nothing unless compliant (confidentiality signed and
  FERPA training on or before the day, training less than 365 days old); then, per
  category of each agreement of their organization active on the day (starts <= day
  <= ends, not ended on or before the day), students of the agreement's district on
  the organization's roster (added <= day < removed) with an active consent (signed <=
  day <= expires, not revoked) naming the organization and covering the category;
  basis `consent:<uuid>` of the newest such consent (signed_on desc, then id desc);
* parent: students linked (with educational rights) to a guardian record of theirs,
  while the student is not eligible (postsecondary, or 18th birthday on or before the
  day; a 29 February birthday has its 18th birthday on 28 February); every category,
  `guardian`;
* student: themself, every category, `self`;
* researcher: nothing, ever.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from casemgr.models.enums import Category, Role

ALL = tuple(Category)
TEACHER_CATEGORIES = frozenset(
    {Category.IDENTITY, Category.ATTENDANCE, Category.GRADES, Category.ASSESSMENTS, Category.NOTES}
)
FERPA_DAYS = 365


@dataclass
class OStudent:
    id: int
    district_id: int
    school_id: int
    birth_date: date
    postsecondary: bool


@dataclass
class OUser:
    id: int
    role: Role
    organization_id: int
    active: bool = True
    student_id: int | None = None
    confidentiality_signed_on: date | None = None
    ferpa_trained_on: date | None = None


@dataclass
class OSection:
    id: int
    teacher_id: int | None


@dataclass
class OEnrollment:
    section_id: int
    student_id: int
    entry_date: date
    exit_date: date | None


@dataclass
class OGuardian:
    id: int
    user_id: int | None


@dataclass
class OGuardianLink:
    guardian_id: int
    student_id: int
    educational_rights: bool


@dataclass
class OAgreement:
    id: int
    organization_id: int
    district_id: int
    categories: frozenset[Category]
    starts_on: date
    ends_on: date
    ended_on: date | None


@dataclass
class ORoster:
    organization_id: int
    student_id: int
    added_on: date
    removed_on: date | None


@dataclass
class OConsent:
    id: int
    uuid: str
    student_id: int
    organization_id: int
    categories: frozenset[Category]
    signed_on: date
    expires_on: date
    revoked: bool


@dataclass
class World:
    students: dict[int, OStudent] = field(default_factory=dict)
    users: dict[int, OUser] = field(default_factory=dict)
    sections: dict[int, OSection] = field(default_factory=dict)
    enrollments: list[OEnrollment] = field(default_factory=list)
    guardians: dict[int, OGuardian] = field(default_factory=dict)
    links: list[OGuardianLink] = field(default_factory=list)
    agreements: list[OAgreement] = field(default_factory=list)
    roster: list[ORoster] = field(default_factory=list)
    consents: list[OConsent] = field(default_factory=list)


# --- the rules -----------------------------------------------------------------------


def eighteenth_birthday(birth: date) -> date:
    try:
        return date(birth.year + 18, birth.month, birth.day)
    except ValueError:  # born 29 February, 18th birthday in a common year
        return date(birth.year + 18, 2, 28)


def eligible(student: OStudent, day: date) -> bool:
    return student.postsecondary or eighteenth_birthday(student.birth_date) <= day


def compliant(user: OUser, day: date) -> bool:
    signed, trained = user.confidentiality_signed_on, user.ferpa_trained_on
    if signed is None or signed > day:
        return False
    if trained is None or trained > day:
        return False
    return (day - trained).days < FERPA_DAYS


def agreement_active(agreement: OAgreement, day: date) -> bool:
    return (
        agreement.starts_on <= day <= agreement.ends_on
        and (agreement.ended_on is None or agreement.ended_on > day)
    )


def on_roster(world: World, organization_id: int, student_id: int, day: date) -> bool:
    return any(
        entry.organization_id == organization_id
        and entry.student_id == student_id
        and entry.added_on <= day
        and (entry.removed_on is None or entry.removed_on > day)
        for entry in world.roster
    )


def consent_active(consent: OConsent, day: date) -> bool:
    return consent.signed_on <= day <= consent.expires_on and not consent.revoked


def newest_active_consent(
    world: World, student_id: int, organization_id: int, category: Category, day: date
) -> OConsent | None:
    candidates = [
        c
        for c in world.consents
        if c.student_id == student_id
        and c.organization_id == organization_id
        and category in c.categories
        and consent_active(c, day)
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda c: (c.signed_on, c.id))


def teaches(world: World, user: OUser, student_id: int, day: date) -> bool:
    return any(
        e.student_id == student_id
        and world.sections[e.section_id].teacher_id == user.id
        and e.entry_date <= day
        and (e.exit_date is None or e.exit_date >= day)
        for e in world.enrollments
    )


def guardian_of(world: World, user: OUser, student_id: int) -> bool:
    mine = {g.id for g in world.guardians.values() if g.user_id == user.id}
    return any(
        link.guardian_id in mine and link.student_id == student_id and link.educational_rights
        for link in world.links
    )


def visible(world: World, user: OUser, student: OStudent, day: date) -> dict[Category, str]:
    """{category: basis} that `user` may see of `student` on `day`."""
    if not user.active:
        return {}
    role = user.role
    if role is Role.DISTRICT_ADMIN:
        return dict.fromkeys(ALL, "school_official") if student.district_id == user.organization_id else {}
    if role in (Role.PRINCIPAL, Role.COUNSELOR):
        return dict.fromkeys(ALL, "school_official") if student.school_id == user.organization_id else {}
    if role is Role.TEACHER:
        if teaches(world, user, student.id, day):
            return {c: "teacher_of_record" for c in ALL if c in TEACHER_CATEGORIES}
        return {}
    if role in (Role.PARTNER_ADMIN, Role.YOUTH_WORKER):
        if not compliant(user, day) or not on_roster(world, user.organization_id, student.id, day):
            return {}
        result: dict[Category, str] = {}
        for agreement in world.agreements:
            if agreement.organization_id != user.organization_id or not agreement_active(agreement, day):
                continue
            if agreement.district_id != student.district_id:
                continue
            for category in agreement.categories:
                consent = newest_active_consent(world, student.id, user.organization_id, category, day)
                if consent is not None:
                    result[category] = f"consent:{consent.uuid}"
        return result
    if role is Role.PARENT:
        if guardian_of(world, user, student.id) and not eligible(student, day):
            return dict.fromkeys(ALL, "guardian")
        return {}
    if role is Role.STUDENT:
        return dict.fromkeys(ALL, "self") if user.student_id == student.id else {}
    return {}  # researcher, and any role without a rule
