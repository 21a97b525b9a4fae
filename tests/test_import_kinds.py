"""Each import kind with a good file, a re-import (changes nothing) and bad files
(nothing written). The world below is reused by the other test_import_* modules."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from casemgr import importers
from casemgr.clock import today
from casemgr.extensions import db as _db
from casemgr.attendance import attendance_days
from casemgr.models import (
    Assessment, CalendarDay, CourseMark, CreditRecord, DisciplineIncident, FafsaRecord, Guardian,
    GuardianLink, ImportBatch, SchoolEnrollment, Section, SectionEnrollment, Student, User,
)
from tests.factories import create_calendar, create_district, create_school, create_school_year, create_student, create_user


@dataclass
class World:
    district: object
    school: object
    other_school: object
    year: int
    days: list
    students: list
    teacher: object


def school_days(start: date, end: date) -> list[date]:
    days, day = [], start
    while day <= end:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def build_world() -> World:
    now = today()
    year = now.year if now.month >= 8 else now.year - 1
    district = create_district()
    school = create_school(district)
    other = create_school(district)
    create_school_year(district, year)
    days = school_days(date(year, 8, 20), min(now, date(year + 1, 6, 20)))
    create_calendar(school, days, year)
    create_calendar(other, days, year)
    students = [create_student(school, state_id=f"IMP{n:05d}{district.id}", local_id=f"LOC{n}") for n in range(3)]
    teacher = create_user("teacher", school)
    return World(district, school, other, year, days, students, teacher)


@pytest.fixture()
def world(db):
    return build_world()


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def run(world: World, kind: str, raw: bytes, dry_run: bool = False) -> importers.Outcome:
    return importers.import_file(kind, raw, f"{kind}.csv", world.district, dry_run=dry_run)


def count(model) -> int:
    return _db.session.scalar(sa.select(sa.func.count()).select_from(model))


def assert_imported(world, kind, raw, model, inserted, updated=0):
    outcome = run(world, kind, raw)
    assert outcome.ok, [e.describe() for e in outcome.errors]
    assert (outcome.batch.rows_inserted, outcome.batch.rows_updated) == (inserted, updated)
    again = run(world, kind, raw)
    assert again.ok and (again.batch.rows_inserted, again.batch.rows_updated) == (0, 0)
    return outcome


def assert_rejected(world, kind, raw, model, *messages, row=None):
    before = count(model)
    outcome = run(world, kind, raw)
    assert outcome.batch.status == "rejected", "the file was not rejected"
    assert count(model) == before
    text = " | ".join(e.describe() for e in outcome.errors)
    for message in messages:
        assert message in text, text
    if row is not None:
        assert any(e.row == row for e in outcome.errors), text
    return outcome


@pytest.fixture(autouse=True)
def _recorded_recompute(monkeypatch):
    """The real recompute runs when it exists; calls are recorded either way."""
    from casemgr import indicators

    calls = []
    real = indicators.recompute

    def recorder(district_id=None, as_of=None):
        calls.append(district_id)
        try:
            return real(district_id=district_id, as_of=as_of)
        except NotImplementedError:
            return []

    monkeypatch.setattr(indicators, "recompute", recorder)
    return calls


def test_students(world):
    s = world.school.code
    raw = csv_bytes(
        "state_id,local_id,school_code,first_name,last_name,birth_date,grade,low_income,entry_date",
        f"NEW1,N1,{s},Ana,Ruiz,2010-03-04,9,yes,{world.days[0]}",
        f"NEW2,N2,{s},Ben,Okafor,2009-12-31,10,no,",
    )
    assert_imported(world, "students", raw, Student, 3)  # two students and one school stay
    ana = _db.session.scalar(sa.select(Student).where(Student.state_id == "NEW1"))
    assert ana.low_income and ana.grade == 9 and ana.district_id == world.district.id
    assert count(SchoolEnrollment) >= 1
    stay = _db.session.scalar(sa.select(SchoolEnrollment).where(SchoolEnrollment.student_id == ana.id))
    assert (stay.school_year, stay.grade) == (world.year, 9)  # the student's grade at import
    changed = raw.replace(b"Okafor", b"Okafor-Smith")
    outcome = run(world, "students", changed)
    assert (outcome.batch.rows_inserted, outcome.batch.rows_updated) == (0, 1)


def test_students_bad_rows(world):
    s = world.school.code
    future = (today() + timedelta(days=3)).isoformat()
    raw = csv_bytes(
        "state_id,local_id,school_code,first_name,last_name,birth_date,grade",
        f"X1,L9,{s},Ana,Ruiz,2010-13-04,9",
        f"X2,L8,NOPE,Ben,Okafor,2010-01-01,9",
        f"X3,L7,{s},Cy,Doe,{future},15",
        f"X1,L6,{s},Di,Doe,2010-01-01,9",
        f"X5,{world.students[0].local_id},{s},Ed,Doe,2010-01-01,9",
    )
    assert_rejected(world, "students", raw, Student, "row 2, birth_date: '2010-13-04' is not a date",
                    "row 3, school_code: unknown school 'NOPE'", "row 4, birth_date:", "is in the future",
                    "row 4, grade: 15 is out of range", "row 5: duplicate key (state_id): the same as row 2",
                    "already belongs to the student with state ID")


def test_guardians(world):
    st = world.students
    raw = csv_bytes(
        "guardian_id,first_name,last_name,email,preferred_language,state_id,relation,educational_rights",
        f"G1,Maria,Ruiz,Maria@Example.org,es,{st[0].state_id},mother,true",
        f"G1,Maria,Ruiz,Maria@Example.org,es,{st[1].state_id},mother,true",
        f"G2,Jo,Ruiz,,,{st[0].state_id},father,false",
    )
    assert_imported(world, "guardians", raw, Guardian, 5)  # 2 guardians + 3 links
    maria = _db.session.scalar(sa.select(Guardian).where(Guardian.local_id == "G1", Guardian.district_id == world.district.id))
    assert maria.email == "maria@example.org" and maria.preferred_language == "es"
    bad = csv_bytes(
        "guardian_id,first_name,last_name,state_id,relation",
        "G1,Maria,Ruiz,NOBODY,aunt",
    )
    assert_rejected(world, "guardians", bad, GuardianLink, "unknown student 'NOBODY'", "'aunt' is not one of", row=2)


def test_calendar(world):
    s = world.school.code
    later = world.days[-1] + timedelta(days=7)
    raw = csv_bytes("school_code,date,instructional", f"{s},{later},true", f"{s},{world.days[0]},false")
    assert_imported(world, "calendar", raw, CalendarDay, 1, 1)
    assert_rejected(world, "calendar", csv_bytes("school_code,date", f"{s},2026-02-30", "ZZ,2026-09-01"),
                    CalendarDay, "row 2, date: '2026-02-30' is not a date", "row 3, school_code: unknown school 'ZZ'")


def test_sections_and_enrollments(world):
    s, y = world.school.code, world.year
    raw = csv_bytes(
        "school_code,school_year,section_id,course_code,course_title,subject,term,credits,teacher_email",
        f"{s},{y},ALG1-01,MA101,Algebra I,math,year,1.0,{world.teacher.email.upper()}",
        f"{s},{y},ENG9-02,EN101,English 9,English,S1,0.5,",
    )
    assert_imported(world, "sections", raw, Section, 2)
    algebra = _db.session.scalar(sa.select(Section).where(Section.local_id == "ALG1-01"))
    assert algebra.teacher_id == world.teacher.id and algebra.subject == "math"
    enrol = csv_bytes(
        "school_code,school_year,section_id,state_id,entry_date,exit_date",
        f"{s},{y},ALG1-01,{world.students[0].state_id},{world.days[0]},",
        f"{s},{y},ENG9-02,{world.students[0].state_id},{world.days[0]},{world.days[1]}",
    )
    assert_imported(world, "section_enrollments", enrol, SectionEnrollment, 2)
    bad = csv_bytes(
        "school_code,school_year,section_id,state_id,entry_date",
        f"{s},{y},NOPE-1,{world.students[0].state_id},{world.days[0]}",
        f"{s},{y},ALG1-01,{world.students[1].state_id},{y + 3}-09-01",
    )
    assert_rejected(world, "section_enrollments", bad, SectionEnrollment, "row 2, section_id: unknown section 'NOPE-1'",
                    "row 3, entry_date:", "is outside school year")
    assert_rejected(world, "sections", csv_bytes(
        "school_code,school_year,section_id,course_code,course_title,subject,teacher_email",
        f"{s},{y},X-1,C1,Art,painting,nobody@example.test"), Section, "'painting' is not one of",
        "no teacher of this school has the email nobody@example.test")


def test_attendance(world, _recorded_recompute):
    s, st, d = world.school.code, world.students, world.days
    raw = csv_bytes(
        "state_id,school_code,date,status",
        f"{st[0].state_id},{s},{d[0]},present", f"{st[0].state_id},{s},{d[1]},Unexcused",
        f"{st[1].state_id},{s},{d[0]},tardy",
    )
    assert_imported(world, "attendance", raw, attendance_days, 3)
    assert _recorded_recompute == [world.district.id] * 2
    outcome = run(world, "attendance", raw.replace(b"tardy", b"excused"))
    assert (outcome.batch.rows_inserted, outcome.batch.rows_updated) == (0, 1)


def test_attendance_bad_rows(world):
    s, st, d = world.school.code, world.students, world.days
    saturday = next(d[0] + timedelta(days=n) for n in range(7) if (d[0] + timedelta(days=n)).weekday() == 5)
    future = today() + timedelta(days=2)
    raw = csv_bytes(
        "state_id,school_code,date,status",
        f"{st[0].state_id},{s},{saturday},present",
        f"{st[0].state_id},{s},{future},present",
        f"{st[0].state_id},{s},{world.year - 3}-10-01,present",
        f"{st[0].state_id},{s},{d[0]},here",
        f"NOBODY,{s},{d[0]},present",
        f"{st[1].state_id},{s},{d[0]},present",
        f"{st[1].state_id},{s},{d[0]},absent",
    )
    assert_rejected(world, "attendance", raw, attendance_days, f"row 2, date: {saturday} is not a school day at {s}",
                    "row 3, date:", "is in the future", "row 4, date:", "is outside every school year",
                    "row 5, status: 'here' is not one of: present, tardy, excused, unexcused, suspended",
                    "row 6, state_id: unknown student 'NOBODY'", "row 8: duplicate key (state_id, date): the same as row 7")


def test_marks_and_credits(world):
    s, y, st = world.school.code, world.year, world.students
    run(world, "sections", csv_bytes("school_code,school_year,section_id,course_code,course_title,subject",
                                     f"{s},{y},ALG1-01,MA101,Algebra I,math"))
    raw = csv_bytes(
        "state_id,school_code,school_year,section_id,term,mark,failing,credits_attempted,credits_earned,recorded_on",
        f"{st[0].state_id},{s},{y},ALG1-01,Q1,F,,0,0,{world.days[-1]}",
        f"{st[1].state_id},{s},{y},ALG1-01,Q1,72,,0,0,{world.days[-1]}",
        f"{st[1].state_id},{s},{y},ALG1-01,FINAL,B,false,1,1,{world.days[-1]}",
    )
    assert_imported(world, "marks", raw, CourseMark, 3)
    failing = dict(_db.session.execute(sa.select(CourseMark.mark, CourseMark.failing)).all())
    assert failing["F"] is True and failing["72"] is False
    assert_rejected(world, "marks", raw.replace(b"FINAL,B,false,1,1", b"FINAL,B,false,1,2"), CourseMark,
                    "row 4, credits_earned: 2 credits earned is more than the 1 attempted")
    credits = csv_bytes("state_id,school_year,grade,credits_attempted,credits_earned", f"{st[0].state_id},{y - 1},9,6,5.5")
    assert_imported(world, "credits", credits, CreditRecord, 1)


def test_assessments_fafsa_discipline(world):
    s, y, st, d = world.school.code, world.year, world.students, world.days
    assert_imported(world, "assessments", csv_bytes(
        "state_id,test_code,administered_on,subject,scale_score,performance_level",
        f"{st[0].state_id},STATE-MATH-9,{d[2]},math,2450,3"), Assessment, 1)
    assert_rejected(world, "assessments", csv_bytes(
        "state_id,test_code,administered_on,subject,performance_level",
        f"{st[0].state_id},T,{d[2]},math,7"), Assessment, "row 2, performance_level: 7 is out of range")
    assert_imported(world, "fafsa", csv_bytes("state_id,school_year,status,status_date",
                                              f"{st[0].state_id},{y},submitted,{d[3]}"), FafsaRecord, 1)
    assert_rejected(world, "fafsa", csv_bytes("state_id,school_year,status,status_date",
                                              f"{st[0].state_id},{y},maybe,{d[3]}"), FafsaRecord,
                    "row 2, status: 'maybe' is not one of: not_started, submitted, incomplete, complete")
    assert_imported(world, "discipline", csv_bytes(
        "school_code,incident_code,state_id,occurred_on,incident_type,action,days",
        f"{s},INC-1,{st[0].state_id},{d[4]},Fighting,out_of_school_suspension,2"), DisciplineIncident, 1)
    assert_rejected(world, "discipline", csv_bytes(
        "school_code,incident_code,state_id,occurred_on,incident_type,action",
        f"{s},INC-2,{st[0].state_id},{d[4]},Fighting,caning"), DisciplineIncident, "'caning' is not one of")


def test_every_import_is_recorded(world):
    before = count(ImportBatch)
    run(world, "fafsa", b"nonsense\n1\n")
    run(world, "fafsa", csv_bytes("state_id,school_year,status,status_date", f"{world.students[0].state_id},{world.year},complete,{world.days[0]}"))
    batches = _db.session.scalars(sa.select(ImportBatch).order_by(ImportBatch.id.desc()).limit(2)).all()
    assert count(ImportBatch) == before + 2
    assert [b.status for b in batches] == ["succeeded", "rejected"]
    assert batches[1].errors and batches[1].file_sha256 and batches[1].finished_at
