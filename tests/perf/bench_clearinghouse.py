"""Benchmark of the Clearinghouse round trip (issue 16, item 4) at 50,000 students.

    python -m tests.perf.bench_clearinghouse [--students 50000]

On the seeded district (seeded once, see common.perf_app): writes a StudentTracker
detail report naming every student of the first district (three records each: two
terms and a degree, or one "not found"), then times importing it through the import
path (parse, checks, merge, the four measures), importing it again (nothing changes),
and writing the graduates file of the latest graduating class.
"""
from __future__ import annotations

import argparse
import csv
import io
import random
import time

import sqlalchemy as sa

from tests.perf.common import perf_app, print_table

HEADER = ["Requester Return Field", "Record Found Y/N", "Search Date", "College Code/Branch", "College Name",
          "College State", "2-year / 4-year", "Public / Private", "Enrollment Begin", "Enrollment End",
          "Enrollment Status", "Graduated?", "Graduation Date", "Degree Title"]


def detail_report(local_ids: list[str]) -> bytes:
    rng = random.Random(16)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for local_id in local_ids:
        if rng.random() < 0.3:
            writer.writerow([local_id, "N", "20240607", *[""] * 11])
            continue
        college = ["003956-00", "LAKEVIEW STATE UNIVERSITY", "OH", "4", "Public"]
        writer.writerow([local_id, "Y", "20240607", *college, "20240826", "20241213", "F", "N", "", ""])
        writer.writerow([local_id, "Y", "20240607", *college, "20250113", "20250509", "F", "N", "", ""])
        writer.writerow([local_id, "Y", "20240607", *college, "", "", "", "Y", "20250516", "CERTIFICATE"])
    return out.getvalue().encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=50_000)
    args = parser.parse_args()
    app = perf_app(args.students)
    from casemgr import importers, postsecondary
    from casemgr.extensions import db
    from casemgr.models import Organization, Student
    from casemgr.models.enums import OrgKind

    rows = []
    with app.app_context():
        district = db.session.scalar(sa.select(Organization).where(Organization.kind == str(OrgKind.DISTRICT))
                                     .order_by(Organization.id))
        local_ids = list(db.session.scalars(sa.select(Student.local_id).where(Student.district_id == district.id)
                                            .order_by(Student.id).limit(args.students)))
        raw = detail_report(local_ids)
        for attempt in ("first import", "same report again"):
            started = time.perf_counter()
            outcome = importers.import_file("studenttracker", raw, "detail.csv", district)
            took = time.perf_counter() - started
            assert outcome.ok, [e.describe() for e in outcome.errors]
            rows.append((f"{attempt}: {len(local_ids):,} students, {outcome.batch.rows_read:,} rows",
                         f"{took:.1f} s", ""))
            rows.append((f"{attempt}: records new", f"{outcome.batch.rows_inserted:,}", ""))
        classes = postsecondary.classes(district.id)
        if classes:
            started = time.perf_counter()
            graduates = postsecondary.graduates(district.id, classes[0])
            took = time.perf_counter() - started
            rows.append((f"graduates of the class of {classes[0] + 1}: {len(graduates):,} read", f"{took:.2f} s", ""))
    print_table(f"Clearinghouse detail report at {args.students:,} students", rows)


if __name__ == "__main__":
    main()
