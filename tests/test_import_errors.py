"""Whole-file problems, the 50-error cap, dry runs and the batch record."""
from __future__ import annotations

import sqlalchemy as sa

from casemgr.extensions import db as _db
from casemgr.attendance import attendance_days
from casemgr.models import ImportBatch, Student
from tests.test_import_kinds import _recorded_recompute, assert_rejected, count, csv_bytes, run, world  # noqa: F401

HEADER = "state_id,school_code,date,status"


def test_wrong_encoding_is_rejected_with_its_line(world):
    raw = f"{HEADER}\n{world.students[0].state_id},{world.school.code},{world.days[0]},present\n".encode()
    raw += "NOBODY,Peña,2026-09-01,present\n".encode("latin-1")
    outcome = assert_rejected(world, "attendance", raw, attendance_days, "not UTF-8", row=3)
    assert "save it as 'CSV UTF-8'" in outcome.errors[0].message


def test_a_utf8_byte_order_mark_is_accepted(world):
    raw = b"\xef\xbb\xbf" + csv_bytes(HEADER, f"{world.students[0].state_id},{world.school.code},{world.days[0]},present")
    outcome = run(world, "attendance", raw)
    assert outcome.ok and outcome.batch.rows_inserted == 1


def test_missing_and_unknown_columns(world):
    raw = csv_bytes("state_id,school,date", f"{world.students[0].state_id},{world.school.code},{world.days[0]}")
    assert_rejected(world, "attendance", raw, attendance_days, "row 1, school: unknown column 'school'",
                    "row 1, school_code: missing column 'school_code'", "row 1, status: missing column 'status'")


def test_a_row_with_too_many_fields(world):
    raw = csv_bytes(HEADER, f"{world.students[0].state_id},{world.school.code},{world.days[0]},present",
                    f"{world.students[1].state_id},{world.school.code},{world.days[0]},present,extra")
    assert_rejected(world, "attendance", raw, attendance_days, "row 3: the row has more fields than the header")


def test_empty_files(world):
    assert_rejected(world, "attendance", b"", attendance_days, "the file is empty")
    assert_rejected(world, "attendance", csv_bytes(HEADER), attendance_days, "the file has a header but no rows")


def test_first_50_errors_and_the_total(world):
    lines = [HEADER] + [f"NOBODY{n},{world.school.code},{world.days[0]},present" for n in range(120)]
    outcome = assert_rejected(world, "attendance", csv_bytes(*lines), attendance_days)
    assert len(outcome.errors) == 50 and outcome.batch.error_count == 120
    assert [e.row for e in outcome.errors] == list(range(2, 52))
    assert len(outcome.batch.errors) == 50


def test_a_bad_row_rejects_the_whole_file(world):
    good = [f"{s.state_id},{world.school.code},{world.days[0]},present" for s in world.students]
    before = count(attendance_days)
    outcome = run(world, "attendance", csv_bytes(HEADER, *good, f"{world.students[0].state_id},{world.school.code},{world.days[1]},gone"))
    assert outcome.batch.status == "rejected" and count(attendance_days) == before
    assert outcome.batch.rows_inserted == 0


def test_dry_run_writes_nothing_but_the_batch(world, _recorded_recompute):
    raw = csv_bytes(HEADER, f"{world.students[0].state_id},{world.school.code},{world.days[0]},present")
    batches = count(ImportBatch)
    outcome = run(world, "attendance", raw, dry_run=True)
    assert outcome.ok and outcome.batch.dry_run and outcome.batch.rows_inserted == 1
    assert count(attendance_days) == 0 and count(ImportBatch) == batches + 1
    assert _recorded_recompute == []


def test_the_batch_survives_a_rejection(world):
    run(world, "students", csv_bytes("state_id", "X"))
    batch = _db.session.scalars(sa.select(ImportBatch).order_by(ImportBatch.id.desc())).first()
    assert batch.status == "rejected" and batch.kind == "students" and batch.user_id is None
    assert batch.district_id == world.district.id and len(batch.file_sha256) == 64
    assert count(Student) == 3
