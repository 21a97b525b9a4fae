"""Reading a .zip a district uploads, without trusting it.

A member's name is checked before anything is read (no `..`, no absolute path, no
drive letter), and each member is decompressed as a stream, counted as it comes: the
sizes the zip's headers declare are not believed, so a member that grows past
IMPORT_ZIP_MEMBER_MAX_BYTES, or past IMPORT_ZIP_MAX_RATIO times its compressed size
(a zip bomb), is refused as soon as it does, with at most one piece more in memory.
Every zip or zlib error (a damaged member, a file that is not a zip) is one line."""
from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from flask import current_app, has_app_context

from casemgr.importers.base import RowError, Unreadable

MEMBER_MAX_BYTES = 2 * 1024 ** 3
MAX_RATIO = 200
# below this many bytes decompressed the ratio is not checked: a small file of repeated
# text (a manifest, a file of empty columns) may compress far better than a roster
RATIO_FLOOR = 1024 * 1024
PIECE = 1024 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")


def refused(message: str, column: str | None = None) -> Unreadable:
    return Unreadable([RowError(None, column, message)])


def open_zip(source: Path | bytes, not_a_zip: str) -> zipfile.ZipFile:
    """The archive (a file on disk, read as needed), its member names checked;
    `not_a_zip` is the message for a file that is not one."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
        names = archive.namelist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, NotImplementedError):
        raise refused(not_a_zip) from None
    unsafe = [name for name in names if not safe_name(name)]
    if unsafe:
        shown = ", ".join(f"'{name}'" for name in unsafe[:5])
        shown += f" and {len(unsafe) - 5} more" if len(unsafe) > 5 else ""
        raise refused(f"the .zip holds unsafe file names (a path outside the bundle or an absolute path): {shown}; "
                      "nothing was read")
    return archive


def safe_name(name: str) -> bool:
    """Whether a member's name stays inside the archive: relative, no `..` part, no drive
    letter or UNC share, no NUL or other control character."""
    if not name or any(ord(c) < 32 for c in name):
        return False
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return False
    return ".." not in re.split(r"[/\\]", name)


def read_member(archive: zipfile.ZipFile, name: str) -> bytes:
    """The member's bytes, decompressed piece by piece and refused once past the caps
    (for small members: a data file is extracted to disk with `extract_member`)."""
    return b"".join(_pieces(archive, name))


def extract_member(archive: zipfile.ZipFile, name: str, target: Path) -> Path:
    """Decompress the member into the file `target` as a stream, refused once past the caps."""
    with target.open("wb") as out:
        for piece in _pieces(archive, name):
            out.write(piece)
    return target


def _pieces(archive: zipfile.ZipFile, name: str) -> Iterator[bytes]:
    max_bytes, max_ratio = _caps()
    info = archive.getinfo(name)
    if info.flag_bits & 0x1:
        raise refused(f"{name} is encrypted: save the bundle without a password", name)
    compressed = max(info.compress_size, 1)

    def check(size: int) -> None:
        if size > max_bytes:
            raise refused(f"{name} decompresses to more than {_size(max_bytes)} "
                          "(the limit for one file of a .zip)", name)
        if size > RATIO_FLOOR and size > compressed * max_ratio:
            raise refused(f"{name} decompresses to more than {max_ratio} times its compressed size "
                          f"({_size(info.compress_size)}): refused as a possible zip bomb", name)

    check(info.file_size)  # what the zip declares: refused at once when too much, else counted as read
    total = 0
    try:
        with archive.open(info) as member:
            while piece := member.read(PIECE):
                total += len(piece)
                check(total)
                yield piece
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError, RuntimeError) as error:
        raise refused(f"{name} is damaged and cannot be read ({_reason(error)}); make the .zip again", name) from None


def _caps() -> tuple[int, int]:
    config = current_app.config if has_app_context() else {}
    return (int(config.get("IMPORT_ZIP_MEMBER_MAX_BYTES", MEMBER_MAX_BYTES)),
            int(config.get("IMPORT_ZIP_MAX_RATIO", MAX_RATIO)))


def _size(count: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:,} {unit}" if unit == "bytes" else f"{count:,.1f} {unit}".replace(".0 ", " ")
        count /= 1024
    return f"{count} GB"


def _reason(error: Exception) -> str:
    if isinstance(error, zlib.error):  # "Error -3 while decompressing data: invalid distance too far back"
        return "its compressed data is corrupt: " + str(error).rpartition(": ")[2]
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
