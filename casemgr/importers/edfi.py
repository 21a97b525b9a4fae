"""Kind `edfi`: an Ed-Fi Data Standard (3.x to 5.x) XML interchange file, the interchange
told by its root element.

- InterchangeStudent, Student: StudentUniqueId = state ID; Name/FirstName, MiddleName,
  LastSurname, PreferredFirstName; BirthData/BirthDate; BirthData/BirthSex = gender.
  A student casemgr has is updated (keeping their school, grade and local ID); one it
  does not have is kept aside (edfi_students) until a StudentSchoolAssociation gives
  them a school and a grade, since an Ed-Fi Student has neither.
- InterchangeStudentEnrollment, StudentSchoolAssociation: the student's school
  (SchoolReference/SchoolIdentity/SchoolId = the code of a casemgr school), grade
  (EntryGradeLevel) and stay (EntryDate, ExitWithdrawDate); a student's latest
  association (by EntryDate) is their current one, earlier ones are counted and skipped.
- InterchangeStudentAttendance, StudentSchoolAttendanceEvent: one day's attendance
  (AttendanceEvent/EventDate), its AttendanceEventCategory mapped to a casemgr status
  (edfi_map); section, program and intervention attendance are counted and skipped.

The file is read as a stream (edfi_xml) and translated (here, and in edfi_students) to a
CSV file on disk for the casemgr kind `students` or `attendance`, which validates and
merges it as it does any file of that kind; its errors are told in the Ed-Fi file's
terms (edfi_translate).
"""
from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from casemgr.importers import edfi_map
from casemgr.importers.attendance import ATTENDANCE
from casemgr.importers.base import Context, Kind
from casemgr.importers.edfi_students import SCHOOL_ID, STUDENT_ID, enrollments, students
from casemgr.importers.edfi_translate import EdFiError, Errors, Translation, UnknownDescriptors, required, translated
from casemgr.importers.edfi_xml import Interchange, open_interchange
from casemgr.importers.source import spool_dir

ATTENDANCE_PATHS = {"state_id": STUDENT_ID, "school_code": SCHOOL_ID, "date": "AttendanceEvent/EventDate",
                    "status": "AttendanceEvent/AttendanceEventCategory"}


def run(path: Path, ctx: Context) -> None:
    with path.open("rb") as file, tempfile.TemporaryDirectory(prefix="casemgr-edfi-", dir=spool_dir()) as folder:
        interchange = open_interchange(file)
        TRANSLATORS[interchange.name](interchange, ctx, Path(folder))
        _skipped(interchange, ctx)


def _skipped(interchange: Interchange, ctx: Context) -> None:
    for name, count in sorted(interchange.skipped.items()):
        ctx.warnings.append(EdFiError(None, name, (
            f"{count:,} {name} element{'' if count == 1 else 's'} skipped: casemgr imports "
            f"{interchange.element} from an {interchange.name} file")))


# InterchangeStudentAttendance

def attendance(interchange: Interchange, ctx: Context, folder: Path) -> None:
    element = interchange.element
    statuses = edfi_map.AttendanceStatuses(ctx.cur, ctx.district_id)
    errors = Errors()
    unknown = UnknownDescriptors("attendance event category", edfi_map.how_to_map)
    out = Translation(folder, "attendance", ["state_id", "school_code", "date", "status"], element, ATTENDANCE_PATHS)
    try:
        for record in interchange.records():
            values = required(record, element, ATTENDANCE_PATHS, errors, "state_id", "school_code", "date", "status")
            if values is None:
                continue
            status = statuses.status(values["status"])
            if status is None:
                unknown.add(values["status"], element, record, ATTENDANCE_PATHS["status"])
                continue
            values["status"] = status
            out.add(record, values)
        unknown.report(errors)
        errors.raise_any()
        translated(ATTENDANCE, out, ctx)
    finally:
        out.close()


TRANSLATORS: dict[str, Callable[[Interchange, Context, Path], None]] = {
    "InterchangeStudent": students,
    "InterchangeStudentEnrollment": enrollments,
    "InterchangeStudentAttendance": attendance,
}


def _no_checks(ctx: Context) -> list[str]:
    return []


EDFI = Kind(
    "edfi", "Ed-Fi interchange (XML)", [], [], _no_checks, lambda ctx: None, run=run,
    description=("An Ed-Fi Data Standard XML interchange file: InterchangeStudent, InterchangeStudentEnrollment "
                 "or InterchangeStudentAttendance (daily school attendance)."),
)
