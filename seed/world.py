"""The mock district as plain Python objects, shared by the generator's steps.

Students, guardians and staff live here as slotted dataclasses (never ORM objects) so
100,000 students cost seconds; each step reads what earlier steps decided and writes
its own tables.
"""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from casemgr.seed.profiles import DistrictProfile
from casemgr.seed.schoolyear import SchoolCalendar

LEVEL_GRADES = {"elementary": range(0, 6), "middle": range(6, 9), "high": range(9, 13)}


def rng_for(seed: int | str, topic: str) -> random.Random:
    """One independent, reproducible stream per topic, so changing how one table is
    generated leaves every other table as it was (str seeds hash with SHA-512, not hash())."""
    return random.Random(f"casemgr-seed/{seed}/{topic}")


def moment(day: date, rng: random.Random, first_hour: int = 8, last_hour: int = 17) -> datetime:
    """A time in working hours on `day`, in UTC."""
    seconds = rng.randrange(first_hour * 3600, last_hour * 3600)
    return datetime.combine(day, time(), tzinfo=timezone.utc) + timedelta(seconds=seconds)


def day_between(rng: random.Random, first: date, last: date) -> date:
    if last <= first:
        return first
    return first + timedelta(days=rng.randrange((last - first).days + 1))


@dataclass(slots=True, eq=False)
class School:
    id: int
    code: str
    name: str
    level: str

    @property
    def grades(self) -> range:
        return LEVEL_GRADES[self.level]


@dataclass(slots=True, eq=False)
class Guardian:
    id: int
    local_id: str
    first_name: str
    last_name: str
    language: str
    email: str | None = None
    phone: str | None = None
    user_id: int | None = None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(slots=True, eq=False)
class GuardianLink:
    guardian: Guardian
    relation: str
    educational_rights: bool


@dataclass(slots=True, eq=False)
class Student:
    id: int
    state_id: str
    local_id: str
    first_name: str
    middle_name: str | None
    last_name: str
    preferred_name: str | None
    birth_date: date
    grade: int
    school: School
    gender: str
    ethnicity: str
    low_income: bool
    english_learner: bool
    disability: bool
    home_language: str
    guardians: list[GuardianLink] = field(default_factory=list)
    # enrollment, as positions in the calendar's instructional days
    entry: int = 0
    exit: int | None = None
    # what drives the indicators
    absence_rate: float = 0.0
    ability: float = 0.0
    struggling: bool = False
    suspension: tuple[int, int] | None = None  # (first day index, days)
    absent_days: int = 0
    enrolled_days: int = 0
    left_on: date | None = None  # a leaver's last day: a past graduate's, or a mover's in the district they left

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))

    def signers(self) -> list[GuardianLink]:
        return [link for link in self.guardians if link.educational_rights]


@dataclass(slots=True, eq=False)
class StaffMember:
    id: int
    email: str
    full_name: str
    role: str
    organization_id: int
    job_title: str | None = None
    student_id: int | None = None
    locale: str | None = None
    confidentiality_signed_on: date | None = None
    ferpa_trained_on: date | None = None
    demo_login: bool = False  # one of the nine demo logins: one-step sign-in outside production


@dataclass(slots=True, eq=False)
class Partner:
    id: int
    code: str
    name: str
    purpose: str
    purpose_es: str
    categories: list[str]
    services: list[str]
    program: str
    grades: range
    schools: list[School] = field(default_factory=list)
    agreement_active: bool = True
    capacity: int = 0
    admin: StaffMember | None = None
    workers: list[StaffMember] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Section:
    id: int
    school: School
    local_id: str
    course_code: str
    course_title: str
    subject: str
    credits: str
    teacher: StaffMember | None
    students: list[Student] = field(default_factory=list)


@dataclass
class MockDistrict:
    seed: int | str  # an earlier year's view of the district has a seed of its own
    calendar: SchoolCalendar
    profile: DistrictProfile
    district_id: int = 0
    research_id: int = 0  # the partnership's research organization (one for every district)
    school_year_id: int = 0
    schools: list[School] = field(default_factory=list)
    partners: list[Partner] = field(default_factory=list)
    students: list[Student] = field(default_factory=list)
    guardians: list[Guardian] = field(default_factory=list)
    staff: list[StaffMember] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    # the district's key people and family: in the demo district, the demo logins'
    demo: dict[str, object] = field(default_factory=dict)
    # today's students who came from another district of the partnership over the
    # summer: this district has no stay of theirs in an earlier year
    newcomers: set[int] = field(default_factory=set)
    # (student id, partner id) -> consent state, filled by the casework step
    consent_states: dict[tuple[int, int], str] = field(default_factory=dict)
    counts: Counter = field(default_factory=Counter)

    @property
    def district_code(self) -> str:
        return self.profile.code

    @property
    def district_name(self) -> str:
        return self.profile.name

    @property
    def as_of(self) -> date:
        return self.calendar.as_of

    @property
    def year(self) -> int:
        return self.calendar.year

    def schools_of(self, level: str) -> list[School]:
        return [s for s in self.schools if s.level == level]

    def partner(self, code: str) -> Partner:
        return next(p for p in self.partners if p.code == code)

    @property
    def key_students(self) -> set[int]:
        """The key family's children and the senior (the demo logins', in the demo district)."""
        return {s.id for s in self.demo.get("parent_children", ())} | {s.id for s in [self.demo.get("student")] if s}

    @property
    def lead_partner(self) -> Partner:
        """The partner of the key staff (Northside Youth in the demo district)."""
        return self.partner(self.profile.lead)
