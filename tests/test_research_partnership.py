"""Research across the partnership and families' choice (issue 16 items 3 and 5): a project
invites other districts, each covering it once its own admin approves and until it
withdraws; families read what research receives, in English or Spanish, and where the
district offers it keep their child out of every extract."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from casemgr.clock import today
from casemgr.models import ResearchOptOut, ResearchProjectDistrict, SchoolEnrollment
from casemgr.models.enums import Role
from casemgr.services import research
from tests.factories import (
    create_district,
    create_guardian,
    create_indicator,
    create_research_org,
    create_school,
    create_school_year,
    create_student,
    create_user,
)
from tests.helpers import csrf_token, login, logout
from tests.test_research_projects import _download, _rows

TODAY = today()
YEAR = TODAY.year - 1


@pytest.fixture()
def partnership(db):
    org = create_research_org()
    made = {"org": org, "researcher": create_user(Role.RESEARCHER, org, full_name="Rhea Searcher")}
    for key, name in (("a", "Lakeside District"), ("b", "Hillcrest District")):
        district = create_district(name)
        create_school_year(district, YEAR)
        made[key] = {"district": district, "school": create_school(district, name=f"{name} High"),
                     "admin": create_user(Role.DISTRICT_ADMIN, district)}
    return made


def _students(side, count, prefix):
    made = []
    for n in range(count):
        student = create_student(side["school"], grade=10, last_name=f"{prefix}{n}", gender="female",
                                 ethnicity="White")
        db_add(SchoolEnrollment(student_id=student.id, school_id=side["school"].id, school_year=YEAR,
                                entry_date=TODAY.replace(year=YEAR, month=8, day=20), grade=10))
        create_indicator(student, YEAR)
        made.append(student)
    return made


def db_add(row):
    from casemgr.extensions import db

    db.session.add(row)
    db.session.flush()


def _project(partnership, invited=()):
    a = partnership["a"]
    project = research.create_project(
        a["district"], partnership["org"], "Across the boards", "Who falls off track", "IRB 9", ["school", "grade"],
        [YEAR], [], TODAY - timedelta(days=5), TODAY + timedelta(days=200), TODAY + timedelta(days=400), a["admin"],
        invited)
    research.attach_researcher(project, partnership["researcher"], a["admin"])
    return project


def test_an_invited_district_takes_part_only_from_its_own_approval_until_it_withdraws(client, db, partnership):
    a, b = partnership["a"], partnership["b"]
    _students(a, 12, "Alpha")
    _students(b, 12, "Beta")
    project = _project(partnership, [b["district"]])
    login(client, partnership["researcher"])
    schools = {row["school"] for row in _rows(_download(client, project)[1])}
    assert schools == {"Lakeside District High"}  # invited, not approved yet: none of Hillcrest's students
    logout(client)

    login(client, b["admin"])
    listed = client.get("/admin/research").get_data(as_text=True)
    assert "Across the boards" in listed and "invited, not approved yet" in listed
    page = client.get(f"/admin/research/{project.uuid}").get_data(as_text=True)
    assert "Approve: my district takes part" in page and "Researchers</h2>" not in page  # attaching is A's
    token = csrf_token(client, f"/admin/research/{project.uuid}")
    refused = client.post(f"/admin/research/{project.uuid}/researchers",
                          data={"researcher": str(partnership["researcher"].uuid), "csrf_token": token})
    assert refused.status_code == 404
    done = client.post(f"/admin/research/{project.uuid}/approve", data={"csrf_token": token}, follow_redirects=True)
    assert "Your district takes part in the project" in done.get_data(as_text=True)
    row = db.session.get(ResearchProjectDistrict, (project.id, b["district"].id))
    assert row.approved_by_id == b["admin"].id and row.covered
    again = client.post(f"/admin/research/{project.uuid}/approve", data={"csrf_token": token}, follow_redirects=True)
    assert "already takes part" in again.get_data(as_text=True)
    logout(client)

    login(client, partnership["researcher"])
    rows = _rows(_download(client, project)[1])
    assert {row["school"] for row in rows} == {"Lakeside District High", "Hillcrest District High"}
    assert len(rows) == 24
    logout(client)

    login(client, b["admin"])
    token = csrf_token(client, f"/admin/research/{project.uuid}")
    client.post(f"/admin/research/{project.uuid}/withdraw", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.get(ResearchProjectDistrict, (project.id, b["district"].id)).state == "withdrawn"
    logout(client)
    login(client, partnership["researcher"])
    assert {row["school"] for row in _rows(_download(client, project)[1])} == {"Lakeside District High"}


def test_a_district_not_invited_finds_nothing_and_cannot_approve(client, db, partnership):
    project = _project(partnership)
    outsider = create_user(Role.DISTRICT_ADMIN, create_district("Elsewhere"))
    login(client, outsider)
    assert client.get(f"/admin/research/{project.uuid}").status_code == 404
    token = csrf_token(client, "/admin/research")
    assert client.post(f"/admin/research/{project.uuid}/approve", data={"csrf_token": token}).status_code == 404
    assert "Across the boards" not in client.get("/admin/research").get_data(as_text=True)
    with pytest.raises(research.ResearchError, match="not invited"):
        research.approve(project, partnership["a"]["district"], partnership["a"]["admin"])  # its own: no approval


def test_only_other_districts_are_invited(db, partnership):
    a = partnership["a"]
    with pytest.raises(research.ResearchError, match="other districts"):
        _project(partnership, [a["district"]])
    with pytest.raises(research.ResearchError, match="other districts"):
        _project(partnership, [a["school"]])


def test_the_strictest_minimum_n_of_the_covered_districts_is_k(db, partnership):
    from casemgr.reads import research_extract

    b = partnership["b"]
    b["district"].report_minimum_n = 15
    project = _project(partnership, [b["district"]])
    assert research_extract.k_of(project) == 10
    research.approve(project, b["district"], b["admin"])
    assert research_extract.k_of(project) == 15


def test_schools_listed_restrict_their_own_district_only(client, db, partnership):
    a, b = partnership["a"], partnership["b"]
    other = create_school(a["district"], name="Lakeside Other High")
    _students(a, 11, "Alpha")
    _students({"school": other}, 11, "Gamma")
    _students(b, 11, "Beta")
    project = _project(partnership, [b["district"]])
    project.school_ids = [a["school"].id]
    research.approve(project, b["district"], b["admin"])
    login(client, partnership["researcher"])
    schools = {row["school"] for row in _rows(_download(client, project)[1])}
    assert schools == {"Lakeside District High", "Hillcrest District High"}


# --- families (item 5) -----------------------------------------------------------------


@pytest.fixture()
def family(db, partnership):
    a = partnership["a"]
    child = create_student(a["school"], grade=10, first_name="Marisol", last_name="Quintero",
                           birth_date=TODAY.replace(year=TODAY.year - 15))
    parent = create_user(Role.PARENT, a["district"], locale="es")
    create_guardian(child, parent)
    return {"child": child, "parent": parent}


def test_a_family_reads_what_research_receives_in_spanish_from_the_log_page(client, db, partnership, family):
    project = _project(partnership)
    login(client, family["parent"])
    log = client.get(f"/family/children/{family['child'].uuid}/log").get_data(as_text=True)
    assert f"/family/children/{family['child'].uuid}/research" in log
    page = client.get(f"/family/children/{family['child'].uuid}/research").get_data(as_text=True)
    assert "Estudios en los que participa el distrito" in page and project.title in page
    assert "Escuela" in page and "Grado" in page  # what it receives, in the family's words
    assert "Año de nacimiento" not in page  # not approved for this project
    assert "no ofrece" in page  # the district does not offer the choice
    assert "<form" not in page.split("<h2>Su decisión</h2>")[1].split("</main>")[0]


def test_a_project_whose_data_is_destroyed_is_no_longer_listed(client, db, partnership, family):
    project = _project(partnership)
    project.ends_on, project.destroy_by = TODAY - timedelta(days=2), TODAY - timedelta(days=1)
    db.session.flush()
    login(client, family["parent"])
    page = client.get(f"/family/children/{family['child'].uuid}/research").get_data(as_text=True)
    assert project.title not in page


def test_a_parent_keeps_their_child_out_of_every_extract_where_the_district_offers_it(client, db, partnership,
                                                                                       family):
    a = partnership["a"]
    students = _students(a, 12, "Alpha")
    child = students[0]
    parent = create_user(Role.PARENT, a["district"], locale="en")
    create_guardian(child, parent)
    project = _project(partnership)
    login(client, parent)
    path = f"/family/children/{child.uuid}/research"
    token = csrf_token(client, path)
    # not offered: nothing changes
    assert client.post(path, data={"csrf_token": token, "choice": "out"}).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ResearchOptOut)) == 0
    logout(client)

    login(client, a["admin"])
    token = csrf_token(client, "/admin/research")
    client.post("/admin/research/settings", data={"opt_out_allowed": "y", "csrf_token": token})
    db.session.expire_all()
    assert a["district"].research_opt_out_allowed
    logout(client)

    login(client, parent)
    token = csrf_token(client, path)
    page = client.post(path, data={"csrf_token": token, "choice": "out"}, follow_redirects=True).get_data(as_text=True)
    assert "will be left out of every research file" in page and "Include" in page
    # the same choice again (a second click, an old tab) changes nothing
    again = client.post(path, data={"csrf_token": token, "choice": "out"}, follow_redirects=True)
    assert "already left out" in again.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ResearchOptOut)) == 1
    assert client.post(path, data={"csrf_token": token, "choice": "maybe"}).status_code == 400
    request = db.session.scalar(sa.select(ResearchOptOut))
    assert (request.student_id, request.requested_by_id, request.withdrawn_at) == (child.id, parent.id, None)
    logout(client)

    login(client, partnership["researcher"])
    assert len(_rows(_download(client, project)[1])) == 11  # the child is left out
    logout(client)

    # the district stops offering the choice: the request made stays in force
    login(client, a["admin"])
    token = csrf_token(client, "/admin/research")
    client.post("/admin/research/settings", data={"csrf_token": token})
    db.session.expire_all()
    assert not a["district"].research_opt_out_allowed
    logout(client)
    login(client, partnership["researcher"])
    assert len(_rows(_download(client, project)[1])) == 11
    logout(client)

    # the family may still withdraw its request
    login(client, parent)
    token = csrf_token(client, path)
    back = client.post(path, data={"csrf_token": token, "choice": "in"}, follow_redirects=True).get_data(as_text=True)
    assert "may be included in research files again" in back
    db.session.expire_all()
    assert db.session.get(ResearchOptOut, request.id).withdrawn_by_id == parent.id
    logout(client)
    login(client, partnership["researcher"])
    assert len(_rows(_download(client, project)[1])) == 12


def test_a_student_under_18_reads_but_their_parent_chooses(client, db, partnership, family):
    partnership["a"]["district"].research_opt_out_allowed = True
    db.session.flush()
    login(client, create_user(Role.STUDENT, student=family["child"], locale="en"))
    path = f"/family/children/{family['child'].uuid}/research"
    page = client.get(path).get_data(as_text=True)
    assert "The person who signs consents" in page and "Leave Marisol out" not in page
    token = csrf_token(client, path)
    assert client.post(path, data={"csrf_token": token, "choice": "out"}).status_code == 403


def test_another_family_or_staff_cannot_read_a_childs_research_page(client, db, partnership, family):
    stranger = create_user(Role.PARENT, partnership["a"]["district"])
    for user in (stranger, partnership["a"]["admin"]):
        login(client, user)
        assert client.get(f"/family/children/{family['child'].uuid}/research").status_code == 404
        logout(client)


def test_a_request_made_through_one_districts_record_holds_for_the_student_everywhere(db, partnership):
    """Extracts leave a child out by state ID: the request shows on every district's record
    of the child, and withdrawing it through either record withdraws it."""
    a, b = partnership["a"], partnership["b"]
    for side in (a, b):
        side["district"].research_opt_out_allowed = True
    old = create_student(b["school"], state_id="ST-MOVER-1")
    new = create_student(a["school"], state_id="ST-MOVER-1")
    parent = create_user(Role.PARENT, b["district"])
    research.opt_out(old, parent)
    assert research.opt_out_in_force(new) is not None
    with pytest.raises(research.ResearchError, match="already left out"):
        research.opt_out(new, parent)
    research.opt_back_in(new, parent)
    assert research.opt_out_in_force(old) is None


def test_a_student_who_moved_during_a_year_has_one_row_for_it(client, db, partnership):
    """The year is in both districts' records: the later stay stands for it, under the
    one pseudonym of the state ID."""
    from datetime import date

    a, b = partnership["a"], partnership["b"]
    _students(a, 12, "Alpha")
    _students(b, 12, "Beta")
    for side, began in ((a, date(YEAR, 8, 20)), (b, date(YEAR + 1, 2, 2))):
        record = create_student(side["school"], state_id="ST-MIDYEAR", grade=10, gender="female", ethnicity="White",
                                last_name="Midyear")
        db_add(SchoolEnrollment(student_id=record.id, school_id=side["school"].id, school_year=YEAR,
                                entry_date=began, grade=10))
        create_indicator(record, YEAR)
    project = _project(partnership, [b["district"]])
    research.approve(project, b["district"], b["admin"])
    login(client, partnership["researcher"])
    rows = _rows(_download(client, project)[1])
    from casemgr.deidentify import pseudonym

    mine = [row for row in rows if row["pseudonym"] == pseudonym(project.pseudonym_secret, "ST-MIDYEAR")]
    assert [row["school"] for row in mine] == ["Hillcrest District High"]
    assert len(rows) == 25
    from casemgr.models import ReportLogEntry

    logged = db.session.scalars(sa.select(ReportLogEntry.district_id).where(ReportLogEntry.action == "extract")).all()
    assert sorted(logged) == sorted([a["district"].id, b["district"].id])  # in each district's report log


def test_every_variable_has_words_for_families():
    from casemgr.research import VARIABLES, family_labels

    assert len(family_labels(list(VARIABLES))) == len(VARIABLES)
