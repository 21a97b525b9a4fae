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
from casemgr.models import Guardian, GuardianLink, ImportBatch, Section, SectionEnrollment, Student, User
from tests.test_import_cli_web import invoke, upload
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


# optional files and columns


def drop_column(text: str, column: str) -> str:
    rows = [line.split(",") for line in text.splitlines()]
    index = rows[0].index(column)
    return "\n".join(",".join(r[:index] + r[index + 1:]) for r in rows) + "\n"


def test_without_demographics_a_new_student_is_refused_in_oneroster_words(world):
    bundle = files(world)
    manifest(bundle, demographics="absent")
    del bundle["demographics.csv"]
    outcome = refused(world, bundle, "row 3, users.csv: u-s1 has no birthDate: demographics.csv is absent; "
                                     "casemgr needs it for a new student",
                      "row 4, users.csv: u-s2 has no birthDate: demographics.csv is absent")
    assert len(outcome.errors) == 2
    assert "birth_date is required" not in " ".join(e.message for e in outcome.errors)


def test_without_demographics_known_students_keep_their_birth_date_sex_and_ethnicity(world):
    bundle = files(world)
    imported(world, bundle)
    manifest(bundle, demographics="absent")
    del bundle["demographics.csv"]
    bundle["users.csv"] = bundle["users.csv"].replace("Jamal,Price", "Jamal,Price-Ode")
    outcome = imported(world, bundle)
    assert (outcome.batch.rows_inserted, outcome.batch.rows_updated) == (0, 1)
    jamal, sofia = student("OR00000001"), student("OR00000002")
    assert jamal.last_name == "Price-Ode" and str(jamal.birth_date).endswith("-04-22") and jamal.gender == "male"
    assert sofia.ethnicity == "Hispanic or Latino" and str(sofia.birth_date).endswith("-01-09")


def test_a_student_without_a_demographics_row(world):
    bundle = files(world)
    bundle["demographics.csv"] = "\n".join(bundle["demographics.csv"].splitlines()[:2]) + "\n"
    refused(world, bundle, "row 4, users.csv: u-s2 has no birthDate: demographics.csv has no row for u-s2")


def test_a_left_out_middle_name_column_keeps_the_stored_middle_names(world):
    bundle = files(world)
    imported(world, bundle)
    assert student("OR00000002").middle_name == "Marie"
    bundle["users.csv"] = drop_column(bundle["users.csv"], "middleName")
    outcome = imported(world, bundle)
    assert (outcome.batch.rows_inserted, outcome.batch.rows_updated) == (0, 0)
    assert student("OR00000002").middle_name == "Marie"
    # a middleName column with the value blanked does clear it
    bundle = files(world)
    bundle["users.csv"] = bundle["users.csv"].replace("Alvarez,Marie", "Alvarez,")
    imported(world, bundle)
    assert student("OR00000002").middle_name is None


def test_a_left_out_optional_column_of_a_students_file_keeps_stored_values(world):
    from tests.test_import_kinds import csv_bytes
    from tests.test_import_kinds import run as run_kind

    s = world.school.code
    first = csv_bytes("state_id,local_id,school_code,first_name,middle_name,last_name,birth_date,grade,low_income",
                      f"NEW1,N1,{s},Ana,Luz,Ruiz,2010-03-04,9,yes")
    assert run_kind(world, "students", first).ok
    again = run_kind(world, "students", csv_bytes("state_id,local_id,school_code,first_name,last_name,birth_date,grade",
                                                  f"NEW1,N1,{s},Ana,Ruiz,2010-03-04,10"))
    assert again.ok and again.batch.rows_updated == 1
    ana = student("NEW1")
    assert (ana.middle_name, ana.low_income, ana.grade) == ("Luz", True, 10)


def test_a_known_student_without_grades_keeps_the_stored_grade_a_new_one_is_refused(world):
    bundle = files(world)
    imported(world, bundle)
    bundle["users.csv"] = drop_column(bundle["users.csv"], "grades")
    imported(world, bundle)
    assert student("OR00000001").grade == 10
    bundle["users.csv"] += "u-s3,active,2026-08-01T00:00:00Z,true,org-h001,student,OR-2003,,Lee,Park,,OR00000003,,,,,\n"
    refused(world, bundle, "row 5, users.csv: u-s3 has no grades: users.csv has no grades column")


def test_a_student_without_identifier_is_refused_in_oneroster_words(world):
    bundle = files(world)
    bundle["users.csv"] = bundle["users.csv"].replace(",OR00000002,", ",,")
    refused(world, bundle, "row 4, users.csv (identifier): u-s2 has no identifier")


# roles, teachers and classes

OTHERS = ("u-a1,active,2026-08-01T00:00:00Z,true,org-h001,aide,aide1,,Al,Aide,,,al@x.example,,,,,\n"
          "u-g1,active,2026-08-01T00:00:00Z,true,org-h001,guardian,g1,,Gia,Price,,,gia@x.example,,,u-s1,,\n"
          "u-g2,active,2026-08-01T00:00:00Z,true,org-h001,guardian,g2,,Gus,Price,,,,,,u-s1,,\n"
          "u-d1,active,2026-08-01T00:00:00Z,true,org-district,administrator,d1,,Di,Admin,,,di@x.example,,,,,\n")


def test_roles_casemgr_does_not_use_are_counted_and_skipped(world):
    bundle = files(world)
    bundle["users.csv"] += OTHERS
    bundle["enrollments.csv"] += "e-9,active,2026-08-01T00:00:00Z,OR-GEOM-01,org-h001,u-a1,aide,false,,\n"
    users_before = count(User)
    outcome = imported(world, bundle)
    warnings = [w.describe() for w in outcome.warnings]
    assert "file, users.csv: 2 users skipped (1 administrator, 1 aide): casemgr imports students, teachers and " \
           "guardians (parent, guardian, relative) only" in warnings
    assert "file, enrollments.csv: 1 enrollment skipped (1 aide): casemgr imports students and teachers only" in warnings
    assert count(User) == users_before + 1  # the teacher only
    assert _db.session.scalar(sa.select(User).where(User.email == "al@x.example")) is None
    # the two guardians of u-s1 are guardians in casemgr, not users
    links = _db.session.execute(sa.select(Guardian.first_name, GuardianLink.relation).join(GuardianLink.guardian)
                                .where(GuardianLink.student_id == student("OR00000001").id)
                                .order_by(Guardian.first_name)).all()
    assert [tuple(link) for link in links] == [("Gia", "guardian"), ("Gus", "guardian")]
    assert outcome.batch.file_counts["users.csv"] == {"read": 7, "inserted": 5, "updated": 0, "skipped": 2,
                                                      "guardian_links_inserted": 2, "guardian_links_updated": 0,
                                                      "school_enrollments_started": 2, "school_enrollments_ended": 0}
    stored = [w for w in outcome.batch.errors if w.get("warning")]
    assert len(stored) == len(warnings) and outcome.batch.error_count == 0


def test_a_teacher_without_email_is_skipped_with_a_warning_and_the_class_has_no_teacher(world):
    bundle = files(world)
    bundle["users.csv"] = bundle["users.csv"].replace("rosa.greene@lvusd.example.org", "")
    outcome = imported(world, bundle)
    warnings = [w.describe() for w in outcome.warnings]
    assert "row 2, users.csv: u-t1 (teacher) has no email: skipped, as casemgr signs teachers in and matches them " \
           "by email; their classes have no teacher of record" in warnings
    assert "row 2, classes.csv: OR-GEOM-01 is imported without a teacher of record: its teacher u-t1 has no email" \
           in warnings
    assert section("OR-GEOM-01").teacher_id is None and count(SectionEnrollment) == 3
    assert student("OR00000001") is not None


def test_a_class_without_a_teacher_of_record_is_imported_with_a_warning(world):
    bundle = files(world)
    bundle["enrollments.csv"] = "\n".join(
        line for line in bundle["enrollments.csv"].splitlines() if not line.startswith("e-2,")) + "\n"
    outcome = imported(world, bundle)
    assert [w.describe() for w in outcome.warnings] == [
        "row 3, classes.csv: OR-USH-01 has no teacher of record (no enrollment with role teacher): imported without one"]
    assert section("OR-USH-01").teacher_id is None and section("OR-GEOM-01").teacher_id is not None


def test_warnings_on_the_command_line_and_the_upload_page(app, client, world, tmp_path):
    from tests.factories import create_user
    from tests.helpers import login

    bundle = files(world)
    bundle["users.csv"] += OTHERS
    path = tmp_path / "roster.zip"
    path.write_bytes(zipped(bundle))
    result = invoke(app, "oneroster", str(path), "--district", world.district.code)
    assert result.exit_code == 0, result.output
    assert "warning: file, users.csv: 2 users skipped (1 administrator, 1 aide)" in result.output
    admin = create_user("district_admin", world.district)
    login(client, admin)
    response = upload(client, zipped(bundle), "oneroster", filename="roster.zip")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Imported." in html
    assert "2 users skipped (1 administrator, 1 aide)" in html
    batch = _db.session.scalar(sa.select(ImportBatch).where(ImportBatch.kind == "oneroster", ImportBatch.user_id == admin.id))
    page = client.get(f"/admin/imports/{batch.uuid}").get_data(as_text=True)
    assert "2 users skipped (1 administrator, 1 aide)" in page and "rejected" not in page
    assert "<small>1 warning</small>" in client.get("/admin/imports/").get_data(as_text=True)
    refused_bundle = files(world)
    refused_bundle["manifest.csv"] = refused_bundle["manifest.csv"].replace("oneroster.version,1.1", "oneroster.version,1.2")
    before = snapshot()
    response = upload(client, zipped(refused_bundle), "oneroster", filename="roster.zip")
    assert response.status_code == 200 and snapshot() == before
    assert _db.session.scalars(sa.select(ImportBatch.status).order_by(ImportBatch.id.desc())).first() == "rejected"
    assert "OneRoster version 1.2 is not supported: casemgr imports OneRoster 1.1 CSV" in response.get_data(as_text=True)


def test_many_warnings_are_listed_up_to_fifty(world):
    bundle = files(world)
    bundle["users.csv"] = bundle["users.csv"].replace("rosa.greene@lvusd.example.org", "")
    bundle["classes.csv"] += "".join(
        f"OR-X-{n},active,2026-08-01T00:00:00Z,Art {n},10,course-geo,ART-{n},scheduled,,org-h001,as-2027,Art,,1\n"
        for n in range(60))
    outcome = imported(world, bundle)
    assert len(outcome.warnings) == 51 and outcome.warnings[-1].message == "… and 13 more warnings"  # 1 teacher, 2 + 60 classes
    assert count(Section) == 62


def test_a_bundle_of_orgs_and_users_only(world):
    bundle = files(world)
    manifest(bundle, classes="absent", enrollments="absent", courses="absent", academicSessions="absent")
    for name in ("classes.csv", "enrollments.csv", "courses.csv", "academicSessions.csv"):
        del bundle[name]
    outcome = imported(world, bundle)
    assert student("OR00000001").grade == 10 and student("OR00000002").birth_date is not None
    assert count(Section) == 0 and outcome.warnings == []
    assert _db.session.scalar(sa.select(User).where(User.email == "rosa.greene@lvusd.example.org")) is not None


def test_a_delta_users_file_updates_its_rows_and_leaves_the_others_alone(world):
    bundle = files(world)
    imported(world, bundle)
    manifest(bundle, users="delta")
    bundle["users.csv"] = "\n".join(bundle["users.csv"].splitlines()[:1] + [
        "u-s1,active,2026-09-01T00:00:00Z,true,org-h001,student,OR-2001,,Jamal,Price,,OR00000001,,,,,11,"]) + "\n"
    manifest(bundle, enrollments="absent", classes="absent")
    outcome = imported(world, bundle)
    assert (outcome.batch.rows_inserted, outcome.batch.rows_updated) == (0, 1)
    assert student("OR00000001").grade == 11 and student("OR00000002").grade == 11


def test_a_student_of_no_school_is_refused_in_oneroster_words(world):
    bundle = files(world)
    bundle["users.csv"] = bundle["users.csv"].replace("u-s2,active,2026-08-01T00:00:00Z,true,org-h001,",
                                                      "u-s2,active,2026-08-01T00:00:00Z,true,org-district,")
    refused(world, bundle, "row 4, users.csv (orgSourcedIds): u-s2 belongs to no school: none of orgSourcedIds "
                           "'org-district' is an org of type school in orgs.csv")


def test_a_duplicate_names_the_rows_of_the_bundle(world):
    bundle = files(world)
    bundle["users.csv"] = bundle["users.csv"].replace(",OR00000002,", ",OR00000001,").replace("OR-2002", "OR-2001")
    outcome = refused(world, bundle, "row 4, users.csv: duplicate key (identifier): the same as row 3",
                      "row 4, users.csv (username): local ID OR-2001 is also on row 3")
    assert {e.row for e in outcome.errors} == {4}


def test_a_state_id_in_user_ids_when_identifier_is_blank(world):
    bundle = files(world)
    bundle["users.csv"] = bundle["users.csv"].replace(
        "student,OR-2002,,Sofia,Alvarez,Marie,OR00000002,", 'student,OR-2002,"{district:D-77},{State: OR00000002}",Sofia,Alvarez,Marie,,')
    imported(world, bundle)
    sofia = student("OR00000002")
    assert sofia.first_name == "Sofia" and sofia.local_id == "OR-2002"
    assert count(SectionEnrollment) == 3
    bundle["users.csv"] = bundle["users.csv"].replace("{State: OR00000002}", "{fed:9}")
    refused(world, bundle, "row 4, users.csv (identifier): u-s2 has no identifier and no {state:…} in userIds")
