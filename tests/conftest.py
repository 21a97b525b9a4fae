"""Test fixtures: one real PostgreSQL database per run, migrated with Alembic once;
each test runs inside a transaction that is rolled back at its end.

The database is the embedded server in a throwaway folder, or the server named by
CASEMGR_TEST_DATABASE_URL (a fresh database is created in it and dropped afterwards).
"""
from __future__ import annotations

import contextvars
import email
import email.policy
import os
import shutil
import socket
import subprocess
import threading
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy.orm import scoped_session, sessionmaker

from casemgr import create_app, throttle
from casemgr.extensions import db as _db

TEST_SECRET = "test-secret-key-that-is-long-enough-for-signing"


def a_zone_where_the_day_has_just_begun(now: datetime) -> str:
    """The district's time zone for a run: the whole-hour zone where it is now about six
    in the morning, so that no run crosses midnight: the tests' "today", taken when their
    modules are read, and the application's stay the same day (and no zone changes its
    clocks during the run). It also keeps the code honest about zones: a date taken in
    UTC, or in the server's zone, shows up as a failure on most runs."""
    offset = (6 - now.astimezone(UTC).hour + 12) % 24 - 12  # hours east of UTC, -12 to 11
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"  # POSIX signs


# before any test module reads the date; a zone named in the environment is kept
os.environ.setdefault("CASEMGR_TIMEZONE", a_zone_where_the_day_has_just_begun(datetime.now(UTC)))


def pytest_report_header(config):
    return f"district time zone: {os.environ['CASEMGR_TIMEZONE']}"


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
        "MIGRATE_DATABASE_URI": None,  # migrations run on the test database, whatever the environment says
        "SECRET_KEY": TEST_SECRET,
        "CHECK_DATABASE_ON_START": False,
    }
    config.update(overrides)
    return create_app(config)


class SmtpServer:
    """A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()
        self.controller = None

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted"

    @property
    def url(self) -> str:
        return f"smtp://{self.controller.hostname}:{self.controller.port}"

    def take(self) -> list:
        with self.lock:
            taken, self.messages[:] = list(self.messages), []
        return taken


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def smtp_server():
    from aiosmtpd.controller import Controller

    server = SmtpServer()
    server.controller = Controller(server, hostname="127.0.0.1", port=_free_port())
    server.controller.start()
    yield server
    server.controller.stop()


class Mailbox:
    """The messages the SMTP server received during one test."""

    def __init__(self, server: SmtpServer):
        self.server = server

    @property
    def messages(self) -> list:
        with self.server.lock:
            return list(self.server.messages)

    def __len__(self) -> int:
        return len(self.messages)

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]

    def last(self, address: str):
        found = self.to(address)
        assert found, f"no mail to {address}; got {[m['To'] for m in self.messages]}"
        return found[-1]


def message_text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def first_link(message) -> str:
    """The first link in a message's plain-text part."""
    import re

    match = re.search(r"https?://[^\s<>\"']+", message_text(message))
    assert match, "no link in the message"
    return match.group(0)


@pytest.fixture()
def mailbox(smtp_server):
    smtp_server.take()
    yield Mailbox(smtp_server)
    smtp_server.take()


@pytest.fixture(scope="session")
def app(database_url, smtp_server):
    app = make_app(database_url, MAIL_URL=smtp_server.url)
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
        # an upload's import thread could not share this one connection: it runs in the request
        in_background, app.config["IMPORT_IN_BACKGROUND"] = app.config["IMPORT_IN_BACKGROUND"], False
        try:
            yield _db
        finally:
            app.config["IMPORT_IN_BACKGROUND"] = in_background
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


@pytest.fixture(autouse=True)
def fresh_throttle_counts(request):
    """Every test starts with no failed attempt counted: the session's app keeps its real
    limits, and its tests sign in from one address all run long."""
    if "app" in request.fixturenames:
        throttle.reset(request.getfixturevalue("app"))


def _redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="session")
def redis_url():
    """A real Redis server for the throttling counters: the one at 127.0.0.1:6379 when it
    answers, else one started here (no persistence). Without either, the tests that need
    it skip, except under CI (CI set), where they fail."""
    shared = "redis://127.0.0.1:6379/0"
    if _redis_answers(shared):
        yield shared
        return
    server = shutil.which("redis-server")
    if server is None:
        message = "no Redis server at 127.0.0.1:6379 and no redis-server to start (Debian: apt-get install redis-server)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    port = _free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 15
        while not _redis_answers(url):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server did not start on port {port}")
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
