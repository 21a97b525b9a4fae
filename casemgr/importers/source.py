"""Reading an uploaded or local CSV file: encoding and header, before any SQL."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from casemgr.importers.base import Column, Rejected, RowError, file_error

BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class CsvFile:
    data: bytes  # UTF-8, without a byte-order mark
    header: list[str]


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def read_csv(raw: bytes) -> CsvFile:
    """Check that `raw` is UTF-8 CSV text with a header line; a BOM is dropped.

    A large file is not copied on the way (a year of attendance is ~400 MB): the common
    cases (pure ASCII, one final line break) are checked without building new bytes."""
    data = raw[len(BOM):] if raw.startswith(BOM) else raw
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = _line_of(data, error.start)
            raise Rejected([RowError(
                line, None,
                f"the file is not UTF-8 text (byte 0x{data[error.start]:02x} on line {line}); "
                "save it as 'CSV UTF-8' and import it again",
            )]) from None
    if not data.endswith(b"\n") or data.endswith((b"\n\n", b"\r\n", b"\r\n\n")):
        data = data.rstrip(b"\r\n") + b"\n"
    if b"\x00" in data:
        raise file_error("the file holds NUL bytes: it is not a CSV text file")
    first = data[:data.find(b"\n")].decode("utf-8").rstrip("\r")
    if not first.strip():
        raise file_error("the file is empty or its first line (the header) is blank")
    header = [name.strip() for name in next(csv.reader(io.StringIO(first)))]
    return CsvFile(data=data, header=header)


def check_header(header: list[str], columns: list[Column]) -> None:
    known = {c.name for c in columns}
    errors = []
    seen = set()
    for name in header:
        if name in seen:
            errors.append(RowError(1, name, f"column '{name}' appears twice in the header"))
        seen.add(name)
        if name not in known:
            errors.append(RowError(1, name, f"unknown column '{name}'; the columns are: {', '.join(c.name for c in columns)}"))
    for column in columns:
        if column.required and column.name not in seen:
            errors.append(RowError(1, column.name, f"missing column '{column.name}'"))
    if errors:
        raise Rejected(errors)
