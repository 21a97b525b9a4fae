"""Benchmark of recording services (issue 17): taking a program group's attendance (≤ 30 ms
server time at 50,000 students with a year of contacts), logging a contact, and the
pages a youth worker reads (the home with dosage, the progress page, a group's sheet).

    python -m tests.perf.bench_services [--students 50000] [--runs 50]

Seeds (once) a district as of today; the demo worker's organization's largest group
is used (one of 15 students of its roster is made when the seed has none). Saving the
sheet alternates one student's presence, so that every save changes a row, as a real
correction does; each request goes through the Flask test client, in-process, so the
time is the server's.
"""
from __future__ import annotations

import argparse
import re
from datetime import timedelta

import sqlalchemy as sa

from casemgr import policy
from casemgr.clock import today
from casemgr.extensions import db
from casemgr.models import ProgramGroup, ProgramGroupMember, RosterEntry, Student, User
from tests.perf.bench_policy import signed_in_client
from tests.perf.common import QueryCounter, measure_page, median_ms, perf_app, print_table

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def worker_group(app) -> tuple[str, list[str]]:
    """(the group's UUID, its members' UUIDs)."""
    with app.app_context():
        worker = db.session.scalar(sa.select(User).where(User.email == "worker@example.org"))
        members = sa.func.count(ProgramGroupMember.student_id)
        found = db.session.execute(
            sa.select(ProgramGroup.id).join(ProgramGroupMember, ProgramGroupMember.group_id == ProgramGroup.id)
            .where(ProgramGroup.organization_id == worker.organization_id, ProgramGroup.archived_on.is_(None))
            .group_by(ProgramGroup.id).order_by(members.desc()).limit(1)).scalar()
        if found is None:
            day = today()
            students = db.session.scalars(
                sa.select(RosterEntry.student_id).where(RosterEntry.organization_id == worker.organization_id,
                                                        RosterEntry.removed_on.is_(None), RosterEntry.added_on <= day)
                .order_by(RosterEntry.student_id).limit(15)).all()
            group = ProgramGroup(organization_id=worker.organization_id, name="Benchmark club",
                                 service=policy.services_offered(worker.organization_id, day)[0], session_minutes=90)
            db.session.add(group)
            db.session.flush()
            db.session.add_all(ProgramGroupMember(group_id=group.id, student_id=s) for s in students)
            db.session.commit()
            found = group.id
        group = db.session.get(ProgramGroup, found)
        uuids = db.session.scalars(sa.select(Student.uuid).join(ProgramGroupMember, ProgramGroupMember.student_id == Student.id)
                                   .where(ProgramGroupMember.group_id == found)).all()
        return str(group.uuid), [str(u) for u in uuids]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    app = perf_app(args.students)
    with app.app_context():
        contacts = db.session.scalar(sa.text("SELECT count(*) FROM service_contacts"))
    group, members = worker_group(app)
    client = signed_in_client(app, "worker@example.org")
    sheet = f"/services/groups/{group}/attendance"
    token = CSRF.search(client.get(sheet).get_data(as_text=True)).group(1)
    day = (today() - timedelta(days=1)).isoformat()
    turn = {"n": 0}

    def save():
        turn["n"] += 1
        present = members[1:] if turn["n"] % 2 else members
        response = client.post(sheet, data={"csrf_token": token, "day": day, "minutes": "90", "present": present})
        assert response.status_code == 302, response.status_code

    rows = [("service contacts in the database", f"{contacts:,}", "a year of them")]
    save()
    with app.app_context():
        counter = QueryCounter(db.engine)
        with counter.counting():
            save()
    rows.append((f"take attendance, group of {len(members)}: SQL queries", str(counter.count), "fixed"))
    rows.append((f"take attendance, group of {len(members)}: median", f"{median_ms(save, args.runs):.2f} ms", "≤ 30 ms"))
    rows += measure_page(app, client, sheet, "attendance sheet", args.runs, "fixed")
    rows += measure_page(app, client, "/services/contacts/new", "contact form, the whole roster to choose from",
                         args.runs, "fixed")
    rows += measure_page(app, client, f"/services/contacts/new?student={members[0]}",
                         "contact form from a roster row (the student chosen)", args.runs, "fixed")
    rows += measure_page(app, client, "/services/progress", "progress page", args.runs, "fixed")
    rows += measure_page(app, client, "/", "worker home with dosage", args.runs, "fixed")
    print_table(f"Services at {args.students:,} students, as of {today()}", rows)


if __name__ == "__main__":
    main()
