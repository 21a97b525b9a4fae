"""Imports started from the upload page run in a thread of the web process, each with
its own app context (so its own database session), at most IMPORT_WORKERS at a time
per process; the page answers at once and follows the batch row (progress.py).

Threads suit the development server and gunicorn alike (sync or threaded workers): a
worker process that ends mid-import takes the thread with it, and its batch, no longer
heard from, shows as interrupted. With IMPORT_IN_BACKGROUND off the import runs in the
request itself (the tests that share one database connection with the app need that).
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, current_app

from casemgr.extensions import db
from casemgr.importers import progress
from casemgr.importers.runner import start_batch
from casemgr.importers.source import spool_dir
from casemgr.models import ImportBatch, Organization
from casemgr.models.enums import ImportStatus

log = logging.getLogger(__name__)


class Busy(Exception):
    """Every import slot of this process is taken."""


def _slots(app: Flask) -> threading.BoundedSemaphore:
    return app.extensions.setdefault("casemgr_import_slots", threading.BoundedSemaphore(app.config["IMPORT_WORKERS"]))


def start(kind: str, filename: str, path: Path, district: Organization, *, user_id: int | None,
          dry_run: bool) -> ImportBatch:
    """Record the import of the file at `path` as running and start it; the import owns
    the file from here and removes it when it ends, whatever the outcome (so does
    this function when it raises). Raises Busy when too many imports are running."""
    app = current_app._get_current_object()
    slots = _slots(app)
    if not slots.acquire(blocking=False):
        path.unlink(missing_ok=True)
        raise Busy
    batch = _started(slots, kind, filename, path, district, user_id, dry_run)
    path = _spooled(path.parent, batch.uuid)
    if not app.config["IMPORT_IN_BACKGROUND"]:
        _run(app, batch.id, path)
        return batch
    try:
        threading.Thread(target=_run_in_thread, args=(app, batch.id, path), name=f"casemgr-import-{batch.id}",
                         daemon=True).start()
    except BaseException:  # no thread to be had: the batch stays running, and shows as interrupted
        slots.release()
        path.unlink(missing_ok=True)
        raise
    return batch


def _started(slots, kind: str, filename: str, path: Path, district: Organization, user_id: int | None,
             dry_run: bool) -> ImportBatch:
    """The batch recorded as running, its file named after it."""
    try:
        batch = start_batch(kind, filename, district, user_id=user_id, dry_run=dry_run,
                            bytes_total=path.stat().st_size)
        path.rename(_spooled(path.parent, batch.uuid))
    except BaseException:
        slots.release()
        path.unlink(missing_ok=True)
        raise
    return batch


def record_interrupted() -> int:
    """Record the running imports no longer heard from as interrupted, and remove the
    files of those whose process (killed) could not: returns how many there were."""
    found = progress.record_interrupted(db.session, progress.stale_after(current_app.config))
    db.session.commit()
    folder = Path(spool_dir())
    for batch_uuid in found:
        _spooled(folder, batch_uuid).unlink(missing_ok=True)
    return len(found)


def _spooled(folder: Path, batch_uuid) -> Path:
    """The upload of a batch, named after it so that it can be found once its import is interrupted."""
    return folder / f"casemgr-import-{batch_uuid}.part"


def _run_in_thread(app: Flask, batch_id: int, path: Path) -> None:
    with app.app_context():  # a context, and so a database session, of its own
        _run(app, batch_id, path)


def _run(app: Flask, batch_id: int, path: Path) -> None:
    try:
        _import_spooled(db.session.get_one(ImportBatch, batch_id), path)
    except Exception as error:  # the batch says so; the page shows it, never a traceback
        log.exception("the import of batch %s did not finish", batch_id)
        db.session.rollback()
        _record_failure(batch_id, error)
    finally:
        path.unlink(missing_ok=True)
        _slots(app).release()


def _import_spooled(batch: ImportBatch, path: Path) -> None:
    """The one place the upload's file is handed to the importer, which reads it from disk."""
    from casemgr import importers

    district = db.session.get_one(Organization, batch.district_id)
    importers.import_file(batch.kind, path, batch.filename, district, user_id=batch.user_id,
                          dry_run=batch.dry_run, batch=batch)


def _record_failure(batch_id: int, error: Exception) -> None:
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    db.session.execute(
        sa.update(ImportBatch)
        .where(ImportBatch.id == batch_id, ImportBatch.status == ImportStatus.RUNNING)
        .values(status=ImportStatus.FAILED, error_count=1, finished_at=sa.func.now(),
                errors=[{"row": None, "column": None, "message": f"the import failed: {message}"}])
    )
    db.session.commit()
