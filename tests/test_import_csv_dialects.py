"""CSV files as districts write them: Windows and mixed line endings, a byte-order
mark, quoted values with line breaks, header names in any case or with spaces; errors
that name the file's own columns and the rows a spreadsheet shows."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from casemgr.attendance import attendance_days
from casemgr.extensions import db as _db
from casemgr.importers.source import CsvFile, read_csv
from casemgr.models import DisciplineIncident, FafsaRecord, ImportBatch, SectionEnrollment, Student
from tests.factories import create_user
from tests.helpers import login
from tests.test_import_cli_web import invoke, upload
from tests.test_import_kinds import _recorded_recompute, assert_rejected, count, run, world  # noqa: F401

ATTENDANCE = "state_id,school_code,date,status"
STUDENTS = "state_id,local_id,school_code,first_name,last_name,birth_date,grade"


def lines(*rows: str, end: str = "\n") -> bytes:
    return "".join(row + end for row in rows).encode()


def attendance_rows(world, days: int = 2) -> list[str]:
    return [f"{s.state_id},{world.school.code},{d},present" for s in world.students for d in world.days[:days]]


def student_rows(world) -> list[str]:
    s = world.school.code
    return [f"NEW1,N1,{s},Ana,Ruiz,2010-03-04,9", f"NEW2,N2,{s},Ben,Okafor,2009-12-31,10",
            f"NEW3,N3,{s},Cy,Doe,2011-01-02,8"]


def stored_students():
    return dict(_db.session.execute(sa.select(Student.state_id, Student.last_name).where(Student.state_id.like("NEW%"))).all())


def stored_attendance() -> int:
    return count(attendance_days)


def test_a_windows_students_file_imports(world):
    outcome = run(world, "students", lines(STUDENTS, *student_rows(world), end="\r\n"))
    assert outcome.ok, [e.describe() for e in outcome.errors]
    assert outcome.batch.rows_inserted == 3
    assert stored_students() == {"NEW1": "Ruiz", "NEW2": "Okafor", "NEW3": "Doe"}


def test_a_windows_attendance_file_imports_on_the_fast_path(world):
    outcome = run(world, "attendance", lines(ATTENDANCE, *attendance_rows(world), end="\r\n"))
    assert outcome.ok, [e.describe() for e in outcome.errors]
    assert outcome.batch.rows_inserted == 6 and stored_attendance() == 6
    statuses = set(_db.session.scalars(sa.select(attendance_days.c.status)))
    assert statuses == {"present"}


def test_a_windows_file_without_a_final_line_break(world):
    raw = lines(STUDENTS, *student_rows(world), end="\r\n").rstrip(b"\r\n")
    outcome = run(world, "students", raw)
    assert outcome.ok and outcome.batch.rows_inserted == 3, [e.describe() for e in outcome.errors]
    assert stored_students()["NEW3"] == "Doe"


def test_mixed_line_endings(world):
    rows = attendance_rows(world, days=3)
    raw = (f"{ATTENDANCE}\r\n" + "\r\n".join(rows[:4]) + "\n" + "\n".join(rows[4:7]) + "\r" + "\r\n".join(rows[7:]) + "\n\r\n").encode()
    outcome = run(world, "attendance", raw)
    assert outcome.ok, [e.describe() for e in outcome.errors]
    assert outcome.batch.rows_read == 9 and stored_attendance() == 9


def test_old_mac_line_endings(world):
    outcome = run(world, "students", lines(STUDENTS, *student_rows(world), end="\r"))
    assert outcome.ok and outcome.batch.rows_inserted == 3, [e.describe() for e in outcome.errors]


def test_a_byte_order_mark_with_windows_line_endings_and_a_spaced_header(world):
    raw = b"\xef\xbb\xbf" + lines(" State_ID , School_Code,DATE ,Status", *attendance_rows(world), end="\r\n")
    outcome = run(world, "attendance", raw)
    assert outcome.ok, [e.describe() for e in outcome.errors]
    assert stored_attendance() == 6


def test_header_names_in_any_case_and_with_spaces(world):
    header = "State ID,Local ID,  SCHOOL_CODE  ,First Name,last_NAME,Birth_Date,Grade"
    outcome = run(world, "students", lines(header, *student_rows(world)))
    assert outcome.ok, [e.describe() for e in outcome.errors]
    assert stored_students() == {"NEW1": "Ruiz", "NEW2": "Okafor", "NEW3": "Doe"}
    ana = _db.session.scalar(sa.select(Student).where(Student.state_id == "NEW1"))
    assert (ana.first_name, ana.grade) == ("Ana", 9)


def test_quoted_values_with_line_breaks(world):
    s, st, d = world.school.code, world.students, world.days
    raw = lines(
        "school_code,incident_code,state_id,occurred_on,incident_type,action,description",
        f'{s},INC-1,{st[0].state_id},{d[1]},Fighting,detention,"Pushed in line.\r\nParent called,\r\nsaid ""sorry""."',
        f'{s},INC-2,{st[1].state_id},{d[2]},Tardy,none,"One line\nthen another"',
        f"{s},INC-3,{st[2].state_id},{d[3]},Other,none,",
        end="\r\n",
    )
    outcome = run(world, "discipline", raw)
    assert outcome.ok and outcome.batch.rows_read == 3, [e.describe() for e in outcome.errors]
    stored = dict(_db.session.execute(sa.select(DisciplineIncident.incident_code, DisciplineIncident.description)).all())
    assert stored == {"INC-1": 'Pushed in line.\nParent called,\nsaid "sorry".', "INC-2": "One line\nthen another",
                      "INC-3": None}


def test_rows_after_a_value_with_line_breaks_keep_their_spreadsheet_numbers(world):
    s, st, d = world.school.code, world.students, world.days
    header = "school_code,incident_code,state_id,occurred_on,incident_type,action,description"
    first = f'{s},INC-1,{st[0].state_id},{d[1]},Fighting,detention,"one\r\ntwo\r\nthree"'
    raw = lines(header, first, f"{s},INC-2,{st[1].state_id},{d[2]},Tardy,caning,", f"{s},INC-3,NOBODY,{d[3]},Other,none,",
                end="\r\n")
    outcome = assert_rejected(world, "discipline", raw, DisciplineIncident,
                              "row 3, action: 'caning' is not one of", "row 4, state_id: unknown student 'NOBODY'")
    assert sorted(e.row for e in outcome.errors) == [3, 4]
    too_many = lines(header, first, f"{s},INC-2,{st[1].state_id},{d[2]},Tardy,none,,extra", end="\r\n")
    assert_rejected(world, "discipline", too_many, DisciplineIncident, "row 3: the row has more fields than the header")


def test_not_utf8_after_a_value_with_line_breaks_names_the_spreadsheet_row(world):
    s, st, d = world.school.code, world.students, world.days
    raw = lines("school_code,incident_code,state_id,occurred_on,incident_type,action,description",
                f'{s},INC-1,{st[0].state_id},{d[1]},Fighting,detention,"one\ntwo"', end="\r\n")
    raw += f"{s},INC-2,{st[1].state_id},{d[2]},Tardy,none,Peña\r\n".encode("latin-1")
    outcome = assert_rejected(world, "discipline", raw, DisciplineIncident, "not UTF-8", row=3)
    assert "on row 3" in outcome.errors[0].message


def test_errors_name_the_files_own_columns(world):
    st, d = world.students, world.days
    header = " State ID ,School_Code,Date,STATUS"
    raw = lines(header, f"{st[0].state_id},{world.school.code},{d[0]},here", f"NOBODY,{world.school.code},{d[0]},present",
                f"{st[1].state_id},{world.school.code},,present", f"{st[1].state_id},{world.school.code},{d[1]},present",
                f"{st[1].state_id},{world.school.code},{d[1]},tardy", end="\r\n")
    outcome = assert_rejected(world, "attendance", raw, attendance_days,
                              "row 2, STATUS: 'here' is not one of", "row 3, State ID: unknown student 'NOBODY'",
                              "row 4, Date: Date is required", "row 6: duplicate key (State ID, Date): the same as row 5")
    assert {e.column for e in outcome.errors} == {"STATUS", "State ID", "Date", None}


def test_errors_name_the_files_own_columns_in_a_small_kind(world):
    header = "STATE_ID,Local_ID,School_Code,First_Name,Last_Name,Birth_Date,Grade"
    raw = lines(header, f"X1,L1,NOPE,Ana,Ruiz,2010-13-01,9", f"X2,L2,{world.school.code},,Ruiz,2010-01-01,9")
    assert_rejected(world, "students", raw, Student, "row 2, School_Code: unknown school 'NOPE'",
                    "row 2, Birth_Date: '2010-13-01' is not a date", "row 3, First_Name: First_Name is required")


def test_a_header_name_given_twice_is_refused_by_name(world):
    rows = [f"{s.state_id},{world.school.code},{world.days[0]},present,{s.state_id}" for s in world.students]
    outcome = assert_rejected(world, "attendance", lines("State_ID,school_code,date,status,state_id ", *rows),
                              attendance_days, "row 1, state_id: column 'state_id' appears twice in the header "
                              "(columns A and E: 'State_ID' and 'state_id')")
    assert len(outcome.errors) == 1
    outcome = assert_rejected(world, "students", lines(STUDENTS + ",grade", *(r + ",9" for r in student_rows(world))),
                              Student, "row 1, grade: column 'grade' appears twice in the header (columns G and H)")
    assert stored_students() == {}


def test_an_attendance_file_given_as_students(world):
    outcome = assert_rejected(world, "students", lines(ATTENDANCE, *attendance_rows(world)), Student,
                              "this looks like an attendance file (daily attendance: state_id, school_code, date, status), "
                              "not a students file; import it as attendance")
    assert len(outcome.errors) == 1 and outcome.errors[0].row is None
    assert "unknown column" not in outcome.errors[0].message
    assert stored_attendance() == 0


def test_a_students_file_given_as_attendance(world):
    outcome = assert_rejected(world, "attendance", lines(STUDENTS, *student_rows(world), end="\r\n"), attendance_days,
                              "this looks like a students file")
    assert len(outcome.errors) == 1 and stored_students() == {}


def test_an_enrollments_file_given_as_marks(world):
    s, y = world.school.code, world.year
    raw = lines("School Code,School Year,Section ID,State ID,Entry Date",
                f"{s},{y},ALG1-01,{world.students[0].state_id},{world.days[0]}")
    outcome = assert_rejected(world, "marks", raw, SectionEnrollment, "this looks like a section_enrollments file")
    assert len(outcome.errors) == 1


def test_a_header_near_its_own_kind_still_lists_its_columns(world):
    raw = lines("state_id,school,date,status", f"{world.students[0].state_id},{world.school.code},{world.days[0]},present")
    outcome = assert_rejected(world, "attendance", raw, attendance_days, "row 1, school: unknown column 'school'",
                              "row 1, school_code: missing column 'school_code'")
    assert "looks like" not in " ".join(e.message for e in outcome.errors)


def test_the_command_line_imports_a_windows_file(app, world, tmp_path):
    path = tmp_path / "attendance.csv"
    path.write_bytes(b"\xef\xbb\xbf" + lines("State_ID,School_Code,Date,Status", *attendance_rows(world), end="\r\n"))
    result = invoke(app, "attendance", str(path), "--district", world.district.code)
    assert result.exit_code == 0, result.output
    assert "6 rows read, 6 inserted" in result.output and stored_attendance() == 6


def test_the_command_line_refuses_a_file_of_another_kind(app, world, tmp_path):
    path = tmp_path / "students.csv"
    path.write_bytes(lines(ATTENDANCE, *attendance_rows(world), end="\r\n"))
    result = invoke(app, "students", str(path), "--district", world.district.code)
    assert result.exit_code == 1 and "this looks like an attendance file" in result.output
    assert "Traceback" not in result.output and stored_attendance() == 0


def test_the_upload_page_imports_a_windows_file_and_names_the_files_columns(client, world):
    login(client, create_user("district_admin", world.district))
    response = upload(client, lines(ATTENDANCE, *attendance_rows(world), end="\r\n"))
    assert response.status_code == 200 and "6 inserted" in response.get_data(as_text=True)
    assert stored_attendance() == 6
    bad = lines("State ID,School Code,Date,Status", f"{world.students[0].state_id},{world.school.code},{world.days[3]},here",
                end="\r\n")
    response = upload(client, bad)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Status" in html and "&#39;here&#39; is not one of" in html
    assert stored_attendance() == 6
    batch = _db.session.scalars(sa.select(ImportBatch).order_by(ImportBatch.id.desc())).first()
    assert batch.status == "rejected" and batch.errors[0]["column"] == "Status" and batch.errors[0]["row"] == 2


def test_a_quote_never_closed_names_the_row_where_it_opens(world):
    s, st, d = world.school.code, world.students, world.days
    raw = lines("school_code,incident_code,state_id,occurred_on,incident_type,action,description",
                f'{s},INC-1,{st[0].state_id},{d[1]},Fighting,detention,"one\r\ntwo"',
                f'{s},INC-2,{st[1].state_id},{d[2]},Tardy,none,"never closed', f"{s},INC-3,{st[2].state_id},{d[3]},Other,none,",
                end="\r\n")
    outcome = assert_rejected(world, "discipline", raw, DisciplineIncident, "row 3: a quoted field is not closed")
    assert len(outcome.errors) == 1


def test_a_short_row_names_the_first_column_it_lacks(world):
    raw = lines("State ID,School Code,Date,Status", f"{world.students[0].state_id},{world.school.code},{world.days[0]},present",
                f"{world.students[1].state_id},{world.school.code},{world.days[0]}", end="\r\n")
    assert_rejected(world, "attendance", raw, attendance_days, "row 3, Status: the row has fewer fields than the header")


def good_files(world) -> list[tuple[str, list[str], int]]:
    """A good file of every single-file kind (header, rows, rows inserted), in the order
    they can be imported."""
    s, y, st, d = world.school.code, world.year, world.students, world.days
    return [
        ("students", [STUDENTS + ",entry_date", *(r + f",{d[0]}" for r in student_rows(world))], 6),
        ("guardians", ["guardian_id,first_name,last_name,email,preferred_language,state_id,relation,educational_rights",
                       f"G1,Maria,Ruiz,maria@example.org,es,{st[0].state_id},mother,true",
                       f"G1,Maria,Ruiz,maria@example.org,es,{st[1].state_id},mother,true"], 3),
        ("calendar", ["school_code,date,instructional", f"{s},{d[-1] + timedelta(days=7)},true"], 1),
        ("sections", ["school_code,school_year,section_id,course_code,course_title,subject,term,credits,teacher_email",
                      f"{s},{y},ALG1-01,MA101,\"Algebra I, part 1\",math,year,1.0,{world.teacher.email}"], 1),
        ("section_enrollments", ["school_code,school_year,section_id,state_id,entry_date,exit_date",
                                 f"{s},{y},ALG1-01,{st[0].state_id},{d[0]},"], 1),
        ("attendance", [ATTENDANCE, *attendance_rows(world)], 6),
        ("marks", ["state_id,school_code,school_year,section_id,term,mark,failing,credits_attempted,credits_earned,recorded_on",
                   f"{st[0].state_id},{s},{y},ALG1-01,Q1,F,,0,0,{d[-1]}"], 1),
        ("credits", ["state_id,school_year,grade,credits_attempted,credits_earned", f"{st[0].state_id},{y - 1},9,6,5.5"], 1),
        ("assessments", ["state_id,test_code,administered_on,subject,scale_score,performance_level",
                         f"{st[0].state_id},STATE-MATH-9,{d[2]},math,2450,3"], 1),
        ("fafsa", ["state_id,school_year,status,status_date", f"{st[0].state_id},{y},submitted,{d[3]}"], 1),
        ("discipline", ["school_code,incident_code,state_id,occurred_on,incident_type,action,days,description",
                        f'{s},INC-1,{st[0].state_id},{d[4]},Fighting,out_of_school_suspension,2,"Two lines\nof notes"'], 1),
    ]


def as_windows_saves_it(rows: list[str]) -> bytes:
    """A byte-order mark, CRLF line breaks (none after the last row), header names in
    title case with spaces."""
    header = ",".join(name.replace("_", " ").title() for name in rows[0].split(","))
    return b"\xef\xbb\xbf" + "\r\n".join([header, *(row.replace("\n", "\r\n") for row in rows[1:])]).encode()


def test_every_kind_imports_a_windows_file_as_it_would_the_plain_one(world):
    for kind, rows, inserted in good_files(world):
        outcome = run(world, kind, as_windows_saves_it(rows))
        assert outcome.ok, (kind, [e.describe() for e in outcome.errors])
        assert (outcome.batch.rows_read, outcome.batch.rows_inserted) == (len(rows) - 1, inserted), kind
        plain = run(world, kind, lines(*rows))
        assert plain.ok and (plain.batch.rows_inserted, plain.batch.rows_updated) == (0, 0), kind
    assert count(DisciplineIncident) == 1 and stored_attendance() == 6
    assert _db.session.scalar(sa.select(DisciplineIncident.description)) == "Two lines\nof notes"


def csv_file(tmp_path, raw: bytes) -> CsvFile:
    path = tmp_path / "file.csv"
    path.write_bytes(raw)
    return read_csv(path)


def test_line_breaks_are_made_plain_piece_by_piece_even_when_a_crlf_is_split(tmp_path):
    raw = b'a,b\r\n1,"x\r\ny"\r\n2,3\r4,5\n6,7\r\n\r\n'
    for size in range(1, len(raw) + 2):
        assert b"".join(csv_file(tmp_path, raw).chunks(size)) == b'a,b\n1,"x\ny"\n2,3\n4,5\n6,7\n', size
    assert b"".join(csv_file(tmp_path, b"a,b\n1,2").chunks(2)) == b"a,b\n1,2\n"
    assert b"".join(csv_file(tmp_path, b"\xef\xbb\xbfa,b\n1,2\n\n\n").chunks(3)) == b"a,b\n1,2\n"


def test_every_kinds_header_is_recognised_when_given_as_any_other_kind():
    from casemgr.importers import KINDS
    from casemgr.importers.source import looks_like

    kinds = [kind for kind in KINDS.values() if kind.columns]
    for kind in kinds:
        for names in ({c.name for c in kind.columns}, set(kind.required)):
            for other in kinds:
                takes_it = names <= {c.name for c in other.columns} and set(other.required) <= names
                if other is not kind and not takes_it:
                    assert looks_like(names, other) is kind, (sorted(names), other.name)


def test_the_kind_a_file_looks_like_is_told_in_the_files_own_words(world):
    header = "State ID,School Code,Date,Status"
    raw = lines(header, *attendance_rows(world), end="\r\n")
    assert_rejected(world, "fafsa", raw, FafsaRecord,
                    "this looks like an attendance file (daily attendance: State ID, School Code, Date, Status), "
                    "not a fafsa file; import it as attendance")
    assert stored_attendance() == 0


def test_a_column_without_a_name_is_named_by_its_letter(world):
    rows = [f"{s.state_id},{world.school.code},{world.days[0]},present,," for s in world.students]
    outcome = assert_rejected(world, "attendance", lines("state_id,school_code,date,status,, ", *rows, end="\r\n"),
                              attendance_days, "row 1: column E has no name in the header",
                              "row 1: column F has no name in the header")
    assert len(outcome.errors) == 2


def test_a_windows_file_without_quotes_goes_to_copy_as_it_is(tmp_path):
    windows = csv_file(tmp_path, b"a,b\r\n1,2\r\n3,4")
    assert windows.copy_takes_as_is()
    assert b"".join(windows.chunks(2, plain=False)) == b"a,b\r\n1,2\r\n3,4\r\n"
    assert not csv_file(tmp_path, b'a,b\r\n1,"2"\r\n').copy_takes_as_is()
    assert not csv_file(tmp_path, b"a,b\n1,2\r\n").copy_takes_as_is()


def test_a_windows_file_with_a_unix_line_is_read_again_and_keeps_its_row_numbers(world):
    s = world.school.code
    raw = (f"{STUDENTS}\r\nNEW1,N1,{s},Ana,Ruiz,2010-03-04,9\r\nNEW2,N2,{s},Ben,Okafor,2009-12-31,10\n"
           f"NEW3,N3,NOPE,Cy,Doe,2011-01-02,8\r\n").encode()
    outcome = assert_rejected(world, "students", raw, Student, "row 4, school_code: unknown school 'NOPE'")
    assert len(outcome.errors) == 1
    outcome = run(world, "students", raw.replace(b"NOPE", s.encode()))
    assert outcome.ok and outcome.batch.rows_read == 3, [e.describe() for e in outcome.errors]
    assert stored_students() == {"NEW1": "Ruiz", "NEW2": "Okafor", "NEW3": "Doe"}
    rows = attendance_rows(world, days=3)
    raw = (f"{ATTENDANCE}\r\n" + "\r\n".join(rows[:5]) + "\r" + "\r\n".join(rows[5:]) + "\r\n").encode()
    outcome = run(world, "attendance", raw)
    assert outcome.ok and outcome.batch.rows_inserted == 9 and stored_attendance() == 9


def test_a_row_longer_than_a_megabyte_is_refused_by_its_spreadsheet_row(world):
    rows = student_rows(world)
    long_value = "x" * (1024 * 1024 + 10)
    raw = lines(STUDENTS, rows[0].replace("Ana", '"Ana\nMaria"'), rows[1], rows[2].replace("Doe", long_value),
                end="\r\n")
    outcome = assert_rejected(world, "students", raw, Student, "row 4: row 4 is longer than 1 MB")
    assert len(outcome.errors) == 1 and stored_students() == {}


def test_blank_rows_mid_file_are_no_rows_and_the_others_keep_their_numbers(world):
    rows = student_rows(world)
    for end in ("\r\n", "\n"):
        raw = lines(STUDENTS, rows[0], "", rows[1], ",,,,,,", " , ,,,,,", rows[2].replace("2011-01-02", "2011-02-30"),
                    "", end=end)
        assert_rejected(world, "students", raw, Student, "row 7, birth_date: '2011-02-30' is not a date")
        outcome = run(world, "students", raw.replace(b"2011-02-30", b"2011-01-02"))
        assert outcome.ok and outcome.batch.rows_read == 3, [e.describe() for e in outcome.errors]
    assert stored_students() == {"NEW1": "Ruiz", "NEW2": "Okafor", "NEW3": "Doe"}


def test_a_blank_line_inside_a_quoted_value_is_kept(world):
    s, d, st = world.school.code, world.days, world.students
    raw = lines("school_code,incident_code,state_id,occurred_on,incident_type,action,description", "",
                f'{s},INC-1,{st[0].state_id},{d[1]},Fight,out_of_school_suspension,"First line', "", 'after a blank line"', ",,,,,,")
    outcome = run(world, "discipline", raw)
    assert outcome.ok and outcome.batch.rows_read == 1, [e.describe() for e in outcome.errors]
    assert _db.session.scalar(sa.select(DisciplineIncident.description)) == "First line\n\nafter a blank line"


def test_blank_rows_in_attendance_are_no_rows(world):
    rows = attendance_rows(world)
    for end in ("\r\n", "\n"):
        raw = lines(ATTENDANCE, rows[0], "", *rows[1:3], ",,,", *rows[3:], ",,,", end=end)
        bad = raw.replace(rows[3].encode(), rows[3].replace("present", "here").encode())
        assert_rejected(world, "attendance", bad, attendance_days, "row 7, status: 'here' is not one of")
        outcome = run(world, "attendance", raw)
        assert outcome.ok and outcome.batch.rows_read == len(rows), [e.describe() for e in outcome.errors]
    assert stored_attendance() == len(rows)


def test_a_file_of_blank_rows_has_no_rows(world):
    outcome = assert_rejected(world, "attendance", lines(ATTENDANCE, "", ",,,", end="\r\n"), attendance_days,
                              "the file has a header but no rows")
    assert len(outcome.errors) == 1
    assert_rejected(world, "students", lines(STUDENTS, ",,,,,,", ""), Student, "the file has a header but no rows")


def test_a_space_before_a_quote_still_quotes_the_value(world):
    s, d, st = world.school.code, world.days, world.students
    raw = lines("school_code,incident_code,state_id,occurred_on,incident_type,action,description",
                f"{s},INC-1,{st[0].state_id},{d[1]},Fight,none,Plain", "",
                f'{s},INC-2,{st[0].state_id},{d[2]},Fight,none, "Pushed, then shoved"', end="\r\n")
    outcome = run(world, "discipline", raw)
    assert outcome.ok and outcome.batch.rows_read == 2, [e.describe() for e in outcome.errors]
    assert set(_db.session.scalars(sa.select(DisciplineIncident.description))) == {"Plain", "Pushed, then shoved"}
