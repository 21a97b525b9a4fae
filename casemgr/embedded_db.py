"""The embedded PostgreSQL that runs when DATABASE_URL is unset.

pgserver starts a real PostgreSQL 16 in a data folder. Around it this module adds what
a shared, long-lived data folder needs:

* one file lock per data folder, so processes starting together take turns;
* a runtime folder (XDG_RUNTIME_DIR) that pgserver's own lock and sockets rely on;
* recovery from a killed run: pgserver counts its users in `.handle_pids.json` and stops
  the server when the last one leaves, so a pid left there by a killed process would
  keep the server up forever. Dead pids are dropped before attaching.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path

import psycopg
import sqlalchemy as sa
from psycopg import errors, sql

DATABASE_NAME = "casemgr"


def _ensure_runtime_dir(folder: Path) -> None:
    current = os.environ.get("XDG_RUNTIME_DIR")
    if current and Path(current).is_dir() and os.access(current, os.W_OK):
        return
    runtime = folder / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    runtime.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)


@contextlib.contextmanager
def _locked(path: Path):
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def forget_dead_handles(pgdata: Path) -> list[int]:
    """Drop the pids of processes that no longer exist; returns the dropped ones."""
    path = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return []
    alive = [pid for pid in pids if _pid_alive(pid)]
    if alive != pids:
        path.write_text(json.dumps(alive))
    return [pid for pid in pids if pid not in alive]


# The embedded server's data lives on a local disk: random reads are nearly as cheap as
# sequential ones (the usual advice for SSDs), so index lookups are priced as such.
SERVER_SETTINGS = {"random_page_cost": "1.1"}


def _tune_server(conn: psycopg.Connection) -> None:
    changed = False
    for name, value in SERVER_SETTINGS.items():
        if conn.execute("SELECT current_setting(%s)", (name,)).fetchone()[0] != value:
            conn.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))
            changed = True
    if changed:
        conn.execute("SELECT pg_reload_conf()")


def _ensure_database(server_url: sa.URL, name: str) -> None:
    conninfo = server_url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        _tune_server(conn)
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            with contextlib.suppress(errors.DuplicateDatabase):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def start(folder: Path, database: str = DATABASE_NAME, *, cleanup_mode: str | None = "stop") -> str:
    """Start (or attach to) the embedded server for `folder`; return a SQLAlchemy URL
    for `database` in it, creating that database when missing."""
    folder.mkdir(parents=True, exist_ok=True)
    _ensure_runtime_dir(folder)
    pgdata = folder / "pgdata"
    with _locked(folder / "embedded-db.lock"):
        forget_dead_handles(pgdata)
        import pgserver  # imported late: it reads XDG_RUNTIME_DIR on import

        server = pgserver.get_server(pgdata, cleanup_mode=cleanup_mode)
        url = sa.make_url(server.get_uri()).set(drivername="postgresql+psycopg")
        _ensure_database(url, database)
    return url.set(database=database).render_as_string(hide_password=False)


def stop(folder: Path) -> None:
    """Let go of the embedded server for `folder` now rather than at exit (it stops
    when no other process uses it)."""
    import pgserver

    pgdata = (folder / "pgdata").resolve()
    server = pgserver.PostgresServer._instances.get(pgdata)
    if server is not None:
        with _locked(folder / "embedded-db.lock"):
            server.cleanup()
