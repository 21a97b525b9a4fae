"""Caseloads: a principal splits the school's students between its counselors (rules by
grade and last-name initials, students one by one); a counselor's caseload defaults to
their own students; refusals write nothing."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from casemgr.models import CaseloadAssignment, CaseloadRule, DisclosureEntry, Organization
from casemgr.models.enums import Role
from casemgr.reads.caseload_assignments import assignments_page
from casemgr.services import caseloads
from casemgr.services.caseloads import CaseloadError
from tests.factories import create_school, create_student, create_user
from tests.helpers import csrf_token, login
from tests.test_caseload import listed, page


@pytest.fixture()
def school(db):
    return create_school(name="Riverside High")


@pytest.fixture()
def people(db, school):
    return {
        "principal": create_user(Role.PRINCIPAL, school, full_name="Pat Principal"),
        "ana": create_user(Role.COUNSELOR, school, full_name="Ana Counselor"),
        "ben": create_user(Role.COUNSELOR, school, full_name="Ben Counselor"),
    }


@pytest.fixture()
def students(db, school):
    rows = [("Adams", 9), ("Kim", 9), ("Lopez", 9), ("Zhou", 10), ("baker", 10)]
    return {last: create_student(school, last_name=last, first_name="Sam", grade=grade) for last, grade in rows}


def counts(db):
    return (db.session.scalar(sa.select(sa.func.count()).select_from(CaseloadRule)),
            db.session.scalar(sa.select(sa.func.count()).select_from(CaseloadAssignment)))


def test_rules_by_letters_and_grade_and_one_by_one_which_wins(db, school, people, students):
    principal, ana, ben = people["principal"], people["ana"], people["ben"]
    caseloads.add_rule(principal, school, ana, None, "a", "K")  # lower case is read as upper
    caseloads.add_rule(principal, school, ben, 10, "L", "Z")
    page_ = assignments_page(school)
    assert [(c.full_name, n) for c, n in page_.counselors] == [("Ana Counselor", 3), ("Ben Counselor", 1)]
    assert (page_.unassigned, page_.students) == (1, 5)  # Lopez: grade 9, L
    caseloads.assign_students(principal, school, ben, f"{students['Adams'].state_id}, {students['Lopez'].local_id}")
    page_ = assignments_page(school)
    assert [n for _, n in page_.counselors] == [2, 3]  # Adams moved from Ana's rule to Ben
    assert page_.unassigned == 0
    assert [i.student.last_name for i in page_.individuals] == ["Adams", "Lopez"]
    caseloads.unassign_student(principal, school, students["Adams"])
    assert [n for _, n in assignments_page(school).counselors] == [3, 2]


def test_a_district_admin_may_assign_another_principal_or_a_counselor_may_not(db, school, people, students):
    admin = create_user(Role.DISTRICT_ADMIN, school.district)
    caseloads.add_rule(admin, school, people["ana"], 9, None, None)
    other_principal = create_user(Role.PRINCIPAL, create_school(school.district))
    for actor in (other_principal, people["ben"]):
        with pytest.raises(CaseloadError, match="Only the school's principal"):
            caseloads.add_rule(actor, school, people["ana"], 10, None, None)
    assert counts(db) == (1, 0)


def test_an_accented_initial_counts_as_its_letter(db, school, people):
    """"Ábalos" and "Łopez" are in A–K and L–Z, as the school files them, not outside both."""
    principal, ana, ben = people["principal"], people["ana"], people["ben"]
    for last in ("Ábalos", "Łopez", "Ñúñez", "Øster", "Štolc", "Élan"):
        create_student(school, last_name=last, first_name="Sam", grade=9)
    caseloads.add_rule(principal, school, ana, None, "A", "K")
    caseloads.add_rule(principal, school, ben, None, "L", "Z")
    page_ = assignments_page(school)
    assert [(c.full_name, n) for c, n in page_.counselors] == [("Ana Counselor", 2), ("Ben Counselor", 4)]
    assert page_.unassigned == 0


def test_overlapping_rules_share_students_and_the_page_counts_them(client, db, school, people, students):
    principal, ana, ben = people["principal"], people["ana"], people["ben"]
    caseloads.add_rule(principal, school, ana, None, "A", "K")  # Adams, Kim, baker
    caseloads.add_rule(principal, school, ben, 9, None, None)  # Adams, Kim, Lopez
    page_ = assignments_page(school)
    assert [n for _, n in page_.counselors] == [3, 3]
    assert (page_.shared, page_.unassigned) == (2, 1)  # Adams and Kim twice; Zhou nobody's
    login(client, principal)
    assert "2 students are in more than one counselor" in client.get("/caseload/assignments").get_data(as_text=True)


def test_a_counselor_who_moved_school_has_no_caseload_there(db, school, people, students):
    """Assignments left at the old school do not give the counselor an empty "My
    students" at the new one."""
    from casemgr.reads.caseload_assignments import has_caseload

    ana = people["ana"]
    caseloads.assign_students(people["principal"], school, ana, students["Kim"].state_id)
    assert db.session.scalar(sa.select(has_caseload(ana)))
    ana.organization_id = create_school(db.session.get(Organization, school.district_id)).id
    db.session.flush()
    assert not db.session.scalar(sa.select(has_caseload(ana)))


@pytest.mark.parametrize("grade, letters, message", [
    (None, ("", ""), "Give a grade, a range of last names, or both"),
    (None, ("M", "C"), "runs backwards"),
    (None, ("A", ""), "both ends"),
    (None, ("1", "Z"), "one letter A–Z"),
    (14, ("", ""), "Pre-K to 12"),
])
def test_a_rule_that_says_nothing_clear_is_refused(db, school, people, grade, letters, message):
    with pytest.raises(CaseloadError, match=message):
        caseloads.add_rule(people["principal"], school, people["ana"], grade, *letters)
    assert counts(db) == (0, 0)


def test_a_counselor_or_a_student_of_another_school_is_refused_and_nothing_is_written(db, school, people, students):
    elsewhere = create_school(school.district, name="Lakeside High")
    stranger = create_user(Role.COUNSELOR, elsewhere)
    outsider = create_student(elsewhere, last_name="Outside")
    principal = people["principal"]
    for counselor in (stranger, create_user(Role.TEACHER, school), None):
        with pytest.raises(CaseloadError, match="Choose a counselor of Riverside High"):
            caseloads.add_rule(principal, school, counselor, 9, None, None)
        with pytest.raises(CaseloadError, match="Choose a counselor of Riverside High"):
            caseloads.assign_students(principal, school, counselor, students["Kim"].state_id)
    with pytest.raises(CaseloadError, match=f"Not a student of Riverside High: {outsider.state_id}. Nothing was assigned"):
        caseloads.assign_students(principal, school, people["ana"], f"{students['Kim'].state_id} {outsider.state_id}")
    with pytest.raises(CaseloadError, match="at least one"):
        caseloads.assign_students(principal, school, people["ana"], " ,; ")
    assert counts(db) == (0, 0)
    with pytest.raises(CaseloadError):
        caseloads.unassign_student(principal, school, outsider)


def test_an_assignment_discloses_nothing_and_writes_nothing_to_the_familys_log(db, school, people, students):
    """Who counsels whom stays inside the school: no entry (the family's log once read it
    as "added the student to its program list"); the assignments page that lists the
    student's name logs that view, as every list does."""
    caseloads.assign_students(people["principal"], school, people["ana"], students["Kim"].state_id)
    caseloads.unassign_student(people["principal"], school, students["Kim"])
    db.session.flush()
    assert db.session.scalars(sa.select(DisclosureEntry.id).where(DisclosureEntry.names(students["Kim"].id))).all() == []


def test_the_principal_assigns_on_the_page_and_a_refusal_writes_nothing(client, db, school, people, students):
    principal, ana = people["principal"], people["ana"]
    login(client, principal)
    html = client.get("/caseload/assignments").get_data(as_text=True)
    assert "Caseloads of Riverside High" in html and "5 of 5 students are in no counselor" in html
    token = csrf_token(client, "/caseload/assignments")
    response = client.post("/caseload/assignments/rules", data={
        "rule-csrf_token": token, "rule-counselor": str(ana.uuid), "rule-grade": "", "rule-letters_from": "A",
        "rule-letters_to": "K"})
    assert response.status_code == 302
    html = client.get("/caseload/assignments").get_data(as_text=True)
    assert "last names A–K" in html and "2 of 5 students are in no counselor" in html
    stranger = create_user(Role.COUNSELOR, create_school(school.district))
    refused = client.post("/caseload/assignments/students", data={
        "assign-csrf_token": token, "assign-counselor": str(stranger.uuid),
        "assign-student_ids": students["Zhou"].state_id})
    assert refused.status_code == 400
    assert "Choose a counselor of Riverside High" in refused.get_data(as_text=True)
    refused = client.post("/caseload/assignments/students", data={
        "assign-csrf_token": token, "assign-counselor": "not-a-uuid", "assign-student_ids": "nobody"})
    assert refused.status_code == 400
    assert counts(db) == (1, 0)
    assigned = client.post("/caseload/assignments/students", data={
        "assign-csrf_token": token, "assign-counselor": str(ana.uuid), "assign-student_ids": students["Zhou"].state_id})
    assert assigned.status_code == 302 and counts(db) == (1, 1)
    rule = db.session.scalar(sa.select(CaseloadRule))
    assert client.post(f"/caseload/assignments/rules/{rule.uuid}/remove",
                       data={"csrf_token": token}).status_code == 302
    assert counts(db) == (0, 1)


def test_counselors_are_refused_the_assignment_page(client, db, school, people):
    login(client, people["ana"])
    assert client.get("/caseload/assignments").status_code == 403


def test_a_district_admin_picks_the_school(client, db, school, people):
    login(client, create_user(Role.DISTRICT_ADMIN, school.district))
    assert "Riverside High" in client.get("/caseload/assignments").get_data(as_text=True)
    other = create_school()  # another district's school is not theirs
    assert "Caseloads of" not in client.get(f"/caseload/assignments?school={other.uuid}").get_data(as_text=True)
    html = client.get(f"/caseload/assignments?school={school.uuid}").get_data(as_text=True)
    assert "Caseloads of Riverside High" in html


def test_the_counselors_caseload_defaults_to_their_students_with_the_whole_school_a_click_away(
        client, db, school, people, students):
    ana = people["ana"]
    login(client, ana)
    html = page(client)
    assert "No students are assigned to you yet, so this is the whole school" in html
    assert len(listed(html)) == 5 and "scope=mine" not in html and "Whole school" not in html
    caseloads.add_rule(people["principal"], school, ana, None, "A", "K")
    caseloads.assign_students(people["principal"], school, people["ben"], students["Adams"].state_id)
    db.session.flush()
    mine = page(client)
    assert sorted(listed(mine)) == ["Kim, Sam", "baker, Sam"]  # Adams is Ben's one by one
    assert 'aria-current="page">My students' in mine and "scope=school" in mine
    whole = page(client, "?scope=school&sort=name")
    assert len(listed(whole)) == 5 and 'aria-current="page">Whole school' in whole
    assert "scope=school" in whole.split('id="caseload-results"')[1].split("Previous")[0]  # links keep it
    assert sorted(listed(page(client, "?scope=nonsense"))) == ["Kim, Sam", "baker, Sam"]


def test_a_rule_counts_the_students_current_on_the_day_asked(db, school, people, students):
    """A statement built for a day (the home's queue, reused all that day) counts the
    students current on that day, not on the clock's."""
    from datetime import timedelta

    from casemgr.clock import today
    from casemgr.models import Student
    from casemgr.reads.caseload_assignments import in_caseload_of

    caseloads.add_rule(people["principal"], school, people["ana"], None, "A", "Z")
    students["Kim"].left_on = today() - timedelta(days=2)
    db.session.flush()

    def names(day):
        return set(db.session.scalars(sa.select(Student.last_name).where(in_caseload_of(people["ana"].id, day))))

    assert "Kim" in names(today() - timedelta(days=5))
    assert "Kim" not in names(today()) and "Adams" in names(today())
