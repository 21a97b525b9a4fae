"""Imports from the district's student information system (SPEC §7).

Each kind is one CSV file (or, for `oneroster`, a OneRoster 1.1 bundle; for `edfi`, an
Ed-Fi interchange XML file, translated to the kinds `students` or `attendance`). One
kind, `service_contacts`, is a partner organization's file, not the district's: it is
imported for the partner (PARTNER_KINDS), the others for a district. A file
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
from casemgr.importers.contacts import PARTNER_KINDS, SERVICE_CONTACTS, imported_by, resolve_partner
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
from casemgr.models.enums import OrgKind

__all__ = ["KINDS", "MAX_ERRORS", "PARTNER_KINDS", "ImportSetupError", "Kind", "Outcome", "Progress", "Rejected",
           "RowError", "import_file", "import_path", "resolve_district", "resolve_partner"]

KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (STUDENTS, GUARDIANS, CALENDAR, SECTIONS, SECTION_ENROLLMENTS, ATTENDANCE, MARKS, CREDITS,
                 ASSESSMENTS, FAFSA, DISCIPLINE, ONEROSTER, EDFI, STUDENTTRACKER, SERVICE_CONTACTS)
}


def import_file(kind: str, source: bytes | Path, filename: str, district: Organization, *, user_id: int | None = None,
                dry_run: bool = False, batch: ImportBatch | None = None, progress: Listener | None = None) -> Outcome:
    """Import `source` as `kind`: a file on disk, read as a stream (a CSV file, a
    OneRoster .zip or an Ed-Fi XML file), or bytes, first written to a temporary file.
    `district`: the organization the file is imported for, a partner's for PARTNER_KINDS;
    `batch`: the import's batch, already recorded as running (runner.start_batch);
    `progress`: told how far the import has come."""
    if kind not in KINDS:
        raise ImportSetupError(f"unknown kind {kind!r}; the kinds are: {', '.join(KINDS)}")
    _check_organization(kind, district)
    with imported_by(user_id):
        if isinstance(source, Path):
            return execute(kind, source, filename, district, user_id=user_id, dry_run=dry_run, batch=batch,
                           progress=progress)
        with tempfile.TemporaryDirectory(prefix="casemgr-import-", dir=spool_dir()) as folder:
            path = Path(folder) / "upload"
            path.write_bytes(source)
            return execute(kind, path, filename, district, user_id=user_id, dry_run=dry_run, batch=batch,
                           progress=progress)


def _check_organization(kind: str, organization: Organization) -> None:
    """A partner's kind is imported for a partner organization, and a partner imports no other kind."""
    if kind in PARTNER_KINDS and organization.kind != OrgKind.PARTNER:
        raise ImportSetupError(f"a {kind} file is imported for a partner organization, not for {organization.name}")
    if kind not in PARTNER_KINDS and organization.kind == OrgKind.PARTNER:
        raise ImportSetupError(f"a {kind} file is the district's: {organization.name} cannot import it")


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
