"""CSV files sent to the browser, each cell neutralised against spreadsheet formulas
(OWASP "CSV injection": a cell beginning =, +, -, @, a tab or a carriage return is read
as a formula by Excel and LibreOffice; a leading apostrophe makes it text).

The file is written whole inside the request (its rows read from the database in
batches), not streamed: a streamed body would be read after the request's database
session has closed. Callers bound the rows."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from flask import Response

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_response(filename: str, header: Iterable[str], rows: Iterable[Iterable[object]]) -> Response:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # a byte-order mark, so that Excel reads the file as UTF-8
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(c) for c in header])
    writer.writerows([safe_cell(c) for c in row] for row in rows)
    response = Response(buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
