"""The pieces a OneRoster bundle is translated into: rows for a casemgr kind written to a
CSV file on disk as the bundle is read (`Translation`, remembering each row's place in
the bundle for the errors), small CSV files for set-based SQL (`Sheet`), what the bundle
is read against (`Lookups`) and what it comes to (`Roster`)."""
from __future__ import annotations

import csv
import re
from array import array
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from casemgr.importers.base import Rejected, RowError

_OTHER_ROW = re.compile(r"(the same as row |also on row )(\d+)")

# each casemgr column of a translation as the bundle's file and column that feed it
STUDENT_SOURCES = {
    "state_id": ("users.csv", "identifier"), "local_id": ("users.csv", "username"),
    "school_code": ("users.csv", "orgSourcedIds"), "first_name": ("users.csv", "givenName"),
    "middle_name": ("users.csv", "middleName"), "last_name": ("users.csv", "familyName"),
    "preferred_name": ("users.csv", "preferredFirstName"), "grade": ("users.csv", "grades"),
    "birth_date": ("demographics.csv", "birthDate"), "gender": ("demographics.csv", "sex"),
    "ethnicity": ("demographics.csv", "hispanicOrLatinoEthnicity"),
}
SECTION_SOURCES = {
    "school_code": ("classes.csv", "schoolSourcedId"), "school_year": ("classes.csv", "termSourcedIds"),
    "section_id": ("classes.csv", "sourcedId"), "course_code": ("classes.csv", "classCode"),
    "course_title": ("classes.csv", "title"), "subject": ("classes.csv", "subjects"),
    "term": ("classes.csv", "termSourcedIds"), "teacher_email": ("users.csv", "email"),
}
ENROLLMENT_SOURCES = {
    "school_code": ("enrollments.csv", "schoolSourcedId"), "school_year": ("enrollments.csv", "classSourcedId"),
    "section_id": ("enrollments.csv", "classSourcedId"), "state_id": ("enrollments.csv", "userSourcedId"),
    "entry_date": ("enrollments.csv", "beginDate"), "exit_date": ("enrollments.csv", "endDate"),
}
MAX_KEPT = 200  # errors kept of a bundle's rows (50 are shown)


class Translation:
    """Rows for one casemgr kind, written to a CSV file as they come; each remembers the
    bundle row it came from (and, for students, their demographics.csv row)."""

    def __init__(self, path: Path, columns: list[str], sources: dict[str, tuple[str, str]], origin: str) -> None:
        self.path, self.columns, self.sources, self.file = path, columns, sources, origin
        self.rows = 0
        self.origins = array("q")
        self.second = array("q")  # the row of the second file feeding it (demographics.csv), 0 for none
        self._out = open(path, "w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._out, lineterminator="\n")
        self._writer.writerow(columns)

    def add(self, origin: int, second: int = 0, **values: str) -> None:
        self._writer.writerow([values.get(c, "") for c in self.columns])
        self.origins.append(origin)
        self.second.append(second)
        self.rows += 1

    def close(self) -> None:
        self._out.close()

    def labels(self) -> dict[str, str]:
        """The casemgr columns as the bundle's column names, for the messages."""
        return {c: self.sources[c][1] for c in self.columns if c in self.sources}

    def origin(self, row: int, column: str | None = None) -> tuple[str, int] | None:
        if not 2 <= row < self.rows + 2:
            return None
        name = self.sources.get(column or "", (self.file, ""))[0]
        if name != self.file and self.second[row - 2]:
            return name, self.second[row - 2]
        return self.file, self.origins[row - 2]

    def _bundle_row(self, match: re.Match) -> str:
        origin = self.origin(int(match.group(2)))
        return match.group(1) + (str(origin[1]) if origin else match.group(2))

    def remap(self, rejection: Rejected) -> Rejected:
        """The errors of the translated file in the bundle's terms: its file, column and
        row, also where a message names another row ("the same as row 3")."""
        by_label = {label: column for column, label in self.labels().items()}
        errors = []
        for error in rejection.errors:
            column = by_label.get(error.column or "", error.column)
            origin = self.origin(error.row, column) if error.row is not None else None
            if origin is None:
                errors.append(error)
                continue
            message = _OTHER_ROW.sub(self._bundle_row, error.message)
            label = error.column
            if column in self.sources:  # a value another file gives: "classes.csv (email in users.csv)"
                name, label = self.sources[column]
                label += f" in {name}" if name != origin[0] else ""
            errors.append(RowError(origin[1], f"{origin[0]} ({label})" if label else origin[0], message))
        return Rejected(errors, rejection.total)


class Sheet:
    """A small CSV file of rows for set-based SQL (guardians, their links, sourcedIds,
    tobedeleted rows), written as the bundle is read."""

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path, self.columns, self.rows = path, columns, 0
        self._out = open(path, "w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._out, lineterminator="\n")

    def add(self, *values: object) -> None:
        self._writer.writerow(["" if v is None else v for v in values])
        self.rows += 1

    def close(self) -> None:
        self._out.close()


@dataclass
class Lookups:
    """What the bundle is read against: the district's schools for its orgs, casemgr's
    school years, and (for delta files) what earlier bundles gave."""

    schools: dict[str, str]  # org sourcedId -> casemgr school code
    unmapped: dict[str, tuple[int, str]]  # a school org casemgr has no school for -> (orgs.csv row, how to map it)
    years: dict[int, tuple[date, date]]  # casemgr's school years: year -> (first day, last day)
    students: dict[str, str] = field(default_factory=dict)  # sourcedId -> state ID, from earlier bundles
    teachers: dict[str, str] = field(default_factory=dict)  # sourcedId -> email, from earlier bundles
    # for a delta classes.csv: sourcedId -> (school code, year, term, course code, course title) of earlier bundles
    classes: dict[str, tuple[str, int, str, str, str]] = field(default_factory=dict)
    # sourcedId -> the stored teacher of record's email, for a bundle without a bulk enrollments.csv
    class_teachers: dict[str, str] = field(default_factory=dict)


@dataclass
class Roster:
    students: Translation
    # students without a row in demographics.csv: their sex and ethnicity are left out (the stored ones stay)
    undescribed: Translation
    sections: Translation
    enrollments: Translation
    guardians: Sheet  # sourcedId, local ID, givenName, familyName, email, phone, relation, row
    agents: Sheet  # guardian sourcedId, student sourcedId
    sources: Sheet  # entity, sourcedId, key, key2, key3 (see oneroster.keep_sources)
    deletions: Sheet  # file, row, entity, sourcedId, the day it ends
    teachers: list[tuple[int, dict]] = field(default_factory=list)
    unmapped: Counter = field(default_factory=Counter)  # rows per school org casemgr has no school for
    # the sourcedIds of rows refused (for their org, or a student without a state ID): their enrollments add no error
    left_out: set[str] = field(default_factory=set)
    users_columns: tuple[str, ...] = ()  # the columns of users.csv (a guardian's email or phone may be left out)
    # the users.csv row of each student's state ID, and whether it has demographics: students
    # are written in two files (with and without), so a state ID given in both is caught here
    state_ids: dict[str, tuple[int, bool]] = field(default_factory=dict)
    # students lacking what a new student needs: {state_id: (users.csv row, [what is missing])}
    incomplete: dict[str, tuple[int, list[str]]] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)  # the first MAX_KEPT of error_total
    error_total: int = 0
    warnings: list[RowError] = field(default_factory=list)
    # per file: rows read and rows skipped
    read: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    school_year: tuple[int, date] | None = None  # the bundle's school year and its first day

    def error(self, error: RowError) -> None:
        """An error of a row: a bad file of a million rows keeps only its first ones."""
        self.error_total += 1
        if len(self.errors) < MAX_KEPT:
            self.errors.append(error)

    def close(self) -> None:
        for sheet in (self.students, self.undescribed, self.sections, self.enrollments, self.guardians, self.agents, self.sources,
                      self.deletions):
            sheet.close()


def first_of(values: str) -> str:
    return values.split(",")[0].strip()


def listed(values: str) -> list[str]:
    return [v.strip() for v in values.split(",") if v.strip()]


def day_of(value: str) -> str:
    """The date of a OneRoster date or dateTime ("2026-09-01T12:00:00Z"), or ""."""
    try:
        return date.fromisoformat(value[:10]).isoformat() if value else ""
    except ValueError:
        return ""


def clamped(day: str, year: int | None, years: dict[int, tuple[date, date]]) -> str:
    """A date moved into casemgr's school year `year` (its first or last day) when outside it."""
    if not day or year not in years:
        return day
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        return day
    first, last = years[year]
    return min(max(parsed, first), last).isoformat()


def skipped_warning(name: str, noun: str, roles: Counter, imported: str) -> RowError:
    total = sum(roles.values())
    listed = ", ".join(f"{n} {role}" for role, n in sorted(roles.items(), key=lambda item: (-item[1], item[0])))
    return RowError(None, name, f"{total} {noun}{'' if total == 1 else 's'} skipped ({listed}): "
                                f"casemgr imports {imported} only")
