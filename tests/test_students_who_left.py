"""A student who left the district's schools (graduated, moved away: `left_on` on or
before today) is no longer in the lists of current students: the caseload with its
export and print, the caseload rules and assignments, the school's queue. Their record
is still the school's: a direct link or a search for them still finds it."""
from __future__ import annotations

from datetime import timedelta

import pytest

from casemgr.models import TierChange
from casemgr.models.enums import Role
from casemgr.reads.caseload_assignments import assignments_page
from casemgr.services import caseloads
from casemgr.services.caseloads import CaseloadError
from tests.factories import create_indicator, create_student, create_user
from tests.helpers import login
from tests.test_caseload import TODAY, YEAR, exported_rows, listed, page, with_indicator
from tests.test_caseload import school as school  # noqa: F401 (the fixture)
from tests.test_homes import home, section


@pytest.fixture()
def students(db, school):
    """Three students of the school: one current, one who left today, one who leaves tomorrow."""
    return {
        "Current": with_indicator(db, create_student(school, last_name="Current", first_name="Ana"), tier=2),
        "Gone": with_indicator(db, create_student(school, last_name="Gone", first_name="Ben", left_on=TODAY), tier=2),
        "Leaving": with_indicator(db, create_student(school, last_name="Leaving", first_name="Cy",
                                                     left_on=TODAY + timedelta(days=1)), tier=2),
    }


def names(rows) -> set[str]:
    return {name.split(",")[0] for name in rows}


def test_the_caseload_lists_current_students_only(client, db, school, students):
    login(client, create_user(Role.COUNSELOR, school))
    html = page(client, "?sort=name")
    assert names(listed(html)) == {"Current", "Leaving"}
    assert "2 students." in html


def test_a_district_admin_caseload_leaves_them_out_too(client, db, school, students):
    district = school.district
    login(client, create_user(Role.DISTRICT_ADMIN, district))
    assert "Gone" not in names(listed(page(client, "?sort=name")))


def test_a_search_or_a_direct_link_still_finds_a_student_who_left(client, db, school, students):
    login(client, create_user(Role.COUNSELOR, school))
    assert names(listed(page(client, "?q=gone"))) == {"Gone"}
    assert client.get(f"/students/{students['Gone'].uuid}").status_code == 200


def test_the_record_says_when_the_student_left_or_leaves(client, db, school, students):
    from casemgr.views.formatting import longdate

    login(client, create_user(Role.COUNSELOR, school))
    gone = client.get(f"/students/{students['Gone'].uuid}").get_data(as_text=True)
    assert f"Left the district's schools on {longdate(TODAY)}" in gone
    leaving = client.get(f"/students/{students['Leaving'].uuid}").get_data(as_text=True)
    assert f"Leaves the district's schools on {longdate(TODAY + timedelta(days=1))}" in leaving
    current = client.get(f"/students/{students['Current'].uuid}").get_data(as_text=True)
    assert "the district's schools on" not in current


def test_the_export_and_the_print_view_leave_them_out(client, db, school, students):
    login(client, create_user(Role.COUNSELOR, school))
    assert {row[0] for row in exported_rows(client, "?sort=name")[1:]} == {"Current", "Leaving"}
    printed = client.get("/caseload/print?sort=name").get_data(as_text=True)
    assert names(listed(printed)) == {"Current", "Leaving"}


def test_caseload_rules_and_counts_leave_them_out(db, school, students):
    principal = create_user(Role.PRINCIPAL, school)
    ana = create_user(Role.COUNSELOR, school, full_name="Ana Counselor")
    caseloads.add_rule(principal, school, ana, 9, None, None)
    listing = assignments_page(school)
    assert [n for _, n in listing.counselors] == [2]
    assert (listing.students, listing.unassigned) == (2, 0)


def test_a_student_who_left_cannot_be_assigned(db, school, students):
    principal = create_user(Role.PRINCIPAL, school)
    ana = create_user(Role.COUNSELOR, school)
    with pytest.raises(CaseloadError, match="left the district's schools"):
        caseloads.assign_students(principal, school, ana, f"{students['Current'].state_id} {students['Gone'].state_id}")
    assigned = caseloads.assign_students(principal, school, ana, students["Leaving"].local_id)
    assert [s.last_name for s in assigned] == ["Leaving"]


def test_a_student_assigned_before_leaving_is_no_longer_counted(db, school, students):
    principal = create_user(Role.PRINCIPAL, school)
    ana = create_user(Role.COUNSELOR, school)
    caseloads.assign_students(principal, school, ana, students["Leaving"].state_id)
    students["Leaving"].left_on = TODAY
    db.session.flush()
    listing = assignments_page(school)
    assert listing.individuals == [] and [n for _, n in listing.counselors] == [0]


def test_the_school_queue_leaves_out_their_tier_rises(client, db, school):
    for name, left_on in (("Stayed", None), ("Departed", TODAY - timedelta(days=3))):
        student = create_student(school, last_name=name, left_on=left_on)
        for days_ago, tier in ((40, 1), (10, 3)):
            db.session.add(TierChange(student_id=student.id, school_year=YEAR, since=TODAY - timedelta(days=days_ago),
                                      tier=tier))
        create_indicator(student, YEAR, tier=3)
    login(client, create_user(Role.COUNSELOR, school))
    tiers = section(home(client), "tiers")
    assert " Stayed</a>" in tiers and "Departed" not in tiers
