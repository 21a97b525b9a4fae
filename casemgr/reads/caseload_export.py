"""The caseload as a file (CSV or Excel) or a printed page: the same students, filters,
search, sort and scope as the page, all pages up to `EXPORT_CAP`, and the same columns
(the files themselves are written by casemgr.views.spreadsheets)."""
from __future__ import annotations

from datetime import date

from casemgr.reads.caseload import CaseloadRow
from casemgr.reads.program_outcomes import program_name
from casemgr.reads.services_delivered import hours

# a school's whole caseload fits (the largest high schools have about 4,000 students);
# a district admin exporting the district is asked to pick a school or a filter
EXPORT_CAP = 5_000


def columns(with_school: bool, since: date) -> list[str]:
    return (["Last name", "First name", "State ID", "Grade"] + (["School"] if with_school else [])
            + ["Tier", "Why", f"Change since {since.isoformat()}", "Attendance %", "Attendance band", "Course failures", "Failing English or math",
               "Credits earned", "Credits expected", "FAFSA", "Open flags", "Served by (hours this year)"])


def cells(row: CaseloadRow, with_school: bool) -> list:
    student, i = row.student, row.indicator
    values = [student.last_name, student.preferred_name or student.first_name, student.state_id, student.grade_label]
    if with_school:
        values.append(row.school_name)
    if i is None:
        values += [None] * 10
    else:
        values += [
            i.tier, ", ".join(i.reasons), ", ".join(row.change),
            float(round(i.attendance_rate * 100, 1)) if i.attendance_rate is not None else None,
            (i.attendance_band or "").replace("_", " ") or None, i.course_failures, "yes" if i.core_failure else "no",
            float(i.credits_earned) if i.credits_earned is not None else None,
            float(i.credits_expected) if i.credits_expected is not None else None,
            ((i.fafsa_status or "").replace("_", " ") + (" (off track)" if i.fafsa_off_track else "")) or None,
        ]
    values.append(row.open_flags)
    values.append("; ".join(f"{program_name(organization, service)}, {hours(minutes)} h"
                            for organization, service, minutes in row.served) or None)
    return values
