"""Configuration from the environment, and the one-line failures an operator sees."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from datetime import timedelta

import pytest

from casemgr.config import Config, ConfigError, development_secret, normalise_database_url


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MIGRATE_DATABASE_URL", "SECRET_KEY", "CASEMGR_ENV", "MAIL_URL")}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-c", "from casemgr.cli import main; main()", *args],
        capture_output=True, text=True, env=environ, timeout=60,
    )


@pytest.mark.parametrize(
    "url, expected",
    [
        ("postgresql://casemgr@127.0.0.1:1/casemgr", "cannot connect to the database at 127.0.0.1/casemgr"),
        ("this is not a url", "DATABASE_URL is not a valid database URL"),
        ("mysql://root@localhost/casemgr", "DATABASE_URL must point to PostgreSQL"),
    ],
)
def test_bad_database_url_ends_with_one_clear_line(url, expected):
    result = run_cli("db", "upgrade", DATABASE_URL=url)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("casemgr: ")
    assert expected in lines[0]


def test_production_requires_a_secret_key():
    result = run_cli("db", "upgrade", CASEMGR_ENV="production", DATABASE_URL="postgresql://x@127.0.0.1:1/x")
    assert result.returncode == 2
    assert "SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_requires_a_database_url():
    with pytest.raises(ConfigError, match="DATABASE_URL is required"):
        Config.from_environ({"CASEMGR_ENV": "production", "SECRET_KEY": "x" * 40})


def test_production_settings_use_secure_cookies():
    settings = Config.from_environ(
        {"CASEMGR_ENV": "production", "SECRET_KEY": "x" * 40, "DATABASE_URL": "postgres://u:p@db/casemgr",
         "MAIL_URL": "smtp://mail.example.org"}
    )
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db/casemgr"


@pytest.mark.parametrize("given", ["postgres://u@h/d", "postgresql://u@h/d", "postgresql+psycopg://u@h/d"])
def test_database_urls_are_normalised_to_psycopg(given):
    assert normalise_database_url(given) == "postgresql+psycopg://u@h/d"


def test_development_secret_is_generated_once_and_private():
    folder = tempfile.mkdtemp()
    first = development_secret(__import__("pathlib").Path(folder))
    second = development_secret(__import__("pathlib").Path(folder))
    assert first == second and len(first) >= 32
    assert oct(os.stat(os.path.join(folder, "secret_key")).st_mode & 0o777) == "0o600"


def test_help_lists_commands_without_touching_the_database():
    result = run_cli("--help", DATABASE_URL="postgresql://casemgr@127.0.0.1:1/casemgr")
    assert result.returncode == 0
    for command in ("db", "demo", "seed", "run", "shell"):
        assert command in result.stdout


def _address_seen(database_url, proxies: int) -> str:
    """The client address a request carries when it arrives through one proxy that
    names the client in X-Forwarded-For."""
    from tests.conftest import make_app

    app = make_app(database_url, PROXIES=proxies)
    app.add_url_rule("/_address", "address_probe", lambda: __import__("flask").request.remote_addr)
    response = app.test_client().get("/_address", headers={"X-Forwarded-For": "203.0.113.9"},
                                     environ_base={"REMOTE_ADDR": "10.0.0.2"})
    return response.get_data(as_text=True)


def test_behind_a_declared_proxy_the_client_address_is_the_forwarded_one(database_url):
    # consents record the signer's network address (34 CFR 99.30), so it must be theirs
    assert _address_seen(database_url, proxies=1) == "203.0.113.9"


def test_without_a_declared_proxy_a_forwarded_address_is_not_believed(database_url):
    assert _address_seen(database_url, proxies=0) == "10.0.0.2"


@pytest.mark.parametrize("given", ["-1", "one", "1.5"])
def test_a_wrong_proxy_count_is_refused_with_a_clear_message(given):
    with pytest.raises(ConfigError, match="CASEMGR_PROXIES must be a whole number"):
        Config.from_environ({"CASEMGR_PROXIES": given})


def test_the_proxy_count_is_read_from_the_environment():
    assert Config.from_environ({"CASEMGR_PROXIES": "2"})["PROXIES"] == 2
    assert Config.from_environ({})["PROXIES"] == 0


def test_the_districts_time_zone_is_read_from_the_environment():
    assert Config.from_environ({"CASEMGR_TIMEZONE": " America/Chicago "})["BABEL_DEFAULT_TIMEZONE"] == "America/Chicago"
    assert "BABEL_DEFAULT_TIMEZONE" not in Config.from_environ({})


@pytest.mark.parametrize("given", ["Central", "America/Nowhere", "../etc/passwd", "EST5EDT/x"])
def test_an_unknown_time_zone_is_refused_with_a_clear_message(given):
    with pytest.raises(ConfigError, match="CASEMGR_TIMEZONE must name a time zone"):
        Config.from_environ({"CASEMGR_TIMEZONE": given})


@pytest.mark.parametrize("given", ["0", "-5", "two minutes", "inf", "nan"])
def test_a_wrong_import_stale_interval_is_refused_in_one_line(given):
    with pytest.raises(ConfigError, match="^CASEMGR_IMPORT_STALE_AFTER must be a number of seconds greater than 0"):
        Config.from_environ({"CASEMGR_IMPORT_STALE_AFTER": given})


def test_the_import_settings_are_read_from_the_environment(tmp_path):
    folder = tmp_path / "spool" / "imports"
    settings = Config.from_environ({"CASEMGR_IMPORT_STALE_AFTER": "90", "CASEMGR_IMPORT_SPOOL_DIR": str(folder)})
    assert settings["IMPORT_STALE_AFTER"] == timedelta(seconds=90)
    assert settings["IMPORT_SPOOL_DIR"] == str(folder.resolve()) and folder.is_dir()
    assert "IMPORT_SPOOL_DIR" not in Config.from_environ({}) and Config.IMPORT_SPOOL_DIR is None


def test_a_spool_folder_that_cannot_be_made_is_refused_in_one_line(tmp_path):
    (tmp_path / "a-file").write_text("")
    with pytest.raises(ConfigError, match="^CASEMGR_IMPORT_SPOOL_DIR '.*a-file/spool' cannot be made"):
        Config.from_environ({"CASEMGR_IMPORT_SPOOL_DIR": str(tmp_path / "a-file" / "spool")})


def test_an_import_spools_its_files_in_the_configured_folder(app, db, tmp_path, monkeypatch):
    """Bytes given to an import are written to the spool folder, and removed after."""
    from casemgr import importers
    from tests.factories import create_district

    monkeypatch.setitem(app.config, "IMPORT_SPOOL_DIR", str(tmp_path))
    seen = []
    original = importers.execute

    def execute(kind, path, *args, **kwargs):
        seen.append((path.parent.parent, path.exists()))
        return original(kind, path, *args, **kwargs)

    monkeypatch.setattr(importers, "execute", execute)
    with app.app_context():
        outcome = importers.import_file("fafsa", b"state_id,school_year,status,status_date\n", "f.csv", create_district())
    assert outcome.batch.status == "rejected"
    assert seen == [(tmp_path, True)] and list(tmp_path.iterdir()) == []


def test_the_owners_url_is_read_and_normalised_beside_the_apps():
    settings = Config.from_environ({"DATABASE_URL": "postgres://casemgr_app@db/casemgr",
                                    "MIGRATE_DATABASE_URL": "postgresql://casemgr_owner@db/casemgr"})
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://casemgr_app@db/casemgr"
    assert settings["MIGRATE_DATABASE_URI"] == "postgresql+psycopg://casemgr_owner@db/casemgr"
    assert "MIGRATE_DATABASE_URI" not in Config.from_environ({"DATABASE_URL": "postgres://casemgr_app@db/casemgr"})


@pytest.mark.parametrize("env, expected", [
    ({"DATABASE_URL": "postgres://a@db/c", "MIGRATE_DATABASE_URL": "mysql://o@db/c"},
     "MIGRATE_DATABASE_URL must point to PostgreSQL, not 'mysql'"),
    ({"DATABASE_URL": "postgres://a@db/c", "MIGRATE_DATABASE_URL": "::not a url"},
     "MIGRATE_DATABASE_URL is not a valid database URL"),
    ({"MIGRATE_DATABASE_URL": "postgres://o@db/c"},
     "MIGRATE_DATABASE_URL is set without DATABASE_URL"),
])
def test_a_wrong_owners_url_is_refused_in_one_line(env, expected):
    with pytest.raises(ConfigError, match=expected):
        Config.from_environ(env)


@pytest.mark.parametrize("hour", range(24))
def test_a_test_run_happens_where_the_day_has_just_begun(hour):
    """The suite's district zone leaves at least 17 hours before midnight, whatever hour
    the run starts: no run crosses from one day to the next."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from tests.conftest import a_zone_where_the_day_has_just_begun

    now = datetime(2026, 12, 7, hour, 59, tzinfo=UTC)
    local = now.astimezone(ZoneInfo(a_zone_where_the_day_has_just_begun(now)))
    assert local.hour == 6
