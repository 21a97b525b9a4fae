"""The embedded PostgreSQL that runs when DATABASE_URL is unset.

pgserver starts a real PostgreSQL 16 in a data folder. Around it this module adds what
a shared, long-lived data folder needs:

* one file lock per data folder, so processes starting together take turns;
* a runtime folder (XDG_RUNTIME_DIR) that pgserver's own lock and sockets rely on;
* recovery from a killed run: pgserver counts its users in `.handle_pids.json` and stops
  the server when the last one leaves, so a pid left there by a killed process would
  keep the server up forever. Dead pids are dropped before attaching;
* two roles (`start_with_roles`): casemgr_owner owns the database and its tables and
  runs migrations and the seed; the app connects as casemgr_app, which may not alter
  tables nor rewrite the logs (casemgr/db_roles.py). A data folder made before the roles
  existed has its tables owned by the superuser: they are handed to casemgr_owner once.
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
OWNER_ROLE, APP_ROLE = "casemgr_owner", "casemgr_app"


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


# objects of the public schema not owned by the owner (nor the app's own staging
# tables), and the disclosure log's partitions and their schema, as the statements that
# hand them to the owner; sequences and indexes of a table follow it
HAND_OVER = """
SELECT format('ALTER %s %s OWNER TO %I', CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
              WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
              c.oid::regclass, CAST(:owner AS text))
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
   AND pg_get_userbyid(c.relowner) NOT IN (:owner, :app)
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                   AND d.refobjid <> c.oid AND d.deptype IN ('a', 'i'))
UNION ALL
SELECT format('ALTER TABLE %s OWNER TO %I', c.oid::regclass, CAST(:owner AS text))
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'disclosure_partitions' AND c.relkind IN ('r', 'p')
   AND pg_get_userbyid(c.relowner) NOT IN (:owner, :app)
UNION ALL
SELECT format('ALTER SCHEMA disclosure_partitions OWNER TO %I', CAST(:owner AS text))
  FROM pg_namespace WHERE nspname = 'disclosure_partitions' AND pg_get_userbyid(nspowner) NOT IN (:owner, :app)
UNION ALL
SELECT format('ALTER FUNCTION %s OWNER TO %I', p.oid::regprocedure, CAST(:owner AS text))
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) NOT IN (:owner, :app)
UNION ALL
SELECT format('ALTER %s %s OWNER TO %I', CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, t.oid::regtype, CAST(:owner AS text))
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'r') AND pg_get_userbyid(t.typowner) NOT IN (:owner, :app)
UNION ALL
SELECT format('ALTER SCHEMA public OWNER TO %I', CAST(:owner AS text))
  FROM pg_namespace WHERE nspname = 'public' AND pg_get_userbyid(nspowner) NOT IN (:owner, 'pg_database_owner')
"""


def _ensure_roles(server_url: sa.URL, database: str) -> None:
    """The owner and app roles, the database and its objects owned by the owner, and the
    app role's grants (casemgr/db_roles.py). Run as the superuser, under the lock."""
    from casemgr import db_roles

    engine = sa.create_engine(server_url.set(database=database), poolclass=sa.NullPool)
    quote = engine.dialect.identifier_preparer.quote
    try:
        with engine.begin() as conn:  # all or nothing
            for role in (OWNER_ROLE, APP_ROLE):
                if conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first() is None:
                    conn.exec_driver_sql(f"CREATE ROLE {quote(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")
            owner = conn.execute(sa.text("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = :d"),
                                 {"d": database}).scalar_one()
            if owner != OWNER_ROLE:
                conn.exec_driver_sql(f"ALTER DATABASE {quote(database)} OWNER TO {quote(OWNER_ROLE)}")
            for (statement,) in conn.execute(sa.text(HAND_OVER), {"owner": OWNER_ROLE, "app": APP_ROLE}).all():
                conn.exec_driver_sql(statement)
            db_roles.grant_app_role(conn, APP_ROLE, owner=OWNER_ROLE)
    finally:
        engine.dispose()


def _start(folder: Path, database: str, cleanup_mode: str | None, roles: bool) -> sa.URL:
    folder.mkdir(parents=True, exist_ok=True)
    _ensure_runtime_dir(folder)
    pgdata = folder / "pgdata"
    with _locked(folder / "embedded-db.lock"):
        forget_dead_handles(pgdata)
        import pgserver  # imported late: it reads XDG_RUNTIME_DIR on import

        server = pgserver.get_server(pgdata, cleanup_mode=cleanup_mode)
        url = sa.make_url(server.get_uri()).set(drivername="postgresql+psycopg")
        _ensure_database(url, database)
        if roles:
            _ensure_roles(url, database)
    return url.set(database=database)


def start(folder: Path, database: str = DATABASE_NAME, *, cleanup_mode: str | None = "stop") -> str:
    """Start (or attach to) the embedded server for `folder`; return a SQLAlchemy URL
    (as the superuser) for `database` in it, creating that database when missing."""
    return _start(folder, database, cleanup_mode, roles=False).render_as_string(hide_password=False)


def start_with_roles(folder: Path, database: str = DATABASE_NAME, *,
                     cleanup_mode: str | None = "stop") -> tuple[str, str]:
    """As `start`, with the database owned by casemgr_owner: returns the URLs of the app
    role and of the owner."""
    url = _start(folder, database, cleanup_mode, roles=True)
    app, owner = (url.set(username=role, password=None).render_as_string(hide_password=False)
                  for role in (APP_ROLE, OWNER_ROLE))
    return app, owner


def stop(folder: Path) -> None:
    """Let go of the embedded server for `folder` now rather than at exit (it stops
    when no other process uses it)."""
    import pgserver

    pgdata = (folder / "pgdata").resolve()
    server = pgserver.PostgresServer._instances.get(pgdata)
    if server is not None:
        with _locked(folder / "embedded-db.lock"):
            server.cleanup()
