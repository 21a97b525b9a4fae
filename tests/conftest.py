"""Test fixtures: one real PostgreSQL database per run, migrated with Alembic once;
each test runs inside a transaction that is rolled back at its end.

The database is the embedded server in a throwaway folder, or the server named by
CASEMGR_TEST_DATABASE_URL (a fresh database is created in it and dropped afterwards).
"""
from __future__ import annotations

import contextvars
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy.orm import scoped_session, sessionmaker

from casemgr import create_app
from casemgr.extensions import db as _db

TEST_SECRET = "test-secret-key-that-is-long-enough-for-signing"


def _admin_url(url: sa.URL) -> sa.URL:
    return url.set(database="postgres")


def create_database(server_url: sa.URL, name: str) -> sa.URL:
    engine = sa.create_engine(_admin_url(server_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server_url.set(database=name)


def drop_database(server_url: sa.URL, name: str) -> None:
    engine = sa.create_engine(_admin_url(server_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory) -> sa.URL:
    """A PostgreSQL server for this run: the named one, or an embedded one."""
    named = os.environ.get("CASEMGR_TEST_DATABASE_URL")
    if named:
        yield sa.make_url(named).set(drivername="postgresql+psycopg")
        return
    from casemgr import embedded_db

    # outside pytest's tmp tree: pgserver opens the parents of its folder to others
    folder = Path(tempfile.mkdtemp(prefix="casemgr-test-db-"))
    url = embedded_db.start(folder, database="postgres", cleanup_mode="delete")
    yield sa.make_url(url)
    embedded_db.stop(folder)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def database_url(pg_server_url) -> sa.URL:
    name = f"casemgr_test_{uuid.uuid4().hex[:10]}"
    url = create_database(pg_server_url, name)
    yield url
    drop_database(pg_server_url, name)


def make_app(url: sa.URL, **overrides):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False),
        "SECRET_KEY": TEST_SECRET,
        "CHECK_DATABASE_ON_START": False,
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session")
def app(database_url):
    app = make_app(database_url)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
    yield app
    with app.app_context():
        _db.engine.dispose()


@pytest.fixture()
def db(app):
    """The database, inside a transaction rolled back after the test. Commits made by
    the code under test (requests included) become savepoints of that transaction."""
    with app.app_context():
        connection = _db.engine.connect()
        outer = connection.begin()
        original = _db.session
        _db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
            scopefunc=_app_ctx_id,
        )
        try:
            yield _db
        finally:
            _db.session.remove()
            _db.session = original
            outer.rollback()
            connection.close()


class RequestIsolatedClient(FlaskClient):
    """Runs each request in a fresh context, as a real server would: the test's own
    app context (and its `g`) is not reused by the request."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture()
def client(app, db):
    app.test_client_class = RequestIsolatedClient
    return app.test_client()
