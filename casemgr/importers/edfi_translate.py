"""Ed-Fi records written as rows of a casemgr kind, in a CSV file on disk, and the
kind's errors told back in Ed-Fi's terms: the element, its number among the elements of
its name, its line, and the path of the Ed-Fi field ("StudentSchoolAttendanceEvent 17
(line 203), StudentReference/StudentIdentity/StudentUniqueId: student 604822 is not in
casemgr"), never casemgr's column names or the translated file's rows; and the checks
every interchange's translation shares (required fields, dates, descriptors casemgr
cannot map)."""
from __future__ import annotations

import csv
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from casemgr.importers.base import MAX_ERRORS, Context, Kind, Rejected, RowError
from casemgr.importers.edfi_xml import Record
from casemgr.importers.runner import run_file

_ORIGIN = struct.Struct("<II")  # the element's ordinal and line, per translated row
_OTHER_ROW = re.compile(r"(?:the same as row |is also on row |also on row )(\d+)")
_DUPLICATE = re.compile(r"^duplicate key \([^)]*\): ")
_WORDS = (
    (re.compile(r"unknown student '([^']*)': no student of this district has that state ID"),
     r"student \1 is not in casemgr"),
    (re.compile(r"unknown school '([^']*)': no school of this district has that code"),
     r"school \1 is not in casemgr: a SchoolId is matched to the code of one of the district's schools"),
    (re.compile(r"\bstate ID\b"), "StudentUniqueId"),
    (re.compile(r"\blocal ID\b"), "local ID (in casemgr)"),
)


@dataclass(frozen=True)
class EdFiError(RowError):
    """An error located in an Ed-Fi file: `column` holds the element and its line."""

    def describe(self) -> str:
        return f"{self.column}: {self.message}" if self.column else self.message


def error_at(element: str, ordinal: int, line: int, message: str, path: str | None = None) -> EdFiError:
    return EdFiError(None, f"{element} {ordinal} (line {line})" + (f", {path}" if path else ""), message)


class Errors:
    """The errors found while translating: the first MAX_ERRORS and how many there are."""

    def __init__(self) -> None:
        self.listed: list[RowError] = []
        self.total = 0

    def add(self, error: RowError) -> None:
        self.total += 1
        if len(self.listed) < MAX_ERRORS:
            self.listed.append(error)

    def raise_any(self) -> None:
        if self.total:
            raise Rejected(self.listed, self.total)


class Translation:
    """Rows for one casemgr kind, written to `folder` as CSV as they come; each row's
    Ed-Fi element (ordinal, line) goes to a file of fixed-size records beside it, read
    back only for the rows an error names, so millions of rows take no memory.
    `paths`: the Ed-Fi field each casemgr column comes from."""

    def __init__(self, folder: Path, name: str, columns: list[str], element: str, paths: dict[str, str]) -> None:
        self.path = folder / f"{name}.csv"
        self.columns, self.element, self.paths = columns, element, paths
        self._csv = self.path.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._csv, lineterminator="\n")
        self._writer.writerow(columns)
        self._origins = (folder / f"{name}.origins").open("w+b")
        self.rows = 0

    def add(self, record: Record, values: dict[str, object]) -> None:
        self._writer.writerow([values.get(c, "") for c in self.columns])
        self._origins.write(_ORIGIN.pack(record.ordinal, record.line))
        self.rows += 1

    def finish(self) -> Path:
        self._csv.close()
        self._origins.flush()
        return self.path

    def close(self) -> None:
        self._csv.close()
        self._origins.close()

    def origin(self, row: int) -> tuple[int, int] | None:
        """(ordinal, line) of the element behind row `row` of the translated file (the
        header is row 1)."""
        if not 2 <= row < self.rows + 2:
            return None
        self._origins.seek((row - 2) * _ORIGIN.size)
        return _ORIGIN.unpack(self._origins.read(_ORIGIN.size))

    def _words(self, message: str) -> str:
        def other(match: re.Match) -> str:
            origin = self.origin(int(match.group(1)))
            return (f"the same as {self.element} {origin[0]} (line {origin[1]})" if origin else match.group(0))

        duplicate = _DUPLICATE.match(message)
        if duplicate:
            message = f"given twice: {message[duplicate.end():]}"
        message = _OTHER_ROW.sub(other, message)
        for pattern, words in _WORDS:
            message = pattern.sub(words, message)
        return message

    def remap(self, rejection: Rejected) -> Rejected:
        errors = []
        for error in rejection.errors:
            origin = self.origin(error.row) if error.row is not None else None
            message = self._words(error.message)
            if origin is None:
                errors.append(EdFiError(None, self.element if error.row is not None else None, message))
                continue
            errors.append(error_at(self.element, origin[0], origin[1], message, self.paths.get(error.column or "")))
        return Rejected(errors, rejection.total)


def run_translated(kind: Kind, path: Path, ctx: Context) -> None:
    """The one place a translated file is handed to a casemgr kind, which reads it from disk."""
    if kind.run is not None:
        kind.run(path, ctx)
    else:
        run_file(kind, path, ctx)


def translated(kind: Kind, translation: Translation, ctx: Context) -> None:
    try:
        run_translated(kind, translation.finish(), ctx)
    except Rejected as rejection:
        raise translation.remap(rejection) from None


DESCRIPTORS = ("status", "grade")  # the columns that come from a descriptor reference


def required(record: Record, element: str, paths: dict[str, str], errors: Errors, *columns: str) -> dict | None:
    values = {column: (record.descriptor if column in DESCRIPTORS else record.text)(paths[column]) for column in columns}
    missing = [paths[c] for c in columns if not values[c]]
    for path in missing:
        errors.add(error_at(element, record.ordinal, record.line, f"{path.rsplit('/', 1)[-1]} is missing or empty", path))
    return None if missing else values


def date_error(record: Record, element: str, path: str, value: str, errors: Errors) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        errors.add(error_at(element, record.ordinal, record.line, f"'{value}' is not a date (write it as YYYY-MM-DD)", path))
        return True
    return False


class UnknownDescriptors:
    """Descriptors casemgr cannot map, each reported once at its first element, with how
    many elements use it."""

    def __init__(self, what: str, advice: Callable[[str], str]) -> None:
        self.what, self.advice = what, advice
        self.first: dict[str, tuple[str, Record, str]] = {}
        self.counts: dict[str, int] = {}

    def add(self, descriptor: str, element: str, record: Record, path: str) -> None:
        if descriptor not in self.first:
            self.first[descriptor] = (element, Record(record.ordinal, record.line, None), path)
        self.counts[descriptor] = self.counts.get(descriptor, 0) + 1

    def report(self, errors: Errors) -> None:
        for descriptor, (element, record, path) in self.first.items():
            count = self.counts[descriptor]
            others = f" (and {count - 1:,} more {element} elements)" if count > 1 else ""
            errors.add(error_at(element, record.ordinal, record.line,
                                f"{self.what} '{descriptor}' is not one casemgr knows{others}; {self.advice(descriptor)}",
                                path))
