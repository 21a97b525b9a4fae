"""Text people type into casemgr, made plain: line ends as "\\n", no control
characters (PostgreSQL cannot store a NUL, and none of them means anything on a page);
tabs and line feeds are kept."""
from __future__ import annotations

import re

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def line_breaks(value: str | None) -> str:
    """The text with every line end as "\\n" (a browser sends a form's as CR LF)."""
    return (value or "").replace("\r\n", "\n").replace("\r", "\n")


def plain_text(value: str | None) -> str:
    """The text as typed, without control characters, line ends made "\\n", trimmed."""
    return CONTROL.sub("", line_breaks(value)).strip()


def has_control_characters(value: str) -> bool:
    return CONTROL.search(line_breaks(value)) is not None
