"""Benchmark of a research project's de-identified extract (issue 16, item 2).

    python -m tests.perf.bench_research [--students 50000]

Seeds (once) a district with its school-year history; uses the seeded study (or records
one, on a database seeded before studies existed) covering every school year, and times
its extract: reading the rows (one statement), pseudonyms and the k-anonymity step, and
the ZIP, in CSV and in Parquet (issue 16: 50,000 students over four years under 30 s).
"""
from __future__ import annotations

import argparse
import time
from datetime import date, timedelta

import sqlalchemy as sa

from tests.perf.common import perf_app, print_table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=50_000)
    args = parser.parse_args()
    app = perf_app(args.students)
    from casemgr.clock import today
    from casemgr.extensions import db
    from casemgr.models import Organization, ResearchProject, SchoolYear, User
    from casemgr.models.enums import OrgKind, Role
    from casemgr.reads import report_figures, research_extract
    from casemgr.research import VARIABLES

    rows = []
    with app.app_context():
        project = db.session.scalar(sa.select(ResearchProject).order_by(ResearchProject.id))
        if project is None:
            district = db.session.scalar(sa.select(Organization).where(Organization.kind == str(OrgKind.DISTRICT)))
            research_org = db.session.scalar(sa.select(Organization).where(Organization.kind == str(OrgKind.RESEARCH)))
            admin = db.session.scalar(sa.select(User).where(User.role == str(Role.DISTRICT_ADMIN)))
            years = db.session.scalars(sa.select(SchoolYear.year).where(SchoolYear.district_id == district.id)).all()
            project = ResearchProject(
                district_id=district.id, organization_id=research_org.id, title="Benchmark study", purpose="Timing",
                approval_reference="BENCH", variables=list(VARIABLES), school_years=sorted(years),
                starts_on=today() - timedelta(days=1), ends_on=today() + timedelta(days=365),
                destroy_by=today() + timedelta(days=730), created_by_id=admin.id)
            db.session.add(project)
            db.session.commit()
        k = report_figures.minimum_n(project.district_id)
        for fmt in research_extract.FORMATS:
            started = time.perf_counter()
            built = research_extract.build(project, k)
            read = time.perf_counter()
            body = research_extract.zip_file(project, built, fmt, date.today())
            done = time.perf_counter()
            rows.append((f"extract ({fmt}): rows, pseudonyms and k-anonymity", f"{(read - started):.1f} s", ""))
            rows.append((f"extract ({fmt}): the ZIP", f"{(done - read):.1f} s", ""))
            rows.append((f"extract ({fmt}): in all", f"{(done - started):.1f} s", "< 30 s"))
            rows.append((f"extract ({fmt}): rows kept, left out, size",
                         f"{len(built.result.rows):,}, {built.result.rows_left_out:,}, {len(body) / 1e6:.1f} MB", ""))
        rows.append(("generalized: " + ", ".join(f"{q} {level}" for q, level in built.result.levels.items()), "", ""))
    print_table(f"Research extract at {args.students:,} students, {len(project.school_years)} school years", rows)


if __name__ == "__main__":
    main()
