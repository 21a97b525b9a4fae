"""OneRoster 1.1 CSV conformance: the bundles of tests/data/oneroster/, written from the
1.1 CSV binding (bulk and delta files, tobedeleted rows, multiple orgs per user, grades
lists, userIds, guardians with agentSourcedIds, quoted values with commas and line
breaks, a 1.2 bundle), zipped here with the test world's school codes and school year
put in. Each import is checked row by row against the database; a refused bundle
changes nothing."""
from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from casemgr import importers
from casemgr.clock import today
from casemgr.extensions import db as _db
from tests.test_import_kinds import _recorded_recompute, world  # noqa: F401

CORPUS = Path(__file__).resolve().parent / "data" / "oneroster"


def corpus(world, name: str) -> dict[str, str]:
    """A bundle of the corpus, its placeholders filled in: {SCHOOL} and {OTHER} the test
    world's school codes, {D} the district's id, {Y}/{Y1} the school year, {B} a birth year."""
    values = {"{SCHOOL}": world.school.code, "{OTHER}": world.other_school.code, "{D}": str(world.district.id),
              "{Y1}": str(world.year + 1), "{Y}": str(world.year), "{B}": str(world.year - 15)}
    out = {}
    for path in sorted((CORPUS / name).glob("*.csv")):
        text = path.read_text()
        for key, value in values.items():
            text = text.replace(key, value)
        out[path.name] = text
    return out


def zipped(files: dict[str, str], *, crlf: bool = False, bom: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for name, text in files.items():
            data = (text.replace("\n", "\r\n") if crlf else text).encode()
            out.writestr(name, (b"\xef\xbb\xbf" if bom else b"") + data)
    return buffer.getvalue()


def run(world, files: dict[str, str], **variant) -> importers.Outcome:
    return importers.import_file("oneroster", zipped(files, **variant), "roster.zip", world.district)


def imported(world, files: dict[str, str], **variant) -> importers.Outcome:
    outcome = run(world, files, **variant)
    assert outcome.ok, [e.describe() for e in outcome.errors]
    return outcome


def rows(statement: str, world) -> set[tuple]:
    return {tuple(r) for r in _db.session.execute(sa.text(statement), {"district": world.district.id}).all()}


def state(world) -> dict[str, set[tuple]]:
    """Everything a bundle can write for the district, as sets of plain rows."""
    return {
        "students": rows("""SELECT s.state_id, s.local_id, o.code, s.first_name, s.middle_name, s.last_name,
                                   s.birth_date, s.grade, s.gender, s.ethnicity
                            FROM students s JOIN organizations o ON o.id = s.school_id
                            WHERE s.district_id = :district AND s.state_id LIKE 'CF%'""", world),
        "sections": rows("""SELECT c.local_id, o.code, c.school_year, c.course_code, c.course_title, c.subject, c.term,
                                   u.email
                            FROM sections c JOIN organizations o ON o.id = c.school_id LEFT JOIN users u ON u.id = c.teacher_id
                            WHERE o.district_id = :district""", world),
        "section_enrollments": rows("""SELECT c.local_id, s.state_id, e.entry_date, e.exit_date
                                       FROM section_enrollments e JOIN sections c ON c.id = e.section_id
                                       JOIN students s ON s.id = e.student_id WHERE s.district_id = :district""", world),
        "school_enrollments": rows("""SELECT s.state_id, o.code, e.school_year, e.entry_date, e.exit_date
                                      FROM school_enrollments e JOIN students s ON s.id = e.student_id
                                      JOIN organizations o ON o.id = e.school_id
                                      WHERE s.district_id = :district AND s.state_id LIKE 'CF%'""", world),
        "teachers": rows("""SELECT u.email, o.code, u.active, u.full_name FROM users u
                            JOIN organizations o ON o.id = u.organization_id
                            WHERE o.district_id = :district AND u.email LIKE '%conformance.example'""", world),
        "guardians": rows("""SELECT local_id, first_name, last_name, email, phone FROM guardians
                             WHERE district_id = :district""", world),
        "links": rows("""SELECT g.local_id, s.state_id, l.relation, l.educational_rights FROM guardian_links l
                         JOIN guardians g ON g.id = l.guardian_id JOIN students s ON s.id = l.student_id
                         WHERE g.district_id = :district""", world),
        "source_ids": rows("""SELECT entity, sourced_id FROM source_ids WHERE district_id = :district""", world),
    }


def expected_bulk(world) -> dict[str, set[tuple]]:
    y, d, school, other = world.year, world.district.id, world.school.code, world.other_school.code

    def day(year: int, month: int, dd: int) -> date:
        return date(year, month, dd)

    b = y - 15
    return {
        "students": {
            (f"CF{d}0001", "CS-1", school, "Ada", "Byron", "Lovelace, Jr.", day(b, 12, 10), 9, "female", "White"),
            (f"CF{d}0002", "CS-2", school, "Blaise", None, "Pascal", day(b, 6, 19), 10, "male", "Asian"),
            # orgSourcedIds "org-d,org-b": the school among them
            (f"CF{d}0003", "CS-3", other, "Carl", "Friedrich", "Gauss", day(b, 4, 30), 10, "male", "Two or more races"),
        },
        "sections": {
            ("cl-alg", school, y, "ALG1", "Algebra I", "math", "S1", "tess.one@conformance.example"),
            ("cl-bio", school, y, "BIO", "Biology", "science", "S2", "tess.one@conformance.example"),  # the primary
            ("cl-eng", school, y, "ENG9", "English 9", "english", "year", "tess.one@conformance.example"),
            ("cl-art", school, y, "ART", "Studio Art", "other", "Q3", None),  # its teacher has no email
            ("cl-hist", other, y, "WHIST", "World History", "social_studies", "year", None),  # two terms: the year
        },
        "section_enrollments": {
            ("cl-alg", f"CF{d}0001", day(y, 8, 1), None),  # begins 20 July: clamped to the school year
            ("cl-eng", f"CF{d}0001", day(y, 9, 2), None),
            ("cl-art", f"CF{d}0001", day(y + 1, 1, 16), None),  # no beginDate: its term's start
            ("cl-bio", f"CF{d}0002", day(y + 1, 1, 16), None),
            ("cl-eng", f"CF{d}0002", day(y, 8, 25), day(y + 1, 6, 30)),  # ends 31 July: clamped
            ("cl-hist", f"CF{d}0003", day(y, 9, 15), None),
        },
        "school_enrollments": {  # from each student's first class at their school
            (f"CF{d}0001", school, y, day(y, 8, 1), None),
            (f"CF{d}0002", school, y, day(y, 8, 25), None),
            (f"CF{d}0003", other, y, day(y, 9, 15), None),
        },
        "teachers": {("tess.one@conformance.example", school, True, "Tess One")},
        "guardians": {
            ("u-p1", "Paula", "One", "paula.one@family.example", "555-0101"),
            ("u-p2", "Pedro", "Lovelace", None, "555-0102"),
            ("u-g1", "Gloria", "Gauss", "gloria@family.example", None),
            ("u-r1", "Rita", "Gauss", None, None),
        },
        "links": {
            ("u-p1", f"CF{d}0001", "parent", True),
            ("u-p2", f"CF{d}0001", "parent", True),  # from the student's agentSourcedIds
            ("u-g1", f"CF{d}0002", "guardian", True),
            ("u-g1", f"CF{d}0003", "guardian", True),
            ("u-r1", f"CF{d}0003", "other", False),  # a relative has no educational rights until the district says so
        },
        "source_ids": {("org", "org-a"), ("org", "org-b"), ("student", "u-s1"), ("student", "u-s2"),
                       ("student", "u-s3"), ("teacher", "u-t1"), ("guardian", "u-p1"), ("guardian", "u-p2"),
                       ("guardian", "u-g1"), ("guardian", "u-r1")}
        | {("class", c) for c in ("cl-alg", "cl-bio", "cl-eng", "cl-art", "cl-hist")}
        | {("enrollment", e) for e in ("en-s1-alg", "en-s1-eng", "en-s1-art", "en-s2-bio", "en-s2-eng", "en-s3-hist")},
    }


BULK_COUNTS = {
    "orgs.csv": {"read": 4, "inserted": 0, "updated": 0, "skipped": 0},
    "academicSessions.csv": {"read": 7, "inserted": 0, "updated": 0, "skipped": 0},
    "courses.csv": {"read": 5, "inserted": 0, "updated": 0, "skipped": 0},
    "demographics.csv": {"read": 3, "inserted": 0, "updated": 0, "skipped": 0},
    # 3 students, a teacher, 4 guardians; skipped: an aide, an administrator, a teacher without email, a relative of no student
    "users.csv": {"read": 12, "inserted": 8, "updated": 0, "skipped": 4, "guardian_links_inserted": 5,
                  "guardian_links_updated": 0, "school_enrollments_started": 3, "school_enrollments_ended": 0},
    "classes.csv": {"read": 5, "inserted": 5, "updated": 0, "skipped": 0},
    "enrollments.csv": {"read": 12, "inserted": 6, "updated": 0, "skipped": 1},  # 5 teachers' rows unchanged
}


def test_a_bulk_bundle_row_by_row(world):
    outcome = imported(world, corpus(world, "bulk"))
    assert state(world) == expected_bulk(world)
    assert outcome.batch.file_counts == BULK_COUNTS
    # each stay at school in the student's grade
    assert rows("""SELECT s.state_id FROM school_enrollments e JOIN students s ON s.id = e.student_id
                   WHERE s.district_id = :district AND e.grade <> s.grade""", world) == set()
    assert len(rows("SELECT e.id FROM school_enrollments e JOIN students s ON s.id = e.student_id "
                    "WHERE s.district_id = :district", world)) == 3
    batch = outcome.batch
    assert (batch.rows_read, batch.rows_inserted, batch.rows_updated, batch.rows_skipped) == (48, 19, 0, 5)
    warnings = [w.describe() for w in outcome.warnings]
    # the quoted title with a line break is one row: cl-art is row 5 of classes.csv
    assert "row 5, classes.csv: cl-art is imported without a teacher of record: its teacher u-t2 has no email" in warnings
    assert "row 6, classes.csv: cl-hist has no teacher of record (no enrollment with role teacher): imported without one" \
        in warnings
    assert "row 11, users.csv (agentSourcedIds): 1 guardian skipped (u-r2): agentSourcedIds links them to no " \
           "student casemgr knows" in warnings
    again = imported(world, corpus(world, "bulk"))
    assert (again.batch.rows_inserted, again.batch.rows_updated, again.batch.rows_skipped) == (0, 0, 5)
    assert state(world) == expected_bulk(world)


@pytest.mark.parametrize("variant", [{"crlf": True}, {"bom": True}, {"crlf": True, "bom": True}, "mixed", "cr",
                                     "header"])
def test_windows_files_and_headers_as_people_write_them(world, variant):
    files = corpus(world, "bulk")
    if variant in ("mixed", "cr"):  # CRLF and LF in one file; old Mac line ends
        for name, text in files.items():
            lines = text.split("\n")
            files[name] = ("\r".join(lines) if variant == "cr" else
                           "".join(line + ("\r\n" if n % 2 else "\n") for n, line in enumerate(lines[:-1])))
        variant = {}
    if variant == "header":  # names in other letter cases, spaces around them
        for name, text in files.items():
            header, _, rest = text.partition("\n")
            files[name] = ", ".join(f" {column.upper() if n % 2 else column.lower()} "
                                    for n, column in enumerate(header.split(","))) + "\n" + rest
        variant = {}
    imported(world, files, **variant)
    assert state(world) == expected_bulk(world)


def ended_on(entry: date, marked: date) -> date:
    """The exit date a tobedeleted row gives: the day it was marked, not after today, not before the entry."""
    return max(entry, min(marked, today()))


def test_a_delta_bundle_refers_to_rows_of_the_bulk_one(world):
    imported(world, corpus(world, "bulk"))
    outcome = imported(world, corpus(world, "delta"))
    y, d, school, other = world.year, world.district.id, world.school.code, world.other_school.code
    expected = expected_bulk(world)
    # u-s1: a new grade and last name
    expected["students"] = {s for s in expected["students"] if s[0] != f"CF{d}0001"} | {
        (f"CF{d}0001", "CS-1", school, "Ada", "Byron", "Lovelace", date(y - 15, 12, 10), 10, "female", "White"),
        (f"CF{d}0004", "CS-4", school, "Dora", None, "Noether", date(y - 15, 3, 23), 9, "female", "Hispanic or Latino")}
    # u-s3 tobedeleted: the stay at school ends on the day it was marked; nothing is deleted
    expected["school_enrollments"] = {e for e in expected["school_enrollments"] if e[0] != f"CF{d}0003"} | {
        (f"CF{d}0003", other, y, date(y, 9, 15), ended_on(date(y, 9, 15), date(y, 10, 2))),
        (f"CF{d}0004", school, y, date(y, 10, 3), None)}
    # en-s1-alg tobedeleted ends on its endDate; en-s4-eng joins a class of the bulk bundle
    expected["section_enrollments"] = {e for e in expected["section_enrollments"] if e[:2] != ("cl-alg", f"CF{d}0001")} | {
        ("cl-alg", f"CF{d}0001", date(y, 8, 1), ended_on(date(y, 8, 1), date(y, 10, 6))),
        ("cl-eng", f"CF{d}0004", date(y, 10, 3), None)}
    expected["teachers"] = {("tess.one@conformance.example", school, False, "Tess One")}  # deactivated, kept
    # u-s4's parent, named by the student; the relation the parent has with their other child
    expected["links"] = expected["links"] | {("u-p1", f"CF{d}0004", "parent", True)}
    expected["source_ids"] = expected["source_ids"] | {("student", "u-s4"), ("enrollment", "en-s4-eng")}
    assert state(world) == expected
    assert outcome.batch.file_counts == {
        "demographics.csv": {"read": 1, "inserted": 0, "updated": 0, "skipped": 0},
        # inserted u-s4; updated u-s1, u-s3 (ended), u-t1 (deactivated); skipped u-t2 and u-x9 (never seen), u-g1 (kept)
        "users.csv": {"read": 7, "inserted": 1, "updated": 3, "skipped": 3, "guardian_links_inserted": 1,
                      "guardian_links_updated": 0, "school_enrollments_started": 1, "school_enrollments_ended": 0},
        "enrollments.csv": {"read": 3, "inserted": 1, "updated": 1, "skipped": 1},
    }
    warnings = [w.describe() for w in outcome.warnings]
    assert "row 6, users.csv: u-t2 is tobedeleted, but casemgr has no teacher with that sourcedId: skipped" in warnings
    assert "row 8, users.csv: u-x9 is tobedeleted, but casemgr has no student with that sourcedId: skipped" in warnings
    assert "row 4, enrollments.csv: en-never is tobedeleted, but casemgr has no enrollment with that sourcedId: skipped" \
        in warnings
    assert any(w.startswith("row 7, users.csv: 1 guardian marked tobedeleted kept") for w in warnings)
    # the deactivation is in the teacher's account history
    events = rows("""SELECT e.action FROM account_events e JOIN users u ON u.id = e.user_id
                     WHERE u.email = 'tess.one@conformance.example'""", world)
    assert events == {("deactivated",)}
    # the same delta again: everything already ended, nothing changes
    again = imported(world, corpus(world, "delta"))
    assert state(world) == expected
    assert (again.batch.rows_inserted, again.batch.rows_updated) == (0, 0)


def test_a_tobedeleted_row_of_a_bulk_file_ends_too(world):
    imported(world, corpus(world, "bulk"))
    files = corpus(world, "bulk")
    files["enrollments.csv"] = files["enrollments.csv"].replace("en-s3-hist,,,", f"en-s3-hist,tobedeleted,{world.year}-10-09,")
    outcome = imported(world, files)
    y, d = world.year, world.district.id
    expected = expected_bulk(world)
    expected["section_enrollments"] = {e for e in expected["section_enrollments"] if e[0] != "cl-hist"} | {
        ("cl-hist", f"CF{d}0003", date(y, 9, 15), ended_on(date(y, 9, 15), date(y, 10, 9)))}
    assert state(world) == expected
    assert outcome.batch.file_counts["enrollments.csv"] == {"read": 12, "inserted": 0, "updated": 1, "skipped": 1}


def test_the_command_line_counts_the_rows_skipped(app, world, tmp_path):
    from tests.test_import_cli_web import invoke

    folder = tmp_path / "bundle"
    folder.mkdir()
    for name, text in corpus(world, "bulk").items():
        (folder / name).write_text(text)
    result = invoke(app, "oneroster", str(folder), "--district", world.district.code)
    assert result.exit_code == 0, result.output
    assert "bundle: 48 rows read, 19 inserted, 0 updated, 24 unchanged, 5 skipped in" in result.output
    assert state(world) == expected_bulk(world)


def test_a_tobedeleted_class_ends_its_enrollments(world):
    imported(world, corpus(world, "bulk"))
    outcome = imported(world, corpus(world, "delta-classes"))
    y, d = world.year, world.district.id
    expected = expected_bulk(world)
    expected["section_enrollments"] = {e for e in expected["section_enrollments"] if e[0] != "cl-art"} | {
        ("cl-art", f"CF{d}0001", date(y + 1, 1, 16), ended_on(date(y + 1, 1, 16), date(y, 10, 7)))}
    # cl-alg, active without its sessions or course: its year, term, course and teacher stay
    assert state(world) == expected
    assert outcome.batch.file_counts == {"classes.csv": {"read": 2, "inserted": 0, "updated": 1, "skipped": 0}}


def test_a_delta_of_rows_casemgr_never_saw_is_skipped_not_refused(world):
    files = corpus(world, "delta-classes")
    files["classes.csv"] = "\n".join(files["classes.csv"].splitlines()[:2]) + "\n"
    outcome = imported(world, files)
    assert outcome.batch.file_counts == {"classes.csv": {"read": 1, "inserted": 0, "updated": 0, "skipped": 1}}
    assert [w.describe() for w in outcome.warnings] == [
        "row 2, classes.csv: cl-art is tobedeleted, but casemgr has no class with that sourcedId: skipped"]


def test_a_version_1_2_bundle_is_refused_and_changes_nothing(world):
    imported(world, corpus(world, "bulk"))
    before = state(world)
    outcome = run(world, corpus(world, "v1.2"))
    assert outcome.batch.status == "rejected"
    assert [e.describe() for e in outcome.errors] == [
        "file, manifest.csv: OneRoster version 1.2 is not supported: casemgr imports OneRoster 1.1 CSV"]
    assert state(world) == before


def refused(world, files: dict[str, str]) -> list[str]:
    imported(world, corpus(world, "bulk"))
    before = state(world)
    outcome = run(world, files)
    assert outcome.batch.status == "rejected"
    assert state(world) == before
    return [e.describe() for e in outcome.errors]


def test_a_refused_bundle_changes_nothing_and_names_oneroster_columns(world):
    files = corpus(world, "bulk")
    files["demographics.csv"] = files["demographics.csv"].replace(f"{world.year - 15}-06-19", "19/06/2011")
    files["users.csv"] = files["users.csv"].replace(",Ada,", ",,")
    assert set(refused(world, files)) == {
        "row 3, demographics.csv (birthDate): '19/06/2011' is not a date (write it as YYYY-MM-DD)",
        "row 4, users.csv (givenName): givenName is required"}


def test_an_org_that_is_no_casemgr_school_is_refused_by_name(world):
    files = corpus(world, "bulk")
    files["orgs.csv"] = files["orgs.csv"].replace(f",school,{world.other_school.code},", ",school,BETA-9,")
    assert refused(world, files) == [
        "row 4, orgs.csv (identifier): org-b 'Beta High School' is a school casemgr does not know: no school of the "
        "district has the code 'BETA-9'; map it to a casemgr school under 'OneRoster schools' on the Imports page, "
        "or give it the school's casemgr code as its identifier (2 rows of the bundle belong to it)"]


def test_the_district_admin_maps_an_org_to_a_school(app, client, world):
    from tests.factories import create_user
    from tests.helpers import csrf_token, login

    files = corpus(world, "bulk")
    files["orgs.csv"] = files["orgs.csv"].replace(f",school,{world.other_school.code},", ",school,BETA-9,")
    admin = create_user("district_admin", world.district)
    login(client, admin)
    page = "/admin/imports/oneroster-schools"
    token = csrf_token(client, page)
    assert client.post(page, data={"csrf_token": token, "org_key": "BETA-9", "school": ""}).status_code == 400
    response = client.post(page, data={"csrf_token": token, "org_key": "BETA-9", "school": str(world.other_school.uuid)})
    assert response.status_code == 302
    listed = client.get(page).get_data(as_text=True)
    assert "<code>BETA-9</code>" in listed and f"({world.other_school.code})</td>" in listed
    imported(world, files)
    assert state(world) == expected_bulk(world)
    # removed, the org is unknown again
    response = client.post(f"{page}/remove", data={"csrf_token": csrf_token(client, page), "org_key": "BETA-9"})
    assert response.status_code == 302 and "<code>BETA-9</code>" not in client.get(page).get_data(as_text=True)
    outcome = run(world, files)
    assert outcome.batch.status == "rejected" and "org-b 'Beta High School' is a school casemgr does not know" in \
        outcome.errors[0].message


@pytest.mark.parametrize("absent", ["courses", "demographics", "enrollments", "classes+enrollments", "academicSessions",
                                    "orgs"])
def test_each_optional_file_absent_in_turn(world, absent):
    imported(world, corpus(world, "bulk"))
    files = corpus(world, "bulk")
    for stem in absent.split("+"):
        files["manifest.csv"] = files["manifest.csv"].replace(f"file.{stem},bulk", f"file.{stem},absent")
        del files[f"{stem}.csv"]
    expected = expected_bulk(world)
    if absent in ("academicSessions", "orgs"):  # what classes.csv and users.csv refer to
        outcome = run(world, files)
        assert outcome.batch.status == "rejected" and state(world) == expected
        return
    outcome = imported(world, files)
    if absent == "courses":  # the course code and title of the class
        expected["sections"] = {s[:3] + ({"cl-alg": "ALG1-1", "cl-bio": "BIO-1", "cl-eng": "ENG9-1", "cl-art": "ART-1",
                                          "cl-hist": "WH-1"}[s[0]],
                                         {"cl-alg": "Algebra I - P1", "cl-bio": "Biology\nwith lab",
                                          "cl-eng": "English 9 - P3", "cl-art": "Art, studio - P4",
                                          "cl-hist": "World History - P5"}[s[0]]) + s[5:]
                                for s in expected["sections"]}
    assert state(world) == expected
    assert set(outcome.batch.file_counts) == {f"{stem}.csv" for stem in (
        "orgs", "academicSessions", "courses", "demographics", "users", "classes", "enrollments")} - {
        f"{stem}.csv" for stem in absent.split("+")}


def drop_column(text: str, column: str) -> str:
    import csv

    table = list(csv.reader(io.StringIO(text)))
    index = table[0].index(column)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([r[:index] + r[index + 1:] for r in table])
    return out.getvalue()


@pytest.mark.parametrize("file, column", [("users.csv", "middleName"), ("users.csv", "grades"),
                                          ("users.csv", "agentSourcedIds"), ("users.csv", "phone"),
                                          ("demographics.csv", "sex"), ("demographics.csv", "birthDate"),
                                          ("classes.csv", "classCode"), ("enrollments.csv", "primary")])
def test_each_optional_column_absent_keeps_what_is_stored(world, file, column):
    imported(world, corpus(world, "bulk"))
    files = corpus(world, "bulk")
    files[file] = drop_column(files[file], column)
    outcome = imported(world, files)
    assert state(world) == expected_bulk(world)
    assert outcome.batch.rows_inserted == 0


def test_a_student_whose_state_id_is_only_in_user_ids(world):
    files = corpus(world, "bulk")
    files["users.csv"] = drop_column(files["users.csv"], "userIds")
    outcome = run(world, files)
    assert [e.describe() for e in outcome.errors] == [
        "row 5, users.csv (identifier): u-s2 has no identifier and no {state:…} in userIds: casemgr matches students "
        "by their state ID"]


def test_the_batch_page_shows_the_counts_of_each_file(client, world):
    import re

    from tests.factories import create_user
    from tests.helpers import csrf_token, import_result, login

    admin = create_user("district_admin", world.district)
    login(client, admin)
    token = csrf_token(client, "/admin/imports/")
    response = import_result(client, client.post("/admin/imports/", data={
        "csrf_token": token, "kind": "oneroster", "file": (io.BytesIO(zipped(corpus(world, "bulk"))), "roster.zip")},
        content_type="multipart/form-data"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "48 rows read: 19 inserted, 0 updated, 24 unchanged, 5 skipped." in html
    cells = lambda name: re.findall(r"<td[^>]*>([^<]*)</td>", html.split(f'<th scope="row">{name}</th>')[1].split("</tr>")[0])
    assert cells("users.csv") == ["12", "8", "0", "0", "4",
                                  "guardian links: 5 new, 0 changed; stays at school: 3 started, 0 ended at another school"]
    assert cells("enrollments.csv") == ["12", "6", "0", "5", "1", "—"]
    history = client.get("/admin/imports/").get_data(as_text=True)
    assert '<th scope="col" class="num">Skipped</th>' in history and '<td class="num">5</td>' in history


def test_a_value_another_file_gives_is_named_with_its_file(world):
    files = corpus(world, "bulk")
    # the teacher belongs to the other school, their classes to the first
    files["users.csv"] = files["users.csv"].replace("u-t1,,,true,org-a,teacher", "u-t1,,,true,org-b,teacher")
    outcome = run(world, files)
    assert outcome.batch.status == "rejected" and state(world) == {key: set() for key in state(world)}
    assert "row 2, classes.csv (email in users.csv): no teacher of this school has the email " \
           "tess.one@conformance.example" in [e.describe() for e in outcome.errors]


def test_a_student_who_moves_to_another_school(world):
    imported(world, corpus(world, "bulk"))
    files = corpus(world, "bulk")
    files["users.csv"] = files["users.csv"].replace('true,org-a,student,CS-2', 'true,"org-b,org-a",student,CS-2')
    outcome = imported(world, files)
    y, d, school, other = world.year, world.district.id, world.school.code, world.other_school.code
    expected = expected_bulk(world)
    now = min(max(today(), date(y, 8, 1)), date(y + 1, 6, 30))
    expected["students"] = {s[:2] + ((other,) if s[0] == f"CF{d}0002" else (s[2],)) + s[3:] for s in expected["students"]}
    # the stay at the first school ends today; the one at the new school starts today
    expected["school_enrollments"] = {e for e in expected["school_enrollments"] if e[0] != f"CF{d}0002"} | {
        (f"CF{d}0002", school, y, date(y, 8, 25), max(date(y, 8, 25), now)), (f"CF{d}0002", other, y, now, None)}
    assert state(world) == expected
    assert outcome.batch.file_counts["users.csv"]["updated"] == 1
    assert outcome.batch.file_counts["users.csv"]["school_enrollments_ended"] == 1


def test_terms_of_classes():
    from casemgr.importers.oneroster_classes import section_term

    def sessions(kind: str, starts: list[str]) -> dict:
        out = {"y": {"type": "schoolYear", "startDate": "2026-08-17"}}
        out.update({f"t{n}": {"type": kind, "startDate": start} for n, start in enumerate(starts)})
        return out

    two = sessions("term", ["2026-08-17", "2027-01-11"])
    assert [section_term([t], two) for t in ("t0", "t1", "y")] == ["S1", "S2", "year"]
    four = sessions("term", ["2026-08-17", "2026-10-19", "2027-01-11", "2027-03-22"])
    assert [section_term([t], four) for t in ("t3", "t0")] == ["Q4", "Q1"]
    assert section_term(["t0"], sessions("semester", ["2027-01-11"])) == "S2"  # a lone spring semester
    assert section_term(["t0"], sessions("term", ["2026-08-17", "2026-11-20", "2027-03-01"])) == "year"  # trimesters
    assert section_term(["t0", "t1"], two) == "year" and section_term(["nope"], two) == "year"


def test_a_state_id_given_twice_is_refused_by_row_with_or_without_demographics(world):
    files = corpus(world, "bulk")
    lines = files["users.csv"].splitlines()
    first = next(n for n, line in enumerate(lines, start=1) if line.startswith("u-s1,"))
    # u-s9 has no demographics row, u-s1 has one: the same identifier, twice
    files["users.csv"] += lines[first - 1].replace("u-s1,", "u-s9,", 1).replace(",CS-1,", ",CS-9,") + "\n"
    assert refused(world, files) == [
        f"row {len(lines) + 1}, users.csv: duplicate key (identifier): the same as row {first}"]
