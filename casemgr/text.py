"""Text people type into casemgr, made plain: line ends as "\\n", no control
characters (PostgreSQL cannot store a NUL, and none of them means anything on a page);
tabs and line feeds are kept."""
from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def line_breaks(value: str | None) -> str:
    """The text with every line end as "\\n" (a browser sends a form's as CR LF)."""
    return (value or "").replace("\r\n", "\n").replace("\r", "\n")


def plain_text(value: str | None) -> str:
    """The text as typed, without control characters, line ends made "\\n", trimmed."""
    return CONTROL.sub("", line_breaks(value)).strip()


def has_control_characters(value: str) -> bool:
    return CONTROL.search(line_breaks(value)) is not None


# letters of names written with accents or strokes, each with the plain letter a reader
# files it under: PostgreSQL folds them with translate() (the unaccent extension is not
# always installed), Python with the same table, so that both sides agree
_STROKED = {"Ø": "O", "ø": "o", "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Æ": "A", "æ": "a", "Œ": "O", "œ": "o",
            "ß": "s", "Ħ": "H", "ħ": "h", "Ŧ": "T", "ŧ": "t", "ı": "i", "Ŀ": "L", "ŀ": "l"}


def _plain_letter(char: str) -> str | None:
    if char in _STROKED:
        return _STROKED[char]
    base = unicodedata.normalize("NFKD", char)[0]
    return base if base != char and base.isascii() and base.isalpha() else None


_LETTERS = {c: p for c in map(chr, range(0xC0, 0x250)) if (p := _plain_letter(c))}
ACCENTED, PLAIN = "".join(_LETTERS), "".join(_LETTERS.values())
_PLAIN_TABLE = str.maketrans(_LETTERS)


def fold(text: str) -> str:
    """A name as searches compare it: lower case, without accents."""
    return text.translate(_PLAIN_TABLE).lower()


def unaccented(column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    """The column's text without accents, in SQL ("Ábalos" -> "Abalos", "Łukasz" -> "Lukasz")."""
    return sa.func.translate(column, ACCENTED, PLAIN)
