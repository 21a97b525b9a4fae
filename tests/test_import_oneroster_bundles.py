"""OneRoster 1.1 CSV bundles as the specification allows them: the manifest read first,
files marked absent, optional files and columns left out, roles casemgr does not use,
headers with spaces or a column twice. Each bundle is built here from the example one."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import sqlalchemy as sa

from casemgr import importers
from casemgr.extensions import db as _db
from casemgr.models import Section, SectionEnrollment, Student, User
from tests.test_import_cli_web import invoke
from tests.test_import_kinds import _recorded_recompute, count, world  # noqa: F401

EXAMPLE = Path(__file__).resolve().parent.parent / "seed" / "examples" / "oneroster"


def files(world) -> dict[str, str]:
    """The example bundle's files, pointed at the test world's school and school year."""
    out = {}
    for path in sorted(EXAMPLE.glob("*.csv")):
        text = path.read_text().replace("LVUSD-H001", world.school.code)
        out[path.name] = text.replace("2026-", f"{world.year}-").replace("2027-", f"{world.year + 1}-")
    return out


def zipped(bundle: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for name, text in bundle.items():
            out.writestr(name, text)
    return buffer.getvalue()


def manifest(bundle: dict[str, str], **modes: str) -> None:
    """Set `file.<name>` lines of the manifest (e.g. courses="absent")."""
    lines = bundle["manifest.csv"].splitlines()
    for stem, mode in modes.items():
        lines = [f"file.{stem},{mode}" if line.startswith(f"file.{stem},") else line for line in lines]
    bundle["manifest.csv"] = "\n".join(lines) + "\n"


def run(world, bundle: dict[str, str]) -> importers.Outcome:
    return importers.import_file("oneroster", zipped(bundle), "roster.zip", world.district)


def snapshot():
    return count(Student), count(Section), count(SectionEnrollment), count(User)


def refused(world, bundle: dict[str, str], *messages: str) -> importers.Outcome:
    before = snapshot()
    outcome = run(world, bundle)
    text = " | ".join(e.describe() for e in outcome.errors)
    assert outcome.batch.status == "rejected", "the bundle was not refused"
    assert snapshot() == before
    for message in messages:
        assert message in text, text
    return outcome


def imported(world, bundle: dict[str, str]) -> importers.Outcome:
    outcome = run(world, bundle)
    assert outcome.ok, [e.describe() for e in outcome.errors]
    return outcome


def student(state_id: str) -> Student:
    return _db.session.scalar(sa.select(Student).where(Student.state_id == state_id))


def section(local_id: str) -> Section:
    return _db.session.scalar(sa.select(Section).where(Section.local_id == local_id))


# the manifest


def test_a_version_1_2_bundle_is_refused_in_one_line(world):
    bundle = files(world)
    bundle["manifest.csv"] = bundle["manifest.csv"].replace("oneroster.version,1.1", "oneroster.version,1.2")
    bundle["users.csv"] = bundle["users.csv"].replace("sourcedId,status", "sourcedId,roles,status")  # 1.2 columns
    outcome = refused(world, bundle)
    assert [e.describe() for e in outcome.errors] == [
        "file, manifest.csv: OneRoster version 1.2 is not supported: casemgr imports OneRoster 1.1 CSV"]


def test_a_version_1_0_manifest_is_read(world):
    bundle = files(world)
    bundle["manifest.csv"] = bundle["manifest.csv"].replace("oneroster.version,1.1", "oneroster.version,1.0")
    imported(world, bundle)
    assert student("OR00000001").last_name == "Price"


def test_a_file_marked_absent_is_not_needed(world):
    bundle = files(world)
    manifest(bundle, courses="absent")
    del bundle["courses.csv"]
    imported(world, bundle)
    geometry = section("OR-GEOM-01")
    # without courses.csv the course code and title come from the class
    assert (geometry.course_code, geometry.course_title) == ("GEOM-01", "Geometry - Period 2")
    assert count(SectionEnrollment) == 3


def test_a_file_marked_absent_is_not_read_even_when_supplied(world):
    bundle = files(world)
    manifest(bundle, courses="absent")
    bundle["courses.csv"] = "this is not read\n\x00"
    imported(world, bundle)
    assert section("OR-GEOM-01").course_code == "GEOM-01"


def test_a_file_the_manifest_lists_but_the_bundle_lacks_is_refused_by_name(world):
    bundle = files(world)
    del bundle["courses.csv"]
    refused(world, bundle, "manifest.csv lists courses.csv as bulk, but the bundle has no courses.csv")


def test_a_manifest_mode_that_is_not_absent_bulk_or_delta(world):
    bundle = files(world)
    manifest(bundle, courses="full")
    refused(world, bundle, "file.courses is 'full'; it must be absent, bulk or delta")


def test_classes_without_academic_sessions_are_refused_in_oneroster_words(world):
    bundle = files(world)
    manifest(bundle, academicSessions="absent")
    refused(world, bundle, "classes.csv needs academicSessions.csv for the school year of each class, "
                           "and academicSessions.csv is absent")


def test_a_bundle_without_a_manifest(world):
    bundle = files(world)
    del bundle["manifest.csv"]
    refused(world, bundle, "the bundle has no manifest.csv")


# headers


def test_a_header_with_role_twice_is_refused_by_name(world):
    bundle = files(world)
    bundle["users.csv"] = "\n".join(
        line + ("," + ("role" if n == 0 else "x")) for n, line in enumerate(bundle["users.csv"].splitlines())) + "\n"
    outcome = refused(world, bundle, "row 1, users.csv: the column 'role' appears twice in the header (columns F and S)")
    assert len(outcome.errors) == 1


def test_a_header_with_spaces_after_its_commas(world):
    bundle = files(world)
    for name in ("users.csv", "classes.csv", "enrollments.csv", "manifest.csv"):
        header, _, rest = bundle[name].partition("\n")
        bundle[name] = header.replace(",", ", ") + "\n" + rest
    imported(world, bundle)
    assert student("OR00000002").first_name == "Sofia"
    assert count(SectionEnrollment) == 3


def test_a_folder_with_spaced_headers_from_the_command_line(app, world, tmp_path):
    bundle = files(world)
    manifest(bundle, courses="absent", demographics="bulk")
    del bundle["courses.csv"]
    header, _, rest = bundle["users.csv"].partition("\n")
    bundle["users.csv"] = header.replace(",", " , ") + "\r\n" + rest.replace("\n", "\r\n")
    folder = tmp_path / "roster"
    folder.mkdir()
    for name, text in bundle.items():
        (folder / name).write_bytes(text.encode())
    result = invoke(app, "oneroster", str(folder), "--district", world.district.code)
    assert result.exit_code == 0, result.output
    assert student("OR00000001").local_id == "OR-2001" and section("OR-USH-01").course_code == "USH-01"
