"""Benchmark of the attendance import (issue 4, item 6), and of the same year as an Ed-Fi
interchange file (issue 12).

    python -m tests.perf.bench_import [--students 50000] [--database-url URL] [--edfi]

On a seeded district, writes a CSV file of a full school year of daily attendance for
every student (each enrolled student × every instructional day of the year; the
seeded days keep their status, the rest are drawn at random), then, in the same run:
1. a bare COPY of the file into a plain, unindexed table of text columns;
2. the real attendance import of the same file (staging COPY, set-based validation,
   merge), as `casemgr import attendance` runs it;
3. the same import again (idempotent: 0 inserted, 0 updated).
Everything runs inside one outer transaction that is rolled back at the end, so the
seeded database is reused unchanged by the next run; the import's own commits become
savepoint releases. The indicator recompute that follows an import is not timed here.

With --edfi, the same rows are also written, streaming, as an Ed-Fi
InterchangeStudentAttendance file (one StudentSchoolAttendanceEvent each, ~800 bytes: ~7 GB
for 9 M events), and the Ed-Fi import is timed in place of the CSV one (2.), against the
same bare COPY of the CSV file, then again (3.).
"""
from __future__ import annotations

import argparse
import csv
import resource
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import scoped_session, sessionmaker

from casemgr.extensions import db
from casemgr.models import Organization, SchoolYear
from casemgr.models.enums import OrgKind
from tests.edfi_files import SUSPENSION, write_attendance
from tests.perf.common import perf_app, print_table

FILE_QUERY = """
COPY (
  SELECT st.state_id, sc.code, cd.day,
         coalesce(a.status, CASE WHEN r < 0.90 THEN 'present' WHEN r < 0.93 THEN 'tardy'
                                 WHEN r < 0.97 THEN 'excused' ELSE 'unexcused' END)
  FROM (SELECT se.*, random() AS r FROM school_enrollments se) se
  JOIN students st ON st.id = se.student_id
  JOIN organizations sc ON sc.id = se.school_id
  JOIN calendar_days cd ON cd.school_id = se.school_id AND cd.instructional
       AND cd.day >= se.entry_date AND (se.exit_date IS NULL OR cd.day <= se.exit_date)
  LEFT JOIN attendance_days a ON a.student_id = st.id AND a.day = cd.day
  WHERE st.district_id = (SELECT min(id) FROM organizations WHERE kind = 'district')  -- the seed's demo district
) TO STDOUT WITH (FORMAT csv)"""


def write_file(path: Path) -> int:
    cursor = db.session.connection().connection.driver_connection.cursor()
    with path.open("wb") as out:
        out.write(b"state_id,school_code,date,status\n")
        with cursor.copy(FILE_QUERY) as copy:
            for block in copy:
                out.write(block)
    return sum(1 for _ in path.open("rb")) - 1


def bare_copy(path: Path) -> float:
    """COPY of the file from disk, a megabyte at a time, into a plain table."""
    cursor = db.session.connection().connection.driver_connection.cursor()
    cursor.execute("CREATE TABLE bench_bare_copy (state_id text, school_code text, date text, status text)")
    started = time.perf_counter()
    with cursor.copy("COPY bench_bare_copy FROM STDIN (FORMAT csv, HEADER true)") as copy, path.open("rb") as stream:
        while piece := stream.read(1 << 20):
            copy.write(piece)
    elapsed = time.perf_counter() - started
    cursor.execute("DROP TABLE bench_bare_copy")
    return elapsed


def write_edfi_file(csv_path: Path, xml_path: Path, year: int) -> int:
    """The rows of the CSV file as an Ed-Fi InterchangeStudentAttendance, streamed to disk."""
    with csv_path.open(newline="") as rows, xml_path.open("wb") as out:
        reader = csv.reader(rows)
        next(reader)
        return write_attendance(out, (tuple(row) for row in reader), year)


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (what `/usr/bin/time -v` reports as
    its maximum resident set size): the file is never read into this process whole, so
    the import's peak is the process's peak once the import has run."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed_import(path: Path, district, as_of, kind: str = "attendance", filename: str = "attendance_full_year.csv"):
    from casemgr.importers.runner import execute

    started = time.perf_counter()
    outcome = execute(kind, path, filename, district, today=as_of)
    elapsed = time.perf_counter() - started
    assert outcome.ok, [e.describe() for e in outcome.errors[:5]]
    return elapsed, outcome.batch


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--database-url")
    parser.add_argument("--edfi", action="store_true", help="import the year as an Ed-Fi interchange file instead")
    args = parser.parse_args()
    app = perf_app(args.students, args.database_url)
    from casemgr import indicators

    indicators.recompute = lambda district_id=None, as_of=None: []  # not part of the import's time
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        db.session = scoped_session(sessionmaker(bind=connection, join_transaction_mode="create_savepoint"))
        try:
            district = db.session.scalar(sa.select(Organization).where(Organization.kind == OrgKind.DISTRICT)
                                         .order_by(Organization.id).limit(1))
            year = db.session.scalar(sa.select(SchoolYear).where(SchoolYear.district_id == district.id))
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "attendance_full_year.csv"
                started = time.perf_counter()
                rows = write_file(path)
                print(f"wrote {rows:,} rows ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s", flush=True)
                if args.edfi:
                    edfi_path = Path(folder) / "StudentSchoolAttendance.xml"
                    started = time.perf_counter()
                    events = write_edfi_file(path, edfi_path, year.year)
                    print(f"wrote {events:,} Ed-Fi events ({edfi_path.stat().st_size / 1e6:.0f} MB) in "
                          f"{time.perf_counter() - started:.1f} s", flush=True)
                before_mb = peak_rss_mb()
                copy_s = bare_copy(path)
                print(f"bare COPY: {copy_s:.1f} s (peak memory so far {before_mb:.0f} MB)", flush=True)
                if args.edfi:
                    edfi_import(district, year, rows, copy_s, edfi_path, args.students)
                    return
                import_s, batch = timed_import(path, district, year.ends_on)
                print(f"import: {import_s:.1f} s ({batch.rows_inserted:,} inserted, {batch.rows_updated:,} updated)", flush=True)
                again_s, again = timed_import(path, district, year.ends_on)
            report(f"Attendance import, {args.students:,} students, {rows:,} rows", "attendance import", copy_s,
                   (import_s, batch), (again_s, again))
        finally:
            db.session.remove()
            outer.rollback()
            connection.close()


def edfi_import(district, year, rows: int, copy_s: float, path: Path, students: int) -> None:
    """Time the Ed-Fi import of the year's events (the district maps the suspension
    descriptor first, as a district admin would with casemgr edfi-map)."""
    from casemgr.importers.edfi_map import set_mapping

    set_mapping(district.id, SUSPENSION, "suspended")
    import_s, batch = timed_import(path, district, year.ends_on, kind="edfi", filename=path.name)
    print(f"Ed-Fi import: {import_s:.1f} s ({batch.rows_inserted:,} inserted, {batch.rows_updated:,} updated)", flush=True)
    again_s, again = timed_import(path, district, year.ends_on, kind="edfi", filename=path.name)
    report(f"Ed-Fi attendance import, {students:,} students, {rows:,} events ({path.stat().st_size / 1e6:.0f} MB)",
           "Ed-Fi import", copy_s, (import_s, batch), (again_s, again),
           ratio_target="(the XML file is ~25 times the CSV file)")


def report(title: str, name: str, copy_s: float, first, again, ratio_target: str = "≤ 2x") -> None:
    """The table of one benchmark: bare COPY of the CSV rows, the import, its ratio to
    the COPY, the re-import, and the peak memory."""
    (import_s, batch), (again_s, second) = first, again
    print_table(title, [
        ("bare COPY of the rows (CSV) into a plain table", f"{copy_s:.1f} s", ""),
        (name, f"{import_s:.1f} s", f"{batch.rows_inserted:,} inserted, {batch.rows_updated:,} updated"),
        (f"ratio {name} / bare COPY", f"{import_s / copy_s:.2f}x", ratio_target),
        ("re-import of the same file", f"{again_s:.1f} s", f"{second.rows_inserted:,} inserted, {second.rows_updated:,} updated"),
        ("peak memory of this process", f"{peak_rss_mb():.0f} MB", "< 300 MB"),
    ])


if __name__ == "__main__":
    main()
