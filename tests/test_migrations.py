"""The Alembic chain builds the whole schema from an empty database, and the models
and the migrations agree."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from casemgr.extensions import db as _db
from tests.conftest import create_database, drop_database


def test_models_and_migrations_agree(app, db):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, _db.metadata)
    assert differences == []


def test_every_model_table_exists_after_upgrade(app, db):
    inspector = sa.inspect(db.session.connection())
    assert set(_db.metadata.tables) <= set(inspector.get_table_names())


@pytest.fixture()
def empty_database(pg_server_url):
    name = f"casemgr_migrate_{uuid.uuid4().hex[:8]}"
    url = create_database(pg_server_url, name)
    yield url
    drop_database(pg_server_url, name)


def casemgr(*args: str, url: sa.URL) -> subprocess.CompletedProcess:
    env = dict(os.environ, DATABASE_URL=url.render_as_string(hide_password=False))
    return subprocess.run(
        [sys.executable, "-c", "from casemgr.cli import main; main()", *args],
        capture_output=True, text=True, env=env, timeout=120,
    )


def test_casemgr_db_upgrade_builds_everything_from_empty_and_downgrades(empty_database):
    upgraded = casemgr("db", "upgrade", url=empty_database)
    assert upgraded.returncode == 0, upgraded.stderr
    engine = sa.create_engine(empty_database)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, _db.metadata) == []
        append_only = set(conn.execute(
            sa.text("SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname LIKE '%append_only' "
                    "AND tgparentid = 0")
        ).scalars())
        assert append_only == {"consents", "consent_revocations", "disclosure_log", "notes", "amendment_requests",
                               "amendment_request_events", "account_events", "disclosure_digests",
                               "disclosure_archives", "report_log"}
        # every partition of the log: its row triggers cloned from the log's, a TRUNCATE trigger of its own
        partitions = set(conn.execute(sa.text(
            "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'disclosure_log'::regclass"
        )).scalars())
        assert "disclosure_partitions.disclosure_log_default" in partitions and len(partitions) >= 5
        for trigger in ("disclosure_log_append_only", "disclosure_log_chain", "disclosure_log_no_truncate"):
            having = set(conn.execute(sa.text(
                "SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname = :name"), {"name": trigger}).scalars())
            assert partitions <= having, trigger

    downgraded = casemgr("db", "downgrade", "base", url=empty_database)
    assert downgraded.returncode == 0, downgraded.stderr
    with engine.connect() as conn:
        remaining = set(sa.inspect(conn).get_table_names()) - {"alembic_version"}
    engine.dispose()
    assert remaining == set()


def test_attendance_days_move_into_yearly_bit_strings_and_back(empty_database):
    """0003 folds the rows of attendance_days into attendance_years and the downgrade
    unfolds them, the same days and statuses both ways."""
    assert casemgr("db", "upgrade", "0002", url=empty_database).returncode == 0
    engine = sa.create_engine(empty_database)
    days = [("2026-08-20", "present"), ("2026-08-21", "excused"), ("2026-09-01", "tardy"),
            ("2027-06-30", "suspended"), ("2027-08-17", "unexcused")]  # the last in the next school year
    with engine.begin() as conn:
        conn.execute(sa.text("""
            INSERT INTO organizations (id, kind, code, name) VALUES (1, 'district', 'D', 'District');
            INSERT INTO organizations (id, kind, code, name, district_id, level)
                VALUES (2, 'school', 'S', 'School', 1, 'high');
            INSERT INTO students (id, district_id, school_id, state_id, local_id, first_name, last_name, birth_date, grade)
                VALUES (1, 1, 2, 'ST1', 'L1', 'Ana', 'Ruiz', '2010-05-17', 9);
            INSERT INTO school_years (district_id, year, starts_on, ends_on)
                VALUES (1, 2026, '2026-07-01', '2027-06-30'), (1, 2027, '2027-07-01', '2028-06-30');"""))
        for day, status in days:
            conn.execute(sa.text("INSERT INTO attendance_days VALUES (1, :day, 2, :status)"), {"day": day, "status": status})
    read = "SELECT day::text, status FROM attendance_days ORDER BY day"
    assert casemgr("db", "upgrade", url=empty_database).returncode == 0
    with engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(sa.text(read))] == days
        assert conn.execute(sa.text("SELECT count(*) FROM attendance_years")).scalar_one() == 2
    assert casemgr("db", "downgrade", "0002", url=empty_database).returncode == 0
    with engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(sa.text(read))] == days
        assert conn.execute(sa.text("SELECT DISTINCT school_id FROM attendance_days")).scalar_one() == 2
    engine.dispose()


def test_stays_at_school_get_the_grade_of_their_year_and_students_no_day_they_left(empty_database):
    """0022 gives each stay the student's grade less a year for each school year back from
    their latest stay (within Pre-K to 12), and every student an empty `left_on`."""
    assert casemgr("db", "upgrade", "0021", url=empty_database).returncode == 0
    engine = sa.create_engine(empty_database)
    with engine.begin() as conn:
        conn.execute(sa.text("""
            INSERT INTO organizations (id, kind, code, name) VALUES (1, 'district', 'D', 'District');
            INSERT INTO organizations (id, kind, code, name, district_id, level)
                VALUES (2, 'school', 'S', 'School', 1, 'high'), (3, 'school', 'E', 'Elementary', 1, 'elementary');
            INSERT INTO students (id, district_id, school_id, state_id, local_id, first_name, last_name, birth_date, grade)
                VALUES (1, 1, 2, 'ST1', 'L1', 'Ana', 'Ruiz', '2010-05-17', 10),
                       (2, 1, 3, 'ST2', 'L2', 'Bo', 'Kim', '2020-05-17', 0),
                       (3, 1, 2, 'ST3', 'L3', 'Cy', 'Long', '2007-05-17', 12);
            INSERT INTO school_enrollments (student_id, school_id, school_year, entry_date, exit_date) VALUES
                (1, 2, 2026, '2026-08-20', NULL), (1, 2, 2025, '2025-08-20', '2026-06-12'),
                (1, 2, 2023, '2023-08-20', '2024-06-12'),
                (2, 3, 2026, '2026-08-20', NULL), (2, 3, 2025, '2025-08-20', NULL), (2, 3, 2024, '2024-08-20', NULL),
                (3, 2, 2024, '2024-08-20', '2025-06-12'), (3, 2, 2023, '2023-08-20', '2024-06-12');"""))
    assert casemgr("db", "upgrade", url=empty_database).returncode == 0
    read = "SELECT student_id, school_year, grade FROM school_enrollments ORDER BY 1, 2"
    with engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(sa.text(read))] == [
            (1, 2023, 7), (1, 2025, 9), (1, 2026, 10),
            (2, 2024, -1), (2, 2025, -1), (2, 2026, 0),  # two years before kindergarten: Pre-K at the lowest
            (3, 2023, 11), (3, 2024, 12),  # their latest stay is in their grade now, whatever the year
        ]
        assert conn.execute(sa.text("SELECT count(*) FROM students WHERE left_on IS NULL")).scalar_one() == 3
    with engine.begin() as conn, pytest.raises(sa.exc.IntegrityError):
        conn.execute(sa.text("INSERT INTO school_enrollments (student_id, school_id, school_year, entry_date) "
                             "VALUES (1, 2, 2027, '2027-08-20')"))  # a stay needs its grade now
    assert casemgr("db", "downgrade", "0021", url=empty_database).returncode == 0
    with engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("school_enrollments")}
        assert "grade" not in columns and conn.execute(sa.text(read.replace(", grade", ""))).all()
    engine.dispose()
