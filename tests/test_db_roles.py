"""Least-privilege roles (issue 13, item 3): migrations and the seed run as the owner
(MIGRATE_DATABASE_URL), the app and imports as the application role (DATABASE_URL), which
may read and add to the disclosure log but not rewrite it, nor get round its triggers.

Run against the test server and against the PostgreSQL at 127.0.0.1:5432 (user postgres)
when one is reachable."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from casemgr.clock import today
from casemgr.seed.generator import DEMO_PASSWORD
from tests.conftest import TEST_SECRET

ROOT = Path(__file__).resolve().parent.parent
LOCAL_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
APPEND_ONLY = {"disclosure_log", "consents", "consent_revocations", "notes", "amendment_requests",
               "amendment_request_events", "account_events"}


def local_server() -> sa.URL:
    try:
        psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", connect_timeout=3).close()
    except psycopg.OperationalError:
        pytest.skip("no PostgreSQL at 127.0.0.1:5432")
    return sa.make_url(LOCAL_SERVER)


def conninfo(url: sa.URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(params=["test server", "127.0.0.1:5432"])
def roles(request, pg_server_url, tmp_path):
    """A database of its own owned by a new owner role, migrated and seeded as that role,
    and a new application role granted by `casemgr db upgrade`:
    (casemgr, app_url, owner_url, the server's superuser URL)."""
    server = pg_server_url if request.param == "test server" else local_server()
    admin = server.set(database="postgres")
    suffix = uuid.uuid4().hex[:10]
    name, owner, app = f"casemgr_roles_{suffix}", f"casemgr_owner_{suffix}", f"casemgr_app_{suffix}"
    password = f"pw-{suffix}"
    with psycopg.connect(conninfo(admin), autocommit=True) as conn:
        for role in (owner, app):
            conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        conn.execute(f"CREATE DATABASE {name} OWNER {owner}")
    owner_url = server.set(database=name, username=owner, password=password)
    app_url = server.set(database=name, username=app, password=password)
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "CASEMGR_ENV", "MAIL_URL")}
    env.update(DATABASE_URL=app_url.render_as_string(hide_password=False),
               MIGRATE_DATABASE_URL=owner_url.render_as_string(hide_password=False),
               PYTHONPATH=str(ROOT), CASEMGR_DATA_DIR=str(tmp_path / "data"))

    def casemgr(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", "from casemgr.cli import main; main()", *args],
                              env=env, capture_output=True, text=True, timeout=600)

    try:
        for args in (("db", "upgrade"), ("seed", "--students", "50")):
            done = casemgr(*args)
            assert done.returncode == 0, done.stdout + done.stderr
        yield casemgr, app_url, owner_url, admin
    finally:
        with psycopg.connect(conninfo(admin), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            for role in (app, owner):
                conn.execute(f"DROP ROLE IF EXISTS {role}")


REFUSED = [
    "UPDATE disclosure_log SET user_id = NULL",
    "DELETE FROM disclosure_log",
    "TRUNCATE disclosure_log",
    "DELETE FROM consents",
    "UPDATE notes SET student_id = student_id",
    "DELETE FROM account_events",
    "ALTER TABLE disclosure_log DISABLE TRIGGER ALL",
    "ALTER TABLE disclosure_log DISABLE TRIGGER disclosure_log_append_only",
    "SET session_replication_role = replica",
    "DROP TABLE disclosure_log",
    "ALTER TABLE students ADD COLUMN extra text",
    "UPDATE alembic_version SET version_num = 'x'",
    "UPDATE disclosure_chain_heads SET seq = 0",
    "DELETE FROM disclosure_chain_heads",
    "UPDATE disclosure_digests SET hash = hash",
    # the log's partitions: reached through disclosure_log only, made by the owner only
    "INSERT INTO disclosure_partitions.disclosure_log_default (organization_id, action, allowed) VALUES (1, 'view', true)",
    "UPDATE disclosure_partitions.disclosure_log_default SET user_id = NULL",
    "DELETE FROM disclosure_partitions.disclosure_log_default",
    "TRUNCATE disclosure_partitions.disclosure_log_default",
    "ALTER TABLE disclosure_partitions.disclosure_log_default DISABLE TRIGGER ALL",
    "ALTER TABLE disclosure_log DETACH PARTITION disclosure_partitions.disclosure_log_default",
    "CREATE TABLE disclosure_partitions.disclosure_log_2099_01 PARTITION OF disclosure_log "
    "FOR VALUES FROM ('2099-01-01') TO ('2099-02-01')",
    "SELECT casemgr_disclosure_partition('2099-01-01')",
    "DROP TABLE disclosure_partitions.disclosure_log_default",
    # nothing of its own in the schema of casemgr's tables (the attendance import stages
    # its rows in the schema import_staging)
    "CREATE TABLE app_made (a int)",
    "CREATE UNLOGGED TABLE public.app_made (a int)",
    "CREATE VIEW public.app_made AS SELECT 1 AS a",
    "CREATE FUNCTION public.app_made() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "CREATE TABLE disclosure_partitions.app_made (a int)",
]


def test_the_app_role_cannot_rewrite_the_log_and_the_app_works_as_it(roles, tmp_path):
    casemgr, app_url, owner_url, _ = roles
    owner_engine = sa.create_engine(owner_url, poolclass=sa.NullPool)
    with owner_engine.connect() as conn:
        # the seed's demo district (the partnership's second district has students too)
        district = conn.execute(sa.text("SELECT code FROM organizations WHERE kind = 'district' ORDER BY id")).first()[0]
        days = conn.execute(sa.text(
            "SELECT s.state_id, o.code, max(c.day) FROM students s JOIN organizations o ON o.id = s.school_id "
            "JOIN calendar_days c ON c.school_id = o.id AND c.instructional AND c.day <= :today "
            "WHERE o.district_id = (SELECT id FROM organizations WHERE code = :district) AND s.left_on IS NULL "
            "GROUP BY s.state_id, o.code ORDER BY s.state_id LIMIT 5"), {"today": today(), "district": district}).all()
        assert len(days) == 5

    # a real import, as the application role (it stages into an UNLOGGED table of its own)
    path = tmp_path / "attendance.csv"
    path.write_text("state_id,school_code,date,status\n"
                    + "".join(f"{state_id},{school},{day.isoformat()},unexcused\n" for state_id, school, day in days))
    done = casemgr("import", "attendance", str(path), "--district", district, "--no-progress")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 rows read" in done.stdout
    with owner_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM attendance_days WHERE status = 'unexcused' "
                                    "AND (student_id, day) IN (SELECT s.id, v.day FROM students s JOIN "
                                    "unnest(CAST(:ids AS text[]), CAST(:days AS date[])) AS v(state_id, day) "
                                    "ON v.state_id = s.state_id JOIN organizations d ON d.id = s.district_id "
                                    "AND d.code = :district)"),
                            {"ids": [d[0] for d in days], "days": [d[2] for d in days],
                             "district": district}).scalar_one() == 5
        # its staging tables were dropped
        assert conn.execute(sa.text("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                                    "WHERE pg_get_userbyid(c.relowner) = :app AND n.nspname NOT LIKE 'pg_%'"),
                            {"app": app_url.username}).scalar_one() == 0

    # requests, as the application role: the caseload is shown and its view logged
    from casemgr import create_app
    from casemgr.extensions import db
    from casemgr.models import User
    from tests.helpers import login

    app = create_app({"TESTING": True, "SECRET_KEY": TEST_SECRET,
                      "SQLALCHEMY_DATABASE_URI": app_url.render_as_string(hide_password=False)})
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT current_user")).scalar_one() == app_url.username
        counselor = db.session.execute(sa.select(User).where(User.email == "counselor@example.org")).scalar_one()
        client = app.test_client()
        assert login(client, counselor, DEMO_PASSWORD).status_code == 302
        caseload = client.get("/caseload")
        assert caseload.status_code == 200
        db.session.remove()
        db.engine.dispose()
    with owner_engine.connect() as conn:
        log_rows = conn.execute(sa.text("SELECT count(*) FROM disclosure_log")).scalar_one()
        assert log_rows > 0  # the caseload, seen as the application role, was logged
    # the log's rows were chained by its trigger as the application role wrote them
    verified = casemgr("audit", "verify")
    assert verified.returncode == 0 and "rows verified" in verified.stdout, verified.stdout + verified.stderr

    # as the application role: every way round the log is refused, by privilege
    with psycopg.connect(conninfo(app_url)) as conn:
        for statement in REFUSED:
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute(statement)
        privileges = {table: conn.execute(
            "SELECT has_table_privilege(%s, 'SELECT'), has_table_privilege(%s, 'INSERT'), "
            "has_table_privilege(%s, 'UPDATE'), has_table_privilege(%s, 'DELETE'), has_table_privilege(%s, 'TRUNCATE')",
            (table,) * 5).fetchone() for table in APPEND_ONLY}
        assert privileges == {table: (True, True, False, False, False) for table in APPEND_ONLY}
        partitions = [row[0] for row in conn.execute(
            "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'disclosure_log'::regclass")]
        assert len(partitions) >= 5
        for partition in partitions:  # read (a backup taken as the app reads them), never written
            assert conn.execute(
                "SELECT has_table_privilege(%s, 'SELECT'), has_table_privilege(%s, 'INSERT'), "
                "has_table_privilege(%s, 'UPDATE'), has_table_privilege(%s, 'DELETE'), "
                "has_table_privilege(%s, 'TRUNCATE')", (partition,) * 5).fetchone() == (True, False, False, False, False)
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0] is False
    with owner_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM disclosure_log")).scalar_one() == log_rows

    owner_engine.dispose()


def test_grant_app_role_refuses_a_superuser_a_member_of_the_owner_or_a_missing_role(roles):
    casemgr, app_url, owner_url, admin = roles
    done = casemgr("db", "grant-app-role", "no_such_role_here")
    assert done.returncode == 1 and "there is no database role 'no_such_role_here'" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    done = casemgr("db", "grant-app-role", "postgres")
    assert done.returncode == 1 and "'postgres' is a superuser" in done.stderr, done.stderr
    done = casemgr("db", "grant-app-role", owner_url.username)
    assert done.returncode == 1 and "the application role must be another role" in done.stderr, done.stderr
    done = casemgr("db", "grant-app-role", app_url.username)
    assert done.returncode == 0, done.stderr
    assert "disclosure_log" in done.stdout and done.stderr == ""
    with psycopg.connect(conninfo(admin.set(database=owner_url.database)), autocommit=True) as conn:
        conn.execute("GRANT CREATE ON SCHEMA public TO PUBLIC")  # as PostgreSQL 14 and older had it
    done = casemgr("db", "grant-app-role", app_url.username)
    assert done.returncode == 0, done.stderr
    assert "may still create objects in the schema public through PUBLIC" in done.stderr, done.stderr
    with psycopg.connect(conninfo(admin), autocommit=True) as conn:  # a member would act as the owner
        conn.execute(f"GRANT {owner_url.username} TO {app_url.username}")
    done = casemgr("db", "grant-app-role", app_url.username)
    assert done.returncode == 1, done.stdout
    assert f"'{app_url.username}' is or is a member of '{owner_url.username}'" in done.stderr, done.stderr


def test_a_restore_runs_as_the_owner_and_gives_the_app_role_its_grants_again(roles, tmp_path):
    casemgr, app_url, owner_url, _ = roles
    path = tmp_path / "casemgr.backup"
    done = casemgr("backup", str(path))  # as the application role: it may read everything
    assert done.returncode == 0, done.stdout + done.stderr
    done = casemgr("restore", str(path), "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    with psycopg.connect(conninfo(app_url)) as conn:
        assert conn.execute("SELECT count(*) FROM organizations").fetchone()[0] > 0
        assert conn.execute("SELECT has_table_privilege('disclosure_log', 'UPDATE'), "
                            "has_table_privilege('disclosure_log', 'INSERT'), "
                            "has_table_privilege('students', 'UPDATE')").fetchone() == (False, True, True)
        owners = conn.execute("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'").fetchall()
        assert owners == [(owner_url.username,)]
        for statement in ("DELETE FROM disclosure_log", "ALTER TABLE disclosure_log DISABLE TRIGGER ALL"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute(statement)
