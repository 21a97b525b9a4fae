"""The large-file path of the attendance import (one-pass resolve, index rebuild),
exercised on small files by lowering its threshold."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from casemgr.extensions import db as _db
from casemgr.importers import attendance
from casemgr.models import AttendanceDay
from tests.test_import_kinds import _recorded_recompute, assert_rejected, count, csv_bytes, run, world  # noqa: F401

HEADER = "state_id,school_code,date,status"


@pytest.fixture(autouse=True)
def bulk_path(monkeypatch):
    monkeypatch.setattr(attendance, "BULK_ROWS", 2)


def rows(world, status="present", days=3):
    return [f"{s.state_id},{world.school.code},{d},{status}" for s in world.students for d in world.days[:days]]


def test_a_large_file_is_inserted_then_changes_nothing(world):
    raw = csv_bytes(HEADER, *rows(world))
    outcome = run(world, "attendance", raw)
    assert outcome.ok, [e.describe() for e in outcome.errors]
    assert (outcome.batch.rows_inserted, outcome.batch.rows_updated) == (9, 0) and count(AttendanceDay) == 9
    again = run(world, "attendance", raw)
    assert again.ok and (again.batch.rows_inserted, again.batch.rows_updated) == (0, 0)
    changed = run(world, "attendance", csv_bytes(HEADER, *rows(world, "excused", days=4)))
    assert (changed.batch.rows_inserted, changed.batch.rows_updated) == (3, 9)
    statuses = set(_db.session.scalars(sa.select(AttendanceDay.status)))
    assert statuses == {"excused"}
    indexes = _db.session.execute(sa.text(
        "SELECT count(*) FROM pg_constraint WHERE conrelid = 'attendance_days'::regclass AND contype IN ('p', 'f')")).scalar()
    assert indexes == 3  # the primary key and both foreign keys are back


def test_a_large_bad_file_names_its_rows(world):
    bad = rows(world) + [f"NOBODY,{world.school.code},{world.days[0]},present",
                         f"{world.students[0].state_id},{world.school.code},{world.days[0] + timedelta(days=400)},present",
                         f"{world.students[0].state_id},{world.school.code},{world.days[0]},late"]
    assert_rejected(world, "attendance", csv_bytes(HEADER, *bad), AttendanceDay,
                    "row 11, state_id: unknown student 'NOBODY'", "row 12, date:", "row 13, status: 'late' is not one of")


def test_a_large_file_with_a_duplicate_key(world):
    dup = rows(world) + [rows(world)[0]]
    assert_rejected(world, "attendance", csv_bytes(HEADER, *dup), AttendanceDay,
                    "row 11: duplicate key (state_id, date): the same as row 2")


def test_spaces_and_letter_case_are_accepted_on_the_large_path(world):
    padded = [f" {s.state_id} ,{world.school.code}, {d} ,Present" for s in world.students for d in world.days[:2]]
    outcome = run(world, "attendance", csv_bytes(HEADER, *padded))
    assert outcome.ok and outcome.batch.rows_inserted == 6, [e.describe() for e in outcome.errors]
