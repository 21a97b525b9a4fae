"""Reading a OneRoster 1.1 CSV bundle: the manifest first, then the files it lists.

In OneRoster 1.1 CSV only manifest.csv must be supplied. It gives the version of the
bundle and, for each data file, `absent` (not supplied), `bulk` or `delta`; a file
marked absent is not read even when the bundle holds one. Columns the specification
makes optional may be left out of a header: the file then says nothing about them
(see `RosterFile.has`). A header naming a column twice is refused, as a reader that
kept one of the two would silently read the wrong values (a second `role` column
would make every student something else).

Each file is unpacked to a folder on disk and read row by row (`RosterFile.rows`):
a district's users.csv or enrollments.csv is never held in memory whole."""
from __future__ import annotations

import csv
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from casemgr.importers.archive import extract_member, open_zip
from casemgr.importers.base import Rejected, RowError, Unreadable, file_error
from casemgr.importers.source import column_letter, spool_dir

VERSIONS = ("1.0", "1.1")
MODES = ("absent", "bulk", "delta")
# the data files casemgr reads: (the columns casemgr cannot do without, every column of the file in OneRoster 1.1)
FILES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "orgs.csv": (("sourcedId", "type", "identifier"),
                 ("sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId")),
    "users.csv": (("sourcedId", "role", "givenName", "familyName", "orgSourcedIds"),
                  ("sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role", "username",
                   "userIds", "givenName", "familyName", "middleName", "identifier", "email", "sms", "phone",
                   "agentSourcedIds", "grades", "password")),
    "courses.csv": (("sourcedId",),
                    ("sourcedId", "status", "dateLastModified", "schoolYearSourcedId", "title", "courseCode", "grades",
                     "orgSourcedId", "subjects", "subjectCodes")),
    "classes.csv": (("sourcedId", "title", "schoolSourcedId", "termSourcedIds"),
                    ("sourcedId", "status", "dateLastModified", "title", "grades", "courseSourcedId", "classCode",
                     "classType", "location", "schoolSourcedId", "termSourcedIds", "subjects", "subjectCodes", "periods")),
    "enrollments.csv": (("classSourcedId", "userSourcedId", "role"),
                        ("sourcedId", "status", "dateLastModified", "classSourcedId", "schoolSourcedId", "userSourcedId",
                         "role", "primary", "beginDate", "endDate")),
    "academicSessions.csv": (("sourcedId", "startDate"),
                             ("sourcedId", "status", "dateLastModified", "title", "type", "startDate", "endDate",
                              "parentSourcedId", "schoolYear")),
    "demographics.csv": (("sourcedId",),
                         ("sourcedId", "status", "dateLastModified", "birthDate", "sex", "americanIndianOrAlaskaNative",
                          "asian", "blackOrAfricanAmerican", "nativeHawaiianOrOtherPacificIslander", "white",
                          "demographicRaceTwoOrMoreRaces", "hispanicOrLatinoEthnicity", "countryOfBirthCode",
                          "stateOfBirthAbbreviation", "cityOfBirth", "publicSchoolResidenceStatus")),
}
# a file casemgr reads needs these others to make sense of its rows
NEEDS = {
    "users.csv": (("orgs.csv", "the schools in orgSourcedIds"),),
    "classes.csv": (("orgs.csv", "the school of each class"), ("academicSessions.csv", "the school year of each class")),
    "enrollments.csv": (("classes.csv", "the class of each enrollment"), ("users.csv", "the user of each enrollment")),
}
Row = tuple[int, dict[str, str]]  # (the row as a spreadsheet shows it, header = row 1; the values by column)


@dataclass
class RosterFile:
    name: str
    mode: str  # bulk or delta
    columns: tuple[str, ...]  # the header, each name spelled as the specification does
    path: Path  # the file, unpacked

    def has(self, column: str) -> bool:
        """Whether the header has the column: without it, the file says nothing of it."""
        return column in self.columns

    def rows(self) -> Iterator[Row]:
        """The rows, read from disk one at a time, `tobedeleted` ones included (see
        `deleted`); blank lines are left out. A value spanning lines is one row, and
        rows are numbered as a spreadsheet shows them."""
        number = 0
        try:
            with open(self.path, encoding="utf-8-sig", newline="") as text:
                reader = csv.reader(text)
                for number, values in enumerate(reader, start=1):
                    if number == 1 or not any(v.strip() for v in values):
                        continue
                    if any("\0" in v for v in values):
                        raise Unreadable([RowError(number, self.name, (
                            f"the file holds NUL bytes on row {number}: it is not a CSV text file"))])
                    yield number, {column: value.strip() for column, value in zip(self.columns, values)}
        except UnicodeDecodeError as error:
            raise Unreadable([RowError(number + 1, self.name, (
                f"{self.name} is not UTF-8 text (byte 0x{error.object[error.start]:02x} on row {number + 1}); "
                "save it as 'CSV UTF-8' and import it again"))]) from None
        except csv.Error as error:
            raise Unreadable([RowError(number + 1, self.name, f"{self.name} cannot be read as CSV: {error}")]) from None


def deleted(row: dict[str, str]) -> bool:
    """A row with status `tobedeleted`: the record is to end (see oneroster.end_deleted)."""
    return row.get("status", "").lower() == "tobedeleted"


@dataclass
class Bundle:
    version: str
    files: dict[str, RosterFile]  # the files supplied; a file absent is not here
    folder: object = None  # the temporary folder holding the files, when the bundle made its own

    def rows(self, name: str) -> Iterator[Row]:
        return self.files[name].rows() if name in self.files else iter(())

    def has(self, name: str, column: str | None = None) -> bool:
        return name in self.files and (column is None or self.files[name].has(column))

    def mode(self, name: str) -> str:
        return self.files[name].mode if name in self.files else "absent"


def zip_bundle_folder(folder: Path, target: Path) -> Path:
    """Zip a bundle folder into `target` (stored, not compressed), so a folder and a
    .zip are read the same way."""
    with zipfile.ZipFile(target, "w") as bundle:
        for path in sorted(folder.glob("*.csv")):
            bundle.write(path, path.name)
    return target


def read_bundle(source: Path, folder: Path | None = None) -> Bundle:
    """The bundle's manifest checked and its files unpacked into `folder` (by default a
    temporary folder that lives as long as the Bundle), their headers checked."""
    own = None
    if folder is None:
        own = tempfile.TemporaryDirectory(prefix="casemgr-oneroster-", dir=spool_dir())
        folder = Path(own.name)
    folder.mkdir(parents=True, exist_ok=True)
    archive = open_zip(source, "a OneRoster bundle must be a .zip file (or, from the command line, a folder); "
                               "this file is not a .zip or is damaged")
    members = {Path(n).name: n for n in archive.namelist()
               if n.lower().endswith(".csv") and not Path(n).name.startswith("._")}
    if "manifest.csv" not in members:
        raise file_error("the bundle has no manifest.csv; a OneRoster 1.1 bundle always has one")
    manifest = _read_file(archive, members["manifest.csv"], "manifest.csv", "bulk", folder, ("propertyName", "value"),
                          ("propertyName", "value"))
    properties = {r["propertyName"]: r.get("value", "") for _, r in manifest.rows() if r.get("propertyName")}
    version = properties.get("oneroster.version", "")
    if version and version not in VERSIONS:
        raise file_error(f"OneRoster version {version} is not supported: casemgr imports OneRoster 1.1 CSV", "manifest.csv")
    manifest_version = properties.get("manifest.version", "")
    if manifest_version and manifest_version not in VERSIONS:
        raise file_error(f"manifest version {manifest_version} is not supported: casemgr imports OneRoster 1.1 CSV",
                         "manifest.csv")
    errors, supplied = [], {}
    for name in FILES:
        prop = f"file.{name.removesuffix('.csv')}"
        mode = properties.get(prop, "").strip().lower()
        if mode and mode not in MODES:
            errors.append(RowError(None, "manifest.csv", f"{prop} is '{properties[prop]}'; it must be absent, bulk or delta"))
        elif mode == "absent":
            continue
        elif name in members:
            supplied[name] = mode or "bulk"
        elif mode:
            errors.append(RowError(None, "manifest.csv", f"manifest.csv lists {name} as {mode}, but the bundle has no {name}"))
        elif name in NEEDS or name == "orgs.csv":
            errors.append(RowError(None, None, f"the bundle has no {name} (manifest.csv does not list {prop})"))
    if errors:
        raise Rejected(errors)
    for name, mode in supplied.items():
        # a delta file may refer to rows of earlier bundles, which casemgr keeps (source_ids)
        for needed, purpose in NEEDS.get(name, ()) if mode == "bulk" else ():
            if needed not in supplied:
                errors.append(RowError(None, name, f"{name} needs {needed} for {purpose}, and {needed} is absent"))
    if errors:
        raise Rejected(errors)
    files = {}
    for name, mode in supplied.items():
        try:
            files[name] = _read_file(archive, members[name], name, mode, folder, *FILES[name])
        except Unreadable:
            raise
        except Rejected as rejection:
            errors += rejection.errors
    if errors:
        raise Rejected(errors)
    return Bundle(version or "1.1", files, own)


def _read_file(archive: zipfile.ZipFile, member: str, name: str, mode: str, folder: Path, needed: tuple[str, ...],
               known: tuple[str, ...]) -> RosterFile:
    """One file of the bundle, unpacked, its header matched to the specification's column
    names (in any letter case, with spaces around them)."""
    path = folder / name
    extract_member(archive, member, path)  # streamed, within the archive's caps
    with open(path, "rb") as binary:
        start = binary.read(4096)
    if start.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Unreadable([RowError(None, name, f"{name} is UTF-16 text; save it as 'CSV UTF-8' and import it again")])
    if b"\0" in start:
        raise Unreadable([RowError(None, name, "the file holds NUL bytes: it is not a CSV text file")])
    header = _header(path, name)
    spelling = {c.lower(): c for c in known}
    columns = [spelling.get(label.strip().lower(), label.strip()) for label in header]
    errors, seen = [], {}
    for index, column in enumerate(columns):
        if not column:
            errors.append(RowError(1, name, f"column {column_letter(index)} has no name in the header"))
        elif column in seen:
            errors.append(RowError(1, name, f"the column '{column}' appears twice in the header "
                                            f"(columns {column_letter(seen[column])} and {column_letter(index)})"))
        else:
            seen[column] = index
    errors += [RowError(1, name, f"{name} is missing the column '{c}'") for c in needed if c not in seen]
    if errors:
        raise Rejected(errors)
    return RosterFile(name, mode, tuple(columns), path)


def _header(path: Path, name: str) -> list[str]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as text:
            header = next(csv.reader(text), [])
    except UnicodeDecodeError as error:
        raise Unreadable([RowError(1, name, (
            f"{name} is not UTF-8 text (byte 0x{error.object[error.start]:02x}); "
            "save it as 'CSV UTF-8' and import it again"))]) from None
    except csv.Error as error:
        raise Unreadable([RowError(1, name, f"{name} cannot be read as CSV: {error}")]) from None
    if not any(h.strip() for h in header):
        raise Unreadable([RowError(None, name, f"{name} is empty or its first line (the header) is blank")])
    return header
