"""Run one import: validate the whole file, merge it in one transaction, and record
the batch whatever the outcome. The batch row is committed as running before the work
starts, so an import that is killed still leaves it (shown as interrupted once its
heartbeat stops, see progress.py); it survives a rejection or a dry run because the
data work runs inside a savepoint that is rolled back."""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from casemgr.extensions import db
from casemgr.importers import staging
from casemgr.importers.base import MAX_ERRORS, Context, Counts, Kind, Rejected, RowError, Unreadable
from casemgr.importers.progress import BatchProgress, Listener, heartbeat_every
from casemgr.importers.source import match_header, read_csv
from casemgr.models import ImportBatch, Organization
from casemgr.models.enums import ImportStatus, OrgKind

log = logging.getLogger(__name__)


class ImportSetupError(ValueError):
    """The import cannot start: unknown kind or district."""


@dataclass
class Outcome:
    batch: ImportBatch
    errors: list[RowError]
    warnings: list[RowError] = field(default_factory=list)
    unreadable: bool = False  # the file could not be read at all (see base.Unreadable)

    @property
    def ok(self) -> bool:
        return self.batch.status == ImportStatus.SUCCEEDED


def resolve_district(code: str | None) -> Organization:
    query = sa.select(Organization).where(Organization.kind == OrgKind.DISTRICT)
    if code:
        district = db.session.scalar(query.where(Organization.code == code))
        if district is None:
            raise ImportSetupError(f"no district has the code {code!r}")
        return district
    districts = db.session.scalars(query.limit(2)).all()
    if len(districts) != 1:
        raise ImportSetupError("name the district with --district CODE" if districts else "there is no district yet")
    return districts[0]


def run_file(kind: Kind, path: Path, ctx: Context) -> None:
    """Validate and merge one CSV file of `kind` (raises Rejected)."""
    csv_file = read_csv(path)
    ctx.labels = match_header(csv_file.header, kind)
    ctx.counts.rows_read += staging.load(ctx, csv_file, list(ctx.labels), list(kind.columns))
    ctx.progress(rows_done=ctx.counts.rows_read, phase="checking")
    checks = (staging.type_checks(list(kind.columns), ctx.labels) + [staging.duplicate_check(list(kind.key), ctx.labels)]
              + kind.checks(ctx))
    staging.collect_errors(ctx, checks)
    staging.raise_if_errors(ctx, MAX_ERRORS)
    ctx.progress(phase="merging")
    kind.merge(ctx)


def start_batch(kind_name: str, filename: str, district: Organization, *, user_id: int | None = None,
                dry_run: bool = False, bytes_total: int = 0) -> ImportBatch:
    """Record an import as running, committed before any of its work starts."""
    batch = ImportBatch(kind=kind_name, filename=filename[:255], district_id=district.id, user_id=user_id,
                        dry_run=dry_run, status=ImportStatus.RUNNING, bytes_total=bytes_total, phase="waiting")
    db.session.add(batch)
    db.session.commit()
    return batch


def execute(kind_name: str, path: Path, filename: str, district: Organization, *, user_id: int | None = None,
            dry_run: bool = False, today: date | None = None, batch: ImportBatch | None = None,
            progress: Listener | None = None) -> Outcome:
    """Run the import; `batch`: one start_batch recorded already (the upload page's);
    `progress`: told how far the import has come, as often as it moves."""
    from casemgr.clock import today as clock_today
    from casemgr.importers import KINDS

    kind = KINDS[kind_name]
    # the file's digest is computed on another core while the database loads the file
    size = path.stat().st_size
    digest = _HASHING.submit(_sha256, path)
    if batch is None:
        batch = start_batch(kind.name, filename, district, user_id=user_id, dry_run=dry_run, bytes_total=size)
    reporter = BatchProgress(db.engine, batch.id, size, listener=progress,
                             heartbeat=heartbeat_every(current_app.config))
    with reporter:  # its last figures are written before the batch's own row is
        errors, warnings, counts, unreadable = _run(kind, path, filename, district, batch, reporter,
                                                    today or clock_today())
    _finish(batch, errors, warnings, counts, digest.result())
    if batch.status == ImportStatus.SUCCEEDED and not batch.dry_run and kind.feeds_indicators:
        from casemgr import indicators

        indicators.recompute(district_id=district.id)
    return Outcome(batch, errors, warnings, unreadable)


def _run(kind: Kind, path: Path, filename: str, district: Organization, batch: ImportBatch, reporter: BatchProgress,
         today: date) -> tuple[list[RowError], list[RowError], Counts, bool]:
    """The data work, in a savepoint; sets the batch's status (not yet committed)."""
    errors: list[RowError] = []
    warnings: list[RowError] = []
    counts = Counts()
    unreadable = False
    savepoint = db.session.begin_nested()
    try:
        with db.session.connection().connection.driver_connection.cursor() as cur:
            ctx = Context(district_id=district.id, today=today, cur=cur, counts=counts,
                          progress=_rows_only(reporter.report) if kind.bundle else reporter.report)
            ctx.progress(phase="reading", bytes_done=0, rows_done=0)
            (kind.run or (lambda p, c: run_file(kind, p, c)))(path, ctx)
            staging.drop_tables(cur)
            reporter.report(bytes_done=reporter.state.bytes_total, rows_done=counts.rows_read)  # the whole file, a bundle's too
    except Rejected as rejection:
        savepoint.rollback()
        errors = rejection.errors
        unreadable = isinstance(rejection, Unreadable)
        batch.status, batch.error_count = ImportStatus.REJECTED, rejection.total
    except Exception as error:  # recorded as failed; the caller shows a message, never a traceback
        log.exception("import of %s (%s) failed", filename, kind.name)
        if savepoint.is_active:
            savepoint.rollback()
        else:
            db.session.rollback()
        errors = [RowError(None, None, f"the import failed: {str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__}")]
        batch.status, batch.error_count = ImportStatus.FAILED, 1
    else:
        if batch.dry_run:
            savepoint.rollback()
        else:
            savepoint.commit()
        batch.status = ImportStatus.SUCCEEDED
        warnings = ctx.warnings[:MAX_ERRORS]
        if len(ctx.warnings) > MAX_ERRORS:
            warnings.append(RowError(None, None, f"… and {len(ctx.warnings) - MAX_ERRORS:,} more warnings"))
    return errors, warnings, counts, unreadable


def _rows_only(report):
    """A bundle's members are not the bytes of its .zip: only its rows are told."""
    return lambda bytes_done=None, **figures: report(**figures)


def _finish(batch: ImportBatch, errors: list[RowError], warnings: list[RowError], counts: Counts, sha256: str) -> None:
    batch.rows_read, batch.rows_inserted, batch.rows_updated = counts.rows_read, counts.inserted, counts.updated
    batch.rows_skipped, batch.file_counts = counts.skipped, counts.files
    batch.errors = [e.as_json() for e in errors] + [w.as_json(warning=True) for w in warnings]
    batch.finished_at = datetime.now(timezone.utc)
    batch.file_sha256 = sha256
    db.session.add(batch)
    db.session.commit()


_HASHING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-sha256")


def _sha256(path: Path) -> str:
    import hashlib

    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()
