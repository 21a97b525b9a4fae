"""The `casemgr` command: a Flask CLI group (run, shell, routes, db ...) plus the
casemgr commands, each a thin layer over library code."""
from __future__ import annotations

import logging
import os
import signal
import sys
import time
from pathlib import Path

import click
import psycopg
import sqlalchemy as sa
from flask import current_app
from flask.cli import FlaskGroup, ScriptInfo, pass_script_info, with_appcontext
from flask_migrate.cli import db as db_commands
from sqlalchemy.exc import DBAPIError
from werkzeug.serving import run_simple

from casemgr import ConfigError, create_app
from casemgr.clock import today
from casemgr.importers import KINDS as IMPORT_KINDS

DEMO_PASSWORD = "casemgr-demo"


class CasemgrGroup(FlaskGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        # Flask would build the app (and reach the database) just to list commands.
        self._load_plugin_commands()
        return sorted(click.Group.list_commands(self, ctx))


@click.group(cls=CasemgrGroup, create_app=create_app, add_version_option=False, load_dotenv=False)
def cli() -> None:
    """casemgr: case management for school–community partnerships."""


cli.add_command(db_commands, "db")


def _refuse_in_production() -> None:
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("demo data is never written to a production database (CASEMGR_ENV=production)")


@cli.command("seed")
@click.option("--students", default=2000, show_default=True, type=click.IntRange(50, 100_000),
              help="How many students in the demo district (the partnership's second district has a fifth as many).")
@click.option("--seed", "seed_value", default=1, show_default=True, type=int, help="Random seed: the same seed gives the same districts.")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None, help="The 'today' of the mock districts (default: today).")
@click.option("--reset", is_flag=True, help="Empty the database first (all data is lost).")
@with_appcontext
def seed_command(students: int, seed_value: int, as_of, reset: bool) -> None:
    """Fill an empty database with a deterministic mock partnership: the demo district with
    the demo logins, and a second, smaller district, some of whose students moved to the
    demo district. A fresh database gets its schema first, as `casemgr demo` does."""
    from casemgr.db_roles import as_owner
    from casemgr.seed import generator

    _refuse_in_production()
    with as_owner():
        _upgrade_schema()
        if reset:
            generator.reset_database()
        elif not generator.database_is_empty():
            raise click.ClickException("the database already holds data; use --reset to replace it")
        started = time.perf_counter()
        summary = generator.generate(students=students, seed=seed_value, as_of=as_of.date() if as_of else today())
    click.echo(f"Seeded {summary.describe()} in {time.perf_counter() - started:.1f} s.")
    _print_logins()


@cli.command("recompute")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Compute as of this date (default: today).")
@with_appcontext
def recompute_command(as_of) -> None:
    """Recompute every student's indicators and tier."""
    from casemgr import indicators

    started = time.perf_counter()
    results = indicators.recompute(as_of=as_of.date() if as_of else None)
    for result in results:
        click.echo(
            f"{result.students:,} students, school year {result.school_year}, as of {result.as_of}, "
            f"thresholds version {result.settings_version}"
        )
    click.echo(f"Recomputed in {time.perf_counter() - started:.1f} s.")


class ImportProgressBar:
    """An import's progress on stderr, as one line redrawn in place: how much of the file
    is read, the rows so far and per second, and the step under way. Drawn once the
    import has run `after` seconds, at most five times a second."""

    WIDTH = 30

    def __init__(self, name: str, after: float) -> None:
        self.name, self.after = name, after
        self.drawn_at: float | None = None
        self.length = 0
        self.last = None

    def __call__(self, state) -> None:
        self.last = state
        now = time.monotonic()
        if now - state.started >= self.after and (self.drawn_at is None or now - self.drawn_at >= 0.2):
            self.draw(state, now)

    def draw(self, state, now: float) -> None:
        filled = round(state.fraction * self.WIDTH)
        line = (f"{self.name} [{'#' * filled}{'-' * (self.WIDTH - filled)}] {state.fraction:4.0%}  "
                f"{state.rows_done:,} rows  {state.rows_per_second(now):,.0f} rows/s  {state.phase}")
        self.length = max(self.length, len(line))
        click.echo("\r" + line.ljust(self.length), nl=False, err=True)
        self.drawn_at = now

    def close(self) -> None:
        """The last figures, then a new line, if the bar was drawn at all."""
        if self.drawn_at is not None:
            self.draw(self.last, time.monotonic())
            click.echo(err=True)


@cli.command("import")
@click.argument("kind", type=click.Choice(list(IMPORT_KINDS)))
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate and count, then roll back (the import is still recorded).")
@click.option("--district", "district_code", default=None, help="The district's code (needed when there are several).")
@click.option("--organization", "organization_code", default=None,
              help="The partner organization's code, for a partner's file (service_contacts); needed for it.")
@click.option("--progress/--no-progress", "show_progress", default=None,
              help="A progress bar on stderr, from the start (default: when stderr is a terminal, after 2 s).")
@with_appcontext
def import_command(kind: str, path: Path, dry_run: bool, district_code: str | None, organization_code: str | None,
                   show_progress: bool | None) -> None:
    """Import a CSV file (or a OneRoster bundle) of KIND from PATH; formats: seed/examples/README.md.
    A partner organization's file (service_contacts) is imported for the partner named by --organization."""
    from casemgr import importers
    from casemgr.importers import background

    started = time.perf_counter()
    interrupted = background.record_interrupted()
    if interrupted:
        click.echo(f"{interrupted:,} earlier import(s) no longer running are now recorded as interrupted.", err=True)
    bar = ImportProgressBar(path.name, after=0 if show_progress else 2.0)
    if show_progress is None:
        show_progress = sys.stderr.isatty()
    try:
        organization = _import_organization(kind, district_code, organization_code)
        outcome = importers.import_path(kind, path, organization, dry_run=dry_run,
                                        progress=bar if show_progress else None)
    except importers.ImportSetupError as error:
        raise click.ClickException(str(error)) from None
    finally:
        bar.close()
    batch = outcome.batch
    if not outcome.ok:
        click.echo(f"{path.name}: {batch.status}, nothing was changed. {batch.error_count:,} error(s):", err=True)
        for error in outcome.errors:
            click.echo(f"  {error.describe()}", err=True)
        if batch.error_count > len(outcome.errors):
            click.echo(f"  … and {batch.error_count - len(outcome.errors):,} more", err=True)
        sys.exit(1)
    unchanged = max(batch.rows_read - batch.rows_inserted - batch.rows_updated - batch.rows_skipped, 0)
    verb = "would insert" if dry_run else "inserted"
    click.echo(
        f"{path.name}: {batch.rows_read:,} rows read, {batch.rows_inserted:,} {verb}, {batch.rows_updated:,} "
        f"{'would update' if dry_run else 'updated'}, {unchanged:,} unchanged"
        + (f", {batch.rows_skipped:,} skipped" if batch.rows_skipped else "")
        + f" in {time.perf_counter() - started:.1f} s"
        + (" (dry run: nothing was changed)." if dry_run else ".")
    )
    for warning in outcome.warnings:
        click.echo(f"  warning: {warning.describe()}")


def _import_organization(kind: str, district_code: str | None, organization_code: str | None):
    """The organization a file of `kind` is imported for: a partner's kind, the partner
    named by --organization; every other kind, the district."""
    from casemgr import importers

    if kind in importers.PARTNER_KINDS:
        if district_code:
            raise importers.ImportSetupError(f"a {kind} file is a partner organization's: name it with "
                                             "--organization CODE, not --district")
        return importers.resolve_partner(organization_code)
    if organization_code:
        partner_kinds = ", ".join(sorted(importers.PARTNER_KINDS))
        raise importers.ImportSetupError(f"--organization is for a partner's file ({partner_kinds}); a {kind} file "
                                         "is the district's (--district CODE)")
    return importers.resolve_district(district_code)


@cli.command("backup")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@with_appcontext
def backup_command(path: Path) -> None:
    """Write the whole database to PATH (pg_dump's custom format)."""
    from casemgr import backup
    from casemgr.extensions import db

    started = time.perf_counter()
    try:
        size = backup.backup(db.engine.url, path)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backed up the database to {path} ({size / 1e6:,.1f} MB) in {time.perf_counter() - started:.1f} s.")


@cli.command("restore")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--yes", is_flag=True, help="Replace the database's contents without asking.")
@with_appcontext
def restore_command(path: Path, yes: bool) -> None:
    """Replace the database's contents with the backup at PATH (all or nothing)."""
    from casemgr import backup, db_roles
    from casemgr.extensions import db

    if not yes:
        click.confirm(f"This replaces everything in the database {db.engine.url.database} with {path.name}. Go on?",
                      abort=True)
    db.session.remove()
    db.engine.dispose()  # no connection of this process holds a table the restore drops
    started = time.perf_counter()
    try:
        backup.restore(db_roles.owner_url(), path)  # as the owner: the tables are made again
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    app_role = db_roles.app_role_to_grant()
    if app_role:  # the tables made again have the default grants: give the app role its own
        with db_roles.as_owner(), db.engine.begin() as conn:
            db_roles.grant_app_role(conn, app_role)
    click.echo(f"Restored the database from {path} in {time.perf_counter() - started:.1f} s.")


@db_commands.command("grant-app-role")
@click.argument("role")
@with_appcontext
def grant_app_role_command(role: str) -> None:
    """Give ROLE, the role of DATABASE_URL, the application's privileges: it may read and
    write the tables, only read and add to the append-only ones (the disclosure log and
    the other logs), and alter none. Run as the owner (MIGRATE_DATABASE_URL), once;
    `casemgr db upgrade` gives them again."""
    from casemgr import db_roles
    from casemgr.extensions import db

    with db_roles.as_owner(), db.engine.begin() as conn:
        try:
            tables = db_roles.grant_app_role(conn, role)
        except db_roles.RoleError as error:
            raise click.ClickException(str(error)) from None
        owner = conn.execute(sa.text("SELECT current_user")).scalar_one()
        public_create = db_roles.creates_in_public(conn, role)
    if public_create:
        click.echo(f"warning: {role} may still create objects in the schema public through PUBLIC (PostgreSQL 14 and "
                   "older): as the schema's owner, REVOKE CREATE ON SCHEMA public FROM PUBLIC", err=True)
    if not tables:
        click.echo("warning: the database has no casemgr tables yet; run `casemgr db upgrade` (which grants again)",
                   err=True)
    click.echo(f"{role} may now use the tables of {owner}; append-only: {', '.join(tables) or 'none yet'}.")


@cli.command("edfi-map")
@click.argument("descriptor", required=False)
@click.argument("status", required=False)
@click.option("--district", "district_code", default=None, help="The district's code (needed when there are several).")
@with_appcontext
def edfi_map_command(descriptor: str | None, status: str | None, district_code: str | None) -> None:
    """Map an Ed-Fi attendance event DESCRIPTOR (a code value or a full URI) to a casemgr
    STATUS for the district's Ed-Fi imports; without arguments, list the mappings."""
    from casemgr import importers
    from casemgr.importers import edfi_map

    try:
        district = importers.resolve_district(district_code)
    except importers.ImportSetupError as error:
        raise click.ClickException(str(error)) from None
    if descriptor is None:
        listed = edfi_map.mappings(district.id)
        for mapping in listed:
            click.echo(f"{mapping.descriptor} -> {mapping.status}")
        if not listed:
            click.echo("No mappings yet: casemgr uses its defaults for the Ed-Fi descriptors (seed/examples/README.md).")
        return
    if status is None:
        raise click.UsageError(f"give the status to map {descriptor!r} to: one of {', '.join(edfi_map.STATUSES)}")
    try:
        mapping, new = edfi_map.set_mapping(district.id, descriptor, status)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{'Mapped' if new else 'Changed'}: {mapping.descriptor} -> {mapping.status}")


@cli.group("audit")
def audit_group() -> None:
    """The disclosure log's hash chains: verify them, record the daily digest."""


@audit_group.command("verify")
@click.option("--district", "district_code", default=None, help="Verify this district's chain only (its code).")
@click.option("--day", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Verify only the rows written that day (UTC), from the hash of the row before them.")
@with_appcontext
def audit_verify_command(district_code: str | None, day) -> None:
    """Recompute every hash of the disclosure log's chains (or of one day's rows) and name
    the first broken row of each (exit status 1), or say how many rows verified."""
    from casemgr.services import disclosure_chain

    district_id = _district_id(district_code) if district_code else None
    if day is not None:
        reports = disclosure_chain.verify_day(day.date(), district_id)
    else:
        reports = disclosure_chain.verify(district_id)
    if not reports:
        click.echo("The disclosure log has no rows yet: nothing to verify.")
    when = f" of {day:%Y-%m-%d}" if day is not None else ""
    for report in reports:
        if report.broken is None:
            click.echo(f"{report.label}: {report.rows:,} rows{when} verified.")
        else:
            click.echo(f"{report.label}: BROKEN at {report.broken.describe()}")
    if any(r.broken for r in reports):
        sys.exit(1)


@audit_group.command("digest")
@with_appcontext
def audit_digest_command() -> None:
    """Verify each chain's rows since its last digest, record today's digest (each chain's
    head) in disclosure_digests and print it; run it daily (cron) and keep the printed
    lines apart from the database. Also creates the log's partitions of the months ahead."""
    from casemgr.extensions import db
    from casemgr.services import disclosure_chain

    try:
        _ensure_partitions(quiet=True)
    except click.ClickException as error:
        click.echo(f"warning: {error.message}", err=True)
    checked = disclosure_chain.verify_since_digests()
    for report, since in checked:
        if report.broken is not None:
            click.echo(f"{report.label}: BROKEN at {report.broken.describe()}")
    recorded = disclosure_chain.record_digests(today())
    db.session.commit()
    walked = {report.district_id: report for report, _ in checked}
    for label, digest, new in recorded:
        report = walked.get(digest.district_id)
        verified = f" ({report.rows:,} rows since the last digest verified)" \
            if report is not None and report.broken is None and new else ""
        click.echo(f"{digest.day} {label} seq {digest.seq} sha256 {digest.hash.hex()}"
                   + ("" if new else " (already recorded today)") + verified)
    if not recorded:
        click.echo("The disclosure log has no rows yet: no digest recorded.")
    if any(report.broken for report, _ in checked):
        sys.exit(1)


@audit_group.command("partitions")
@click.option("--ahead", type=click.IntRange(0, 120), default=3, show_default=True,
              help="Months after the current one to create.")
@with_appcontext
def audit_partitions_command(ahead: int) -> None:
    """Create the disclosure log's monthly partitions of this month and the months ahead
    (as the owner: MIGRATE_DATABASE_URL when set), then list the partitions."""
    from casemgr.services import disclosure_partitions

    _ensure_partitions(ahead=ahead)
    for partition in disclosure_partitions.partitions():
        click.echo(f"{partition.name}  {partition.bounds}  ~{partition.rows:,} rows  {partition.bytes / 1e6:,.1f} MB")


@audit_group.command("archive")
@click.argument("month", type=click.DateTime(["%Y-%m"]))
@click.option("--to", "target", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The file to write the month's rows to (pg_dump's custom format).")
@with_appcontext
def audit_archive_command(month, target: Path) -> None:
    """Archive a month of the disclosure log (YYYY-MM, oldest first): write its partition
    to a file, record where each chain stood at its end, and detach it from the log. The
    rows stay in the database, outside the log, until the owner drops the detached table
    once the file is stored safely; the log keeps being verified from the archived rows'
    hashes."""
    from casemgr import backup, db_roles
    from casemgr.extensions import db
    from casemgr.services import disclosure_partitions

    try:
        with db_roles.as_owner():
            records = disclosure_partitions.archive(month.date(), target, today())
            db.session.commit()
    except (disclosure_partitions.ArchiveError, backup.BackupError) as error:
        raise click.ClickException(str(error)) from None
    name = f"disclosure_partitions.disclosure_log_{month:%Y_%m}"
    rows = sum(r.rows for r in records)
    click.echo(f"{month:%Y-%m}: {rows:,} rows written to {target} "
               f"(sha256 {records[0].file_sha256 if records else '-'}) and detached from the log as {name}.")
    click.echo(f"Once the file is stored safely and a restore of it tried: DROP TABLE {name};")


def _ensure_partitions(ahead: int = 3, quiet: bool = False) -> None:
    from casemgr import db_roles
    from casemgr.extensions import db
    from casemgr.services import disclosure_partitions

    try:
        with db_roles.as_owner():
            created, held = disclosure_partitions.ensure_ahead(today(), ahead)
            db.session.commit()
    except DBAPIError as error:
        raise click.ClickException(
            "could not create the disclosure log's partitions (creating them is the owner's right: set "
            f"MIGRATE_DATABASE_URL): {str(error.orig).splitlines()[0]}") from None
    for name in created:
        click.echo(f"created partition {name}")
    for month in held:
        click.echo(f"the DEFAULT partition holds rows of {month:%Y-%m}: that month's partition is left for the owner "
                   "to create (see the README, The disclosure log over the years)")
    if not quiet and not created:
        click.echo("every month's partition up to the months ahead exists")


def _district_id(code: str) -> int:
    from casemgr.extensions import db
    from casemgr.models import Organization
    from casemgr.models.enums import OrgKind

    district_id = db.session.scalar(
        sa.select(Organization.id).where(Organization.kind == OrgKind.DISTRICT, Organization.code == code))
    if district_id is None:
        raise click.ClickException(f"no district has the code {code!r}")
    return district_id


@cli.group("users")
def users_group() -> None:
    """Accounts: the first district admin (everyone else is invited from the app)."""


@users_group.command("create-admin")
@click.argument("email")
@click.option("--name", "full_name", required=True, help="The admin's full name.")
@click.option("--district", "district_code", default=None, help="The district's code (created if it does not exist).")
@click.option("--district-name", default=None, help="The district's name, to create it.")
@with_appcontext
def create_admin_command(email: str, full_name: str, district_code: str | None, district_name: str | None) -> None:
    """Create a district admin without a password and email them an invitation."""
    from email_validator import EmailNotValidError, validate_email

    from casemgr.extensions import db
    from casemgr.mail import MailError
    from casemgr.services import staff
    from casemgr.text import has_control_characters

    try:
        validate_email(email, check_deliverability=False, test_environment=True)
    except EmailNotValidError as error:
        raise click.ClickException(f"{email!r} is not an email address: {error}") from None
    for value in (v for v in (full_name, district_code, district_name) if v is not None):
        if not value.strip() or has_control_characters(value) or len(value) > 200:
            raise click.ClickException("names and codes must be plain text of at most 200 characters")
    try:
        user = staff.create_first_admin(email, full_name, district_code, district_name)
    except (staff.StaffError, MailError) as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    days = current_app.config["INVITATION_LIFETIME"].days
    where = "written to the outbox (its link is above)" if not current_app.config.get("MAIL_URL") else "emailed"
    click.echo(f"{user.full_name} <{user.email}> is a district admin of {user.organization.name} "
               f"({user.organization.code}). The invitation was {where}; its link works for {days} days.")


def _upgrade_schema() -> None:
    """Bring the schema up to date quietly, for `seed` and `demo`: the migrations' names
    and docstrings are for `casemgr db upgrade`; warnings still show."""
    from flask_migrate import upgrade

    alembic_log = logging.getLogger("alembic")
    level, quiet = alembic_log.level, current_app.config.get("QUIET_MIGRATIONS")
    current_app.config["QUIET_MIGRATIONS"] = True  # migrations/env.py then leaves the logging as it is
    alembic_log.setLevel(logging.WARNING)
    try:
        upgrade(directory=current_app.extensions["migrate"].directory)
    finally:
        alembic_log.setLevel(level)
        current_app.config["QUIET_MIGRATIONS"] = quiet


def _print_logins() -> None:
    from casemgr.seed.generator import DEMO_LOGINS

    click.echo(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
    for email, role in DEMO_LOGINS:
        click.echo(f"  {email:<28} {role}")


@cli.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--students", default=2000, show_default=True, type=click.IntRange(50, 100_000))
@pass_script_info
def demo_command(info: ScriptInfo, host: str, port: int, students: int) -> None:
    """Start the database, migrate, seed the mock partnership if empty, and serve the app."""
    from casemgr.db_roles import as_owner
    from casemgr.seed import generator

    started = time.perf_counter()
    app = info.load_app()
    # the console shows casemgr's own line per page (casemgr.requests), not werkzeug's
    # line per file with colour codes
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with app.app_context(), as_owner():
        _refuse_in_production()
        _upgrade_schema()
        if generator.database_is_empty():
            click.echo(f"Seeding a mock partnership: a district of {students} students and a second district "
                       f"of {generator.second_district_size(students)} ...")
            summary = generator.generate(students=students, seed=1, as_of=today())
            click.echo(f"Seeded {summary.describe()}.")
    click.echo(f"Ready in {time.perf_counter() - started:.1f} s: http://{host}:{port}/")
    _print_logins()
    # Stopped by SIGTERM as by Ctrl-C: exit normally, so the embedded database stops too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # app.run() refuses to block inside a Flask CLI command; serve with werkzeug directly.
    run_simple(host, port, app, use_reloader=False, use_debugger=False, threaded=True)


def database_problem(error: DBAPIError) -> str:
    """A database error in one line, and what to do when the schema is missing."""
    if isinstance(error.orig, psycopg.errors.UndefinedTable):
        return "the database has no casemgr tables yet: run `casemgr db upgrade` first"
    reason = str(error.orig or error).strip().splitlines()
    return f"the database refused: {reason[0] if reason else type(error).__name__}"


def main() -> None:
    """The `casemgr` command. A failure is said in one line, never as a traceback
    (CASEMGR_TRACEBACK=1 shows it, for a bug report)."""
    try:
        cli.main(prog_name="casemgr")
    except ConfigError as exc:
        click.echo(f"casemgr: {exc}", err=True)
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001  (the one place every command's failure is reported)
        if os.environ.get("CASEMGR_TRACEBACK"):
            raise
        if isinstance(exc, DBAPIError):
            message = database_problem(exc)
        else:
            detail = str(exc).strip().splitlines()
            message = f"{type(exc).__name__}: {detail[0]}" if detail else type(exc).__name__
        click.echo(f"casemgr: {message} (CASEMGR_TRACEBACK=1 shows the details)", err=True)
        sys.exit(1)
