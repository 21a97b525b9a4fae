"""Row locks that serialize writes about one student, so that two requests at the same
moment (two counselors, a double click) are taken one after the other and the second
sees what the first wrote."""
from __future__ import annotations

import sqlalchemy as sa

from casemgr.extensions import db
from casemgr.models import Student


def lock_student(student: Student) -> None:
    """Hold the student's row until the transaction ends."""
    db.session.execute(sa.select(Student.id).where(Student.id == student.id).with_for_update())
