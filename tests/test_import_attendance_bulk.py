"""The attendance import's one pass (resolve and fold into bit strings per
student-year) and its merge into the stored years."""
from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

import sqlalchemy as sa

from casemgr import db_roles
from casemgr.extensions import db as _db
from casemgr.attendance import attendance_days
from tests.test_import_kinds import _recorded_recompute, assert_rejected, count, csv_bytes, run, world  # noqa: F401

HEADER = "state_id,school_code,date,status"


def rows(world, status="present", days=3):
    return [f"{s.state_id},{world.school.code},{d},{status}" for s in world.students for d in world.days[:days]]


def test_a_large_file_is_inserted_then_changes_nothing(world):
    raw = csv_bytes(HEADER, *rows(world))
    outcome = run(world, "attendance", raw)
    assert outcome.ok, [e.describe() for e in outcome.errors]
    assert (outcome.batch.rows_inserted, outcome.batch.rows_updated) == (9, 0) and count(attendance_days) == 9
    again = run(world, "attendance", raw)
    assert again.ok and (again.batch.rows_inserted, again.batch.rows_updated) == (0, 0)
    changed = run(world, "attendance", csv_bytes(HEADER, *rows(world, "excused", days=4)))
    assert (changed.batch.rows_inserted, changed.batch.rows_updated) == (3, 9)
    statuses = set(_db.session.scalars(sa.select(attendance_days.c.status)))
    assert statuses == {"excused"}


def test_a_large_bad_file_names_its_rows(world):
    bad = rows(world) + [f"NOBODY,{world.school.code},{world.days[0]},present",
                         f"{world.students[0].state_id},{world.school.code},{world.days[0] + timedelta(days=400)},present",
                         f"{world.students[0].state_id},{world.school.code},{world.days[0]},late"]
    assert_rejected(world, "attendance", csv_bytes(HEADER, *bad), attendance_days,
                    "row 11, state_id: unknown student 'NOBODY'", "row 12, date:", "row 13, status: 'late' is not one of")


def test_a_large_file_with_a_duplicate_key(world):
    dup = rows(world) + [rows(world)[0]]
    assert_rejected(world, "attendance", csv_bytes(HEADER, *dup), attendance_days,
                    "row 11: duplicate key (state_id, date): the same as row 2")


def test_spaces_and_letter_case_are_accepted_on_the_large_path(world):
    padded = [f" {s.state_id} ,{world.school.code}, {d} ,Present" for s in world.students for d in world.days[:2]]
    outcome = run(world, "attendance", csv_bytes(HEADER, *padded))
    assert outcome.ok and outcome.batch.rows_inserted == 6, [e.describe() for e in outcome.errors]


def stored(world):
    return {(row.student_id, row.day): row.status for row in _db.session.execute(sa.select(attendance_days))}


def test_a_nightly_file_adds_its_days_and_keeps_every_other_day(world):
    assert run(world, "attendance", csv_bytes(HEADER, *rows(world, "present", days=3))).ok
    first = world.students[0]
    nightly = [f"{first.state_id},{world.school.code},{world.days[3]},unexcused",
               f"{first.state_id},{world.school.code},{world.days[0]},excused"]
    outcome = run(world, "attendance", csv_bytes(HEADER, *nightly))
    assert (outcome.batch.rows_inserted, outcome.batch.rows_updated) == (1, 1)
    days = stored(world)
    assert len(days) == 10
    assert days[(first.id, world.days[0])] == "excused" and days[(first.id, world.days[3])] == "unexcused"
    assert days[(first.id, world.days[1])] == "present" and days[(world.students[1].id, world.days[0])] == "present"


def test_the_same_day_twice_with_two_statuses_is_a_duplicate(world):
    s = world.students[0]
    twice = [f"{s.state_id},{world.school.code},{world.days[0]},present",
             f"{s.state_id},{world.school.code},{world.days[0]},excused"]
    assert_rejected(world, "attendance", csv_bytes(HEADER, *twice), attendance_days,
                    "row 3: duplicate key (state_id, date): the same as row 2")


def test_recorded_days_read_back_by_status_and_count(db):
    from casemgr import attendance
    from tests.factories import create_attendance, create_school, create_school_year, create_student

    school = create_school()
    student = create_student(school)
    create_school_year(school.district, 2026)
    create_school_year(school.district, 2027)
    days = {date(2026, 9, 1): "present", date(2026, 9, 2): "tardy", date(2027, 6, 30): "suspended",
            date(2027, 8, 20): "excused"}  # the last opens the next school year
    create_attendance(student, days)
    assert attendance.counts_of(student.id) == {"present": 1, "tardy": 1, "excused": 1, "unexcused": 0, "suspended": 1}
    assert attendance.days_of(student.id, ["tardy", "excused", "suspended"], limit=2) == [
        (date(2027, 8, 20), "excused"), (date(2027, 6, 30), "suspended")]
    create_attendance(student, {date(2026, 9, 2): "present"})
    assert attendance.counts_of(student.id)["tardy"] == 0 and attendance.counts_of(student.id)["present"] == 2


def test_a_day_outside_every_school_year_is_refused_and_nothing_is_written(db):
    from casemgr import attendance
    from tests.factories import create_attendance, create_school, create_school_year, create_student

    school = create_school()
    student = create_student(school)
    create_school_year(school.district, 2026)
    with pytest.raises(ValueError):
        create_attendance(student, {date(2026, 9, 1): "present", date(2030, 1, 7): "present"})
    assert attendance.counts_of(student.id)["present"] == 0


def test_no_staging_table_outlives_an_import(world):
    leftovers = r"SELECT count(*) FROM pg_class WHERE (relname LIKE 'import\_stage%' OR relname LIKE 'import\_year%') AND relpersistence <> 't'"
    assert run(world, "attendance", csv_bytes(HEADER, *rows(world))).ok
    assert run(world, "attendance", csv_bytes(HEADER, f"NOBODY,{world.school.code},{world.days[0]},present")).errors
    assert _db.session.execute(sa.text(leftovers)).scalar() == 0


def test_the_large_path_runs_with_the_application_roles_privileges(world):
    """As a role granted what the application role is (casemgr/db_roles.py), for this
    test's transaction: it may create no table in public, yet the import stages its rows
    (in the schema import_staging), folds them and merges them."""
    conn = _db.session.connection()
    if not conn.execute(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar_one():
        pytest.skip("making a role for the test needs a superuser")
    role = f"casemgr_app_{uuid.uuid4().hex[:10]}"
    conn.exec_driver_sql(f"CREATE ROLE {role} NOLOGIN")
    db_roles.grant_app_role(conn, role)
    conn.exec_driver_sql(f"SET LOCAL ROLE {role}")
    with pytest.raises(sa.exc.ProgrammingError, match="permission denied for schema public"), conn.begin_nested():
        conn.exec_driver_sql("CREATE UNLOGGED TABLE import_stage_by_hand (a text)")
    outcome = run(world, "attendance", csv_bytes(HEADER, *rows(world)))
    assert outcome.ok, [e.describe() for e in outcome.errors]
    assert outcome.batch.rows_inserted == 9 and count(attendance_days) == 9
    assert conn.execute(sa.text("SELECT current_user")).scalar_one() == role
    conn.exec_driver_sql("RESET ROLE")


def test_a_student_at_two_schools_in_one_file(world):
    s = world.students[0]
    moved = [f"{s.state_id},{world.school.code},{world.days[0]},present",
             f"{s.state_id},{world.school.code},{world.days[1]},tardy",
             f"{s.state_id},{world.other_school.code},{world.days[2]},excused"]
    outcome = run(world, "attendance", csv_bytes(HEADER, *moved))
    assert outcome.ok and outcome.batch.rows_inserted == 3, [e.describe() for e in outcome.errors]
    assert stored(world) == {(s.id, world.days[0]): "present", (s.id, world.days[1]): "tardy",
                             (s.id, world.days[2]): "excused"}
    twice = [f"{s.state_id},{world.school.code},{world.days[3]},present",
             f"{s.state_id},{world.other_school.code},{world.days[3]},present"]
    assert_rejected(world, "attendance", csv_bytes(HEADER, *twice), attendance_days,
                    "row 3: duplicate key (state_id, date): the same as row 2")


def test_a_day_is_checked_against_the_calendar_of_the_school_its_row_names(world):
    from tests.factories import create_school

    closed = create_school(world.district)  # no school days at all
    s = world.students[0]
    rows_ = [f"{s.state_id},{world.school.code},{world.days[0]},present",
             f"{s.state_id},{closed.code},{world.days[1]},present"]
    assert_rejected(world, "attendance", csv_bytes(HEADER, *rows_), attendance_days,
                    f"row 3, date: {world.days[1]} is not a school day at {closed.code}")
    only_closed = [f"{s.state_id},{closed.code},{world.days[1]},present"]
    assert_rejected(world, "attendance", csv_bytes(HEADER, *only_closed), attendance_days,
                    f"row 2, date: {world.days[1]} is not a school day at {closed.code}")
