"""Benchmark of the access policy (issue: the access policy).

    python -m tests.perf.bench_policy [--students 50000] [--database-url URL]

Measures, on a seeded district: that the visible-students filter is one SQL query
whatever the role, the median time of a 50-row filtered list, and the median server
time of the student record page for a counselor and a youth worker.
"""
from __future__ import annotations

import argparse
import re

import sqlalchemy as sa

from casemgr import policy
from casemgr.extensions import db
from casemgr.models import Student, User
from casemgr.models.enums import Category
from tests.perf.common import QueryCounter, median_ms, perf_app, print_table

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def signed_in_client(app, email: str):
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = CSRF.search(html).group(1)
    response = client.post("/login", data={"email": email, "password": "casemgr-demo", "csrf_token": token})
    assert response.status_code == 302, f"cannot sign in as {email}"
    return client


def list_page(user: User):
    query = (
        sa.select(Student)
        .where(policy.visible_students(user))
        .order_by(Student.last_name, Student.first_name, Student.id)
        .limit(50)
    )
    return db.session.scalars(query).all()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--database-url")
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    app = perf_app(args.students, args.database_url)
    rows = []
    with app.app_context():
        counter = QueryCounter(db.engine)
        users = {
            email: db.session.scalar(sa.select(User).where(User.email == email))
            for email in ("admin@example.org", "counselor@example.org", "teacher@example.org", "worker@example.org")
        }
        for email, user in users.items():
            with counter.counting():
                found = list_page(user)
            total = db.session.scalar(sa.select(sa.func.count()).select_from(Student).where(policy.visible_students(user)))
            # partner staff: one more, small query reads the organization's agreements
            expected = "2" if user.role in ("partner_admin", "youth_worker") else "1"
            rows.append((f"list filter, {user.role}: SQL queries", str(counter.count), expected))
            rows.append((f"list filter, {user.role}: 50-row page of {total:,}", f"{median_ms(lambda: list_page(user), args.runs):.2f} ms", "≤ 20 ms"))
            assert len(found) == min(50, total)
        counselor, worker = users["counselor@example.org"], users["worker@example.org"]
        school_student = db.session.scalar(
            sa.select(Student.uuid).where(Student.school_id == counselor.organization_id).order_by(Student.id).limit(1)
        )
        worker_student = db.session.scalar(
            sa.select(Student.uuid)
            .where(policy.visible_students(worker, category=Category.ATTENDANCE))
            .order_by(Student.id)
            .limit(1)
        )
    for email, student_uuid in (("counselor@example.org", school_student), ("worker@example.org", worker_student)):
        client = signed_in_client(app, email)
        path = f"/students/{student_uuid}"
        assert client.get(path).status_code == 200
        with app.app_context():
            counter = QueryCounter(db.engine)
            with counter.counting():
                client.get(path)
            queries = counter.count
        rows.append((f"student page, {email.split('@')[0]}: SQL queries", str(queries), "fixed"))
        rows.append((f"student page, {email.split('@')[0]}: median", f"{median_ms(lambda: client.get(path), args.runs):.2f} ms", "≤ 30 ms"))
    print_table(f"Access policy at {args.students:,} students", rows)


if __name__ == "__main__":
    main()
