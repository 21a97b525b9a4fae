"""What the load test needs before it starts a server: the seeded database, the
application role's URL, and for each kind of user in the mix some seeded accounts with
the pages each may open. Run by tests/perf/load.py in a process of its own (the load
generator patches the standard library for gevent; the app and its driver are kept
out of that process), printing one line of JSON:

    python -m tests.perf.load_setup [--students 50000]

With DATABASE_URL (the application role) and MIGRATE_DATABASE_URL (the owner) set, the
seed goes there; otherwise into the embedded server of CASEMGR_DATA_DIR, as both roles.
Which student pages each account may open is asked of the app itself (the Flask test
client, signed in as that account), so the mix never counts a refusal as a page.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys

import sqlalchemy as sa

SEEDED_PASSWORD = "casemgr-demo"  # the seed's password for every account (seed/generator.py)
ACCOUNTS = {"counselor": 12, "youth_worker": 10, "parent": 1, "district_admin": 2}
PAGES_PER_ACCOUNT = 24


def database_urls(students: int) -> tuple[str, str, str | None]:
    """(application URL, owner URL, embedded data folder or None)."""
    if os.environ.get("DATABASE_URL"):
        from casemgr.config import normalise_database_url

        app_url = normalise_database_url(os.environ["DATABASE_URL"])
        owner = os.environ.get("MIGRATE_DATABASE_URL")
        return app_url, normalise_database_url(owner, "MIGRATE_DATABASE_URL") if owner else app_url, None
    from casemgr import embedded_db
    from casemgr.config import data_dir

    folder = data_dir() / "embedded"
    name = f"casemgr_perf_{students}"
    # the server stays up after this process (cleanup_mode=None): the load test's
    # gunicorn attaches to it; `casemgr` commands or a reboot stop it
    app_url, owner_url = embedded_db.start_with_roles(folder, database=name, cleanup_mode=None)
    return app_url, owner_url, str(folder / "pgdata")


def seed(students: int, owner_url: str) -> None:
    """Migrate and seed (once) as the owner; the app role's grants are renewed after."""
    from contextlib import redirect_stdout

    from tests.perf.common import perf_app

    with redirect_stdout(sys.stderr):  # stdout carries the JSON answer only
        perf_app(students, database_url=owner_url)


def enrol_admins(owner_url: str) -> None:
    """District admins must sign in with a second factor: the seeded ones get an
    authenticator secret (once), whose codes the load test computes as an app would."""
    import pyotp

    engine = sa.create_engine(owner_url, poolclass=sa.NullPool)
    with engine.begin() as conn:
        for (user_id,) in conn.execute(sa.text(
                "SELECT id FROM users WHERE role = 'district_admin' AND totp_enabled_at IS NULL")).all():
            conn.execute(sa.text("UPDATE users SET totp_secret = :secret, totp_enabled_at = now() WHERE id = :id"),
                         {"secret": pyotp.random_base32(), "id": user_id})
    engine.dispose()


def accounts(app_url: str) -> dict:
    """Seeded accounts of each kind, and the pages each may open."""
    from casemgr import create_app
    from casemgr.extensions import db
    from tests.perf.bench_policy import signed_in_client

    app = create_app({"SQLALCHEMY_DATABASE_URI": app_url, "REQUEST_LOG": False})
    rng = random.Random(13)
    found: dict = {}
    with app.app_context():
        for role, count in ACCOUNTS.items():
            found[role] = [{"email": email, "totp_secret": secret, "students": candidates(role, user_id, org_id, rng)}
                           for email, user_id, org_id, secret in db.session.execute(sa.text(
                               "SELECT email, id, organization_id, totp_secret FROM users WHERE role = :role "
                               "AND active ORDER BY demo_login DESC, id LIMIT :count"), {"role": role, "count": count})]
        school = db.session.execute(sa.text(
            "SELECT o.id, o.uuid FROM users u JOIN organizations o ON o.id = u.organization_id "
            "WHERE u.email = 'counselor@example.org'")).one()
        year = db.session.scalar(sa.text(
            "SELECT max(school_year) FROM student_indicators i JOIN students s ON s.id = i.student_id "
            "WHERE s.school_id = :school"), {"school": school.id})
        state_ids = list(db.session.scalars(sa.text(
            "SELECT state_id FROM students WHERE school_id = :school ORDER BY id LIMIT 40"), {"school": school.id}))
    for role, people in found.items():
        for person in people:
            if role == "district_admin":
                person["students"] = state_ids
                continue
            client = signed_in_client(app, person["email"])
            path = "/family/children/{}" if role == "parent" else "/students/{}"
            person["students"] = [s for s in person["students"]
                                  if client.get(path.format(s)).status_code == 200][:PAGES_PER_ACCOUNT]
            if role == "youth_worker":  # those whose notes the worker may write
                person["writable"] = [s for s in person["students"]
                                      if client.get(f"/students/{s}/notes/new").status_code == 200]
        found[role] = [p for p in people if p["students"]]
        if not found[role]:
            raise SystemExit(f"no seeded {role} can open any student page: the mix needs one")
    return {"accounts": found, "bare": {"school_id": school.id, "school_uuid": str(school.uuid), "year": year}}


def candidates(role: str, user_id: int, organization_id: int, rng: random.Random) -> list[str]:
    """Students the account is expected to reach: the school's, the partner's roster,
    the parent's children (the app decides; see accounts())."""
    from casemgr.extensions import db

    queries = {
        "counselor": "SELECT uuid FROM students WHERE school_id = :org ORDER BY id LIMIT 200",
        "youth_worker": "SELECT s.uuid FROM roster_entries r JOIN students s ON s.id = r.student_id "
                        "WHERE r.organization_id = :org AND r.removed_on IS NULL ORDER BY r.id LIMIT 200",
        "parent": "SELECT s.uuid FROM guardians g JOIN guardian_links l ON l.guardian_id = g.id "
                  "JOIN students s ON s.id = l.student_id WHERE g.user_id = :user",
        "district_admin": "SELECT NULL LIMIT 0",
    }
    found = [str(u) for u in db.session.scalars(sa.text(queries[role]), {"org": organization_id, "user": user_id})]
    rng.shuffle(found)
    return found[: PAGES_PER_ACCOUNT * 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=50_000)
    args = parser.parse_args()
    app_url, owner_url, pgdata = database_urls(args.students)
    seed(args.students, owner_url)
    enrol_admins(owner_url)
    if pgdata:
        database_urls(args.students)  # grants for the tables the seed's migrations made
    answer = accounts(app_url)
    answer.update(database_url=app_url, pgdata=pgdata, password=SEEDED_PASSWORD)
    print(json.dumps(answer))


if __name__ == "__main__":
    main()
