"""Ed-Fi interchange files (tests/data/edfi/, written from the Data Standard 3.2, 4.0
and 5.2 XSDs): students, student-school associations and daily attendance events,
each asserted row by row against the database; unknown descriptors, students and
schools refused in the file's own terms; and nothing changed on any refusal."""
from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from casemgr import importers
from casemgr.attendance import attendance_days
from casemgr.cli import cli
from casemgr.extensions import db as _db
from casemgr.models import EdFiStudent, ImportBatch, SchoolEnrollment, Student
from tests.factories import (
    create_calendar, create_district, create_school, create_school_year, create_student, create_user,
)
from tests.helpers import login
from tests.test_import_cli_web import upload
from tests.test_import_hostile import run_measured
from tests.test_import_kinds import _recorded_recompute, count  # noqa: F401

CORPUS = Path(__file__).resolve().parent / "data" / "edfi"
AEC = "uri://ed-fi.org/AttendanceEventCategoryDescriptor#"


@dataclass
class World:
    district: object
    school: object
    other_school: object
    students: dict


def weekdays(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1) if (start + timedelta(days=n)).weekday() < 5]


@pytest.fixture()
def world(db):
    """The district of the corpus: schools 255901001 and 255901044 in school year
    2026-2027, and students 604821 to 604823 at the first."""
    district = create_district()
    schools = []
    for code in ("255901001", "255901044"):
        school = create_school(district)
        school.code = code
        schools.append(school)
    create_school_year(district, 2026)
    for school in schools:
        create_calendar(school, weekdays(date(2026, 8, 17), date(2027, 6, 18)), 2026)
    students = {sid: create_student(schools[0], state_id=sid, local_id=f"L{sid}", first_name=first, grade=9)
                for sid, first in (("604821", "Ana"), ("604822", "Lisa"), ("604823", "Ravi"))}
    _db.session.flush()
    return World(district, schools[0], schools[1], students)


def run(world, name: str, text: str | None = None, kind: str = "edfi") -> importers.Outcome:
    raw = text.encode() if text is not None else (CORPUS / name).read_bytes()
    return importers.import_file(kind, raw, name, world.district)


def text_of(outcome) -> str:
    return " | ".join(e.describe() for e in outcome.errors)


def imported(world, name: str, text: str | None = None) -> importers.Outcome:
    outcome = run(world, name, text)
    assert outcome.ok, text_of(outcome)
    return outcome


def snapshot():
    days = _db.session.execute(sa.select(attendance_days.c.student_id, attendance_days.c.day,
                                         attendance_days.c.status).order_by(attendance_days.c.student_id,
                                                                            attendance_days.c.day)).all()
    students = _db.session.execute(sa.select(Student.state_id, Student.first_name, Student.grade, Student.school_id)
                                   .order_by(Student.state_id)).all()
    return days, students, count(SchoolEnrollment), count(EdFiStudent)


def refused(world, name: str, *messages: str, text: str | None = None) -> importers.Outcome:
    before = snapshot()
    outcome = run(world, name, text)
    assert outcome.batch.status == "rejected", "the file was not refused"
    assert snapshot() == before
    for message in messages:
        assert message in text_of(outcome), text_of(outcome)
    return outcome


def element_line(name: str, element: str, ordinal: int) -> int:
    """The line of the `ordinal`th <element> of a corpus file, read from the file."""
    lines = [n for n, line in enumerate((CORPUS / name).read_text().splitlines(), start=1)
             if line.strip() == f"<{element}>"]
    return lines[ordinal - 1]


def days_of(world) -> dict[tuple[str, str], str]:
    ids = {s.id: sid for sid, s in world.students.items()}
    rows = _db.session.execute(sa.select(attendance_days.c.student_id, attendance_days.c.day, attendance_days.c.status)
                               .where(attendance_days.c.student_id.in_(ids))).all()
    return {(ids[student], day.isoformat()): status for student, day, status in rows}


def student(state_id: str) -> Student | None:
    return _db.session.scalar(sa.select(Student).where(Student.state_id == state_id))


# InterchangeStudentAttendance

ATTENDANCE_3_2 = {
    ("604821", "2026-09-01"): "present", ("604821", "2026-09-02"): "excused", ("604821", "2026-09-03"): "unexcused",
    ("604822", "2026-09-01"): "tardy", ("604822", "2026-09-02"): "tardy", ("604822", "2026-09-03"): "tardy",
    ("604823", "2026-09-01"): "present", ("604823", "2026-09-02"): "unexcused",
}


def test_attendance_events_become_days_row_by_row(world):
    outcome = imported(world, "StudentSchoolAttendance-3.2.xml")
    assert days_of(world) == ATTENDANCE_3_2
    assert outcome.batch.rows_read == len(ATTENDANCE_3_2)
    assert any("1 StudentSectionAttendanceEvent element skipped" in w.message for w in outcome.warnings)
    again = imported(world, "StudentSchoolAttendance-3.2.xml")
    assert (again.batch.rows_inserted, again.batch.rows_updated) == (0, 0)
    assert days_of(world) == ATTENDANCE_3_2


@pytest.mark.parametrize("namespace", ["http://ed-fi.org/4.0.0", "http://ed-fi.org/5.2.0", "http://ed-fi.org/0200", None])
def test_every_data_standard_namespace_reads_alike(world, namespace):
    text = (CORPUS / "StudentSchoolAttendance-3.2.xml").read_text()
    replaced = text.replace(' xmlns="http://ed-fi.org/3.2.0-c"', f' xmlns="{namespace}"' if namespace else "")
    assert replaced != text
    imported(world, "attendance.xml", replaced)
    assert days_of(world) == ATTENDANCE_3_2


def test_data_standard_2_descriptors_with_code_values(world):
    text = (CORPUS / "StudentSchoolAttendance-3.2.xml").read_text()
    text = re.sub(r"<AttendanceEventCategory>uri://ed-fi.org/AttendanceEventCategoryDescriptor#([^<]+)<",
                  r"<AttendanceEventCategory><CodeValue>\1</CodeValue><Namespace>"
                  r"http://www.ed-fi.org/Descriptor/AttendanceEventCategoryDescriptor.xml</Namespace><", text)
    assert "<CodeValue>Excused Absence</CodeValue>" in text
    imported(world, "attendance-2.0.xml", text)
    assert days_of(world) == ATTENDANCE_3_2


def test_unknown_descriptors_are_refused_by_name_then_mapped(world, app):
    name = "StudentSchoolAttendance-unknown-descriptors.xml"
    sick = "uri://lvusd.example.org/AttendanceEventCategoryDescriptor#Sick"
    outcome = refused(
        world, name,
        f"StudentSchoolAttendanceEvent 2 (line {element_line(name, 'StudentSchoolAttendanceEvent', 2)}), "
        f"AttendanceEvent/AttendanceEventCategory: attendance event category '{sick}' is not one casemgr knows "
        "(and 1 more StudentSchoolAttendanceEvent elements); a district admin maps it with: "
        f"casemgr edfi-map '{sick}' STATUS",
        f"StudentSchoolAttendanceEvent 4 (line {element_line(name, 'StudentSchoolAttendanceEvent', 4)})",
        f"'{AEC}Out-of-school suspension' is not one casemgr knows")
    assert outcome.batch.error_count == 2  # one error per descriptor, not per event
    runner = app.test_cli_runner()
    for descriptor, status in (("Sick", "excused"), (f"{AEC}Out-of-school suspension", "SUSPENDED")):
        result = runner.invoke(cli, ["edfi-map", descriptor, status, "--district", world.district.code])
        assert result.exit_code == 0 and "Mapped" in result.output, result.output
    imported(world, name)
    assert days_of(world) == {("604821", "2026-09-08"): "present", ("604821", "2026-09-09"): "excused",
                              ("604822", "2026-09-09"): "excused", ("604823", "2026-09-09"): "suspended"}


def test_a_district_mapping_wins_over_a_default(world, app):
    result = app.test_cli_runner().invoke(cli, ["edfi-map", f"{AEC}Partial", "unexcused", "--district",
                                                world.district.code])
    assert result.exit_code == 0, result.output
    imported(world, "StudentSchoolAttendance-3.2.xml")
    assert days_of(world) == {**ATTENDANCE_3_2, ("604822", "2026-09-03"): "unexcused"}


def test_edfi_map_cli_lists_changes_and_refuses_unknown_statuses(world, app):
    runner = app.test_cli_runner()
    district = ["--district", world.district.code]
    result = runner.invoke(cli, ["edfi-map", *district])
    assert result.exit_code == 0 and "No mappings yet" in result.output
    assert runner.invoke(cli, ["edfi-map", "Sick", "excused", *district]).exit_code == 0
    result = runner.invoke(cli, ["edfi-map", "SICK", "unexcused", *district])
    assert result.exit_code == 0 and "Changed: SICK -> unexcused" in result.output
    result = runner.invoke(cli, ["edfi-map", *district])
    assert result.output.strip() == "SICK -> unexcused"
    result = runner.invoke(cli, ["edfi-map", "Sick", "absent", *district])
    assert result.exit_code != 0 and "unknown status 'absent'; the statuses are: present, tardy" in result.output
    result = runner.invoke(cli, ["edfi-map", "Sick", *district])
    assert result.exit_code != 0 and "give the status" in result.output
    assert "Traceback" not in result.output


def test_an_event_for_an_unknown_student_or_school_is_refused_in_edfi_terms(world):
    name = "StudentSchoolAttendance-unknown-student.xml"
    outcome = refused(
        world, name,
        f"StudentSchoolAttendanceEvent 2 (line {element_line(name, 'StudentSchoolAttendanceEvent', 2)}), "
        "StudentReference/StudentIdentity/StudentUniqueId: student 699999 is not in casemgr",
        f"StudentSchoolAttendanceEvent 3 (line {element_line(name, 'StudentSchoolAttendanceEvent', 3)}), "
        "SchoolReference/SchoolIdentity/SchoolId: school 255909999 is not in casemgr")
    described = text_of(outcome)
    assert "state_id" not in described and "school_code" not in described and "row " not in described


def test_the_kinds_own_checks_are_told_in_edfi_terms(world):
    name = "StudentSchoolAttendance-3.2.xml"
    text = (CORPUS / name).read_text().replace("<EventDate>2026-09-03</EventDate>", "<EventDate>2026-09-31</EventDate>", 1)
    text = text.replace("<EventDate>2026-09-02</EventDate>", "<EventDate>2026-09-05</EventDate>", 1)
    outcome = refused(world, name, text=text)
    assert [e.describe() for e in outcome.errors] == [
        f"StudentSchoolAttendanceEvent 2 (line {element_line(name, 'StudentSchoolAttendanceEvent', 2)}), "
        "AttendanceEvent/EventDate: 2026-09-05 is not a school day at 255901001",
        f"StudentSchoolAttendanceEvent 3 (line {element_line(name, 'StudentSchoolAttendanceEvent', 3)}), "
        "AttendanceEvent/EventDate: '2026-09-31' is not a date (write it as YYYY-MM-DD)",
    ]


def test_the_same_day_twice_names_both_events(world):
    name = "StudentSchoolAttendance-same-day-twice.xml"
    first, second = (element_line(name, "StudentSchoolAttendanceEvent", n) for n in (1, 2))
    refused(world, name, f"StudentSchoolAttendanceEvent 2 (line {second}): given twice",
            f"the same as StudentSchoolAttendanceEvent 1 (line {first})")


# InterchangeStudent and InterchangeStudentEnrollment

def test_students_are_updated_or_kept_until_their_association(world):
    outcome = imported(world, "Student-5.2.xml")
    lisa = student("604822")
    assert (lisa.first_name, lisa.middle_name, lisa.last_name, lisa.preferred_name, lisa.birth_date, lisa.gender) == (
        "Lisette", "Ana", "Okonkwo-Barros", "Lis", date(2010, 4, 2), "Female")
    assert (lisa.school_id, lisa.grade, lisa.local_id) == (world.school.id, 9, "L604822")  # kept
    assert student("604830") is None and student("604831") is None
    held = _db.session.execute(sa.select(EdFiStudent.student_unique_id, EdFiStudent.first_name, EdFiStudent.middle_name,
                                         EdFiStudent.last_name, EdFiStudent.birth_date, EdFiStudent.sex)
                               .where(EdFiStudent.district_id == world.district.id)
                               .order_by(EdFiStudent.student_unique_id)).all()
    assert held == [("604830", "Mateo", None, "Quispe", date(2011, 1, 19), "Male"),
                    ("604831", "Noor", "Layla", "Haddad", date(2010, 11, 30), None)]
    warnings = " | ".join(w.message for w in outcome.warnings)
    assert "2 students not in casemgr yet" in warnings and "1 Person element skipped" in warnings
    assert outcome.batch.rows_read == 3

    outcome = imported(world, "StudentEnrollment-4.0.xml")
    mateo, noor, lisa = student("604830"), student("604831"), student("604822")
    assert (mateo.first_name, mateo.last_name, mateo.birth_date, mateo.gender, mateo.grade, mateo.school_id,
            mateo.local_id) == ("Mateo", "Quispe", date(2011, 1, 19), "Male", 9, world.school.id, "604830")
    assert (noor.grade, noor.school_id, noor.middle_name) == (0, world.other_school.id, "Layla")
    assert (lisa.grade, lisa.school_id, lisa.first_name) == (10, world.school.id, "Lisette")
    stays = _db.session.execute(sa.select(Student.state_id, SchoolEnrollment.school_id, SchoolEnrollment.entry_date,
                                          SchoolEnrollment.exit_date, SchoolEnrollment.grade).join(Student)
                                .order_by(Student.state_id)).all()
    # each stay in the entry grade level the association gives
    assert stays == [("604822", world.school.id, date(2026, 10, 5), None, 10),
                     ("604830", world.school.id, date(2026, 8, 20), None, 9),
                     ("604831", world.other_school.id, date(2026, 8, 20), date(2026, 11, 20), 0)]
    assert count(EdFiStudent) == 0  # placed students are no longer kept aside
    warnings = " | ".join(w.message for w in outcome.warnings)
    assert "1 earlier StudentSchoolAssociation element of students with a later one skipped" in warnings
    assert "1 StudentEducationOrganizationAssociation element skipped" in warnings


def test_optional_elements_left_out_keep_what_casemgr_has(world):
    lisa = world.students["604822"]
    lisa.middle_name, lisa.preferred_name, lisa.gender = "Ana", "Lis", "Female"
    _db.session.flush()
    text = (CORPUS / "Student-bad-3.2.xml").read_text()
    student_3_2 = text[:text.index("  <Student>")] + """  <Student>
    <StudentUniqueId>604822</StudentUniqueId>
    <Name>
      <FirstName>Lisette</FirstName>
      <LastSurname>Okonkwo</LastSurname>
    </Name>
    <BirthData>
      <BirthDate>2010-04-02</BirthDate>
    </BirthData>
  </Student>
</InterchangeStudent>
"""
    outcome = imported(world, "Student-3.2.xml", student_3_2)
    assert (outcome.batch.rows_read, outcome.batch.rows_updated) == (1, 1)
    _db.session.refresh(lisa)
    assert (lisa.first_name, lisa.last_name, lisa.middle_name, lisa.preferred_name, lisa.gender) == (
        "Lisette", "Okonkwo", "Ana", "Lis", "Female")


def test_associations_for_unknown_students_and_grades_are_refused(world):
    name = "StudentEnrollment-unknown.xml"
    refused(world, name,
            f"StudentSchoolAssociation 1 (line {element_line(name, 'StudentSchoolAssociation', 1)}), "
            "StudentReference/StudentIdentity/StudentUniqueId: student 604840 is not in casemgr: import the "
            "InterchangeStudent file that describes them first",
            f"StudentSchoolAssociation 2 (line {element_line(name, 'StudentSchoolAssociation', 2)}), EntryGradeLevel: "
            "grade level 'uri://ed-fi.org/GradeLevelDescriptor#Grade 13' is not one casemgr knows")


def test_bad_students_are_refused_naming_the_element(world):
    name = "Student-bad-3.2.xml"
    refused(world, name,
            f"Student 1 (line {element_line(name, 'Student', 1)}), BirthData/BirthDate: '2010-02-30' is not a date",
            f"Student 2 (line {element_line(name, 'Student', 2)}), StudentUniqueId: StudentUniqueId is missing or empty")


# what is not an interchange casemgr reads

@pytest.mark.parametrize(("name", "message"), [
    ("malformed.xml", "the file is not well-formed XML: line 17: Opening and ending tag mismatch: SchoolReference "
                      "line 13 and SchoolRef"),
    ("billion-laughs.xml", "the file declares a DTD (<!DOCTYPE …>): casemgr refuses XML with a DTD or entities"),
    ("external-entity.xml", "the file declares a DTD (<!DOCTYPE …>)"),
    ("undeclared-entity.xml", "the file is not well-formed XML: line 6: Entity 'nbsp' not defined"),
    ("not-edfi.xml", "this is XML; casemgr imports CSV, OneRoster 1.1 bundles and Ed-Fi interchange files "
                     "(this file's root element is <attendance>)"),
    ("InterchangeFinance.xml", "this is an Ed-Fi InterchangeFinance file; casemgr imports InterchangeStudent, "
                               "InterchangeStudentEnrollment, InterchangeStudentAttendance files"),
])
def test_unreadable_files_are_refused_in_one_line(world, name, message):
    outcome = refused(world, name, message)
    assert outcome.unreadable and len(outcome.errors) == 1
    assert "\n" not in outcome.errors[0].describe()


def test_a_csv_file_given_as_edfi(world):
    outcome = refused(world, "attendance.csv", "this is not XML: an edfi import takes an Ed-Fi interchange file",
                      text="state_id,school_code,date,status\n604821,255901001,2026-09-01,present\n")
    assert outcome.unreadable


@pytest.mark.parametrize("kind", ["attendance", "students"])
def test_xml_given_to_a_csv_kind(world, kind):
    before = snapshot()
    outcome = run(world, "not-edfi.xml", kind=kind)
    assert outcome.unreadable and snapshot() == before
    assert text_of(outcome) == "file: this is XML; casemgr imports CSV, OneRoster 1.1 bundles and Ed-Fi interchange files"
    outcome = run(world, "StudentSchoolAttendance-3.2.xml", kind=kind)
    assert "this is an Ed-Fi InterchangeStudentAttendance file; import it as edfi" in text_of(outcome)


def test_cli_imports_an_interchange_and_reports_refusals_in_edfi_terms(world, app):
    runner = app.test_cli_runner()
    district = ["--district", world.district.code]
    result = runner.invoke(cli, ["import", "edfi", str(CORPUS / "StudentSchoolAttendance-3.2.xml"), *district])
    assert result.exit_code == 0, result.output
    assert "8 rows read, 8 inserted, 0 updated" in result.output
    assert "warning: StudentSectionAttendanceEvent: 1 StudentSectionAttendanceEvent element skipped" in result.output
    result = runner.invoke(cli, ["import", "edfi", str(CORPUS / "StudentSchoolAttendance-unknown-student.xml"),
                                 *district])
    assert result.exit_code == 1
    assert "StudentSchoolAttendanceEvent 2 (line" in result.output and "Traceback" not in result.output
    result = runner.invoke(cli, ["import", "edfi", str(CORPUS / "billion-laughs.xml"), *district])
    assert result.exit_code == 1 and "declares a DTD" in result.output


def test_upload_page_takes_an_interchange(world, client):
    login(client, create_user("district_admin", world.district))
    page = client.get("/admin/imports/")
    assert b'value="edfi"' in page.data
    response = upload(client, (CORPUS / "StudentSchoolAttendance-3.2.xml").read_bytes(), "edfi",
                      filename="attendance.xml")
    assert response.status_code == 200 and b"Imported." in response.data, response.data[:2000]
    assert days_of(world) == ATTENDANCE_3_2
    response = upload(client, (CORPUS / "malformed.xml").read_bytes(), "edfi", filename="malformed.xml")
    assert b"not well-formed XML: line 17" in response.data
    batch = _db.session.scalar(sa.select(ImportBatch).order_by(ImportBatch.id.desc()).limit(1))
    assert batch.kind == "edfi" and batch.status == "rejected"


# the reader on its own

def test_a_large_interchange_is_read_in_bounded_memory(tmp_path):
    """100,000 events (90 MB): read as a whole tree they take ~700 MB; streamed and
    cleared, the reader's process stays far below that."""
    from tests.edfi_files import write_attendance

    path = tmp_path / "year.xml"
    with path.open("wb") as out:
        rows = ((f"S{n % 5000:06d}", "255901001", "2026-09-01", "present") for n in range(100_000))
        assert write_attendance(out, rows, 2026) == 100_000
    script = (
        "import sys\n"
        "from casemgr.importers.edfi_xml import open_interchange\n"
        "with open(sys.argv[1], 'rb') as f:\n"
        "    n = sum(1 for r in open_interchange(f).records() if r.text('AttendanceEvent/EventDate'))\n"
        "print(n)\n")
    # measured as a process of its own (a child forked from pytest would count pytest's memory)
    done = run_measured([sys.executable, "-c", script, str(path)],
                        {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == 100_000
    assert done.peak_mb < 250, f"peak memory {done.peak_mb:.0f} MB"


@pytest.mark.parametrize(("first", "root"), [
    (b'<?xml version="1.0"?>\n<InterchangeStudent xmlns="http://ed-fi.org/5.2.0">', "InterchangeStudent"),
    (b'\xef\xbb\xbf<?xml version="1.0"?><!-- export --><edfi:InterchangeStudentAttendance xmlns:edfi="x">',
     "InterchangeStudentAttendance"),
    ('\ufeff<?xml version="1.0" encoding="UTF-16"?>\n<InterchangeStudentEnrollment>'.encode("utf-16-le"),
     "InterchangeStudentEnrollment"),
    (b'<!DOCTYPE x [<!ENTITY a "b">]><x/>', ""),
    (b"state_id,school_code,date,status\n", None),
    (b"", None),
    (b"<<<,a,b\n", None),
])
def test_xml_is_told_from_csv_by_its_first_bytes(first, root):
    from casemgr.importers.edfi_xml import xml_root

    assert xml_root(first) == root


@pytest.mark.parametrize(("descriptor", "grade"), [
    ("uri://ed-fi.org/GradeLevelDescriptor#Ninth grade", 9), ("Kindergarten", 0), ("Prekindergarten", -1),
    ("uri://district.example.org/GradeLevelDescriptor#09", 9), ("12", 12), ("Grade 13", None), ("Postsecondary", None),
    ("Ungraded", None),
])
def test_grade_levels(descriptor, grade):
    from casemgr.importers.edfi_map import grade as grade_of

    assert grade_of(descriptor) == grade
