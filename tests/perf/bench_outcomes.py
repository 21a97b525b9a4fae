"""Benchmark of the outcomes by program (issue 17, item 4).

    python -m tests.perf.bench_outcomes [--students 50000] [--runs 30]

Seeds (once) the mock partnership, with its school year of service contacts
(seed/services.py). A database seeded before the seed had contacts has none: the bench
then gives each of the demo district's partner programs a school year of weekly contacts
of its own, in one statement (kept for later runs). Then: the rebuild of the demo
district's outcomes (what each present recompute runs), and the median time of what the
page reads: the stored rows, the protected rows of all schools and of one school, and
each program's reach (counted from the contacts, not stored), and the page itself for a
district admin, a principal and a partner admin. Target: the page ≤ 200 ms at 50,000
students.
"""
from __future__ import annotations

import argparse
import statistics
import time

import sqlalchemy as sa

from tests.perf.bench_policy import signed_in_client
from tests.perf.common import median_ms, perf_app, print_table

# a partner program's students: a share of the students of the schools of its agreement
# (all the district's when it names none), from a week of the first twenty; an hour or so
# a week since, attended nine times in ten
CONTACTS_SQL = sa.text("""
WITH programs AS (
    SELECT a.organization_id, unnest(a.services) AS service, a.id AS agreement_id
    FROM service_agreements a WHERE a.district_id = :district_id AND a.ended_on IS NULL
),
students AS (
    SELECT p.organization_id, p.service, s.id AS student_id,
           :starts_on + 7 * (abs(hashtext(p.service || s.id)) % 20) AS first_on
    FROM programs p
    JOIN students s ON s.district_id = :district_id AND s.left_on IS NULL
    WHERE abs(hashtext(p.agreement_id || p.service || s.id)) % 100 < 4
      AND (NOT EXISTS (SELECT 1 FROM service_agreement_schools x WHERE x.agreement_id = p.agreement_id)
           OR s.school_id IN (SELECT x.school_id FROM service_agreement_schools x
                              WHERE x.agreement_id = p.agreement_id))
)
INSERT INTO service_contacts (student_id, organization_id, service, contact_on, minutes, mode, attended)
SELECT st.student_id, st.organization_id, st.service, day::date, 45 + 15 * (abs(hashtext(st.student_id || day::text)) % 4),
       'individual', true
FROM students st
CROSS JOIN LATERAL generate_series(st.first_on, :as_of, interval '7 days') AS day
WHERE abs(hashtext(st.service || st.student_id || day::text)) % 10 < 9
""")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    app = perf_app(args.students)
    from casemgr import outcomes
    from casemgr.clock import today
    from casemgr.extensions import db
    from casemgr.indicators import school_year_for
    from casemgr.models import Organization, ProgramOutcome, ServiceContact

    rows = []
    with app.app_context():
        district = db.session.scalar(sa.select(Organization.id).where(Organization.kind == "district")
                                     .order_by(Organization.id).limit(1))
        as_of = today()
        year = school_year_for(district, as_of)
        contacts = db.session.scalar(sa.select(sa.func.count()).select_from(ServiceContact))
        if not contacts:
            started = time.perf_counter()
            db.session.execute(CONTACTS_SQL, {"district_id": district, "starts_on": year.starts_on, "as_of": as_of})
            db.session.execute(sa.text("ANALYZE service_contacts"))
            db.session.commit()
            print(f"contacts of its own, the seed having none: {time.perf_counter() - started:.1f} s")
        rows.append(("service contacts (both districts)",
                     f"{db.session.scalar(sa.select(sa.func.count()).select_from(ServiceContact)):,}", ""))
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            written = outcomes.rebuild(district, as_of)
            db.session.commit()
            timings.append((time.perf_counter() - started) * 1000)
        rows.append(("rebuild of the demo district's outcomes: median of 3", f"{statistics.median(timings):.0f} ms",
                     "once per recompute"))
        rows.append(("rows stored", f"{written:,}", ""))
        served = db.session.execute(
            sa.select(sa.func.count(), sa.func.sum(ProgramOutcome.served_n), sa.func.sum(ProgramOutcome.unmatched_n),
                      sa.func.sum(ProgramOutcome.comparison_n))
            .where(ProgramOutcome.district_id == district, ProgramOutcome.school_id.is_(None),
                   ProgramOutcome.audience == "district")).one()
        rows.append(("programs; served; unmatched; comparison students", "; ".join(f"{v:,}" for v in served), ""))
        school = db.session.scalar(sa.select(ProgramOutcome.school_id).where(
            ProgramOutcome.district_id == district, ProgramOutcome.school_id.is_not(None))
            .order_by(ProgramOutcome.served_n.desc()).limit(1))
        reads = [
            ("read: stored rows of all schools", lambda: outcomes.read(district, year.year)),
            ("protected: all schools", lambda: outcomes.protected(district, year.year)),
            ("protected: one school", lambda: outcomes.protected(district, year.year, school_id=school)),
            ("reach of every program", lambda: outcomes.reach(district, year.year)),
        ]
        for name, action in reads:
            rows.append((f"{name}: median", f"{median_ms(lambda a=action: (a(), db.session.rollback()), args.runs):.1f} ms",
                         "≤ 200 ms"))
    # the page itself, through the Flask test client (server time), for each kind of reader
    for email, what in (("admin@example.org", "district admin"), ("principal@example.org", "principal"),
                        ("partner@example.org", "partner admin")):
        client = signed_in_client(app, email)
        assert client.get("/reports/programs").status_code == 200
        rows.append((f"outcomes page, {what}: median", f"{median_ms(lambda c=client: c.get('/reports/programs'), args.runs):.1f} ms",
                     "≤ 200 ms"))
    print_table(f"Outcomes by program at {args.students:,} students", rows)


if __name__ == "__main__":
    main()
