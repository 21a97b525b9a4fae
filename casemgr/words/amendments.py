"""The words of amendment requests on the family pages, in the reader's language."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from casemgr.models.enums import AmendmentPart

PART_WORDS = {
    AmendmentPart.ATTENDANCE: _l("Attendance"),
    AmendmentPart.COURSE_MARK: _l("A course mark"),
    AmendmentPart.CREDITS: _l("Credits"),
    AmendmentPart.ASSESSMENTS: _l("Test scores"),
    AmendmentPart.DISCIPLINE: _l("Discipline"),
    AmendmentPart.FAFSA: _l("FAFSA (the federal student aid form)"),
    AmendmentPart.CONTACT: _l("Contact details"),
    AmendmentPart.OTHER: _l("Something else"),
}
STATUS_WORDS = {
    "open": _l("Waiting for the school's answer"),
    "accepted": _l("Accepted: the school will correct the record"),
    "denied": _l("Not accepted: the record stays as it is"),
}


def part_words(part: str) -> str:
    return str(PART_WORDS[AmendmentPart(part)])


def status_words(status: str) -> str:
    return str(STATUS_WORDS[status])
