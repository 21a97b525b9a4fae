"""Bytes the disclosure log grows by for one list view of 50 students (a counselor's
caseload page): the table and all its indexes (every partition's), measured as the
growth of pg_total_relation_size over many requests, each logging 50 students of the
district (a different 50 each time, as different counselors' caseloads are), committed
one by one as requests are.

    python tests/perf/log_bytes.py [--requests 2000] [--database casemgr_logbytes]

Run by hand; prints bytes per request (target: under 1 KB) and the average row size."""
from __future__ import annotations

import argparse

import sqlalchemy as sa

from casemgr import embedded_db, policy
from casemgr.config import data_dir
from casemgr.extensions import db
from casemgr.models import Student, User
from casemgr.models.enums import Role
from casemgr.services import disclosure
from casemgr.views.caseload import SHOWN_CATEGORIES
from tests.perf.common import perf_app

LISTED = 50

# a partitioned table's size is its partitions'; a plain table is its own only partition
TOTAL_SIZE = sa.text("SELECT coalesce((SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('disclosure_log')), "
                     "pg_total_relation_size('disclosure_log'))")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--students", type=int, default=2000, help="students seeded in the database (once)")
    parser.add_argument("--database", default="casemgr_logbytes")
    args = parser.parse_args()
    url = embedded_db.start(data_dir() / "embedded", database=args.database)
    app = perf_app(args.students, database_url=url)
    with app.app_context():
        counselor = db.session.scalars(sa.select(User).where(User.role == Role.COUNSELOR).order_by(User.id)).first()
        district = db.session.scalars(sa.select(Student.district_id).order_by(Student.id)).first()
        students = list(db.session.scalars(
            sa.select(Student.id).where(Student.district_id == district).order_by(Student.id)))
        before = db.session.scalar(TOTAL_SIZE)
        rows_before = db.session.scalar(sa.text("SELECT count(*) FROM disclosure_log"))
        first_id = db.session.scalar(sa.text("SELECT coalesce(max(id), 0) FROM disclosure_log"))
        db.session.commit()
        for n in range(args.requests):
            start = (n * 37) % max(1, len(students) - LISTED)
            listed = students[start:start + LISTED]
            with app.test_request_context("/caseload?page=2"):
                disclosure.log_list_view(counselor, listed, SHOWN_CATEGORIES, policy.SCHOOL_OFFICIAL)
                db.session.commit()
        after = db.session.scalar(TOTAL_SIZE)
        rows = db.session.scalar(sa.text("SELECT count(*) FROM disclosure_log")) - rows_before
        row_bytes = db.session.scalar(sa.text(
            "SELECT avg(pg_column_size(d.*)) FROM disclosure_log d WHERE id > :first"), {"first": first_id})
    per_request = (after - before) / args.requests
    print(f"{args.requests:,} list views of {LISTED} students: {rows:,} log rows ({rows / args.requests:g} a request)")
    print(f"log (table and indexes) grew by {after - before:,} bytes: {per_request:,.0f} bytes a request "
          f"(target under 1,024)")
    print(f"average row (pg_column_size): {float(row_bytes):,.0f} bytes")


if __name__ == "__main__":
    main()
