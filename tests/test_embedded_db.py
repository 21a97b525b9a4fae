"""The embedded PostgreSQL: kept between runs, shared by processes that start
together, and stopped again after a run that was killed."""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from casemgr.embedded_db import forget_dead_handles

SCRIPT = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    import sqlalchemy as sa
    from casemgr import embedded_db

    url = embedded_db.start(Path(sys.argv[1]))
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        action = sys.argv[2]
        if action == "write":
            conn.execute(sa.text("CREATE TABLE IF NOT EXISTS kept (value text)"))
            conn.execute(sa.text("INSERT INTO kept VALUES ('still here')"))
        elif action == "read":
            print(conn.execute(sa.text("SELECT value FROM kept")).scalar_one())
        else:
            print(conn.execute(sa.text("SELECT 1")).scalar_one())
    engine.dispose()
    if action == "kill":
        os.kill(os.getpid(), 9)
    """
)


def run(folder: Path, action: str = "ping", **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(folder), action],
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


def wait_until_stopped(pgdata: Path, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not (pgdata / "postmaster.pid").exists():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture()
def folder():
    path = Path(tempfile.mkdtemp(prefix="casemgr-embedded-test-"))
    yield path
    # stop a server a failing test may have left behind
    subprocess.run(
        [sys.executable, "-c", "import sys; from pathlib import Path; from casemgr import embedded_db;"
         "embedded_db.start(Path(sys.argv[1]))", str(path)],
        capture_output=True, timeout=120,
    )
    subprocess.run(["rm", "-rf", str(path)])


def test_data_is_kept_between_runs_and_the_server_stops_after_each(folder):
    first = run(folder, "write")
    assert first.returncode == 0, first.stderr
    assert wait_until_stopped(folder / "pgdata")
    second = run(folder, "read")
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "still here"
    assert wait_until_stopped(folder / "pgdata")


def test_processes_starting_at_once_share_one_server(folder):
    procs = [
        subprocess.Popen([sys.executable, "-c", SCRIPT, str(folder), "ping"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    results = [proc.communicate(timeout=120) for proc in procs]
    for proc, (out, err) in zip(procs, results):
        assert proc.returncode == 0, err
        assert out.strip() == "1"
    assert wait_until_stopped(folder / "pgdata")


def test_a_killed_run_does_not_keep_the_server_up_forever(folder):
    killed = run(folder, "kill")
    assert killed.returncode == -9
    pgdata = folder / "pgdata"
    handles = json.loads((pgdata / ".handle_pids.json").read_text())
    assert handles, "the killed process left its pid behind"
    assert (pgdata / "postmaster.pid").exists(), "the server outlived the killed run"

    after = run(folder, "ping")
    assert after.returncode == 0, after.stderr
    assert wait_until_stopped(pgdata), "the next run should stop the server when it exits"


def test_forget_dead_handles_keeps_live_ones(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    import os

    (tmp_path / ".handle_pids.json").write_text(json.dumps([os.getpid(), dead_pid]))
    assert forget_dead_handles(tmp_path) == [dead_pid]
    assert json.loads((tmp_path / ".handle_pids.json").read_text()) == [os.getpid()]


def test_a_folder_from_before_the_roles_is_handed_to_the_owner_and_the_app_role_is_limited(folder):
    """A data folder made when everything ran as the superuser: its tables are handed to
    casemgr_owner once, and the app's role may read and add but not rewrite the log."""
    import psycopg
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from casemgr import create_app, embedded_db
    from tests.conftest import TEST_SECRET

    try:
        superuser = embedded_db.start(folder)  # as an earlier version did
        app = create_app({"SQLALCHEMY_DATABASE_URI": superuser, "SECRET_KEY": TEST_SECRET})
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
        engine = sa.create_engine(superuser, poolclass=sa.NullPool)
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO organizations (kind, code, name) VALUES ('district', 'OLD', 'Old')"))
            assert conn.execute(sa.text("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
                                ).scalars().all() == ["postgres"]

        app_url, owner_url = embedded_db.start_with_roles(folder)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
                                ).scalars().all() == ["casemgr_owner"]
            # the disclosure log's partitions and their schema too
            assert conn.execute(sa.text("SELECT DISTINCT tableowner FROM pg_tables "
                                        "WHERE schemaname = 'disclosure_partitions'")).scalars().all() == ["casemgr_owner"]
            assert conn.execute(sa.text("SELECT pg_get_userbyid(nspowner) FROM pg_namespace "
                                        "WHERE nspname = 'disclosure_partitions'")).scalar_one() == "casemgr_owner"
        engine.dispose()
        assert embedded_db.start_with_roles(folder) == (app_url, owner_url)  # a second start changes nothing

        conninfo = sa.make_url(app_url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(conninfo) as conn:
            assert conn.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user"
                                ).fetchone() == ("casemgr_app", False)
            assert conn.execute("SELECT name FROM organizations").fetchone() == ("Old",)
            for statement in ("UPDATE disclosure_log SET user_id = NULL", "TRUNCATE disclosure_log",
                              "ALTER TABLE disclosure_log DISABLE TRIGGER ALL", "SET session_replication_role = replica",
                              "DROP TABLE organizations"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                    conn.execute(statement)
    finally:
        embedded_db.stop(folder)
