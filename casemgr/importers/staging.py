"""COPY a CSV file into a staging table of text columns, then type it in SQL.

`import_stage` holds the raw text of every row with its line number; `import_typed`
holds each value cast to its column's type (NULL where it does not parse) next to its
raw text (`<column>__raw`), so every check is one set-based query, never a per-row one.
"""
from __future__ import annotations

import re

import psycopg
from psycopg import sql

from casemgr.db_roles import STAGING_SCHEMA
from casemgr.importers.base import Column, Context, Rejected, RowError
from casemgr.importers.source import CsvFile, spreadsheet_row

TRUE_WORDS = ("true", "t", "yes", "y", "1")
FALSE_WORDS = ("false", "f", "no", "n", "0")
_COPY_LINE = re.compile(r"line (\d+)")
_LINE_BREAK_ERROR = re.compile(r"^(unquoted|literal) (carriage return|newline) found in data")
_COPY_COLUMN = re.compile(r'^missing data for column "(\w+)"')
_COPY_MESSAGES = {
    "extra data after last expected column": "the row has more fields than the header",
    "missing data for column": "the row has fewer fields than the header",
    "unterminated CSV quoted field": "a quoted field is not closed",
}


def unlogged(name: str) -> sql.Identifier:
    """An unlogged staging table of this import: in the schema where the application role
    may create tables (casemgr/db_roles.py), never in public."""
    return sql.Identifier(STAGING_SCHEMA, name)


def load(ctx: Context, csv_file: CsvFile, header: list[str], columns: list[Column], typed: bool = True,
         unlogged_table: sql.Identifier | None = None) -> int:
    """Create the staging tables and COPY the file (header line included) into them;
    `header` holds the kind's column names in the file's order;
    `typed=False` leaves import_typed to be built later (or never) by the caller.

    With `unlogged_table` (see `unlogged`), the rows go to that UNLOGGED table, without row
    numbers, instead of a temporary one: it loads faster (shared buffers, no WAL, no
    identity column) and, unlike a temporary table, PostgreSQL can scan it with
    parallel workers. A temporary view `import_stage` numbers its rows in the order
    COPY stored them, for the checks. Created inside the import's transaction, the
    table is gone if the import rolls back; the caller drops it when it succeeds."""
    cur = ctx.cur
    drop_tables(cur)
    definitions = sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c.name)) for c in columns)
    target = unlogged_table or sql.Identifier("import_stage")
    if unlogged_table:
        cur.execute(sql.SQL("CREATE UNLOGGED TABLE {} ({})").format(target, definitions))
        cur.execute(sql.SQL(
            "CREATE TEMP VIEW import_stage AS SELECT * FROM"
            " (SELECT row_number() OVER (ORDER BY ctid) + 1 AS row_no, * FROM {}) numbered WHERE NOT ({})"
        ).format(target, blank_row([c.name for c in columns])))
    else:
        cur.execute(sql.SQL(
            "CREATE TEMP TABLE import_stage (row_no bigint GENERATED ALWAYS AS IDENTITY (START 2), {})"
        ).format(definitions))
    cur.execute("CREATE TEMP TABLE import_errors (row_no bigint, col text, message text)")
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv, HEADER true)").format(
        target, sql.SQL(", ").join(map(sql.Identifier, header))
    )
    # COPY reads the file as it is where it can (see CsvFile.copy_takes_as_is), else
    # made plain; should a line come empty (a blank row a spreadsheet left mid-file),
    # once more with each empty line given as a row of empty values, removed below
    way = "as_is" if csv_file.copy_takes_as_is() else "plain"
    cur.execute("SAVEPOINT import_copy")
    while True:
        try:
            rows = _copy(cur, statement, csv_file.chunks(plain=way != "as_is",
                                                         fill_empty=len(header) if way == "filled" else 0), ctx)
            break
        except psycopg.errors.DataError as error:
            message = error.diag.message_primary or ""
            if way == "as_is" and _LINE_BREAK_ERROR.match(message):
                way = "plain"
            elif way != "filled" and _COPY_COLUMN.match(message):
                way = "filled"
            else:
                raise _copy_rejection(error, csv_file, ctx.labels) from None
            cur.execute("ROLLBACK TO SAVEPOINT import_copy")
            if not unlogged_table:
                cur.execute("ALTER TABLE import_stage ALTER COLUMN row_no RESTART")
    cur.execute("RELEASE SAVEPOINT import_copy")
    if not unlogged_table:
        # rows of empty values only (",,,," as a spreadsheet saves a row once used) are no rows
        rows -= cur.execute(sql.SQL("DELETE FROM import_stage WHERE {}").format(blank_row(header))).rowcount
    if rows == 0:
        raise Rejected([RowError(None, None, "the file has a header but no rows")])
    if typed:
        type_rows(ctx, columns)
    return rows


def blank_row(columns: list[str]) -> sql.Composable:
    """The condition of a staged row whose values are all empty or spaces."""
    values = sql.SQL(", ").join(map(sql.Identifier, columns))
    return sql.SQL("btrim(concat({}), E' \\t') = ''").format(values)


def _copy(cur, statement: sql.Composable, pieces, ctx: Context) -> int:
    """COPY the pieces, telling ctx.progress the bytes sent and about how many rows (the
    line breaks after the header's: a quoted value with line breaks counts once per
    line break here; the runner tells COPY's own count once it is done)."""
    sent, lines = 0, -1
    with cur.copy(statement) as copy:
        for piece in pieces:
            copy.write(piece)
            sent, lines = sent + len(piece), lines + piece.count(b"\n")
            ctx.progress(bytes_done=sent, rows_done=ctx.counts.rows_read + max(lines, 0), phase="reading")
    return cur.rowcount


def drop_tables(cur) -> None:
    """Drop this session's staging tables and views (`import_*` in pg_temp)."""
    for name, kind in cur.execute(
        "SELECT c.relname, c.relkind FROM pg_class c WHERE c.relnamespace = pg_my_temp_schema()"
        " AND c.relname LIKE 'import%%' AND c.relkind IN ('r', 'v')"
    ).fetchall():
        statement = "DROP VIEW {}" if kind == "v" else "DROP TABLE {}"
        cur.execute(sql.SQL(statement).format(sql.Identifier(name)))


def _copy_rejection(error: psycopg.Error, csv_file: CsvFile, labels: dict[str, str]) -> Rejected:
    """COPY's error in the file's terms: COPY counts the lines of the file, a quoted
    value with line breaks included, so its line becomes the spreadsheet's row; the
    first column a short row lacks is named as the header writes it."""
    message = (error.diag.message_primary or str(error)).strip()
    for prefix, friendly in _COPY_MESSAGES.items():
        if message.startswith(prefix):
            message = friendly
            break
    match = _COPY_LINE.search(error.diag.context or "")
    column = _COPY_COLUMN.search(error.diag.message_primary or "")
    return Rejected([RowError(spreadsheet_row(csv_file.path, int(match.group(1)), csv_file.start) if match else None,
                              labels.get(column.group(1), column.group(1)) if column else None, message)])


def _typed(column: Column) -> sql.Composable:
    raw = sql.SQL("NULLIF(btrim({}), '')").format(sql.Identifier(column.name))
    if column.type == "date":
        return sql.SQL(
            "CASE WHEN {r} ~ '^\\d{{4}}-\\d{{2}}-\\d{{2}}$' AND pg_input_is_valid({r}, 'date') THEN {r}::date END"
        ).format(r=raw)
    if column.type == "int":
        return sql.SQL("CASE WHEN {r} ~ '^[+-]?\\d{{1,9}}$' THEN {r}::int END").format(r=raw)
    if column.type == "decimal":
        return sql.SQL(
            "CASE WHEN {r} ~ '^[+-]?(\\d{{1,8}}(\\.\\d{{0,4}})?|\\.\\d{{1,4}})$' THEN {r}::numeric END"
        ).format(r=raw)
    if column.type == "bool":
        return sql.SQL("CASE WHEN lower({r}) = ANY({t}) THEN true WHEN lower({r}) = ANY({f}) THEN false END").format(
            r=raw, t=sql.Literal(list(TRUE_WORDS)), f=sql.Literal(list(FALSE_WORDS))
        )
    if column.type == "enum":
        cases = sql.SQL(" ").join(
            sql.SQL("WHEN {} THEN {}").format(sql.Literal(v.lower()), sql.Literal(v)) for v in column.values
        )
        return sql.SQL("CASE lower({r}) {cases} END").format(r=raw, cases=cases)
    return raw


def type_rows(ctx: Context, columns: list[Column]) -> None:
    parts = [sql.SQL("row_no")]
    for column in columns:
        name = sql.Identifier(column.name)
        parts.append(sql.SQL("{} AS {}").format(_typed(column), name))
        parts.append(sql.SQL("NULLIF(btrim({}), '') AS {}").format(name, sql.Identifier(column.name + "__raw")))
    ctx.cur.execute(sql.SQL("CREATE TEMP TABLE import_typed AS SELECT {} FROM import_stage").format(
        sql.SQL(", ").join(parts)
    ))
    ctx.cur.execute("ANALYZE import_typed")


_TYPE_HINTS = {
    "date": "is not a date (write it as YYYY-MM-DD)",
    "int": "is not a whole number",
    "decimal": "is not a number",
    "bool": "is not true or false",
}


def type_checks(columns: list[Column], labels: dict[str, str] | None = None) -> list[sql.Composable]:
    """Required values, values that do not parse, ranges, lengths and enums; `labels`
    names the columns as the file does in the messages."""
    checks = []
    for column in columns:
        typed, raw = sql.Identifier(column.name), sql.Identifier(column.name + "__raw")
        label = sql.Literal(column.name)
        if column.required:
            name = (labels or {}).get(column.name, column.name)
            checks.append(sql.SQL("SELECT row_no, {l}, {m} FROM import_typed WHERE {raw} IS NULL").format(
                l=label, m=_text(f"{name} is required"), raw=raw))
        if column.type == "enum":
            message = sql.SQL("format('%%s is not one of: %%s', quote_literal({raw}), {values})").format(
                raw=raw, values=sql.Literal(", ".join(column.values)))
        elif column.type in _TYPE_HINTS:
            message = sql.SQL("format('%%s {}', quote_literal({raw}))").format(
                sql.SQL(_TYPE_HINTS[column.type]), raw=raw)
        else:
            message = None
        if message is not None:
            checks.append(sql.SQL("SELECT row_no, {l}, {m} FROM import_typed WHERE {raw} IS NOT NULL AND {t} IS NULL").format(
                l=label, m=message, raw=raw, t=typed))
        if column.low is not None and column.high is not None:
            checks.append(sql.SQL(
                "SELECT row_no, {l}, format('%%s is out of range (%%s to %%s)', {t}, {lo}, {hi}) "
                "FROM import_typed WHERE {t} NOT BETWEEN {lo} AND {hi}"
            ).format(l=label, t=typed, lo=sql.Literal(column.low), hi=sql.Literal(column.high)))
        if column.max_length:
            checks.append(sql.SQL(
                "SELECT row_no, {l}, format('is longer than %%s characters', {n}) FROM import_typed WHERE length({raw}) > {n}"
            ).format(l=label, raw=raw, n=sql.Literal(column.max_length)))
    return checks


def _text(text: str) -> sql.Composable:
    """A string literal for a statement run with parameters (its % doubled)."""
    return sql.Literal(text.replace("%", "%%"))


def duplicate_check(key: list[str], labels: dict[str, str] | None = None) -> sql.Composable:
    cols = sql.SQL(", ").join(map(sql.Identifier, key))
    names = ", ".join((labels or {}).get(k, k) for k in key)
    not_null = sql.SQL(" AND ").join(sql.SQL("{} IS NOT NULL").format(sql.Identifier(k)) for k in key)
    return sql.SQL(
        "SELECT row_no, NULL, format('duplicate key (%%s): the same as row %%s', {names}::text, first) FROM ("
        " SELECT row_no, min(row_no) OVER (PARTITION BY {cols}) AS first FROM import_typed WHERE {nn}"
        ") d WHERE row_no <> first"
    ).format(names=_text(names), cols=cols, nn=not_null)


def collect_errors(ctx: Context, checks: list) -> None:
    params = {"district": ctx.district_id, "today": ctx.today}
    for check in checks:
        statement = check if isinstance(check, sql.Composable) else sql.SQL(check)
        ctx.cur.execute(sql.SQL("INSERT INTO import_errors (row_no, col, message) {}").format(statement), params)


def raise_if_errors(ctx: Context, limit: int) -> None:
    total = ctx.cur.execute("SELECT count(*) FROM import_errors").fetchone()[0]
    if total:
        rows = ctx.cur.execute(
            "SELECT row_no, col, message FROM import_errors ORDER BY row_no NULLS FIRST, col, message LIMIT %s",
            (limit,),
        ).fetchall()
        raise Rejected([RowError(r, ctx.label(c), m) for r, c, m in rows], total)
