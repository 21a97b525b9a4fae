"""The district admin searches the disclosure log."""
from __future__ import annotations

import sqlalchemy as sa

from casemgr.models.enums import Role
from tests.factories import create_school, create_student, create_user
from tests.helpers import login, logout


def test_admin_searches_the_log_by_student_user_organization_and_date(client, db):
    admin = create_user(Role.DISTRICT_ADMIN)
    school = create_school(admin.organization)
    a, b = create_student(school, last_name="Alvarez"), create_student(school, last_name="Baker")
    counselor = create_user(Role.COUNSELOR, school, email="c@example.test")
    login(client, counselor)
    client.get(f"/students/{a.uuid}")
    client.get(f"/students/{b.uuid}")
    logout(client)
    outsider = create_user(Role.COUNSELOR, email="o@example.test")
    login(client, outsider)
    assert client.get(f"/students/{a.uuid}").status_code == 404
    logout(client)

    login(client, admin)
    everything = client.get("/admin/disclosures").get_data(as_text=True)
    assert "3 entries" in everything and "Denied" in everything
    by_student = client.get(f"/admin/disclosures?student={a.state_id}").get_data(as_text=True)
    assert "2 entries" in by_student and "Baker" not in by_student
    by_user = client.get("/admin/disclosures?user=C@example.test").get_data(as_text=True)
    assert "2 entries" in by_user
    by_org = client.get(f"/admin/disclosures?organization={outsider.organization.uuid}").get_data(as_text=True)
    assert "1 entry" in by_org
    future = client.get("/admin/disclosures?start=2999-01-01").get_data(as_text=True)
    assert "0 entries" in future
    fragment = client.get("/admin/disclosures?student=nobody", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True) and "0 entries" in fragment.get_data(as_text=True)


def test_admin_sees_only_their_own_districts_log(client, db):
    other_school = create_school()
    student = create_student(other_school)
    login(client, create_user(Role.COUNSELOR, other_school))
    client.get(f"/students/{student.uuid}")
    logout(client)
    login(client, create_user(Role.DISTRICT_ADMIN))
    assert "0 entries" in client.get("/admin/disclosures").get_data(as_text=True)


def test_bad_filter_dates_are_explained(client, db):
    login(client, create_user(Role.DISTRICT_ADMIN))
    response = client.get("/admin/disclosures?start=yesterday")
    assert response.status_code == 200
    assert "Not a valid date value." in response.get_data(as_text=True)


def test_admin_finds_a_list_view_by_any_student_it_named(client, db):
    admin = create_user(Role.DISTRICT_ADMIN)
    school = create_school(admin.organization)
    a, b = create_student(school, last_name="Alvarez"), create_student(school, last_name="Baker")
    c = create_student(school, last_name="Castillo")
    counselor = create_user(Role.COUNSELOR, school, email="c@example.test")
    login(client, counselor)
    assert client.get("/caseload").status_code == 200  # one row naming the three
    client.get(f"/students/{a.uuid}")
    logout(client)

    login(client, admin)
    everything = client.get("/admin/disclosures").get_data(as_text=True)
    assert "2 entries" in everything and "A list of 3 students" in everything
    for student, count in ((a, "2 entries"), (b, "1 entry"), (c, "1 entry")):
        found = client.get(f"/admin/disclosures?student={student.local_id}").get_data(as_text=True)
        assert count in found and "A list of 3 students" in found, student.last_name
    by_user = client.get("/admin/disclosures?user=c@example.test").get_data(as_text=True)
    assert "2 entries" in by_user


def test_a_log_longer_than_the_count_bound_is_counted_up_to_it(client, db, monkeypatch):
    from casemgr.views import admin as admin_views

    monkeypatch.setattr(admin_views, "LOG_COUNT_BOUND", 2)
    admin = create_user(Role.DISTRICT_ADMIN)
    school = create_school(admin.organization)
    students = [create_student(school) for _ in range(3)]
    login(client, create_user(Role.COUNSELOR, school))
    for student in students:
        client.get(f"/students/{student.uuid}")
    logout(client)
    login(client, admin)
    html = client.get("/admin/disclosures").get_data(as_text=True)
    assert "More than 2 entries, page 1: narrow the search" in html
    html = client.get(f"/admin/disclosures?student={students[0].state_id}").get_data(as_text=True)
    assert "1 entry" in html


# --- by name, the basis once, the export (issue 14 item 3) ---------------------------


def _seen_by_a_counselor(client, *students):
    school = students[0].school
    login(client, create_user(Role.COUNSELOR, school, email="c@example.test"))
    for student in students:
        client.get(f"/students/{student.uuid}")
    logout(client)


def test_admin_finds_a_student_by_the_start_of_a_name_whatever_the_case_and_accents(client, db):
    admin = create_user(Role.DISTRICT_ADMIN)
    school = create_school(admin.organization)
    jose = create_student(school, first_name="José", last_name="Álvarez")
    maria = create_student(school, first_name="María", last_name="Alvarado")
    baker = create_student(school, first_name="Ann", last_name="Baker")
    lukasz = create_student(school, first_name="Łukasz", last_name="Štolc")
    other_district = create_student(create_school(), first_name="José", last_name="Álvarez")
    _seen_by_a_counselor(client, jose, maria, baker, lukasz)
    login(client, create_user(Role.COUNSELOR, other_district.school))
    client.get(f"/students/{other_district.uuid}")
    logout(client)

    login(client, admin)
    for search, entries, names in (("alv", "2 entries", ("Álvarez, José", "Alvarado, María")),
                                   ("ÁLVAREZ", "1 entry", ("Álvarez, José",)),
                                   ("jose alv", "1 entry", ("Álvarez, José",)),
                                   ("Alvarez, Jose", "1 entry", ("Álvarez, José",)),
                                   ("mar", "1 entry", ("Alvarado, María",)),
                                   ("lukasz stolc", "1 entry", ("Štolc, Łukasz",)),  # strokes and carons too
                                   (baker.state_id, "1 entry", ("Baker, Ann",))):
        html = client.get(f"/admin/disclosures?student={search}").get_data(as_text=True)
        assert entries in html, search
        assert all(name in html for name in names), search
    # the middle of a name is not its start; another district's José is not found
    assert "0 entries" in client.get("/admin/disclosures?student=varez").get_data(as_text=True)
    html = client.get("/admin/disclosures?student=jose").get_data(as_text=True)
    assert "1 entry" in html and other_district.state_id not in html
    html = client.get("/admin/disclosures?student=100%25").get_data(as_text=True)
    assert "No student of the district has that name or ID." in html and "0 entries" in html


def test_the_basis_is_said_once_per_ground(client, db):
    from casemgr.models import DisclosureEntry

    admin = create_user(Role.DISTRICT_ADMIN)
    school = create_school(admin.organization)
    student = create_student(school, last_name="Alvarez")
    counselor = create_user(Role.COUNSELOR, school)
    for basis in ({"attendance": "school_official", "grades": "school_official", "identity": "school_official"},
                  {"attendance": "consent:x", "identity": "school_official", "notes": "consent:x"}):
        db.session.add(DisclosureEntry(user_id=counselor.id, organization_id=school.id, student_id=student.id,
                                       action="view", categories=sorted(basis), basis=basis, allowed=True))
    db.session.flush()
    login(client, admin)
    html = client.get("/admin/disclosures").get_data(as_text=True)
    assert "<td>school official</td>" in html
    assert "school official; school official" not in html
    assert ("school official (Identity); a family&#39;s consent to your organization (Attendance, Notes)" in html
            or "school official (Identity); a family's consent to your organization (Attendance, Notes)" in html)


def test_the_search_exports_as_csv_with_the_same_filters_and_no_formulas(client, db):
    import csv
    import io

    from casemgr.models import DisclosureEntry

    admin = create_user(Role.DISTRICT_ADMIN)
    school = create_school(admin.organization)
    hostile = create_student(school, first_name="=HYPERLINK(\"http://x\")", last_name="@SUM(1)")
    plain = create_student(school, first_name="Ann", last_name="Baker")
    _seen_by_a_counselor(client, hostile, plain)
    logged = db.session.scalar(sa.select(sa.func.count()).select_from(DisclosureEntry))

    login(client, admin)
    assert f"/admin/disclosures.csv?student={plain.state_id}" in client.get(
        f"/admin/disclosures?student={plain.state_id}").get_data(as_text=True)
    response = client.get("/admin/disclosures.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:5] == ["When", "Who", "Email", "Organization", "Student"]
    assert len(rows) == 3
    newest, oldest = rows[1], rows[2]  # newest first
    assert oldest[4] == "'@SUM(1), =HYPERLINK(\"http://x\")" and oldest[7] == "view" and oldest[10] == "school official"
    assert newest[4] == "Baker, Ann" and newest[2] == "c@example.test" and newest[5] == plain.state_id
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    # searching the log writes nothing to it; the file, which leaves casemgr with the
    # students' names and state IDs, is an export of them
    export = db.session.scalars(sa.select(DisclosureEntry).where(DisclosureEntry.id > 0)
                                .order_by(DisclosureEntry.id.desc()).limit(1)).one()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DisclosureEntry)) == logged + 1
    assert (export.user_id, export.action, sorted(export.student_ids)) == (admin.id, "export",
                                                                         sorted([hostile.id, plain.id]))
    assert export.categories == ["identity"]
    only = list(csv.reader(io.StringIO(client.get("/admin/disclosures.csv?student=bak").get_data(as_text=True))))
    assert [(row[4], row[6], row[7]) for row in only[1:]] == [("", "2", "export"), ("Baker, Ann", "", "view")]
    # a bad filter is explained on the page, not exported unfiltered
    response = client.get("/admin/disclosures.csv?start=yesterday", follow_redirects=True)
    assert response.mimetype == "text/html" and "Not a valid date value." in response.get_data(as_text=True)


def test_the_export_is_for_the_district_admin_only(client, db):
    login(client, create_user(Role.COUNSELOR))
    assert client.get("/admin/disclosures.csv").status_code == 403
