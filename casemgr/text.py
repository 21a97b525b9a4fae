"""Text people type into casemgr, made plain: line ends as "\\n", no control
characters (PostgreSQL cannot store a NUL, and none of them means anything on a page)."""
from __future__ import annotations

import re

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def plain_text(value: str | None) -> str:
    """The text as typed, without control characters, line ends made "\\n", trimmed."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    return CONTROL.sub("", text).strip()


def has_control_characters(value: str) -> bool:
    return CONTROL.search(value.replace("\r\n", "\n").replace("\r", "\n")) is not None
