"""The report log (issue 15, item 6): aggregate reports disclose no student's record, so
they are not in the disclosure log; but every file exported and every report published
is recorded here, per account: who, what, when, with which choices, and a SHA-256 hash
of the file, so that a district admin can say what left casemgr and check a copy."""
from __future__ import annotations

import hashlib

from flask import has_request_context, request

from casemgr.extensions import db
from casemgr.models import ReportLogEntry, User

EXPORT = "export"
PUBLISH = "publish"


def record(user: User, district_id: int, action: str, title: str, parameters: dict[str, str],
           body: bytes | None = None, filename: str | None = None) -> ReportLogEntry:
    """An entry about the district whose figures the file or report holds."""
    entry = ReportLogEntry(
        user_id=user.id, organization_id=user.organization_id, district_id=district_id, action=action,
        title=title[:300],
        parameters=parameters, filename=filename, file_sha256=hashlib.sha256(body).hexdigest() if body else None,
        request_path=request.path if has_request_context() else None,
    )
    db.session.add(entry)
    return entry
