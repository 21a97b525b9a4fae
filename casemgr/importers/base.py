"""The vocabulary of every import: columns, kinds, row errors and results."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

MAX_ERRORS = 50


@dataclass(frozen=True)
class Column:
    """One CSV column. `type` is text, date, int, decimal, bool or enum."""

    name: str
    type: str = "text"
    required: bool = True
    max_length: int | None = None
    values: Sequence[str] = ()  # the allowed values of an enum column
    low: float | None = None  # inclusive range of int and decimal columns
    high: float | None = None


@dataclass(frozen=True)
class RowError:
    row: int | None  # the line of the file (the header is line 1); None: the whole file
    column: str | None
    message: str

    def describe(self) -> str:
        where = f"row {self.row}" if self.row is not None else "file"
        column = f", {self.column}" if self.column else ""
        return f"{where}{column}: {self.message}"

    def as_json(self, warning: bool = False) -> dict[str, Any]:
        data = {"row": self.row, "column": self.column, "message": self.message}
        return {**data, "warning": True} if warning else data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RowError:
        return cls(data.get("row"), data.get("column"), data.get("message", ""))


class Rejected(Exception):
    """The file is bad: nothing of it is written."""

    def __init__(self, errors: Sequence[RowError], total: int | None = None) -> None:
        self.errors = list(errors)[:MAX_ERRORS]
        self.total = total if total is not None else len(errors)
        super().__init__(f"{self.total} error(s)")


class Unreadable(Rejected):
    """The file cannot be read at all (a damaged or unsafe archive, text that is not
    UTF-8): nothing of it is written, and the upload page answers 400, not 422."""


def file_error(message: str, column: str | None = None) -> Rejected:
    return Rejected([RowError(None, column, message)])


@dataclass
class Counts:
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    skipped: int = 0  # rows read but not imported (roles casemgr does not use, ...)
    # a bundle's counts per file: {"users.csv": {"read": …, "inserted": …, "updated": …, "skipped": …}}
    files: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def unchanged(self) -> int:
        return max(self.rows_read - self.inserted - self.updated - self.skipped, 0)

    def add(self, inserted: int, updated: int) -> None:
        self.inserted += inserted
        self.updated += updated


@dataclass
class Context:
    """What a kind's validation and merge need: the district, the day the import runs
    on, and the SQL connection's cursor (psycopg). `labels`: each column's name as the
    file's header writes it, for the errors. `warnings`: what a successful import
    left out or could not do, for the person importing (not errors: nothing is refused)."""

    district_id: int
    today: date
    cur: Any
    counts: Counts = field(default_factory=Counts)
    labels: dict[str, str] = field(default_factory=dict)
    warnings: list[RowError] = field(default_factory=list)
    # progress(bytes_done=, rows_done=, phase=): how far the import has come, as figures
    # for the whole import (bytes of the file read, rows staged; see importers/progress.py);
    # a figure left out stays as it was. Cheap to call often: it writes nothing itself.
    progress: Callable[..., None] = field(default=lambda **_figures: None)

    def label(self, column: str | None) -> str | None:
        return self.labels.get(column, column) if column else column


@dataclass(frozen=True)
class Kind:
    """An import kind: its columns, natural key, checks and merge.

    `checks(ctx)` returns SQL SELECTs over the typed staging table `import_typed`, each
    giving (row_no, column, message) for the rows that fail; `merge(ctx)` writes the
    rows and adds to ctx.counts. `feeds_indicators`: recompute after it.
    """

    name: str
    title: str
    columns: Sequence[Column]
    key: Sequence[str]
    checks: Callable[[Context], list[str]]
    merge: Callable[[Context], None]
    feeds_indicators: bool = True
    description: str = ""
    # a kind that is not one CSV file (the OneRoster bundle) runs itself: run(path, ctx)
    run: Callable[[Path, Context], None] | None = None
    # a bundle of several files (a OneRoster .zip): the bytes its members stage are not
    # the bytes of the file imported, so its progress tells rows only
    bundle: bool = False

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)
