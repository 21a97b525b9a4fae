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
        triggers = conn.execute(
            sa.text("SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%append_only'")
        ).scalar_one()
        assert triggers == 4

    downgraded = casemgr("db", "downgrade", "base", url=empty_database)
    assert downgraded.returncode == 0, downgraded.stderr
    with engine.connect() as conn:
        remaining = set(sa.inspect(conn).get_table_names()) - {"alembic_version"}
    engine.dispose()
    assert remaining == set()
