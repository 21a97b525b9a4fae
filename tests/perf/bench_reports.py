"""Benchmark of the report pages (issue 15).

    python -m tests.perf.bench_reports [--students 50000] [--runs 30]

Seeds (once) a district with its school-year history, then: the first read of a school
year (counting every measure and breakdown in one statement, and protecting each
measure's cube), and the median server time and SQL statements of each report page as
district admin, principal and researcher once the year's figures are stored (issue 15:
≤ 100 ms at 50,000 students, a fixed number of queries).
"""
from __future__ import annotations

import argparse
import time

import sqlalchemy as sa

from tests.perf.bench_policy import signed_in_client
from tests.perf.common import median_ms, perf_app, print_table, queries_of

PAGES = [
    ("admin@example.org", "/reports"),
    ("admin@example.org", "/reports?measure=chronic_absence&by=grade"),
    ("admin@example.org", "/reports?measure=course_failure&by=low_income&across=school"),
    ("admin@example.org", "/reports?measure=chronic_absence&by=low_income&view=trend"),
    ("admin@example.org", "/reports?measure=enrolled&by=ethnicity&view=trend"),
    ("principal@example.org", "/reports?measure=chronic_absence&by=grade"),
    ("principal@example.org", "/reports?measure=fafsa_complete&by=gender&view=trend"),
    ("researcher@example.org", "/reports?measure=tier_3&by=disability"),
    ("admin@example.org", "/reports/export.xlsx?measure=chronic_absence&by=grade"),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    app = perf_app(args.students)
    from casemgr.extensions import db
    from casemgr.models import SchoolYear, StoredCube
    from casemgr.reads import report_figures

    rows = []
    with app.app_context():
        db.session.execute(sa.delete(StoredCube))
        db.session.commit()
        years = db.session.scalars(sa.select(SchoolYear).order_by(SchoolYear.year)).all()
        for year in years:
            started = time.perf_counter()
            report_figures.year_figures(year.district_id, year.year)
            db.session.commit()
            rows.append((f"first read of {year.label}: count and protect every measure",
                         f"{(time.perf_counter() - started) * 1000:.0f} ms", "once per recompute"))
    for email, path in PAGES:
        client = signed_in_client(app, email)
        name = f"{email.split('@')[0]} {path}"
        rows.append((f"{name}: SQL queries", str(queries_of(app, client, path)), "fixed"))
        rows.append((f"{name}: median", f"{median_ms(lambda: client.get(path), args.runs):.2f} ms", "≤ 100 ms"))
    print_table(f"Reports at {args.students:,} students", rows)


if __name__ == "__main__":
    main()
