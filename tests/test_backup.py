"""`casemgr backup` and `casemgr restore`, each run as its own process on a database
of its own: a round trip gives back what was there, and bad input is one line."""
from __future__ import annotations

import sqlalchemy as sa

from tests.test_import_hostile import own_process  # noqa: F401


def test_a_backup_restores_what_was_there(own_process, tmp_path):  # noqa: F811
    casemgr, engine = own_process
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO organizations (kind, code, name) VALUES ('partner', 'P1', 'Boys & Girls Club')"))
    path = tmp_path / "casemgr.dump"
    done = casemgr("backup", str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Backed up the database to {path} (") and path.stat().st_size > 1000
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM organizations WHERE code = 'P1'"))
        conn.execute(sa.text("UPDATE organizations SET name = 'Renamed' WHERE code = 'HOST'"))
        conn.execute(sa.text("INSERT INTO organizations (kind, code, name) VALUES ('partner', 'P2', 'After')"))
    engine.dispose()
    done = casemgr("restore", "--yes", str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Restored the database from {path} in ")
    with engine.connect() as conn:
        assert dict(conn.execute(sa.text("SELECT code, name FROM organizations")).all()) == {
            "HOST": "Hostile", "P1": "Boys & Girls Club"}
        assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar() == 1
    assert casemgr("db", "upgrade").returncode == 0


def test_restore_refuses_what_is_not_a_backup_and_changes_nothing(own_process, tmp_path):  # noqa: F811
    casemgr, engine = own_process
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("state_id,name\n")
    for args, message in ((["restore", "--yes", str(not_a_backup)], "notes.txt is not a casemgr backup"),
                          (["restore", "--yes", str(tmp_path / "missing.dump")], "missing.dump is not a file"),
                          (["backup", str(tmp_path / "no" / "such" / "folder.dump")], "pg_dump failed")):
        done = casemgr(*args)
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT name FROM organizations")).scalars().all() == ["Hostile"]


def test_restore_asks_before_replacing_the_database(own_process, tmp_path):  # noqa: F811
    casemgr, engine = own_process
    path = tmp_path / "casemgr.dump"
    assert casemgr("backup", str(path)).returncode == 0
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE organizations SET name = 'Kept' WHERE code = 'HOST'"))
    done = casemgr("restore", str(path))  # no terminal: the question is answered no
    assert done.returncode == 1 and "Go on?" in done.stdout and "Aborted" in done.stderr
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT name FROM organizations")).scalars().all() == ["Kept"]
