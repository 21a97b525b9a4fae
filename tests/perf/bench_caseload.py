"""Benchmark of the indicators and the caseload (issue: risk indicators).

    python -m tests.perf.bench_caseload [--students 50000] [--runs 50]

Seeds (once) a district with a full year of daily attendance (as of the last day of
the school year), then measures a full recompute of every student's indicators, and
the caseload page's median server time and SQL query count for a counselor (one
school) and a district admin (the whole district): every sort in both directions, the
filters, a name search and pages further on.

A recompute rewrites every row of student_indicators, and autovacuum then cleans the
old versions in the background for a few seconds, competing for the CPU with whatever
runs. The pages are measured in the steady state: the script vacuums the table itself
after the timed recompute (what autovacuum would do) before it times any page.
"""
from __future__ import annotations

import argparse
import time
from datetime import date

import sqlalchemy as sa

from casemgr import indicators
from casemgr.attendance import attendance_days
from casemgr.clock import today
from casemgr.extensions import db
from casemgr.models import User
from tests.perf.bench_policy import signed_in_client
from tests.perf.common import measure_page, perf_app, print_table


def last_school_day(today: date) -> date:
    year = today.year if today.month >= 8 else today.year - 1
    return date(year + 1, 6, 11)


def caseload_queries(admin: bool) -> list[str]:
    """Every sort both ways, the filters, a search and later pages; a district admin also
    sorts by school and picks the counselor's school."""
    queries = ["", "?tier=3", "?sort=attendance&dir=asc", "?sort=name&page=5", "?indicator=chronic&grade=9", "?q=mar"]
    sorts = ["name", "grade", "tier", "attendance", "failures", "credits"] + (["school"] if admin else [])
    queries += [f"?sort={sort}&dir={direction}" for sort in sorts for direction in ("asc", "desc")]
    queries += ["?q=mar&sort=name", "?sort=tier&dir=desc&page=20", "?sort=credits&dir=asc&page=20"]
    if admin:
        queries += ["?school={school}", "?school={school}&q=mar"]
    return queries


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    as_of = last_school_day(today())
    app = perf_app(args.students, as_of=as_of)
    rows = []
    with app.app_context():
        attendance = db.session.scalar(sa.select(sa.func.count()).select_from(attendance_days))
        rows.append(("attendance rows", f"{attendance:,}", "a full year"))
        started = time.perf_counter()
        [result] = indicators.recompute(as_of=as_of)
        rows.append((f"full recompute, {result.students:,} students", f"{time.perf_counter() - started:.2f} s", "≤ 10 s"))
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM (ANALYZE) student_indicators"))
        counselor = db.session.scalar(sa.select(User).where(User.email == "counselor@example.org"))
        school = counselor.organization.uuid
    for email in ("counselor@example.org", "admin@example.org"):
        client = signed_in_client(app, email)
        for query in caseload_queries(admin=email.startswith("admin")):
            path = f"/caseload{query.format(school=school)}"
            name = f"caseload {email.split('@')[0]} {query.format(school='<counselor’s>') or '(default)'}"
            rows += measure_page(app, client, path, name, args.runs, "≤ 10")
    print_table(f"Indicators and caseload at {args.students:,} students, as of {as_of}", rows)


if __name__ == "__main__":
    main()
