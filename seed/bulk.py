"""Bulk loading through PostgreSQL COPY on the session's own psycopg connection."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from psycopg import Cursor, sql

CHUNK_CHARS = 4_000_000
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _escaped(value: str) -> str:
    return value.translate(_ESCAPES)


def _array(value: list | tuple) -> str:
    return "{" + ",".join(value) + "}"


_FORMATTERS: dict[type, Callable[[Any], str]] = {
    str: _escaped,
    int: str,
    float: repr,
    Decimal: str,
    bool: lambda value: "t" if value else "f",
    type(None): lambda _: "\\N",
    date: date.isoformat,
    datetime: datetime.isoformat,
    list: _array,
    tuple: _array,
}


def copy_field(value: Any) -> str:
    """One value in COPY's text format (str enums count as text)."""
    formatter = _FORMATTERS.get(type(value))
    if formatter is None:
        formatter = _escaped if isinstance(value, str) else str
    return formatter(value)


def _copy_statement(table: str, columns: Sequence[str]) -> sql.Composed:
    return sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )


def copy_rows(cur: Cursor, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """COPY tuples of Python values into `table`; returns how many rows went in."""
    lines = ("\t".join(map(copy_field, row)) + "\n" for row in rows)
    return copy_lines(cur, table, columns, lines)


def copy_lines(cur: Cursor, table: str, columns: Sequence[str], lines: Iterable[str]) -> int:
    """COPY ready-made text lines (each ending in a newline), written in large chunks:
    one write per line would cost more than the formatting itself."""
    count = 0
    with cur.copy(_copy_statement(table, columns)) as copy:
        for chunk, rows in _chunks(lines):
            copy.write(chunk)
            count += rows
    return count


def _chunks(lines: Iterable[str]) -> Iterator[tuple[str, int]]:
    buffer: list[str] = []
    size = 0
    for line in lines:
        buffer.append(line)
        size += len(line)
        if size >= CHUNK_CHARS:
            yield "".join(buffer), len(buffer)
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer), len(buffer)


class TextCopy:
    """A COPY fed with pre-joined text blocks of many rows."""

    def __init__(self, copy) -> None:
        self._copy = copy
        self._buffer: list[str] = []
        self._size = 0

    def write(self, block: str) -> None:
        self._buffer.append(block)
        self._size += len(block)
        if self._size >= CHUNK_CHARS:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            self._copy.write("".join(self._buffer))
            self._buffer, self._size = [], 0


@contextmanager
def copy_text(cur: Cursor, table: str, columns: Sequence[str]) -> Iterator[TextCopy]:
    with cur.copy(_copy_statement(table, columns)) as copy:
        writer = TextCopy(copy)
        yield writer
        writer.flush()


_DEFERRABLE_CONSTRAINTS = """
    SELECT c.conname, c.contype, pg_get_constraintdef(c.oid)
    FROM pg_constraint c
    WHERE c.conrelid = %(table)s::regclass AND c.conparentid = 0 AND c.contype IN ('f', 'p', 'u')
      AND NOT EXISTS (SELECT 1 FROM pg_constraint r WHERE r.contype = 'f' AND r.conindid = c.conindid AND c.contype <> 'f')
    ORDER BY c.contype = 'f', c.conname
"""
_PLAIN_INDEXES = """
    SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
    FROM pg_index i
    WHERE i.indrelid = %(table)s::regclass
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
    ORDER BY 1
"""


@contextmanager
def constraints_deferred(cur: Cursor, tables: Sequence[str]) -> Iterator[None]:
    """Drop the tables' foreign keys, keys and indexes for a bulk load, and rebuild them
    (validated) afterwards, inside the same transaction.

    Per-row foreign-key triggers and index maintenance make a COPY of millions of rows
    several times slower than loading bare and rebuilding; keys other tables reference
    stay.
    """
    restore: list[str | sql.Composed] = []
    foreign_keys: list[sql.Composed] = []
    for table in tables:
        table_id = sql.Identifier(table)
        for name, definition in cur.execute(_PLAIN_INDEXES, {"table": table}).fetchall():
            cur.execute(sql.SQL("DROP INDEX {}").format(sql.SQL(name)))
            restore.append(definition.replace(" ON ONLY ", " ON "))
        for name, kind, definition in cur.execute(_DEFERRABLE_CONSTRAINTS, {"table": table}).fetchall():
            cur.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(table_id, sql.Identifier(name)))
            statement = sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                table_id, sql.Identifier(name), sql.SQL(definition)
            )
            (foreign_keys if kind == "f" else restore).append(statement)
    yield
    cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for statement in restore + foreign_keys:
        cur.execute(statement)


def next_id(cur: Cursor, table: str) -> int:
    """The first free id of `table`; the generator assigns ids itself for COPY."""
    query = sql.SQL("SELECT coalesce(max(id), 0) + 1 FROM {}").format(sql.Identifier(table))
    return cur.execute(query).fetchone()[0]


def sync_sequence(cur: Cursor, table: str) -> None:
    """Move the id sequence past the ids the generator assigned."""
    query = sql.SQL(
        "SELECT setval(pg_get_serial_sequence({name}, 'id'), coalesce(max(id), 0) + 1, false) FROM {table}"
    ).format(name=sql.Literal(table), table=sql.Identifier(table))
    cur.execute(query)
