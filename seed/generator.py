"""The deterministic mock district for training and demos (SPEC §7 `seed/`).

`generate(students, seed, as_of)` builds a whole district in an empty database: schools,
partners and their agreements, staff in every role, families, a school year of daily
attendance up to `as_of`, marks, credits, tests, FAFSA, suspensions, rosters with
consents in every state, notes, flags and referrals, and the nine demo logins; and
`HISTORY_YEARS` earlier school years with their past graduates (seed/history.py).

The same (students, seed, as_of) gives the same rows: every random choice comes from a
`random.Random` seeded from `seed` and a topic, and every date and timestamp derives from
`as_of`. Only the database's own UUIDs and the password hash's random salt differ
between runs. Bulk rows go through COPY into tables whose foreign keys and indexes are
rebuilt afterwards, so 50,000 students take about three minutes on two cores (four school
years, the three earlier ones whole: nine tenths of the attendance).
"""
from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_migrate import upgrade

from casemgr import indicators
from casemgr.db_roles import PARTITION_SCHEMA, STAGING_SCHEMA
from casemgr.extensions import db
from casemgr.models import Organization
from casemgr.passwords import hash_password
from casemgr.seed import attendance, casework, classes, district, history, population, records, rosters, staff
from casemgr.seed.bulk import constraints_deferred, next_id, sync_sequence
from casemgr.seed.schoolyear import build_calendar
from casemgr.seed.staff import DEMO_LOGINS
from casemgr.seed.world import MockDistrict

__all__ = ["DEMO_LOGINS", "DEMO_PASSWORD", "SeedError", "Summary", "database_is_empty", "generate", "reset_database"]

DEMO_PASSWORD = "casemgr-demo"
MIN_STUDENTS, MAX_STUDENTS = 50, 100_000
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
    """The mock district cannot be generated here (bad size, or the database holds data)."""


@dataclass(frozen=True)
class Summary:
    students: int
    schools: int
    partners: int
    attendance_days: int
    guardians: int
    users: int
    sections: int
    course_marks: int
    consents: int
    notes: int
    referrals: int
    flags: int
    past_graduates: int = 0  # seniors of the earlier school years, who have left

    def describe(self) -> str:
        return (
            f"{self.students:,} students, {self.schools:,} schools, {self.partners:,} partners, "
            f"{self.attendance_days:,} attendance days this school year; {HISTORY_YEARS} earlier school years "
            f"with {self.past_graduates:,} past graduates"
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


def generate(students: int, seed: int, as_of: date) -> Summary:
    """Build the mock district in the current (empty) database and commit."""
    if not MIN_STUDENTS <= students <= MAX_STUDENTS:
        raise SeedError(f"students must be between {MIN_STUDENTS:,} and {MAX_STUDENTS:,}, not {students:,}")
    if not database_is_empty():
        raise SeedError("the database already holds a district; reset it first")
    with _garbage_collector_paused():
        d, past = build(students, seed, as_of)
    for last_day in past.last_days:  # the earlier years' indicators, as of each one's end
        indicators.recompute(as_of=last_day)
    # as the nightly imports would have: earlier recomputes leave the tier history that
    # the homes' "rose a tier since" and the caseload's change column read
    for weeks_back in HISTORY_WEEKS_BACK:
        indicators.recompute(as_of=as_of - timedelta(weeks=weeks_back))
    indicators.recompute(as_of=as_of)
    return summarize(d)


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


def build(students: int, seed: int, as_of: date) -> tuple[MockDistrict, history.History]:
    d = MockDistrict(seed=seed, calendar=build_calendar(as_of))
    district.create_organizations(d, students)
    district.create_school_year(d)
    db.session.flush()
    with db.session.connection().connection.driver_connection.cursor() as cur:
        plan_people(d, students, cur)
        past = history.plan_history(d, d.students[-1].id + 1, max((s.id for s in d.sections), default=0) + 1)
        history.create_school_years(past)
        db.session.flush()
        spots = rosters.build_rosters(d)
        write_records(d, cur, hash_password(DEMO_PASSWORD), past)
        district.create_agreements(d, d.demo["admin"].id)
        district.create_research_project(d, d.demo["admin"].id)
        district.create_thresholds(d, d.demo["admin"].id)
        db.session.flush()
        rosters.write_rosters(cur, d, spots)
        rosters.write_consents(cur, d, spots)
        casework.write_casework(cur, d, spots)
        for table in ID_TABLES:
            sync_sequence(cur, table)
        # every table it wrote: the planner's statistics, before anyone reads (autovacuum
        # would gather them only a minute or more later, and pages read before get bad plans)
        cur.execute("ANALYZE")
    db.session.commit()
    return d, past


def plan_people(d: MockDistrict, students: int, cur) -> None:
    """Decide, in memory, every student, guardian, staff member and section."""
    population.build_population(d, students, next_id(cur, "students"), next_id(cur, "guardians"))
    factory = staff.StaffFactory(d, next_id(cur, "users"))
    staff.hire_demo_logins(d, factory)
    staff.hire_staff(d, factory)
    classes.plan_sections(d, factory, next_id(cur, "sections"))


def write_records(d: MockDistrict, cur, password_hash: str, past: history.History) -> None:
    with constraints_deferred(cur, BULK_TABLES):
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


def summarize(d: MockDistrict) -> Summary:
    counts = d.counts
    return Summary(
        students=counts["students"], schools=len(d.schools), partners=len(d.partners),
        attendance_days=counts["attendance_days"], guardians=counts["guardians"], users=counts["users"],
        sections=counts["sections"], course_marks=counts["course_marks"], consents=counts["consents"],
        notes=counts["notes"], referrals=counts["referrals"], flags=counts["flags"],
        past_graduates=counts["past_graduates"],
    )
