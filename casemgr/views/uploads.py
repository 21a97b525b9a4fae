"""Uploaded files go to disk, never to memory: each file of a multipart request is
written, as Werkzeug parses the request, to a file of its own in IMPORT_SPOOL_DIR (the
system's temporary folder by default), and removed when the request ends, unless a
view has taken it over with `take`, which then owns it.

Werkzeug keeps a form's other fields in memory only up to MAX_FORM_MEMORY_SIZE (500 kB);
its own default would keep files under 500 kB in memory and put larger ones in the
system's temporary folder, which is often a RAM disk."""
from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Flask, Request, request
from werkzeug.datastructures import FileStorage

from casemgr.importers.source import spool_dir

PREFIX = "casemgr-upload-"


class SpoolingRequest(Request):
    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        handle = tempfile.NamedTemporaryFile("w+b", dir=spool_dir(), prefix=PREFIX, suffix=".part", delete=False)
        self.__dict__.setdefault("_spooled", []).append(Path(handle.name))
        return handle

    def close(self) -> None:
        super().close()
        for path in self.__dict__.pop("_spooled", []):
            path.unlink(missing_ok=True)


def take(upload: FileStorage) -> Path:
    """The file on disk that holds `upload`, no longer removed when the request ends:
    the caller removes it."""
    upload.stream.flush()
    path = Path(upload.stream.name)
    request.__dict__.get("_spooled", []).remove(path)
    return path


def init_app(app: Flask) -> None:
    app.request_class = SpoolingRequest
