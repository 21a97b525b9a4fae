"""Files of what a page shows, sent to the browser: CSV that a spreadsheet will not run
as formulas, and Excel workbooks (openpyxl, write-only) whose text cells are text.

OWASP's "CSV injection": a CSV cell beginning =, +, -, @, a tab or a carriage return is
read as a formula by Excel and LibreOffice; a leading apostrophe makes it text. A
workbook needs no apostrophe: its text cells are typed as text.

Files are written whole inside the request (their rows read from the database first),
not streamed: a streamed body would be read after the request's database session has
closed. Callers bound the rows."""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal

from flask import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "txt": "text/plain; charset=us-ascii",  # the Clearinghouse's graduates file
}
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NOT_IN_SHEET_TITLE = re.compile(r"[\[\]:*?/\\]")


def safe_cell(value: object) -> str:
    """The cell's text, with a leading quote where a spreadsheet would read it as a
    formula; a number is never one, whatever its sign."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return str(value)
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_bytes(header: Iterable[object], rows: Iterable[Iterable[object]]) -> bytes:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # a byte-order mark, so that Excel reads the file as UTF-8
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(c) for c in header])
    writer.writerows([safe_cell(c) for c in row] for row in rows)
    return buffer.getvalue().encode()


def xlsx_bytes(title: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """One sheet, its header bold and frozen."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_NOT_IN_SHEET_TITLE.sub(" ", title)[:31] or "Sheet")
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    sheet.append([_cell(sheet, name, bold) for name in header])
    for row in rows:
        sheet.append([_cell(sheet, value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def download(body: bytes, filename: str) -> Response:
    """A file to save, never kept by a cache (it holds student records)."""
    response = Response(body, mimetype=MIMETYPES[filename.rsplit(".", 1)[-1]])
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def csv_response(filename: str, header: Iterable[object], rows: Iterable[Iterable[object]]) -> Response:
    return download(csv_bytes(header, rows), filename)


def _cell(sheet, value: object, font: Font | None = None) -> WriteOnlyCell:
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=_NOT_IN_XML.sub("", value))
        cell.data_type = "s"  # text, even when it starts with "="
    else:
        cell = WriteOnlyCell(sheet, value=value)
    if font is not None:
        cell.font = font
    return cell
