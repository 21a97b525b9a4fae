"""The deterministic mock partnership for training and demos (SPEC §7 `seed/`).

`generate(students, seed, as_of)` builds, in an empty database, the demo district of
`students` students and a second, smaller district of the same partnership (a fifth as
many students), each with its own schools, partners and their agreements, staff in every
role, families, a school year of daily attendance up to `as_of`, marks, credits, tests,
FAFSA, suspensions, rosters with consents in every state, notes, flags and referrals; and
`HISTORY_YEARS` earlier school years with their past graduates (seed/history.py). The
demo district has the nine demo logins and the research organization's study; the second
district's key staff are ordinary accounts (seed/profiles.py), and it has joined the
study. A few of the demo district's students moved there from the second district over
the summer: each district keeps its own record of them, linked by their state ID (SPEC §2).

The same (students, seed, as_of) gives the same rows: every random choice comes from a
`random.Random` seeded from `seed` and a topic (the second district's from a seed of its
own, so the demo district's school year is what it would be alone; its earlier years are
drawn without the students who moved in), and every date and timestamp derives from `as_of`. Only the
database's own UUIDs and the password hash's random salt differ between runs. Bulk rows
go through COPY into tables whose foreign keys and indexes are rebuilt afterwards, so
50,000 students (and the second district's 10,000) take about four minutes on two cores
(four school years, the three earlier ones whole: nine tenths of the attendance).
"""
from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_migrate import upgrade

from casemgr import indicators, postsecondary
from casemgr.db_roles import PARTITION_SCHEMA, STAGING_SCHEMA
from casemgr.extensions import db
from casemgr.models import Organization
from casemgr.passwords import hash_password
from casemgr.seed import attendance, casework, classes, district, history, population, profiles, records, rosters, staff
from casemgr.seed import postsecondary as seed_postsecondary
from casemgr.seed import services as seed_services
from casemgr.seed.bulk import constraints_deferred, next_id, sync_sequence
from casemgr.seed.schoolyear import build_calendar
from casemgr.seed.staff import DEMO_LOGINS
from casemgr.seed.world import MockDistrict, Student

__all__ = ["DEMO_LOGINS", "DEMO_PASSWORD", "SeedError", "Summary", "database_is_empty", "generate", "reset_database"]

DEMO_PASSWORD = "casemgr-demo"
MIN_STUDENTS, MAX_STUDENTS = 50, 100_000
SECOND_DISTRICT_SHARE = 5  # the second district has a fifth as many students (at least MIN_STUDENTS)
# the recomputes before the last, in weeks before the as-of date (the tier history)
HISTORY_WEEKS_BACK = (8, 4, 2)
# Loaded without their foreign keys and indexes, which are rebuilt (and validated) afterwards.
BULK_TABLES = (
    "students", "guardians", "guardian_links", "sections", "section_enrollments", "calendar_days",
    "school_enrollments", "attendance_years", "discipline_incidents", "course_marks", "credit_records",
    "assessments", "fafsa_records",
)
ID_TABLES = ("students", "users", "guardians", "sections")
HISTORY_YEARS = history.HISTORY_YEARS


class SeedError(RuntimeError):
    """The mock partnership cannot be generated here (bad size, or the database holds data)."""


@dataclass(frozen=True)
class DistrictSummary:
    code: str
    name: str
    students: int  # enrolled this school year
    schools: int
    partners: int
    past_graduates: int  # seniors of the earlier school years, who have left


@dataclass(frozen=True)
class Summary:
    """What was seeded: each district's figures, and the partnership's totals."""

    districts: tuple[DistrictSummary, ...]  # the demo district first
    students: int
    schools: int
    partners: int
    past_graduates: int
    attendance_days: int
    guardians: int
    users: int
    sections: int
    course_marks: int
    consents: int
    notes: int
    referrals: int
    flags: int
    movers: int = 0  # students of the demo district who moved there from the second over the summer

    def describe(self) -> str:
        districts = "; ".join(
            f"{d.name} ({d.code}): {d.students:,} students, {d.schools:,} schools, {d.partners:,} partners"
            for d in self.districts
        )
        first, second = self.districts
        moved = f"; {self.movers:,} students moved from {second.code} to {first.code} over the summer"
        return (
            f"{districts}; {self.attendance_days:,} attendance days this school year; {HISTORY_YEARS} earlier "
            f"school years with {self.past_graduates:,} past graduates{moved}"
        )


def database_is_empty() -> bool:
    """True when no organization exists (every other casemgr row hangs off one)."""
    return db.session.execute(sa.select(Organization.id).limit(1)).first() is None


def reset_database() -> None:
    """Empty every casemgr table by dropping the schema and migrating again: consents,
    revocations, notes and the disclosure log refuse DELETE and TRUNCATE by design."""
    db.session.rollback()
    db.session.remove()
    with db.engine.begin() as conn:
        # the disclosure log's partitions (migration 0013) and the imports' staging tables
        # (migration 0016) have schemas of their own
        for schema in (PARTITION_SCHEMA, STAGING_SCHEMA):
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
        conn.execute(sa.text("GRANT USAGE ON SCHEMA public TO PUBLIC"))
    db.engine.dispose()  # pooled connections may cache plans and types of the dropped tables
    upgrade(directory=current_app.extensions["migrate"].directory)


def second_district_size(students: int) -> int:
    return max(MIN_STUDENTS, students // SECOND_DISTRICT_SHARE)


def generate(students: int, seed: int, as_of: date) -> Summary:
    """Build the mock partnership in the current (empty) database and commit:
    `students` students in the demo district, a fifth as many in the second."""
    if not MIN_STUDENTS <= students <= MAX_STUDENTS:
        raise SeedError(f"students must be between {MIN_STUDENTS:,} and {MAX_STUDENTS:,}, not {students:,}")
    if not database_is_empty():
        raise SeedError("the database already holds a district; reset it first")
    with _garbage_collector_paused():
        districts, last_days = build(students, seed, as_of)
    # every district's indicators (indicators.recompute covers them all): the earlier
    # years' as of each one's end
    for last_day in last_days:
        indicators.recompute(as_of=last_day)
    # as the nightly imports would have: earlier recomputes leave the tier history that
    # the homes' "rose a tier since" and the caseload's change column read
    for weeks_back in HISTORY_WEEKS_BACK:
        indicators.recompute(as_of=as_of - timedelta(weeks=weeks_back))
    indicators.recompute(as_of=as_of)
    return summarize(districts)


@contextmanager
def _garbage_collector_paused() -> Iterator[None]:
    """Hundreds of thousands of long-lived dataclasses would make the cyclic garbage
    collector rescan them over and over (about half the Python time at 100,000 students)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def build(students: int, seed: int, as_of: date) -> tuple[list[MockDistrict], list[date]]:
    """The demo district and the second district, and the earlier school years' last days.
    The demo district is planned and written first; the second district's ids follow its
    ids, its state IDs avoid its state IDs (but for the students who moved between them)."""
    calendar = build_calendar(as_of)
    lakeview = MockDistrict(seed=seed, calendar=calendar, profile=profiles.LAKEVIEW)
    riverside = MockDistrict(seed=f"{seed}/{profiles.RIVERSIDE.code}", calendar=calendar, profile=profiles.RIVERSIDE)
    sizes = ((lakeview, students), (riverside, second_district_size(students)))
    for d, size in sizes:
        district.create_organizations(d, size)
        district.create_school_year(d)
    riverside.research_id = lakeview.research_id  # the partnership's one research organization
    db.session.flush()
    password_hash = hash_password(DEMO_PASSWORD)
    with db.session.connection().connection.driver_connection.cursor() as cur:
        with constraints_deferred(cur, BULK_TABLES):
            plan_people(lakeview, students, cur)
            newcomers = history.choose_newcomers(lakeview)
            past = plan_earlier_years(lakeview, cur)
            write_records(lakeview, cur, password_hash, past)
            taken = frozenset(s.state_id for s in lakeview.students + past.leavers)
            plan_people(riverside, second_district_size(students), cur, taken)
            earlier = plan_earlier_years(riverside, cur, taken, newcomers)
            write_records(riverside, cur, password_hash, earlier)
        study = None
        for d, _ in sizes:
            study = write_casework(d, cur, study)
        for d, years in ((lakeview, past), (riverside, earlier)):
            seed_postsecondary.write_postsecondary(cur, d, years.graduates)
        for table in ID_TABLES:
            sync_sequence(cur, table)
        # every table it wrote: the planner's statistics, before anyone reads (autovacuum
        # would gather them only a minute or more later, and pages read before get bad plans)
        cur.execute("ANALYZE")
    for d, _ in sizes:  # where the graduates went, from the Clearinghouse's records just written
        postsecondary.derive(d.district_id)
    db.session.commit()
    return [lakeview, riverside], past.last_days


def plan_people(d: MockDistrict, students: int, cur, taken: frozenset[str] = frozenset()) -> None:
    """Decide, in memory, every student, guardian, staff member and section (`taken`:
    the state IDs of the partnership's other districts)."""
    population.build_population(d, students, next_id(cur, "students"), next_id(cur, "guardians"), taken)
    factory = staff.StaffFactory(d, next_id(cur, "users"))
    staff.hire_key_staff(d, factory)
    staff.hire_staff(d, factory)
    classes.plan_sections(d, factory, next_id(cur, "sections"))


def plan_earlier_years(d: MockDistrict, cur, taken: frozenset[str] = frozenset(),
                       moved_away: Sequence[Student] = ()) -> history.History:
    """The district's earlier school years (`moved_away`: the students who left it for
    another district of the partnership over the summer) and their school years' rows."""
    first_section_id = d.sections[-1].id + 1 if d.sections else next_id(cur, "sections")
    past = history.plan_history(d, d.students[-1].id + 1, first_section_id, taken, moved_away)
    history.create_school_years(past)
    db.session.flush()
    return past


def write_records(d: MockDistrict, cur, password_hash: str, past: history.History) -> None:
    population.write_students(cur, d)
    staff.write_users(cur, d, password_hash)
    population.write_guardians(cur, d)
    classes.write_sections(cur, d)
    attendance.write_calendar(cur, d)
    attendance.write_enrollments(cur, d)
    attendance.write_attendance(cur, d)
    attendance.write_discipline(cur, d)
    classes.write_course_marks(cur, d)
    records.write_credit_records(cur, d)
    records.write_assessments(cur, d)
    records.write_fafsa(cur, d)
    history.write_history(cur, d, past)


def write_casework(d: MockDistrict, cur, study: int | None) -> int | None:
    """The district's agreements, thresholds, rosters, consents, casework and the services
    its partners delivered (before the indicators are computed: one program's students
    attend more); the research organization's study (returned), recorded by the district
    that hosts it, which the other district joins."""
    spots = rosters.build_rosters(d)
    admin_id = d.demo["admin"].id
    district.create_agreements(d, admin_id)
    if d.profile.hosts_research:
        study = district.create_research_project(d, admin_id)
    elif study is not None:
        district.join_research_project(study, d, admin_id)
    district.create_thresholds(d, admin_id)
    db.session.flush()
    rosters.write_rosters(cur, d, spots)
    rosters.write_consents(cur, d, spots)
    casework.write_casework(cur, d, spots)
    seed_services.write_services(cur, d, spots)
    return study


def summarize(districts: list[MockDistrict]) -> Summary:
    each = tuple(
        DistrictSummary(code=d.district_code, name=d.district_name, students=d.counts["students"],
                        schools=len(d.schools), partners=len(d.partners), past_graduates=d.counts["past_graduates"])
        for d in districts
    )
    counts = sum((d.counts for d in districts), Counter())
    return Summary(
        districts=each, students=sum(d.students for d in each), schools=sum(d.schools for d in each),
        partners=sum(d.partners for d in each), past_graduates=sum(d.past_graduates for d in each),
        attendance_days=counts["attendance_days"], guardians=counts["guardians"], users=counts["users"],
        sections=counts["sections"], course_marks=counts["course_marks"], consents=counts["consents"],
        notes=counts["notes"], referrals=counts["referrals"], flags=counts["flags"], movers=counts["moved_away"],
    )
