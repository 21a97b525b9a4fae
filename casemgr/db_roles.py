"""Least-privilege database roles.

casemgr runs as two PostgreSQL roles:

* the owner (MIGRATE_DATABASE_URL) owns the schema and every table; migrations, the
  seed and restores run as it;
* the application role (DATABASE_URL) is what the web app and imports connect as. It
  owns no casemgr table, so it cannot ALTER, DROP, TRUNCATE or DISABLE TRIGGER on them;
  it is not a superuser, so it cannot SET session_replication_role; and on the
  append-only tables (those whose triggers run casemgr_append_only(): the disclosure
  log, consents, revocations, notes, amendment requests and their events, account
  events) it may only SELECT and INSERT.

`grant_app_role` gives the application role exactly that, and is safe to run again:
`casemgr db grant-app-role ROLE` runs it once, and every `casemgr db upgrade` (or
downgrade) run with a MIGRATE_DATABASE_URL runs it again in the migration's own
transaction, so tables added later get the same rules.

The disclosure log's monthly partitions live in their own schema (migration 0013):
there the application role may only SELECT (so that a backup taken as it reads every
row); it appends to the log through `disclosure_log`, never to a partition itself, and
creating a month's partition is the owner's.

The application role creates nothing in the public schema (CREATE there is revoked).
The attendance import stages its rows in UNLOGGED tables, which PostgreSQL, unlike
temporary ones, reads with parallel workers: they go in the schema `import_staging`
(migration 0016), owned by the owner, where the application role may create tables (its
own, dropped when the import ends). It has TEMP on the database for the other imports'
temporary tables.
"""
from __future__ import annotations

import contextlib

import sqlalchemy as sa
from flask import current_app

APPEND_ONLY_FUNCTION = "casemgr_append_only"
# the app reads which migration the database is at, and never writes it; the heads of
# the disclosure log's chains are moved only by the log's own trigger, which runs with
# the owner's rights (SECURITY DEFINER), so the app cannot move a chain's head
READ_ONLY_TABLES = ("alembic_version", "disclosure_chain_heads")
# the schema of the disclosure log's partitions, read-only to the application role
PARTITION_SCHEMA = "disclosure_partitions"
# the schema of the attendance import's unlogged staging tables, the one where the
# application role may create tables
STAGING_SCHEMA = "import_staging"


class RoleError(RuntimeError):
    """The application role cannot be given its grants, in one line."""


def append_only_tables(conn: sa.Connection) -> list[str]:
    """The tables of the public schema whose rows casemgr never updates or deletes."""
    return list(conn.execute(sa.text(
        "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_proc p ON p.oid = t.tgfoid "
        "WHERE n.nspname = 'public' AND p.proname = :function AND NOT t.tgisinternal ORDER BY 1"
    ), {"function": APPEND_ONLY_FUNCTION}).scalars())


def grant_app_role(conn: sa.Connection, role: str, owner: str | None = None) -> list[str]:
    """Give `role` the application's privileges on the tables of `owner` (default: the
    connected role), revoking anything more; returns the append-only tables."""
    owner = owner or conn.execute(sa.text("SELECT current_user")).scalar_one()
    found = conn.execute(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = :role"), {"role": role}).first()
    if found is None:
        raise RoleError(f"there is no database role {role!r}: create it first (CREATE ROLE {role} LOGIN PASSWORD ...)")
    if found.rolsuper:
        raise RoleError(f"{role!r} is a superuser: the application role must be an ordinary role")
    if role == owner or conn.execute(sa.text("SELECT pg_has_role(:role, :owner, 'MEMBER')"),
                                     {"role": role, "owner": owner}).scalar_one():
        raise RoleError(f"{role!r} is or is a member of {owner!r}, the owner of the tables: "
                        "the application role must be another role")
    quote = conn.dialect.identifier_preparer.quote
    app, owner_name = quote(role), quote(owner)
    database = quote(conn.execute(sa.text("SELECT current_database()")).scalar_one())
    tables = append_only_tables(conn)
    statements = [
        f"GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {app}",
        f"GRANT USAGE ON SCHEMA public TO {app}",
        f"REVOKE CREATE ON SCHEMA public FROM {app}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app}",
        f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {app}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner_name} IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner_name} IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {app}",
    ]
    statements += [f"REVOKE UPDATE, DELETE ON {quote(table)} FROM {app}" for table in tables]
    existing = set(conn.execute(sa.text(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY(:names)"
    ), {"names": list(READ_ONLY_TABLES)}).scalars())
    statements += [f"REVOKE INSERT, UPDATE, DELETE ON {quote(table)} FROM {app}" for table in sorted(existing)]
    if _schema_exists(conn, PARTITION_SCHEMA):
        partitions = quote(PARTITION_SCHEMA)
        statements += [
            f"GRANT USAGE ON SCHEMA {partitions} TO {app}",
            f"REVOKE ALL ON ALL TABLES IN SCHEMA {partitions} FROM {app}",
            f"GRANT SELECT ON ALL TABLES IN SCHEMA {partitions} TO {app}",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner_name} IN SCHEMA {partitions} GRANT SELECT ON TABLES TO {app}",
        ]
    if _schema_exists(conn, STAGING_SCHEMA):
        statements.append(f"GRANT USAGE, CREATE ON SCHEMA {quote(STAGING_SCHEMA)} TO {app}")
    for statement in statements:
        conn.exec_driver_sql(statement)
    return tables


def creates_in_public(conn: sa.Connection, role: str) -> bool:
    """Whether `role` may still create in the schema public, through PUBLIC (PostgreSQL
    14 and older gave every role CREATE there)."""
    return conn.execute(sa.text("SELECT has_schema_privilege(:role, 'public', 'CREATE')"), {"role": role}).scalar_one()


def _schema_exists(conn: sa.Connection, schema: str) -> bool:
    return conn.execute(sa.text("SELECT to_regnamespace(:schema) IS NOT NULL"), {"schema": schema}).scalar_one()


def app_role_to_grant() -> str | None:
    """The application role that migrations re-grant: DATABASE_URL's user, when a
    separate MIGRATE_DATABASE_URL (another user) is set."""
    owner_url = current_app.config.get("MIGRATE_DATABASE_URI")
    if not owner_url:
        return None
    app_user = sa.make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).username
    if not app_user or app_user == sa.make_url(owner_url).username:
        return None
    return app_user


def owner_url() -> sa.URL:
    """The URL the owner connects with: MIGRATE_DATABASE_URL, else the app's own."""
    return sa.make_url(current_app.config.get("MIGRATE_DATABASE_URI") or current_app.config["SQLALCHEMY_DATABASE_URI"])


@contextlib.contextmanager
def as_owner():
    """Inside, db.session and db.engine connect as the owner (MIGRATE_DATABASE_URL);
    without one, nothing changes."""
    from casemgr.extensions import db

    url = current_app.config.get("MIGRATE_DATABASE_URI")
    if not url or url == current_app.config["SQLALCHEMY_DATABASE_URI"]:
        yield
        return
    engines = db._app_engines[current_app._get_current_object()]
    app_engine = engines[None]
    owner = sa.create_engine(url, poolclass=sa.NullPool, connect_args={"connect_timeout": 10})
    db.session.remove()
    engines[None] = owner
    try:
        yield
    finally:
        db.session.remove()
        engines[None] = app_engine
        owner.dispose()

