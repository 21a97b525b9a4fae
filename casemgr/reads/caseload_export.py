"""The caseload as a file (CSV or Excel) or a printed page: the same students, filters,
search, sort and scope as the page, all pages up to `EXPORT_CAP`, and the same columns."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from casemgr.reads.caseload import CaseloadPage, CaseloadRow

# a school's whole caseload fits (the largest high schools have about 4,000 students);
# a district admin exporting the district is asked to pick a school or a filter
EXPORT_CAP = 5_000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def columns(with_school: bool) -> list[str]:
    return (["Last name", "First name", "State ID", "Grade"] + (["School"] if with_school else [])
            + ["Tier", "Why", "Change", "Attendance %", "Attendance band", "Course failures", "Failing English or math",
               "Credits earned", "Credits expected", "FAFSA", "Open flags"])


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
    return values


def safe(value):
    """A text cell a spreadsheet would run as a formula is kept as text: a leading
    apostrophe (OWASP's advice for CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def table(result: CaseloadPage, with_school: bool) -> Iterable[list]:
    yield columns(with_school)
    for row in result.rows:
        yield [safe(value) for value in cells(row, with_school)]


def as_csv(result: CaseloadPage, with_school: bool) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for values in table(result, with_school):
        writer.writerow(["" if v is None else v for v in values])
    return ("\ufeff" + out.getvalue()).encode()  # the BOM: Excel then reads the names as UTF-8


def as_xlsx(result: CaseloadPage, with_school: bool, title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    for values in table(result, with_school):
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in values])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
