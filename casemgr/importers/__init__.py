"""Imports from the district's student information system (SPEC §7).

Each kind is one CSV file (or, for `oneroster`, a OneRoster 1.1 bundle; for `edfi`, an
Ed-Fi interchange XML file, translated to the kinds `students` or `attendance`). A file
is read, checked for encoding and header, COPYed into a staging table, validated
completely with set-based queries, and merged by natural keys in one transaction; a
bad file is rejected whole with row-numbered errors. Every import is recorded as an
ImportBatch. No request context is needed: the CLI and the upload page both call
`import_file`. The formats are documented in seed/examples/README.md.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from casemgr.importers.attendance import ATTENDANCE
from casemgr.importers.base import MAX_ERRORS, Kind, Rejected, RowError
from casemgr.importers.classes import CALENDAR, SECTION_ENROLLMENTS, SECTIONS
from casemgr.importers.edfi import EDFI
from casemgr.importers.oneroster import ONEROSTER
from casemgr.importers.oneroster_bundle import zip_bundle_folder
from casemgr.importers.people import GUARDIANS, STUDENTS
from casemgr.importers.progress import Listener, Progress
from casemgr.importers.records import ASSESSMENTS, CREDITS, DISCIPLINE, FAFSA, MARKS
from casemgr.importers.runner import ImportSetupError, Outcome, execute, resolve_district
from casemgr.importers.source import spool_dir
from casemgr.importers.studenttracker import STUDENTTRACKER
from casemgr.models import ImportBatch, Organization

__all__ = ["KINDS", "MAX_ERRORS", "ImportSetupError", "Kind", "Outcome", "Progress", "Rejected", "RowError",
           "import_file", "import_path", "resolve_district"]

KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (STUDENTS, GUARDIANS, CALENDAR, SECTIONS, SECTION_ENROLLMENTS, ATTENDANCE, MARKS, CREDITS,
                 ASSESSMENTS, FAFSA, DISCIPLINE, ONEROSTER, EDFI, STUDENTTRACKER)
}


def import_file(kind: str, source: bytes | Path, filename: str, district: Organization, *, user_id: int | None = None,
                dry_run: bool = False, batch: ImportBatch | None = None, progress: Listener | None = None) -> Outcome:
    """Import `source` as `kind`: a file on disk, read as a stream (a CSV file, a
    OneRoster .zip or an Ed-Fi XML file), or bytes, first written to a temporary file.
    `batch`: the import's batch, already recorded as running (runner.start_batch);
    `progress`: told how far the import has come."""
    if kind not in KINDS:
        raise ImportSetupError(f"unknown kind {kind!r}; the kinds are: {', '.join(KINDS)}")
    if isinstance(source, Path):
        return execute(kind, source, filename, district, user_id=user_id, dry_run=dry_run, batch=batch,
                       progress=progress)
    with tempfile.TemporaryDirectory(prefix="casemgr-import-", dir=spool_dir()) as folder:
        path = Path(folder) / "upload"
        path.write_bytes(source)
        return execute(kind, path, filename, district, user_id=user_id, dry_run=dry_run, batch=batch,
                       progress=progress)


def import_path(kind: str, path: Path, district: Organization, *, dry_run: bool = False,
                progress: Listener | None = None) -> Outcome:
    """Import a file from disk; a OneRoster bundle may also be a folder."""
    if not path.exists():
        raise ImportSetupError(f"{path} does not exist")
    if not path.is_dir():
        return import_file(kind, path, path.name, district, dry_run=dry_run, progress=progress)
    if kind != ONEROSTER.name:
        raise ImportSetupError(f"{path} is a folder; only a oneroster bundle can be a folder")
    with tempfile.TemporaryDirectory(prefix="casemgr-import-", dir=spool_dir()) as folder:
        bundle = zip_bundle_folder(path, Path(folder) / "bundle.zip")
        return import_file(kind, bundle, path.name, district, dry_run=dry_run, progress=progress)
