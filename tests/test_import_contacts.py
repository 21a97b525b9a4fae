"""Kind `service_contacts` (issue 17): a partner organization's attendance from its own
system, imported through the import path for the partner: students on its roster on the
day, services of its service agreement with the student's district in force on the day,
the whole file checked first (row-numbered errors, nothing written), merged by
(organization, student, day, service); and who may import it (a compliant partner
administrator, for their own organization only), from the upload page and the CLI."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from casemgr import importers
from casemgr.cli import cli
from casemgr.clock import today
from casemgr.extensions import db as _db
from casemgr.models import ImportBatch, RosterEntry, ServiceContact
from casemgr.models.enums import Role
from tests.factories import (
    add_to_roster,
    create_contact,
    create_district,
    create_partner,
    create_school,
    create_service_agreement,
    create_student,
    create_user,
)
from tests.helpers import csrf_token, import_result, login

HEADER = "state_id,date,service,minutes"
UPLOAD = "/admin/imports/"


@dataclass
class World:
    district: object
    partner: object
    other_partner: object
    students: list  # on the partner's roster since long ago
    late: object  # on the roster only from LATE_START
    outsider: object  # a student of another district, on no roster of the partner
    on_other_roster: object  # a student of the district on the other partner's roster only
    admin: object  # the partner's compliant administrator
    day: date
    day_before: date


LATE_START = today() - timedelta(days=5)


@pytest.fixture()
def world(db):
    now = today()
    district = create_district("Lakeview Schools")
    school = create_school(district, name="Lakeview High")
    partner = create_partner("Northside Youth")
    other_partner = create_partner("Eastside Club")
    create_service_agreement(partner, district, services=("tutoring", "mentoring"))
    # an agreement that offered family support until twenty days ago
    create_service_agreement(partner, district, services=("family_support",), starts_on=now - timedelta(days=200),
                             ends_on=now + timedelta(days=200), ended_on=now - timedelta(days=20))
    students = [create_student(school, state_id=f"SC{n}{district.id}") for n in range(3)]
    for student in students:
        add_to_roster(student, partner, added_on=now - timedelta(days=100))
    late = create_student(school, state_id=f"LATE{district.id}")
    add_to_roster(late, partner, added_on=LATE_START)
    other_district = create_district("Hillside Schools")
    outsider = create_student(create_school(other_district), state_id=f"OUT{other_district.id}")
    on_other_roster = create_student(school, state_id=f"OTHER{district.id}")
    add_to_roster(on_other_roster, other_partner, added_on=now - timedelta(days=100))
    admin = compliant(Role.PARTNER_ADMIN, partner)
    return World(district, partner, other_partner, students, late, outsider, on_other_roster, admin,
                 now - timedelta(days=10), now - timedelta(days=11))


def compliant(role, organization, **fields):
    long_ago = today() - timedelta(days=30)
    return create_user(role, organization, confidentiality_signed_on=long_ago, ferpa_trained_on=long_ago, **fields)


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def good_file(w: World, minutes: int = 45) -> bytes:
    a, b, c = w.students
    return csv_bytes(HEADER + ",mode",
                     f"{a.state_id},{w.day},tutoring,{minutes},",
                     f"{a.state_id},{w.day},mentoring,30,individual",
                     f"{b.state_id},{w.day_before},tutoring,90,group",
                     f"{c.state_id},{w.day},Tutoring,60,Group")


def run(w: World, raw: bytes, dry_run: bool = False, user=None) -> importers.Outcome:
    return importers.import_file("service_contacts", raw, "attendance-export.csv", w.partner, dry_run=dry_run,
                                 user_id=user.id if user else None)


def contacts() -> list[ServiceContact]:
    return list(_db.session.scalars(sa.select(ServiceContact).order_by(ServiceContact.id)))


def count() -> int:
    return _db.session.scalar(sa.select(sa.func.count()).select_from(ServiceContact))


def errors_of(outcome) -> list[tuple[int | None, str | None, str]]:
    return [(e.row, e.column, e.message) for e in outcome.errors]


def assert_rejected(w: World, raw: bytes, *expected: tuple[int | None, str | None, str]):
    """Rejected with each (row, column, words of the message); nothing written."""
    before = count()
    outcome = run(w, raw)
    assert outcome.batch.status == "rejected", [e.describe() for e in outcome.errors]
    assert count() == before
    found = errors_of(outcome)
    for row, column, words in expected:
        assert any(r == row and c == column and words in m for r, c, m in found), (row, column, words, found)
    return outcome


# --- the import itself ------------------------------------------------------------------

def test_a_good_file_is_imported_as_the_partners_contacts(world):
    outcome = run(world, good_file(world), user=world.admin)
    assert outcome.ok, [e.describe() for e in outcome.errors]
    batch = outcome.batch
    assert (batch.rows_read, batch.rows_inserted, batch.rows_updated) == (4, 4, 0)
    assert batch.district_id == world.partner.id and batch.kind == "service_contacts"
    a, b, c = world.students
    stored = {(r.student_id, r.contact_on, r.service): r for r in contacts()}
    assert {k: (r.minutes, r.mode) for k, r in stored.items()} == {
        (a.id, world.day, "tutoring"): (45, "individual"),  # mode left empty: individual
        (a.id, world.day, "mentoring"): (30, "individual"),
        (b.id, world.day_before, "tutoring"): (90, "group"),
        (c.id, world.day, "tutoring"): (60, "group"),  # letter case of service and mode as written
    }
    for row in stored.values():
        assert (row.organization_id, row.source, row.attended, row.group_id) == (world.partner.id, "import", True, None)
        assert row.recorded_by_id == world.admin.id and row.updated_at is None


def test_the_mode_column_may_be_left_out(world):
    a = world.students[0]
    outcome = run(world, csv_bytes(HEADER, f"{a.state_id},{world.day},tutoring,50"))
    assert outcome.ok and [(r.minutes, r.mode, r.recorded_by_id) for r in contacts()] == [(50, "individual", None)]


def test_importing_the_same_file_again_changes_nothing(world):
    assert run(world, good_file(world)).ok
    before = [(r.id, r.minutes, r.mode, r.updated_at) for r in contacts()]
    again = run(world, good_file(world))
    assert again.ok and (again.batch.rows_inserted, again.batch.rows_updated) == (0, 0)
    assert [(r.id, r.minutes, r.mode, r.updated_at) for r in contacts()] == before


def test_changed_minutes_are_updated(world):
    assert run(world, good_file(world, minutes=45)).ok
    outcome = run(world, good_file(world, minutes=75), user=world.admin)
    assert outcome.ok and (outcome.batch.rows_inserted, outcome.batch.rows_updated) == (0, 1)
    changed = [r for r in contacts() if r.updated_at is not None]
    assert [(r.student_id, r.service, r.minutes) for r in changed] == [(world.students[0].id, "tutoring", 75)]
    assert changed[0].recorded_by_id == world.admin.id
    assert count() == 4


def test_a_dry_run_writes_nothing(world):
    outcome = run(world, good_file(world), dry_run=True)
    assert outcome.ok and outcome.batch.rows_inserted == 4 and count() == 0


def test_contacts_recorded_in_the_app_are_left_alone(world):
    a = world.students[0]
    recorded = create_contact(a, world.partner, world.day, minutes=20, service="tutoring")
    assert run(world, good_file(world)).ok
    _db.session.refresh(recorded)
    assert (recorded.minutes, recorded.source) == (20, "app") and count() == 5


# --- a bad file is rejected whole, with its rows ------------------------------------------

def test_every_bad_row_is_named_and_nothing_is_written(world):
    a, b, _ = world.students
    future = today() + timedelta(days=1)
    raw = csv_bytes(
        HEADER,
        f"{a.state_id},{world.day},tutoring,45",  # 2: good
        f"{a.state_id},{world.day},tutoring,50",  # 3: the same student, day and service as row 2
        f"{b.state_id},2026-02-30,tutoring,45",  # 4: not a date
        f"{b.state_id},{future},tutoring,45",  # 5: in the future
        f"{b.state_id},{world.day},tutoring,0",  # 6: minutes out of range
        f"{b.state_id},{world.day},mentoring,721",  # 7
        f"{b.state_id},{world.day},fafsa_help,abc",  # 8: not a whole number; and no agreement for FAFSA help
        f"{b.state_id},{world.day},cooking,30",  # 9: not a service
        f"{b.state_id},{world.day_before},mentoring,",  # 10: minutes missing
        f"{world.late.state_id},{world.day},tutoring,30",  # 11: not on the roster that day
        f"NOBODY,{world.day},tutoring,30",  # 12: no such student
        f"{world.outsider.state_id},{world.day},tutoring,30",  # 13: another district's student
        f"{world.on_other_roster.state_id},{world.day},tutoring,30",  # 14: on another partner's roster
        f"{b.state_id},{world.day},family_support,30",  # 15: its agreement ended before that day
    )
    outcome = assert_rejected(
        world, raw,
        (3, None, "duplicate key (state_id, date, service): the same as row 2"),
        (4, "date", "'2026-02-30' is not a date"),
        (5, "date", f"{future} is in the future"),
        (6, "minutes", "0 is out of range (1 to 720)"),
        (7, "minutes", "721 is out of range (1 to 720)"),
        (8, "minutes", "'abc' is not a whole number"),
        (8, "service", ("Northside Youth has no service agreement with Lakeview Schools for fafsa_help at Lakeview High "
                        f"in force on {world.day}")),
        (9, "service", "'cooking' is not one of: attendance_support, tutoring"),
        (10, "minutes", "minutes is required"),
        (11, "date", (f"the student with state ID '{world.late.state_id}' was not on the roster of Northside Youth "
                      f"on {world.day} (on it since {LATE_START})")),
        (12, "state_id", "no student on the roster of Northside Youth has the state ID 'NOBODY'"),
        (13, "state_id", f"no student on the roster of Northside Youth has the state ID '{world.outsider.state_id}'"),
        (14, "state_id", f"no student on the roster of Northside Youth has the state ID '{world.on_other_roster.state_id}'"),
        (15, "service", "Northside Youth has no service agreement with Lakeview Schools for family_support at Lakeview High"),
    )
    assert outcome.batch.error_count == 14
    assert not any(r == 2 for r, _, _ in errors_of(outcome))


def test_an_unknown_state_id_reads_the_same_as_a_student_off_the_roster(world):
    """The import does not tell a partner which state IDs are the district's students."""
    unknown = run(world, csv_bytes(HEADER, f"NOBODY,{world.day},tutoring,30"))
    known = run(world, csv_bytes(HEADER, f"{world.on_other_roster.state_id},{world.day},tutoring,30"))
    assert [m.replace(world.on_other_roster.state_id, "X") for _, _, m in errors_of(known)] == \
           [m.replace("NOBODY", "X") for _, _, m in errors_of(unknown)]


def test_a_student_removed_from_the_roster_counts_until_the_day_before_removal(world):
    student = world.students[0]
    entry = _db.session.scalars(sa.select(RosterEntry).where(RosterEntry.student_id == student.id)).one()
    entry.removed_on = world.day
    _db.session.flush()
    assert run(world, csv_bytes(HEADER, f"{student.state_id},{world.day_before},tutoring,30")).ok
    assert_rejected(world, csv_bytes(HEADER, f"{student.state_id},{world.day},tutoring,30"),
                    (2, "date", f"removed on {world.day}"))


def test_a_state_id_of_two_rostered_students_is_refused_and_one_off_the_roster_is_not_counted(world):
    """State IDs are unique within a district: a student who moved may have a record in
    each. The one on the roster that day is meant; two at once cannot be told apart."""
    moved = world.students[0]
    mover_record = create_student(create_school(create_district()), state_id=moved.state_id)
    raw = csv_bytes(HEADER, f"{moved.state_id},{world.day},tutoring,30")
    assert run(world, raw).ok  # the other record is on no roster of the partner
    add_to_roster(mover_record, world.partner, added_on=today() - timedelta(days=100))
    assert_rejected(world, raw, (2, "state_id", f"the state ID '{moved.state_id}' names 2 students on the roster of "
                                                "Northside Youth"))


def test_a_rejection_after_a_good_import_changes_nothing(world):
    assert run(world, good_file(world)).ok
    a = world.students[0]
    assert_rejected(world, csv_bytes(HEADER, f"{a.state_id},{world.day},tutoring,99", f"NOBODY,{world.day},tutoring,5"),
                    (3, "state_id", "no student on the roster"))
    assert {r.minutes for r in contacts() if r.student_id == a.id and r.service == "tutoring"} == {45}


@pytest.mark.parametrize("header, expected", [
    ("state_id,date,service", (1, "minutes", "missing column 'minutes'")),
    ("state_id,date,service,minutes,room", (1, "room", "unknown column 'room'")),
])
def test_a_header_with_a_column_missing_or_extra_is_refused(world, header, expected):
    values = f"{world.students[0].state_id},{world.day},tutoring" + (",30,5" if "room" in header else "")
    assert_rejected(world, csv_bytes(header, values), expected)


def test_a_header_in_another_spelling_is_read(world):
    a = world.students[0]
    outcome = run(world, csv_bytes("State ID,Date,Service,Minutes,Mode", f"{a.state_id},{world.day},tutoring,30,group"))
    assert outcome.ok and [(r.minutes, r.mode) for r in contacts()] == [(30, "group")]


def test_the_file_is_the_partners_and_only_the_partners(world):
    with pytest.raises(importers.ImportSetupError, match="imported for a partner organization"):
        importers.import_file("service_contacts", good_file(world), "a.csv", world.district)
    with pytest.raises(importers.ImportSetupError, match="the district's"):
        importers.import_file("attendance", b"state_id,school_code,date,status\n", "a.csv", world.partner)


def test_another_partners_import_is_its_own(world):
    """The same student on both rosters: each organization's import keeps its own rows."""
    a = world.students[0]
    add_to_roster(a, world.other_partner, added_on=today() - timedelta(days=100))
    create_service_agreement(world.other_partner, world.district, services=("tutoring",))
    raw = csv_bytes(HEADER, f"{a.state_id},{world.day},tutoring,30")
    assert run(world, raw).ok
    other = importers.import_file("service_contacts", raw.replace(b",30", b",40"), "b.csv", world.other_partner)
    assert other.ok and other.batch.rows_inserted == 1
    assert sorted((r.organization_id, r.minutes) for r in contacts()) == sorted(
        [(world.partner.id, 30), (world.other_partner.id, 40)])


# --- the upload page --------------------------------------------------------------------

def post_upload(client, raw: bytes, kind: str = "service_contacts", dry_run: bool = False):
    token = csrf_token(client, UPLOAD)
    data = {"csrf_token": token, "kind": kind, "file": (io.BytesIO(raw), "attendance-export.csv")}
    if dry_run:
        data["dry_run"] = "y"
    return client.post(UPLOAD, data=data, content_type="multipart/form-data")


def test_a_partner_admin_imports_from_the_upload_page(client, world):
    login(client, world.admin)
    page = client.get(UPLOAD)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'value="service_contacts" selected' in html or 'selected value="service_contacts"' in html
    assert 'value="attendance"' not in html and 'value="students"' not in html and "OneRoster" not in html
    result = import_result(client, post_upload(client, good_file(world)))
    html = result.get_data(as_text=True)
    assert result.status_code == 200 and "Imported." in html and "4 inserted" in html
    assert count() == 4 and {r.recorded_by_id for r in contacts()} == {world.admin.id}
    history = client.get(UPLOAD).get_data(as_text=True)
    assert "attendance-export.csv" in history and world.admin.full_name in history and "Service contacts" in history
    again = import_result(client, post_upload(client, good_file(world)))
    assert "0 inserted, 0 updated, 4 unchanged" in again.get_data(as_text=True)


def test_a_bad_file_uploaded_by_a_partner_admin_lists_its_rows(client, world):
    login(client, world.admin)
    result = import_result(client, post_upload(client, csv_bytes(HEADER, f"NOBODY,{world.day},tutoring,30")))
    html = result.get_data(as_text=True)
    assert "nothing was changed" in html and "no student on the roster of Northside Youth" in html
    assert '<td class="num">2</td>' in html and count() == 0


def test_a_youth_worker_is_refused(client, world):
    login(client, compliant(Role.YOUTH_WORKER, world.partner))
    assert client.get(UPLOAD).status_code == 403
    token = csrf_token(client, "/")
    response = client.post(UPLOAD, data={"csrf_token": token, "kind": "service_contacts",
                                         "file": (io.BytesIO(good_file(world)), "a.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 403 and count() == 0


def test_a_partner_admin_not_yet_compliant_is_told_why_and_refused(client, world):
    admin = create_user(Role.PARTNER_ADMIN, world.partner, confidentiality_signed_on=today() - timedelta(days=30),
                        ferpa_trained_on=today() - timedelta(days=400))
    login(client, admin)
    page = client.get(UPLOAD)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "FERPA training is more than 12 months old" in html
    assert f'action="{UPLOAD}"' not in html and "History" not in html
    token = csrf_token(client, "/")
    response = client.post(UPLOAD, data={"csrf_token": token, "kind": "service_contacts",
                                         "file": (io.BytesIO(good_file(world)), "a.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 403 and count() == 0 and _batches() == 0


def test_a_district_admin_cannot_import_a_partners_file(client, world):
    login(client, create_user(Role.DISTRICT_ADMIN, world.district))
    html = client.get(UPLOAD).get_data(as_text=True)
    assert 'value="attendance"' in html and 'value="service_contacts"' not in html
    assert post_upload(client, good_file(world)).status_code == 403
    assert count() == 0 and _batches() == 0


def test_a_partner_admin_cannot_import_the_districts_kinds_nor_see_its_pages(client, world):
    district_admin = create_user(Role.DISTRICT_ADMIN, world.district)
    district_batch = ImportBatch(kind="attendance", filename="a.csv", district_id=world.district.id,
                                 user_id=district_admin.id, status="succeeded")
    _db.session.add(district_batch)
    _db.session.flush()
    login(client, world.admin)
    raw = b"state_id,school_code,date,status\n" + f"{world.students[0].state_id},X,{world.day},present\n".encode()
    assert post_upload(client, raw, kind="attendance").status_code == 403
    assert client.get(f"{UPLOAD}{district_batch.uuid}").status_code == 404
    assert client.get(f"{UPLOAD}{district_batch.uuid}/status").status_code == 404
    assert client.get(f"{UPLOAD}oneroster-schools").status_code == 403
    assert "a.csv" not in client.get(UPLOAD).get_data(as_text=True)
    assert _batches() == 1


def _batches() -> int:
    return _db.session.scalar(sa.select(sa.func.count()).select_from(ImportBatch))


# --- the command line -------------------------------------------------------------------

def invoke(app, *args):
    return app.test_cli_runner().invoke(cli, ["import", *args])


def test_the_cli_imports_a_partners_file_named_by_its_organization(app, world, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_bytes(good_file(world))
    result = invoke(app, "service_contacts", str(path), "--organization", world.partner.code)
    assert result.exit_code == 0, result.output
    assert "4 rows read, 4 inserted, 0 updated, 0 unchanged" in result.output
    assert {r.recorded_by_id for r in contacts()} == {None}
    result = invoke(app, "service_contacts", str(path), "--organization", world.partner.code)
    assert "4 rows read, 0 inserted, 0 updated, 4 unchanged" in result.output


def test_the_cli_asks_for_the_right_organization(app, world, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_bytes(good_file(world))
    cases = [
        (["service_contacts", str(path)], "name the partner organization of a service_contacts file with --organization"),
        (["service_contacts", str(path), "--organization", world.district.code], "no partner organization has the code"),
        (["service_contacts", str(path), "--district", world.district.code, "--organization", world.partner.code],
         "not --district"),
        (["attendance", str(path), "--organization", world.partner.code], "--organization is for a partner's file"),
    ]
    for args, message in cases:
        result = invoke(app, *args)
        assert result.exit_code != 0 and message in result.output and "Traceback" not in result.output, result.output
    assert count() == 0


def test_the_cli_lists_a_rejected_files_rows(app, world, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_bytes(csv_bytes(HEADER, f"NOBODY,{world.day},tutoring,30"))
    result = invoke(app, "service_contacts", str(path), "--organization", world.partner.code)
    assert result.exit_code == 1 and "rejected, nothing was changed" in result.output
    assert "row 2, state_id: no student on the roster of Northside Youth has the state ID 'NOBODY'" in result.output
