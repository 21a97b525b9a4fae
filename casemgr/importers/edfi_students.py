"""The Ed-Fi interchanges of students: InterchangeStudent (Student) and
InterchangeStudentEnrollment (StudentSchoolAssociation), translated to the casemgr kind
`students` (see casemgr.importers.edfi for the mapping)."""
from __future__ import annotations

from pathlib import Path

from casemgr.importers import edfi_map
from casemgr.importers.base import Context
from casemgr.importers.edfi_translate import (
    EdFiError, Errors, Translation, UnknownDescriptors, date_error, error_at, required, translated,
)
from casemgr.importers.edfi_xml import Interchange, Record, code_value
from casemgr.importers.lookups import upsert
from casemgr.importers.people import STUDENT_COLUMNS, STUDENTS

STUDENT_ID = "StudentReference/StudentIdentity/StudentUniqueId"
SCHOOL_ID = "SchoolReference/SchoolIdentity/SchoolId"
NAME_PATHS = {"first_name": "Name/FirstName", "middle_name": "Name/MiddleName", "last_name": "Name/LastSurname",
              "preferred_name": "Name/PreferredFirstName"}
STUDENT_PATHS = {"state_id": "StudentUniqueId", **NAME_PATHS, "birth_date": "BirthData/BirthDate",
                 "gender": "BirthData/BirthSex"}
ENROLLMENT_PATHS = {"state_id": STUDENT_ID, "school_code": SCHOOL_ID, "grade": "EntryGradeLevel",
                    "entry_date": "EntryDate", "exit_date": "ExitWithdrawDate"}
STUDENT_ROW = ["state_id", "local_id", "school_code", "first_name", "middle_name", "last_name", "preferred_name",
               "birth_date", "grade", "gender"]
HELD = ["student_unique_id", "first_name", "middle_name", "last_name", "preferred_name", "birth_date", "sex"]
BATCH = 2000
LIMITS = {c.name: c.max_length for c in STUDENT_COLUMNS if c.max_length}


# InterchangeStudent

def _student_values(record: Record, errors: Errors) -> dict | None:
    values = required(record, "Student", STUDENT_PATHS, errors, "state_id", "first_name", "last_name", "birth_date")
    if values is None:
        return None
    values.update({c: record.text(STUDENT_PATHS[c]) for c in ("middle_name", "preferred_name")})
    values["gender"] = code_value(record.descriptor("BirthData/BirthSex") or record.descriptor("Sex"))[1]
    bad = date_error(record, "Student", STUDENT_PATHS["birth_date"], values["birth_date"], errors)
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
            translated(STUDENTS, out, ctx)
        _hold(ctx, held_rows)
    finally:
        out.close()


def _hold(ctx: Context, rows: list[tuple]) -> None:
    """Keep the students new to casemgr until their StudentSchoolAssociation comes."""
    if not rows:
        return
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
        values = required(record, element, ENROLLMENT_PATHS, errors, "state_id", "school_code", "entry_date", "grade")
        if values is None:
            continue
        values["exit_date"] = record.text(ENROLLMENT_PATHS["exit_date"])
        dates_bad = [date_error(record, element, ENROLLMENT_PATHS[c], values[c], errors)
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
        translated(STUDENTS, out, ctx)
        ctx.cur.execute(
            """DELETE FROM edfi_students e USING students s
               WHERE e.district_id = %(district)s AND s.district_id = %(district)s AND s.state_id = e.student_unique_id""",
            {"district": ctx.district_id})
    finally:
        out.close()
