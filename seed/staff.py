"""Everyone who signs in: a district's key people (the nine demo logins, in the demo
district), then staff for every organization."""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from psycopg import Cursor

from casemgr.models.enums import Role
from casemgr.seed import names
from casemgr.seed.bulk import copy_rows
from casemgr.seed.district import start_of
from casemgr.seed.world import MockDistrict, Partner, StaffMember, rng_for

DEMO_LOGINS: list[tuple[str, str]] = [
    ("admin@example.org", Role.DISTRICT_ADMIN.value),
    ("principal@example.org", Role.PRINCIPAL.value),
    ("counselor@example.org", Role.COUNSELOR.value),
    ("teacher@example.org", Role.TEACHER.value),
    ("partner@example.org", Role.PARTNER_ADMIN.value),
    ("worker@example.org", Role.YOUTH_WORKER.value),
    ("parent@example.org", Role.PARENT.value),
    ("student@example.org", Role.STUDENT.value),
    ("researcher@example.org", Role.RESEARCHER.value),
]
STUDENTS_PER_COUNSELOR = {"elementary": 500, "middle": 350, "high": 350}


class StaffFactory:
    """Creates staff with unique, readable emails and ids assigned in order."""

    def __init__(self, d: MockDistrict, first_id: int) -> None:
        self.d = d
        self.rng = rng_for(d.seed, "staff")
        self.next_id = first_id
        self.emails: set[str] = set()

    def add(
        self, role: Role, organization_id: int, domain: str, job_title: str | None = None,
        email: str | None = None, full_name: str | None = None, **fields,
    ) -> StaffMember:
        if full_name is None:
            _, heritage, given = names.pick_heritage(self.rng)
            gender = self.rng.choice(("female", "male"))
            full_name = f"{names.first_name(self.rng, given, gender)} {self.rng.choice(heritage.surnames)}"
        member = StaffMember(
            id=self.next_id, email=email or self.unique_email(full_name, domain), full_name=full_name,
            role=role.value, organization_id=organization_id, job_title=job_title, **fields,
        )
        self.emails.add(member.email)
        self.next_id += 1
        self.d.staff.append(member)
        return member

    def unique_email(self, full_name: str, domain: str) -> str:
        local = names.email_local_part(*full_name.split(" ", 1))
        candidate, n = f"{local}@{domain}", 1
        while candidate in self.emails:
            n += 1
            candidate = f"{local}{n}@{domain}"
        return candidate

    def compliant_dates(self) -> dict[str, date]:
        as_of = self.d.as_of
        return {
            "confidentiality_signed_on": as_of - timedelta(days=self.rng.randint(5, 330)),
            "ferpa_trained_on": as_of - timedelta(days=self.rng.randint(5, 350)),
        }


def is_compliant(member: StaffMember, on: date) -> bool:
    """Signed the confidentiality agreement and trained in FERPA within the last year."""
    year_ago = on - timedelta(days=365)
    return all(
        day is not None and year_ago <= day <= on
        for day in (member.confidentiality_signed_on, member.ferpa_trained_on)
    )


def domain_of(code: str) -> str:
    return f"{code.lower()}.example.org"


def hire_key_staff(d: MockDistrict, staff: StaffFactory) -> None:
    """The district's key people: school staff at the first high school, compliant
    partner staff at the lead partner, the key family's parent and the senior. In the
    demo district they are the nine demo logins (with the demo researcher); elsewhere,
    ordinary accounts with generated names, at the district's and the partner's domains."""
    as_of, high_school, lead = d.as_of, d.schools_of("high")[0], d.lead_partner
    guardian, student = d.demo["parent_guardian"], d.demo["student"]
    demo = d.profile.demo_logins

    def compliance(signed_days_ago: int, trained_days_ago: int) -> dict[str, date]:
        return {
            "confidentiality_signed_on": as_of - timedelta(days=signed_days_ago),
            "ferpa_trained_on": as_of - timedelta(days=trained_days_ago),
        }

    plan = (
        ("admin", d.district_id, "District data steward", "Dana Okafor", {}),
        ("principal", high_school.id, "Principal", "Marcus Hill", {}),
        ("counselor", high_school.id, "School counselor", "Elena Vargas", {}),
        ("teacher", high_school.id, "English teacher", "Sam Whitaker", {}),
        ("partner", lead.id, "Program director", "Jordan Reyes", compliance(120, 90)),
        ("worker", lead.id, "Youth mentor", "Ana Ruiz", compliance(40, 60)),
        ("parent", d.district_id, None, guardian.full_name, {}),
        ("student_user", d.district_id, None, student.full_name, {"student_id": student.id}),
        ("researcher", d.research_id, "Research analyst", "Priya Shah", {}),
    )
    for (email, role), (key, organization_id, title, name, fields) in zip(DEMO_LOGINS, plan, strict=True):
        if demo:
            d.demo[key] = staff.add(Role(role), organization_id, "", title, email, name, demo_login=True, **fields)
        elif key != "researcher":  # the research organization's researchers come with the demo district
            domain = domain_of(lead.code if organization_id == lead.id else d.district_code)
            family = key in ("parent", "student_user")
            d.demo[key] = staff.add(Role(role), organization_id, domain, title, full_name=name if family else None,
                                    **fields)
    lead.admin = d.demo["partner"]
    lead.workers.append(d.demo["worker"])
    guardian.user_id = d.demo["parent"].id


def hire_staff(d: MockDistrict, staff: StaffFactory) -> None:
    """Principals and counselors per school, partner staff (one or two out of
    compliance), a second district admin and (with the research organization) a second
    researcher; teachers come with their sections."""
    district_domain = domain_of(d.district_code)
    staff.add(Role.DISTRICT_ADMIN, d.district_id, district_domain, "Director of assessment")
    enrolled = Counter(student.school.id for student in d.students)
    for school in d.schools:
        existing = {m.role for m in d.staff if m.organization_id == school.id}
        if Role.PRINCIPAL.value not in existing:
            staff.add(Role.PRINCIPAL, school.id, district_domain, "Principal")
        wanted = max(1, round(enrolled[school.id] / STUDENTS_PER_COUNSELOR[school.level]))
        for _ in range(wanted - (Role.COUNSELOR.value in existing)):
            staff.add(Role.COUNSELOR, school.id, district_domain, "School counselor")
    for partner in d.partners:
        hire_partner_staff(d, staff, partner)
    if d.profile.hosts_research:
        staff.add(Role.RESEARCHER, d.research_id, "merc.example.org", "Senior researcher")


def hire_partner_staff(d: MockDistrict, staff: StaffFactory, partner: Partner) -> None:
    domain = domain_of(partner.code)
    if partner.admin is None:
        partner.admin = staff.add(Role.PARTNER_ADMIN, partner.id, domain, "Program director", **staff.compliant_dates())
    lead = partner.code == d.profile.lead
    extra = len(d.students) // (10_000 if lead else 20_000)
    for number in range(2 + extra):
        dates = staff.compliant_dates()
        if number == 0 and lead:
            dates["ferpa_trained_on"] = d.as_of - timedelta(days=400)  # training lapsed
        if number == 0 and partner.code == d.profile.unsigned:
            dates["confidentiality_signed_on"] = None  # never signed
        partner.workers.append(staff.add(Role.YOUTH_WORKER, partner.id, domain, "Youth worker", **dates))


USER_COLUMNS = (
    "id", "email", "full_name", "job_title", "password_hash", "role", "organization_id", "student_id",
    "active", "locale", "confidentiality_signed_on", "ferpa_trained_on", "created_at", "demo_login",
)


def write_users(cur: Cursor, d: MockDistrict, password_hash: str) -> None:
    created = start_of(date(d.year, 7, 1))
    rows = (
        (m.id, m.email, m.full_name, m.job_title, password_hash, m.role, m.organization_id, m.student_id,
         True, m.locale, m.confidentiality_signed_on, m.ferpa_trained_on, created, m.demo_login)
        for m in d.staff
    )
    d.counts["users"] = copy_rows(cur, "users", USER_COLUMNS, rows)
