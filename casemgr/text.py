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


# the accented letters of names in the languages casemgr's families speak, and their
# plain letters: PostgreSQL folds them with translate() (the unaccent extension is not
# always installed)
ACCENTED = "áàâäãåéèêëíìîïóòôöõúùûüñçýÿÁÀÂÄÃÅÉÈÊËÍÌÎÏÓÒÔÖÕÚÙÛÜÑÇÝ"
PLAIN = "aaaaaaeeeeiiiiooooouuuuncyyAAAAAAEEEEIIIIOOOOOUUUUNCY"


def fold(text: str) -> str:
    """A name as searches compare it: lower case, without accents."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()


def unaccented(column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    """The column's text without accents, in SQL ("Ábalos" -> "Abalos")."""
    return sa.func.translate(column, ACCENTED, PLAIN)
