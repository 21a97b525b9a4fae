"""The district admin searches the disclosure log."""
from __future__ import annotations

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
