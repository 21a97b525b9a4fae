"""Reading an uploaded or local CSV file: encoding, line endings and header, before any SQL.

Districts' files come from Excel, SIS exports and hand edits: a UTF-8 byte-order mark,
CRLF, LF or both in one file, quoted values holding line breaks, header names in any
letter case or with spaces around them. The file stays on disk and is read as a
stream, in pieces of a megabyte: once to check it (UTF-8, no NUL bytes, no line longer
than a megabyte) and once as COPY loads it, so a year of attendance (~400 MB) never
sits in memory. Line breaks are made plain as bytes, piece by piece, or left to COPY
when it can read them itself (no per-row Python work), and the header names are
matched to the kind's columns while remembering how the file wrote them, so that
every error names the file's own column."""
from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from casemgr.importers.base import Kind, Rejected, RowError, file_error
from casemgr.importers.edfi_xml import unreadable, xml_refusal

BOM = b"\xef\xbb\xbf"
_SPACES = re.compile(r"[\s_]+")
_FIRST_LINE = re.compile(rb"[^\r\n]*")
CHUNK = 1 << 20
# the longest line read: a megabyte is thousands of times a real row, and it keeps a
# file of one endless value (a gigabyte of one field) from reaching COPY
MAX_LINE_BYTES = CHUNK


def spool_dir() -> str:
    """The folder for an import's files on disk (an upload, a bundle's members, rows
    translated from another format): IMPORT_SPOOL_DIR, else the system's temporary folder."""
    import tempfile

    from flask import current_app, has_app_context

    configured = current_app.config.get("IMPORT_SPOOL_DIR") if has_app_context() else None
    return configured or tempfile.gettempdir()


@dataclass(frozen=True)
class CsvFile:
    """A CSV file on disk, checked by `read_csv`: UTF-8 text from `start` (after a
    byte-order mark) to `end` (trailing line breaks left out)."""

    path: Path
    header: list[str]  # the names as the file writes them, spaces around them dropped
    start: int = 0
    end: int = 0
    crlf_header: bool = False  # the header line ends with CRLF
    has_quote: bool = False
    has_cr: bool = False

    @property
    def size(self) -> int:
        """The bytes COPY is given: the progress of a load is measured against them."""
        return self.end - self.start

    def copy_takes_as_is(self) -> bool:
        """Whether COPY may well read the file as it is: Windows line breaks (CRLF) after
        the header and no quoted values (which could hold other line breaks, stored as
        LF). COPY then reads CRLF itself, as fast as LF; a line that ends otherwise makes
        COPY fail, and the caller has it read the file again, made plain."""
        return self.crlf_header and not self.has_quote

    def chunks(self, size: int = CHUNK, plain: bool = True, fill_empty: int = 0) -> Iterator[bytes]:
        """The text for COPY, in pieces of about `size` bytes, ending with one line break.
        `plain`: every line break (CRLF, or a lone CR) as LF, inside quoted values too;
        else the line breaks as the file writes them (see copy_takes_as_is).
        `fill_empty`: an empty line outside quoted values becomes a row of that many empty
        values, so that COPY keeps every row's number (see fill_empty_lines).

        PostgreSQL's COPY takes CRLF or LF, but the same one on every line, and Windows
        files often end their last line differently or mix in lines pasted from
        elsewhere. The pieces are read from disk and made plain one at a time, as bytes."""
        if fill_empty:
            yield from fill_empty_lines(self.chunks(size, plain=True), fill_empty)
            return
        plain = plain and self.has_cr
        after_cr = False
        with self.path.open("rb") as stream:
            stream.seek(self.start)
            left = self.end - self.start
            while left > 0:
                piece = stream.read(min(size, left))
                if not piece:
                    break
                left -= len(piece)
                if plain:
                    if after_cr and piece.startswith(b"\n"):  # the LF of a CRLF split between pieces
                        piece = piece[1:]
                    after_cr = piece.endswith(b"\r")
                    piece = plain_line_breaks(piece)
                yield piece
        yield b"\n" if plain or not self.has_cr else b"\r\n"

    def text(self) -> io.TextIOWrapper:
        """The file as text for Python's csv reader (only for the messages of errors)."""
        stream = self.path.open("rb")
        stream.seek(self.start)
        return io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="")


def fill_empty_lines(pieces: Iterator[bytes], columns: int) -> Iterator[bytes]:
    """Plain pieces (LF line breaks) with each empty line outside a quoted value given as
    `columns` empty values (commas). Line by line, in Python: only for a file COPY has
    refused for an empty line."""
    empty_row = b"," * (columns - 1)
    quoted = False
    rest = b""
    for piece in pieces:
        lines = (rest + piece).split(b"\n")
        rest = lines.pop()
        out = []
        for line in lines:
            out.append(empty_row if not quoted and not line.strip(b" \t") else line)
            quoted ^= line.count(b'"') % 2 == 1
        if out:
            yield b"\n".join(out) + b"\n"
    if rest:
        yield rest


def read_csv(path: Path) -> CsvFile:
    """Check that the file at `path` is UTF-8 CSV text with a header line (a BOM is
    skipped), reading it once as a stream; raises Rejected naming the row of a fault."""
    with path.open("rb") as stream:
        if (refusal := xml_refusal(stream.read(4096))) is not None:  # an XML file given as CSV: one line
            raise unreadable(refusal)
        stream.seek(0)
        start = len(BOM) if stream.read(len(BOM)) == BOM else 0
        stream.seek(start)
        decoder = codecs.getincrementaldecoder("utf-8")()
        offset, lines, since_break = start, 0, 0
        has_quote = has_cr = False
        head = b""
        while piece := stream.read(CHUNK):
            if not head:
                head = piece
            if not piece.isascii():
                pending = len(decoder.getstate()[0])
                try:
                    decoder.decode(piece)
                except UnicodeDecodeError as error:
                    _not_utf8(path, start, offset - pending + error.start)
            if b"\x00" in piece:
                raise file_error("the file holds NUL bytes: it is not a CSV text file")
            has_quote = has_quote or b'"' in piece
            has_cr = has_cr or b"\r" in piece
            last_break = max(piece.rfind(b"\n"), piece.rfind(b"\r"))
            if last_break < 0:
                since_break += len(piece)
            else:
                first_break = min(i for i in (piece.find(b"\n"), piece.find(b"\r")) if i >= 0)
                since_break, longest = len(piece) - last_break - 1, since_break + first_break
                if longest > MAX_LINE_BYTES:
                    _too_long(path, start, lines)
            if since_break > MAX_LINE_BYTES:
                _too_long(path, start, lines + piece.count(b"\n"))
            lines += piece.count(b"\n")
            offset += len(piece)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            _not_utf8(path, start, offset - len(decoder.getstate()[0]))
    first = _FIRST_LINE.match(head).group()
    if not first.decode("utf-8").strip():
        raise file_error("the file is empty or its first line (the header) is blank")
    header = [name.strip() for name in next(csv.reader(io.StringIO(first.decode("utf-8"))))]
    return CsvFile(path, header, start, _text_end(path, offset), head.startswith(b"\r\n", len(first)),
                   has_quote, has_cr)


def _text_end(path: Path, size: int) -> int:
    """Where the text ends once the line breaks at its end are left out."""
    with path.open("rb") as stream:
        end = size
        while end > 0:
            stream.seek(max(end - 4096, 0))
            tail = stream.read(end - max(end - 4096, 0))
            kept = tail.rstrip(b"\r\n")
            end -= len(tail) - len(kept)
            if kept:
                break
        return end


def _line_of(path: Path, start: int, position: int) -> int:
    """The line (1-based, CRLF or a lone CR ending one) holding byte `position`."""
    lines, read = 1, start
    with path.open("rb") as stream:
        stream.seek(start)
        while read < position:
            piece = stream.read(min(CHUNK, position - read))
            if not piece:
                break
            lines += plain_line_breaks(piece).count(b"\n")
            read += len(piece)
    return lines


def _not_utf8(path: Path, start: int, position: int) -> None:
    with path.open("rb") as stream:
        stream.seek(position)
        byte = stream.read(1)
    row = spreadsheet_row(path, _line_of(path, start, position), start)
    raise Rejected([RowError(
        row, None,
        f"the file is not UTF-8 text (byte 0x{byte[0] if byte else 0:02x} on row {row}); "
        "save it as 'CSV UTF-8' and import it again",
    )]) from None


def _too_long(path: Path, start: int, breaks_before: int) -> None:
    row = spreadsheet_row(path, breaks_before + 1, start)
    raise Rejected([RowError(row, None, f"row {row} is longer than {MAX_LINE_BYTES // CHUNK} MB: "
                                        "this is not a CSV file of rows, or a value in it is damaged")]) from None


def plain_line_breaks(data: bytes) -> bytes:
    """`data` with every CRLF and lone CR turned into LF."""
    if b"\r" not in data:
        return data
    data = data.replace(b"\r\n", b"\n")
    return data.replace(b"\r", b"\n") if b"\r" in data else data


def spreadsheet_row(path: Path, line: int, start: int = 0) -> int:
    """The row a spreadsheet shows (the header is row 1) for line `line` of the file: a
    quoted value holding line breaks spans several lines of the file but is one row.
    Only for errors: it reads the file up to that line with Python's csv reader. A line
    past the end (COPY's line for a quote never closed) gives the last row, where that
    quote opens."""
    with path.open("rb") as stream:
        stream.seek(start)
        reader = csv.reader(_bounded_lines(io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="")))
        row = 0
        try:
            for row, _ in enumerate(reader, start=1):
                if reader.line_num >= line:
                    return row
        except csv.Error:  # a value beyond the csv module's limits: the rows so far are right
            return row + 1
        return max(row, 1)


def _bounded_lines(text: io.TextIOWrapper) -> Iterator[str]:
    """The lines of `text`, none read past MAX_LINE_BYTES characters: a longer one
    raises csv.Error instead of being read into memory whole."""
    while line := text.readline(MAX_LINE_BYTES + 1):
        if len(line) > MAX_LINE_BYTES:
            raise csv.Error(f"a line longer than {MAX_LINE_BYTES} characters")
        yield line


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
