"""The command line never prints a traceback: a failure is one line (issue 13 item 4),
and `casemgr seed` on a fresh database builds the schema first, as `casemgr demo` does."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def fresh_database(pg_server_url, tmp_path):
    """`casemgr` run as a process of its own on an empty database of its own: (run, engine)."""
    from tests.conftest import create_database, drop_database

    name = f"casemgr_cli_{uuid.uuid4().hex[:10]}"
    url = create_database(pg_server_url, name)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MIGRATE_DATABASE_URL", "SECRET_KEY",
                                                             "CASEMGR_ENV", "MAIL_URL", "CASEMGR_TRACEBACK")}
    env.update(DATABASE_URL=url.render_as_string(hide_password=False), PYTHONPATH=str(ROOT),
               CASEMGR_DATA_DIR=str(tmp_path / "data"))

    def casemgr(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", "from casemgr.cli import main; main()", *args],
                              capture_output=True, text=True, env=env, timeout=600)

    engine = sa.create_engine(url)
    try:
        yield casemgr, engine
    finally:
        engine.dispose()
        drop_database(pg_server_url, name)


def _one_line_refusal(done: subprocess.CompletedProcess, message: str) -> None:
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Traceback" not in output
    assert done.stderr.strip().splitlines() == [done.stderr.strip()], output
    assert message in done.stderr, output


def test_a_command_on_a_database_without_tables_says_what_to_run(fresh_database):
    casemgr, _ = fresh_database
    _one_line_refusal(casemgr("recompute"), "run `casemgr db upgrade` first")


def test_an_unexpected_failure_is_one_line(monkeypatch, capsys):
    """Whatever a command raises reaches the user as one line, not a traceback."""
    import click

    from casemgr import cli

    @click.command("explode")
    def explode():
        raise RuntimeError("a failure nobody expected\nwith a second line")

    monkeypatch.setattr(cli.cli, "commands", {**cli.cli.commands, "explode": explode})
    monkeypatch.setattr(sys, "argv", ["casemgr", "explode"])
    monkeypatch.delenv("CASEMGR_TRACEBACK", raising=False)
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 1
    assert capsys.readouterr().err == ("casemgr: RuntimeError: a failure nobody expected "
                                      "(CASEMGR_TRACEBACK=1 shows the details)\n")


def test_seed_on_a_fresh_database_builds_the_schema_first(fresh_database):
    casemgr, engine = fresh_database
    done = casemgr("seed", "--students", "50")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "Seeded" in done.stdout
    with engine.connect() as conn:
        # the demo district's students, and the partnership's second district's
        assert dict(conn.execute(sa.text(
            "SELECT d.code, count(*) FROM students s JOIN organizations d ON d.id = s.district_id "
            "WHERE s.left_on IS NULL GROUP BY d.code")).all()) == {"LVUSD": 50, "RCSD": 50}
    again = casemgr("seed", "--students", "50")
    assert again.returncode == 1 and "already holds data" in again.stderr and "Traceback" not in again.stderr


def test_seed_builds_the_schema_quietly_as_demo_does(pg_server_url):
    """The migrations' names and docstrings are for `casemgr db upgrade`; seeding says
    what it seeded and the logins."""
    from casemgr.cli import cli
    from casemgr.extensions import db
    from tests.conftest import create_database, drop_database, make_app

    name = f"casemgr_cli_{uuid.uuid4().hex[:10]}"
    app = make_app(create_database(pg_server_url, name))
    try:
        result = app.test_cli_runner().invoke(cli, ["seed", "--students", "50"])
        assert result.exit_code == 0, result.output
        assert result.output.startswith("Seeded Lakeview Unified School District (LVUSD): 50 students, "), result.output
        assert "Running upgrade" not in result.output and "tamper-evident" not in result.output
        assert "Demo logins" in result.output
    finally:
        with app.app_context():
            db.engine.dispose()
        drop_database(pg_server_url, name)
