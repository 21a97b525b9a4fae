"""Benchmark of the caseload's export (issue 14: 1,000 rows in ≤ 1 s at 50,000 students).

    python -m tests.perf.bench_caseload_export [--students 50000] [--runs 10]

Seeds (once) a district, then times the whole request of a CSV and an Excel export
(the read of every row, the file, the one disclosure entry) in the server, median of
`--runs`: 1,000 rows for a counselor (their school, by tier and by attendance) and for
the district admin (the whole district, by tier, read in index order), and the district
admin's export at the cap (EXPORT_CAP rows), and the print view of 1,000 rows.
"""
from __future__ import annotations

import argparse

import sqlalchemy as sa

from casemgr.extensions import db
from casemgr.models import User
from casemgr.reads import caseload_export
from tests.perf.bench_policy import signed_in_client
from tests.perf.common import median_ms, perf_app, print_table, queries_of

CASES = [
    ("counselor@example.org", "/caseload/export.{fmt}?scope=school", 1_000),
    ("counselor@example.org", "/caseload/export.{fmt}?scope=school&sort=attendance&dir=asc", 1_000),
    ("admin@example.org", "/caseload/export.{fmt}", 1_000),
    ("admin@example.org", "/caseload/export.{fmt}?sort=name&q=a", 1_000),
    ("admin@example.org", "/caseload/export.{fmt}", caseload_export.EXPORT_CAP),
    ("counselor@example.org", "/caseload/print?scope=school", 1_000),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    app = perf_app(args.students)
    with app.app_context():
        counselor = db.session.scalar(sa.select(User).where(User.email == "counselor@example.org"))
        school_size = db.session.scalar(sa.text("SELECT count(*) FROM students WHERE school_id = :s AND left_on IS NULL"),
                                        {"s": counselor.organization_id})
    rows = [("students in the counselor's school", f"{school_size:,}", "")]
    cap = caseload_export.EXPORT_CAP
    clients = {}
    for email, path, size in CASES:
        client = clients.get(email) or clients.setdefault(email, signed_in_client(app, email))
        caseload_export.EXPORT_CAP = size
        for fmt in (("csv", "xlsx") if "{fmt}" in path else ("",)):
            url = path.format(fmt=fmt)
            listed = client.get(url).get_data().count(b"\n") - 1 if fmt == "csv" else None
            count = queries_of(app, client, url)
            name = f"{email.split('@')[0]} {url} ({size:,} rows{'' if listed is None else f', {listed:,} in the file'})"
            rows.append((f"{name}: SQL queries", str(count), "fixed"))
            target = "≤ 1 s" if size <= 1_000 else "(the cap)"
            rows.append((f"{name}: median", f"{median_ms(lambda c=client, u=url: c.get(u), args.runs, warmup=1):.0f} ms",
                         target))
    caseload_export.EXPORT_CAP = cap
    print_table(f"Caseload export at {args.students:,} students", rows)


if __name__ == "__main__":
    main()
