"""The OneRoster 1.1 bundle: students, teachers, classes and enrollments."""
from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import sqlalchemy as sa

from casemgr import importers
from casemgr.extensions import db as _db
from casemgr.models import Section, SectionEnrollment, Student, User
from tests.test_import_kinds import _recorded_recompute, count, world  # noqa: F401

EXAMPLE = Path(__file__).resolve().parent.parent / "seed" / "examples" / "oneroster"


def bundle(world, tmp_path: Path, **changes: str) -> bytes:
    """The example bundle, pointed at the test world's school and school year."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for path in EXAMPLE.glob("*.csv"):
            text = path.read_text().replace("LVUSD-H001", world.school.code)
            text = text.replace("2026-", f"{world.year}-").replace("2027-", f"{world.year + 1}-")
            text = changes.get(path.name, lambda t: t)(text) if callable(changes.get(path.name)) else text
            out.writestr(path.name, text)
    return buffer.getvalue()


def test_the_bundle_creates_students_teacher_sections_and_enrollments(world, tmp_path):
    raw = bundle(world, tmp_path)
    outcome = importers.import_file("oneroster", raw, "roster.zip", world.district)
    assert outcome.ok, [e.describe() for e in outcome.errors]
    jamal = _db.session.scalar(sa.select(Student).where(Student.state_id == "OR00000001"))
    assert jamal.grade == 10 and jamal.gender == "male" and jamal.local_id == "OR-2001"
    sofia = _db.session.scalar(sa.select(Student).where(Student.state_id == "OR00000002"))
    assert sofia.ethnicity == "Hispanic or Latino"
    teacher = _db.session.scalar(sa.select(User).where(User.email == "rosa.greene@lvusd.example.org"))
    assert teacher.role == "teacher" and teacher.password_hash is None and teacher.organization_id == world.school.id
    geometry = _db.session.scalar(sa.select(Section).where(Section.local_id == "OR-GEOM-01"))
    assert geometry.teacher_id == teacher.id and geometry.subject == "math" and geometry.school_year == world.year
    assert count(SectionEnrollment) == 3
    again = importers.import_file("oneroster", raw, "roster.zip", world.district)
    assert again.ok and (again.batch.rows_inserted, again.batch.rows_updated) == (0, 0)


def test_a_folder_bundle_from_disk(world, tmp_path):
    folder = tmp_path / "bundle"
    with zipfile.ZipFile(io.BytesIO(bundle(world, tmp_path))) as z:
        z.extractall(folder)
    outcome = importers.import_path("oneroster", folder, world.district)
    assert outcome.ok, [e.describe() for e in outcome.errors]


def test_errors_name_the_bundle_file_and_row(world, tmp_path):
    raw = bundle(world, tmp_path, **{"demographics.csv": lambda t: t.replace("2010-04-22", "22/04/2010")})
    before = count(Student)
    outcome = importers.import_file("oneroster", raw, "roster.zip", world.district)
    assert outcome.batch.status == "rejected" and count(Student) == before
    error = outcome.errors[0]
    # the file, column and row that hold the date, in OneRoster's names
    assert error.row == 2 and error.column == "demographics.csv (birthDate)" and "'22/04/2010' is not a date" in error.message


def test_a_bundle_without_its_files_or_not_a_zip(world, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        out.writestr("manifest.csv", "propertyName,value\noneroster.version,1.1\n")
    outcome = importers.import_file("oneroster", buffer.getvalue(), "roster.zip", world.district)
    assert outcome.batch.status == "rejected"
    assert "the bundle has no users.csv" in " ".join(e.message for e in outcome.errors)
    outcome = importers.import_file("oneroster", b"state_id\n1\n", "roster.csv", world.district)
    assert "must be a .zip" in outcome.errors[0].message
