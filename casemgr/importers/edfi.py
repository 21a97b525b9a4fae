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

The file is read as a stream (edfi_xml) and translated to a CSV file on disk for the
casemgr kind `students` or `attendance`, which validates and merges it as it does any
file of that kind; its errors are told in the Ed-Fi file's terms (edfi_translate).
"""
from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import BinaryIO

from casemgr.importers import edfi_map
from casemgr.importers.attendance import ATTENDANCE
from casemgr.importers.base import Context, Kind, Rejected
from casemgr.importers.edfi_translate import EdFiError, Errors, Translation, error_at
from casemgr.importers.edfi_xml import Interchange, Record, code_value, open_interchange
from casemgr.importers.people import STUDENTS, STUDENT_COLUMNS
from casemgr.importers.runner import run_file

STUDENT_ID = "StudentReference/StudentIdentity/StudentUniqueId"
SCHOOL_ID = "SchoolReference/SchoolIdentity/SchoolId"
NAME_PATHS = {"first_name": "Name/FirstName", "middle_name": "Name/MiddleName", "last_name": "Name/LastSurname",
              "preferred_name": "Name/PreferredFirstName"}
STUDENT_PATHS = {"state_id": "StudentUniqueId", **NAME_PATHS, "birth_date": "BirthData/BirthDate",
                 "gender": "BirthData/BirthSex"}
ENROLLMENT_PATHS = {"state_id": STUDENT_ID, "school_code": SCHOOL_ID, "grade": "EntryGradeLevel",
                    "entry_date": "EntryDate", "exit_date": "ExitWithdrawDate"}
ATTENDANCE_PATHS = {"state_id": STUDENT_ID, "school_code": SCHOOL_ID, "date": "AttendanceEvent/EventDate",
                    "status": "AttendanceEvent/AttendanceEventCategory"}
STUDENT_ROW = ["state_id", "local_id", "school_code", "first_name", "middle_name", "last_name", "preferred_name",
               "birth_date", "grade", "gender"]
HELD = ["student_unique_id", "first_name", "middle_name", "last_name", "preferred_name", "birth_date", "sex"]
BATCH = 2000
LIMITS = {c.name: c.max_length for c in STUDENT_COLUMNS if c.max_length}


def _run_translated(kind: Kind, path: Path, ctx: Context) -> None:
    """The one place a translated file is handed to a casemgr kind (as bytes, until the
    kinds read a file from disk themselves)."""
    raw = path.read_bytes()
    if kind.run is not None:
        kind.run(raw, ctx)
    else:
        run_file(kind, raw, ctx)


def _translated(kind: Kind, translation: Translation, ctx: Context) -> None:
    try:
        _run_translated(kind, translation.finish(), ctx)
    except Rejected as rejection:
        raise translation.remap(rejection) from None


@contextmanager
def _opened(source: bytes | Path) -> Iterator[BinaryIO]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        yield io.BytesIO(source)
    else:
        with Path(source).open("rb") as file:
            yield file


def run(source: bytes | Path, ctx: Context) -> None:
    with _opened(source) as file, tempfile.TemporaryDirectory(prefix="casemgr-edfi-") as folder:
        interchange = open_interchange(file)
        TRANSLATORS[interchange.name](interchange, ctx, Path(folder))
        _skipped(interchange, ctx)


def _skipped(interchange: Interchange, ctx: Context) -> None:
    for name, count in sorted(interchange.skipped.items()):
        ctx.warnings.append(EdFiError(None, name, (
            f"{count:,} {name} element{'' if count == 1 else 's'} skipped: casemgr imports "
            f"{interchange.element} from an {interchange.name} file")))


DESCRIPTORS = ("status", "grade")  # the columns that come from a descriptor reference


def _required(record: Record, element: str, paths: dict[str, str], errors: Errors, *columns: str) -> dict | None:
    values = {column: (record.descriptor if column in DESCRIPTORS else record.text)(paths[column]) for column in columns}
    missing = [paths[c] for c in columns if not values[c]]
    for path in missing:
        errors.add(error_at(element, record.ordinal, record.line, f"{path.rsplit('/', 1)[-1]} is missing or empty", path))
    return None if missing else values


def _date_error(record: Record, element: str, path: str, value: str, errors: Errors) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        errors.add(error_at(element, record.ordinal, record.line, f"'{value}' is not a date (write it as YYYY-MM-DD)", path))
        return True
    return False


class UnknownDescriptors:
    """Descriptors casemgr cannot map, each reported once at its first element, with how
    many elements use it."""

    def __init__(self, what: str, advice: Callable[[str], str]) -> None:
        self.what, self.advice = what, advice
        self.first: dict[str, tuple[str, Record, str]] = {}
        self.counts: dict[str, int] = {}

    def add(self, descriptor: str, element: str, record: Record, path: str) -> None:
        if descriptor not in self.first:
            self.first[descriptor] = (element, Record(record.ordinal, record.line, None), path)
        self.counts[descriptor] = self.counts.get(descriptor, 0) + 1

    def report(self, errors: Errors) -> None:
        for descriptor, (element, record, path) in self.first.items():
            count = self.counts[descriptor]
            others = f" (and {count - 1:,} more {element} elements)" if count > 1 else ""
            errors.add(error_at(element, record.ordinal, record.line,
                                f"{self.what} '{descriptor}' is not one casemgr knows{others}; {self.advice(descriptor)}",
                                path))


# InterchangeStudentAttendance

def attendance(interchange: Interchange, ctx: Context, folder: Path) -> None:
    element = interchange.element
    statuses = edfi_map.AttendanceStatuses(ctx.cur, ctx.district_id)
    errors = Errors()
    unknown = UnknownDescriptors("attendance event category", edfi_map.how_to_map)
    out = Translation(folder, "attendance", ["state_id", "school_code", "date", "status"], element, ATTENDANCE_PATHS)
    try:
        for record in interchange.records():
            values = _required(record, element, ATTENDANCE_PATHS, errors, "state_id", "school_code", "date", "status")
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
        _translated(ATTENDANCE, out, ctx)
    finally:
        out.close()


# InterchangeStudent

def _student_values(record: Record, errors: Errors) -> dict | None:
    values = _required(record, "Student", STUDENT_PATHS, errors, "state_id", "first_name", "last_name", "birth_date")
    if values is None:
        return None
    values.update({c: record.text(STUDENT_PATHS[c]) for c in ("middle_name", "preferred_name")})
    values["gender"] = code_value(record.descriptor("BirthData/BirthSex") or record.descriptor("Sex"))[1]
    bad = _date_error(record, "Student", STUDENT_PATHS["birth_date"], values["birth_date"], errors)
    for column, value in values.items():
        limit = LIMITS.get(column, 20 if column == "gender" else None)
        if limit and len(value) > limit:
            errors.add(error_at("Student", record.ordinal, record.line,
                                f"'{value[:40]}…' is longer than {limit} characters", STUDENT_PATHS[column]))
            bad = True
    return None if bad else values


KEPT = ("local_id", "school_code", "grade", "middle_name", "preferred_name", "gender")


def _casemgr_students(ctx: Context, state_ids: list[str]) -> dict[str, dict]:
    """What casemgr has of the district's students among `state_ids` that an Ed-Fi
    Student does not give (school, grade, local ID) or may leave out (an optional element
    left out says nothing: the stored value is kept)."""
    rows = ctx.cur.execute(
        """SELECT s.state_id, s.local_id, o.code, s.grade, s.middle_name, s.preferred_name, s.gender
           FROM students s JOIN organizations o ON o.id = s.school_id
           WHERE s.district_id = %s AND s.state_id = ANY(%s)""", (ctx.district_id, state_ids)).fetchall()
    return {row[0]: dict(zip(KEPT, row[1:])) for row in rows}


def students(interchange: Interchange, ctx: Context, folder: Path) -> None:
    errors = Errors()
    out = Translation(folder, "students", STUDENT_ROW, "Student", STUDENT_PATHS)
    held: dict[str, tuple[int, int]] = {}  # StudentUniqueId: (ordinal, line) of the students kept aside
    held_rows: list[tuple] = []
    batch: list[tuple[Record, dict]] = []

    def flush() -> None:
        known = _casemgr_students(ctx, [values["state_id"] for _, values in batch])
        for record, values in batch:
            state_id = values["state_id"]
            if state_id in known:
                out.add(record, {**known[state_id], **{c: v for c, v in values.items() if v}})
            elif state_id in held:
                errors.add(error_at("Student", record.ordinal, record.line,
                                    f"given twice: the same as Student {held[state_id][0]} (line {held[state_id][1]})",
                                    "StudentUniqueId"))
            else:
                held[state_id] = (record.ordinal, record.line)
                held_rows.append(tuple(values[c] or None for c in
                                       ("state_id", "first_name", "middle_name", "last_name", "preferred_name",
                                        "birth_date", "gender")))
        batch.clear()

    try:
        for record in interchange.records():
            values = _student_values(record, errors)
            if values is not None:
                batch.append((Record(record.ordinal, record.line, None), values))
            if len(batch) >= BATCH:
                flush()
        flush()
        errors.raise_any()
        if out.rows:
            _translated(STUDENTS, out, ctx)
        _hold(ctx, held_rows)
    finally:
        out.close()


def _hold(ctx: Context, rows: list[tuple]) -> None:
    """Keep the students new to casemgr until their StudentSchoolAssociation comes."""
    if not rows:
        return
    from casemgr.importers.lookups import upsert

    cur = ctx.cur
    cur.execute("DROP TABLE IF EXISTS pg_temp.import_edfi_students")
    cur.execute("CREATE TEMP TABLE import_edfi_students (student_unique_id text, first_name text, middle_name text, "
                "last_name text, preferred_name text, birth_date date, sex text)")
    with cur.copy(f"COPY import_edfi_students ({', '.join(HELD)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    ctx.counts.rows_read += len(rows)
    upsert(ctx, "edfi_students", ["district_id", *HELD],
           f"SELECT %(district)s, {', '.join(HELD)} FROM import_edfi_students", ["district_id", "student_unique_id"])
    cur.execute("DROP TABLE import_edfi_students")
    ctx.warnings.append(EdFiError(None, "Student", (
        f"{len(rows):,} student{'' if len(rows) == 1 else 's'} not in casemgr yet: kept until their "
        "StudentSchoolAssociation (an InterchangeStudentEnrollment file) gives their school and grade")))


# InterchangeStudentEnrollment

def _identities(ctx: Context, state_ids: list[str]) -> dict[str, dict]:
    """Names, birth date and local ID of each student: casemgr's own, else those an
    InterchangeStudent file left aside."""
    rows = ctx.cur.execute(
        """SELECT s.state_id, s.local_id, s.first_name, s.middle_name, s.last_name, s.preferred_name, s.birth_date, s.gender
           FROM students s WHERE s.district_id = %(district)s AND s.state_id = ANY(%(ids)s)
           UNION ALL
           SELECT e.student_unique_id, e.student_unique_id, e.first_name, e.middle_name, e.last_name, e.preferred_name,
                  e.birth_date, e.sex
           FROM edfi_students e WHERE e.district_id = %(district)s AND e.student_unique_id = ANY(%(ids)s)
             AND NOT EXISTS (SELECT 1 FROM students s WHERE s.district_id = %(district)s AND s.state_id = e.student_unique_id)""",
        {"district": ctx.district_id, "ids": state_ids}).fetchall()
    names = ["state_id", "local_id", "first_name", "middle_name", "last_name", "preferred_name", "birth_date", "gender"]
    return {row[0]: dict(zip(names, row)) for row in rows}


def enrollments(interchange: Interchange, ctx: Context, folder: Path) -> None:
    element = interchange.element
    errors = Errors()
    unknown = UnknownDescriptors("grade level", lambda d: "casemgr keeps grades Prekindergarten to Twelfth grade")
    latest: dict[str, tuple[str, Record, dict]] = {}  # a student's association with the latest EntryDate
    earlier = 0
    for record in interchange.records():
        values = _required(record, element, ENROLLMENT_PATHS, errors, "state_id", "school_code", "entry_date", "grade")
        if values is None:
            continue
        values["exit_date"] = record.text(ENROLLMENT_PATHS["exit_date"])
        dates_bad = [_date_error(record, element, ENROLLMENT_PATHS[c], values[c], errors)
                     for c in ("entry_date", "exit_date") if values[c]]
        grade = edfi_map.grade(values["grade"])
        if grade is None:
            unknown.add(values["grade"], element, record, ENROLLMENT_PATHS["grade"])
        if any(dates_bad) or grade is None:
            continue
        values["grade"] = grade
        kept = Record(record.ordinal, record.line, None)
        previous = latest.get(values["state_id"])
        if previous is not None:
            earlier += 1
            if previous[0] > values["entry_date"]:
                continue
        latest[values["state_id"]] = (values["entry_date"], kept, values)
    unknown.report(errors)
    out = Translation(folder, "enrollments", STUDENT_ROW + ["entry_date", "exit_date"], element, ENROLLMENT_PATHS)
    try:
        chosen = sorted(latest.values(), key=lambda item: item[1].ordinal)
        for start in range(0, len(chosen), BATCH):
            part = chosen[start:start + BATCH]
            identities = _identities(ctx, [values["state_id"] for _, _, values in part])
            for _, record, values in part:
                identity = identities.get(values["state_id"])
                if identity is None:
                    errors.add(error_at(element, record.ordinal, record.line, (
                        f"student {values['state_id']} is not in casemgr: import the InterchangeStudent file "
                        "that describes them first"), STUDENT_ID))
                    continue
                out.add(record, {**identity, **values})
        errors.raise_any()
        if earlier:
            ctx.warnings.append(EdFiError(None, element, (
                f"{earlier:,} earlier {element} element{'' if earlier == 1 else 's'} of students with a later one "
                "skipped: casemgr takes a student's school, grade and stay from their latest EntryDate")))
        _translated(STUDENTS, out, ctx)
        ctx.cur.execute(
            """DELETE FROM edfi_students e USING students s
               WHERE e.district_id = %(district)s AND s.district_id = %(district)s AND s.state_id = e.student_unique_id""",
            {"district": ctx.district_id})
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
