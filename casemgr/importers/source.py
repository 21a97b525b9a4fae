"""Reading an uploaded or local CSV file: encoding, line endings and header, before any SQL.

Districts' files come from Excel, SIS exports and hand edits: a UTF-8 byte-order mark,
CRLF, LF or both in one file, quoted values holding line breaks, header names in any
letter case or with spaces around them. Line breaks are made plain as bytes, piece by
piece as COPY reads the file, or left to COPY when it can read them itself (a year of
attendance is ~400 MB: no per-row Python work), and the header names are matched to
the kind's columns while remembering how the file wrote them, so that every error
names the file's own column."""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

from casemgr.importers.base import Kind, Rejected, RowError, file_error
from casemgr.importers.edfi_xml import unreadable, xml_refusal

BOM = b"\xef\xbb\xbf"
_SPACES = re.compile(r"[\s_]+")
_FIRST_LINE = re.compile(rb"[^\r\n]*")
CHUNK = 1 << 20


@dataclass(frozen=True)
class CsvFile:
    data: bytes  # UTF-8 without a byte-order mark, its line breaks as the file writes them
    header: list[str]  # the names as the file writes them, spaces around them dropped

    def copy_takes_as_is(self) -> bool:
        """Whether COPY may well read the file as it is: Windows line breaks (CRLF) after
        the header and no quoted values (which could hold other line breaks, stored as
        LF). COPY then reads CRLF itself, as fast as LF; a line that ends otherwise makes
        COPY fail, and the caller has it read the file again, made plain."""
        return self.data.startswith(b"\r\n", len(_FIRST_LINE.match(self.data).group())) and b'"' not in self.data

    def chunks(self, size: int = CHUNK, plain: bool = True) -> Iterator[bytes]:
        """The text for COPY, in pieces of about `size` bytes, ending with one line break.
        `plain`: every line break (CRLF, or a lone CR) as LF, inside quoted values too;
        else the line breaks as the file writes them (see copy_takes_as_is).

        PostgreSQL's COPY takes CRLF or LF, but the same one on every line, and Windows
        files often end their last line differently or mix in lines pasted from
        elsewhere. The pieces are made plain one at a time, as bytes: a year of
        attendance (~400 MB) is never copied whole, and a file of LF lines only sliced."""
        data = self.data
        end = len(data)
        while end and data[end - 1] in b"\r\n":
            end -= 1
        plain = plain and b"\r" in data
        after_cr = False
        for start in range(0, end, size):
            piece = data[start:min(start + size, end)]
            if plain:
                if after_cr and piece.startswith(b"\n"):  # the LF of a CRLF split between pieces
                    piece = piece[1:]
                after_cr = piece.endswith(b"\r")
                piece = plain_line_breaks(piece)
            yield piece
        yield b"\n" if plain or b"\r" not in data else b"\r\n"


def read_csv(raw: bytes) -> CsvFile:
    """Check that `raw` is UTF-8 CSV text with a header line; a BOM is dropped.

    A large file is not copied on the way: the checks only scan the bytes (line breaks
    are made plain as COPY reads the file, see CsvFile.chunks)."""
    if (refusal := xml_refusal(raw[:4096])) is not None:  # an XML file given as CSV: one line
        raise unreadable(refusal)
    data = raw[len(BOM):] if raw.startswith(BOM) else raw
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as error:
            row = spreadsheet_row(data, plain_line_breaks(data[:error.start]).count(b"\n") + 1)
            raise Rejected([RowError(
                row, None,
                f"the file is not UTF-8 text (byte 0x{data[error.start]:02x} on row {row}); "
                "save it as 'CSV UTF-8' and import it again",
            )]) from None
    if b"\x00" in data:
        raise file_error("the file holds NUL bytes: it is not a CSV text file")
    first = _FIRST_LINE.match(data).group().decode("utf-8")
    if not first.strip():
        raise file_error("the file is empty or its first line (the header) is blank")
    header = [name.strip() for name in next(csv.reader(io.StringIO(first)))]
    return CsvFile(data=data, header=header)


def plain_line_breaks(data: bytes) -> bytes:
    """`data` with every CRLF and lone CR turned into LF."""
    if b"\r" not in data:
        return data
    data = data.replace(b"\r\n", b"\n")
    return data.replace(b"\r", b"\n") if b"\r" in data else data


def spreadsheet_row(data: bytes, line: int) -> int:
    """The row a spreadsheet shows (the header is row 1) for line `line` of `data`: a
    quoted value holding line breaks spans several lines of the file but is one row.
    Only for errors: it reads the file up to that line with Python's csv reader. A line
    past the end (COPY's line for a quote never closed) gives the last row, where that
    quote opens."""
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="replace", newline="")
    reader = csv.reader(text)
    row = 0
    try:
        for row, _ in enumerate(reader, start=1):
            if reader.line_num >= line:
                return row
    except csv.Error:  # a value beyond the csv module's limits: the rows so far are right
        return row + 1
    return max(row, 1)


def canonical(name: str) -> str:
    """A header name as casemgr's columns are spelled: lower case, runs of spaces or
    underscores as one underscore ("State ID" is state_id)."""
    return _SPACES.sub("_", name.strip().lower()).strip("_")


def column_letter(index: int) -> str:
    """The spreadsheet letter of the 0-based column `index`: A, B, …, Z, AA, …"""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def match_header(header: list[str], kind: Kind) -> dict[str, str]:
    """The kind's column for each name of the header, in the file's order, with the name
    as the file writes it: {column: label}. Raises Rejected for a header that does not
    fit: a name given twice, unknown or missing columns, or (when the header is clearly
    that of another kind) one line saying which kind the file looks like."""
    columns = list(kind.columns)
    known = {c.name for c in columns}
    labels: dict[str, str] = {}
    where: dict[str, int] = {}
    errors, twice = [], []
    for index, name in enumerate(header):
        column = canonical(name)
        if not column:
            errors.append(RowError(1, None, f"column {column_letter(index)} has no name in the header"))
            continue
        if column in labels:
            first = where[column]
            twice.append(RowError(1, name, (
                f"column '{name}' appears twice in the header (columns {column_letter(first)} and "
                f"{column_letter(index)}: '{header[first]}' and '{name}')"
                if header[first] != name else
                f"column '{name}' appears twice in the header (columns {column_letter(first)} and {column_letter(index)})")))
            continue
        labels[column], where[column] = name, index
        if column not in known:
            errors.append(RowError(1, name, f"unknown column '{name}'; the columns are: {', '.join(c.name for c in columns)}"))
    for column in columns:
        if column.required and column.name not in labels:
            errors.append(RowError(1, column.name, f"missing column '{column.name}'"))
    if twice:
        raise Rejected(twice + errors)
    if errors:
        other = looks_like(set(labels), kind)
        if other is not None:
            article = "an" if other.name[0] in "aeiou" else "a"
            raise file_error(
                f"this looks like {article} {other.name} file ({other.title.lower()}: "
                f"{', '.join(labels[c.name] for c in other.columns if c.name in labels)}), not a {kind.name} file; "
                f"import it as {other.name}")
        raise Rejected(errors)
    return labels


def _fit(names: set[str], kind: Kind) -> float:
    """How well a header's names fit a kind: the names it knows over the names of the
    header and the kind's required columns together (1.0: a header the kind takes)."""
    known = {c.name for c in kind.columns}
    return len(names & known) / len(names | set(kind.required))


def looks_like(names: set[str], kind: Kind) -> Kind | None:
    """Another single-file kind whose columns the header fits much better than `kind`'s."""
    from casemgr.importers import KINDS

    own = _fit(names, kind)
    fits = [(_fit(names, other), other) for other in KINDS.values() if other.columns and other.name != kind.name]
    if not fits:
        return None
    best, other = max(fits, key=lambda fit: fit[0])
    return other if best >= 0.75 and best - own >= 0.3 else None
