"""Research projects under written agreement (issue 16 item 1): the district admin records
a study (its organization, purpose, approval, variables, years, schools, dates and the day
its data must be destroyed) and attaches researchers of that organization; a researcher
reads the projects they are attached to. Bad input says why and saves nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from casemgr.clock import today
from casemgr.models import ResearchProject, ResearchProjectMember
from casemgr.models.enums import Role
from casemgr.research import VARIABLES
from casemgr.services import research
from tests.factories import create_district, create_partner, create_research_org, create_school, create_school_year, create_user
from tests.helpers import csrf_token, login, logout

TODAY = today()


@pytest.fixture()
def study(db):
    district = create_district("Study District")
    schools = [create_school(district, name="North High"), create_school(district, name="South High")]
    for year in (TODAY.year - 2, TODAY.year - 1):
        create_school_year(district, year)
    org = create_research_org()
    return {
        "district": district, "schools": schools, "org": org,
        "admin": create_user(Role.DISTRICT_ADMIN, district),
        "researcher": create_user(Role.RESEARCHER, org, full_name="Rhea Searcher"),
        "colleague": create_user(Role.RESEARCHER, org, full_name="Cole League"),
        "stranger": create_user(Role.RESEARCHER, create_research_org(), full_name="Stran Ger"),
    }


def _create(study, **changes):
    values = dict(district=study["district"], organization=study["org"], title="Absence and failing",
                  purpose="What predicts falling off track", approval_reference="IRB 2026-1",
                  variables=["grade", "attendance_rate"], school_years=[TODAY.year - 1], schools=[],
                  starts_on=TODAY - timedelta(days=10), ends_on=TODAY + timedelta(days=300),
                  destroy_by=TODAY + timedelta(days=700), created_by=study["admin"])
    values.update(changes)
    return research.create_project(**values)


def _form(study, **changes) -> dict:
    data = {"organization": str(study["org"].uuid), "title": "Absence and failing",
            "purpose": "What predicts falling off track", "approval_reference": "IRB 2026-1",
            "variables": ["grade", "attendance_rate"], "school_years": [str(TODAY.year - 1)],
            "schools": [str(study["schools"][0].uuid)], "starts_on": (TODAY - timedelta(days=10)).isoformat(),
            "ends_on": (TODAY + timedelta(days=300)).isoformat(), "destroy_by": (TODAY + timedelta(days=700)).isoformat()}
    data.update(changes)
    return data


def test_the_district_admin_records_a_project_and_attaches_its_researchers(client, db, study):
    login(client, study["admin"])
    token = csrf_token(client, "/admin/research/new")
    response = client.post("/admin/research/new", data={**_form(study), "csrf_token": token})
    assert response.status_code == 302
    project = db.session.scalar(sa.select(ResearchProject).where(ResearchProject.district_id == study["district"].id))
    assert response.headers["Location"].endswith(f"/admin/research/{project.uuid}")
    assert (project.title, project.variables, project.school_years) == (
        "Absence and failing", ["grade", "attendance_rate"], [TODAY.year - 1])
    assert project.school_ids == [study["schools"][0].id] and project.created_by_id == study["admin"].id
    page = client.get(f"/admin/research/{project.uuid}").get_data(as_text=True)
    assert "<title>Absence and failing" in page and page.count("Extracts downloaded") == 1
    assert "Attendance rate" in page and "North High" in page and "Active" in page
    assert "Rhea Searcher" in page and "Stran Ger" not in page  # only the organization's researchers are offered
    response = client.post(f"/admin/research/{project.uuid}/researchers",
                           data={"researcher": str(study["researcher"].uuid), "csrf_token": token}, follow_redirects=True)
    assert "Rhea Searcher is attached to the project." in response.get_data(as_text=True)
    assert [m.user_id for m in project.members] == [study["researcher"].id]
    listed = client.get("/admin/research").get_data(as_text=True)
    assert "Absence and failing" in listed and study["org"].name in listed


def test_a_researcher_of_another_organization_is_never_attached(client, db, study):
    project = _create(study)
    login(client, study["admin"])
    token = csrf_token(client, f"/admin/research/{project.uuid}")
    response = client.post(f"/admin/research/{project.uuid}/researchers",
                           data={"researcher": str(study["stranger"].uuid), "csrf_token": token}, follow_redirects=True)
    assert "Choose a researcher of the project&#39;s organization." in response.get_data(as_text=True)
    with pytest.raises(research.ResearchError, match="Only researchers of"):
        research.attach_researcher(project, study["stranger"], study["admin"])
    with pytest.raises(research.ResearchError, match="Only researchers of"):
        research.attach_researcher(project, study["admin"], study["admin"])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ResearchProjectMember)) == 0


@pytest.mark.parametrize(("changes", "message"), [
    ({"organization": None}, "Choose the research organization."),
    ({"title": "  "}, "Give the project a title."),
    ({"purpose": ""}, "State the purpose of the study."),
    ({"approval_reference": " "}, "ethics (IRB) approval"),
    ({"variables": []}, "Choose the approved variables"),
    ({"variables": ["grade", "password_hash"]}, "Choose the approved variables"),
    ({"school_years": [1999]}, "Choose school years the district has."),
    ({"ends_on": TODAY - timedelta(days=20)}, "The last day must be on or after the first."),
    ({"destroy_by": TODAY + timedelta(days=10)}, "destroyed on or after the project's last day"),
])
def test_a_project_that_cannot_be_saved_says_why(db, study, changes, message):
    with pytest.raises(research.ResearchError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _create(study, **changes)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ResearchProject)) == 0


def test_a_partner_or_another_districts_school_is_refused(db, study):
    with pytest.raises(research.ResearchError, match="Choose the research organization."):
        _create(study, organization=create_partner())
    with pytest.raises(research.ResearchError, match="Choose schools of the district."):
        _create(study, schools=[create_school(create_district())])


@pytest.mark.parametrize("field, value", [
    ("organization", "not-a-uuid"), ("variables", "birth_date"), ("school_years", "1999"), ("schools", "nope"),
    ("ends_on", "2026-02-30"), ("title", "x" * 201),
])
def test_a_forged_form_saves_nothing_and_says_why(client, db, study, field, value):
    login(client, study["admin"])
    token = csrf_token(client, "/admin/research/new")
    response = client.post("/admin/research/new", data={**_form(study, **{field: value}), "csrf_token": token})
    assert response.status_code == 400
    assert "Nothing was saved" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ResearchProject)) == 0


def test_a_researcher_reads_their_projects_with_their_state(client, db, study):
    current = _create(study, title="Current study")
    ended = _create(study, title="Ended study", starts_on=TODAY - timedelta(days=400), ends_on=TODAY - timedelta(days=1))
    _create(study, title="Someone else's study")
    for project in (current, ended):
        research.attach_researcher(project, study["researcher"], study["admin"])
    assert [p.title for p in research.active_projects_of(study["researcher"], TODAY)] == ["Current study"]
    assert research.state(ended, TODAY) == "ended"
    assert research.state(_create(study, starts_on=TODAY + timedelta(days=1)), TODAY) == "upcoming"
    login(client, study["researcher"])
    page = client.get("/research").get_data(as_text=True)
    assert "Current study" in page and "Ended study" in page and "Someone else" not in page
    assert "Every school of each district" in page and "Attendance rate" in page
    logout(client)
    login(client, study["colleague"])
    assert "not attached to any research project" in client.get("/research").get_data(as_text=True)


def test_a_project_detached_researcher_no_longer_reads_it(client, db, study):
    project = _create(study)
    research.attach_researcher(project, study["researcher"], study["admin"])
    login(client, study["admin"])
    token = csrf_token(client, f"/admin/research/{project.uuid}")
    response = client.post(f"/admin/research/{project.uuid}/researchers/{study['researcher'].uuid}/detach",
                           data={"csrf_token": token}, follow_redirects=True)
    assert "Rhea Searcher is no longer attached to the project." in response.get_data(as_text=True)
    assert research.projects_of(study["researcher"]) == []
    assert client.post(f"/admin/research/{project.uuid}/researchers/{study['researcher'].uuid}/detach",
                       data={}).status_code == 400  # without the form's token


def test_another_districts_admin_finds_no_project(client, db, study):
    project = _create(study)
    login(client, create_user(Role.DISTRICT_ADMIN, create_district()))
    assert client.get(f"/admin/research/{project.uuid}").status_code == 404
    assert project.title not in client.get("/admin/research").get_data(as_text=True)


def test_each_project_has_its_own_secret_that_no_page_shows(client, db, study):
    first, second = _create(study), _create(study, title="Another study")
    assert len(first.pseudonym_secret) == 32 and first.pseudonym_secret != second.pseudonym_secret
    research.attach_researcher(first, study["researcher"], study["admin"])
    login(client, study["admin"])
    pages = client.get(f"/admin/research/{first.uuid}").get_data(as_text=True)
    logout(client)
    login(client, study["researcher"])
    pages += client.get("/research").get_data(as_text=True)
    assert first.pseudonym_secret.hex() not in pages and first.pseudonym_secret.hex().upper() not in pages


def test_the_catalogue_names_no_identifier():
    assert not {"name", "first_name", "last_name", "state_id", "local_id", "uuid", "birth_date", "address"} & set(VARIABLES)


# --- the de-identified extract (item 2) ---------------------------------------------------

def _population(study, students: int = 60):
    """Students of the study's schools with indicators in both school years, subgroups
    drawn so that some combinations are rare."""
    import random

    from casemgr.models import SchoolEnrollment
    from tests.factories import create_indicator, create_student

    rng = random.Random(5)
    made = []
    for n in range(students):
        school = study["schools"][n % 2]
        student = create_student(school, grade=10, last_name=f"Extractee{n}", gender=rng.choice(("female", "male")),
                                 ethnicity=rng.choices(("White", "Asian", "Native"), (8, 3, 1))[0],
                                 low_income=rng.random() < 0.5)
        for back, year in enumerate((TODAY.year - 1, TODAY.year - 2)):
            db_session().add(SchoolEnrollment(student_id=student.id, school_id=school.id, school_year=year,
                                              entry_date=TODAY.replace(year=year, month=8, day=20), grade=10 - back))
            create_indicator(student, year, tier=rng.choice((1, 2, 3)), chronic_absence=rng.random() < 0.3)
        made.append(student)
    db_session().flush()
    return made


def db_session():
    from casemgr.extensions import db

    return db.session


def _download(client, project, fmt="csv"):
    import io
    import zipfile

    response = client.get(f"/research/{project.uuid}/extract.{fmt}")
    assert response.status_code == 200, response.status_code
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    return response, archive.read(f"extract.{fmt}"), archive.read("README.txt").decode()


def _rows(data: bytes) -> list[dict]:
    import csv
    import io

    return list(csv.DictReader(io.StringIO(data.decode())))


def test_a_researcher_downloads_a_pseudonymous_k_anonymous_extract_of_the_approved_variables(client, db, study):
    students = _population(study)
    variables = ["school", "grade", "gender", "ethnicity", "low_income", "attendance_rate", "chronic_absence", "tier"]
    project = _create(study, variables=variables, school_years=[TODAY.year - 2, TODAY.year - 1])
    research.attach_researcher(project, study["researcher"], study["admin"])
    login(client, study["researcher"])
    response, data, readme = _download(client, project)
    rows = _rows(data)
    assert list(rows[0]) == ["pseudonym", "school_year", *variables]
    text = data.decode() + readme
    for student in students:  # nobody is named or identified
        assert student.last_name not in text and student.state_id not in text and str(student.uuid) not in text
        assert student.local_id not in text
    # every student's record, all their rows together, is shared by at least k (the minimum n, 10)
    records = {}
    for row in rows:
        records.setdefault(row["pseudonym"], []).append(tuple(row[q] for q in ("school_year", "school", "grade", "gender",
                                                                                  "ethnicity", "low_income")))
    shared = {}
    for pseudonym, record in records.items():
        shared.setdefault(tuple(sorted(record)), set()).add(pseudonym)
    assert shared and all(len(who) >= 10 for who in shared.values())
    left_out = int(readme.split("Rows left out, their students still too rare after generalizing: ")[1].split(".")[0])
    assert len(rows) + left_out == 2 * len(students)
    assert "k = 10" in readme and project.title in readme
    # the same pseudonyms in the next download; the download is in the report log
    _, again, _ = _download(client, project)
    assert {r["pseudonym"] for r in _rows(again)} == set(records)
    from casemgr.models import ReportLogEntry

    entries = db.session.scalars(sa.select(ReportLogEntry).where(ReportLogEntry.action == "extract")).all()
    assert len(entries) == 2 and entries[0].parameters["rows"] == str(len(rows))
    import hashlib

    assert entries[0].file_sha256 == hashlib.sha256(response.data).hexdigest()
    logout(client)
    login(client, study["admin"])
    assert entries[0].file_sha256 in client.get(f"/admin/research/{project.uuid}").get_data(as_text=True)


def test_two_projects_give_the_same_student_unrelated_pseudonyms(client, db, study):
    _population(study, 30)
    first = _create(study, variables=["grade"], school_years=[TODAY.year - 1])
    second = _create(study, title="Second", variables=["grade"], school_years=[TODAY.year - 1])
    for project in (first, second):
        research.attach_researcher(project, study["researcher"], study["admin"])
    login(client, study["researcher"])
    one = {r["pseudonym"] for r in _rows(_download(client, first)[1])}
    two = {r["pseudonym"] for r in _rows(_download(client, second)[1])}
    assert len(one) == len(two) == 30 and not one & two


def test_the_parquet_extract_holds_the_same_rows(client, db, study):
    import io

    import pyarrow.parquet as pq

    _population(study, 40)
    project = _create(study, variables=["grade", "attendance_rate", "tier"], school_years=[TODAY.year - 1])
    research.attach_researcher(project, study["researcher"], study["admin"])
    login(client, study["researcher"])
    table = pq.read_table(io.BytesIO(_download(client, project, "parquet")[1]))
    assert table.column_names == ["pseudonym", "school_year", "grade", "attendance_rate", "tier"]
    assert table.num_rows == len(_rows(_download(client, project)[1]))


def test_no_extract_outside_the_project_or_its_dates(client, db, study):
    _population(study, 12)
    ended = _create(study, starts_on=TODAY - timedelta(days=400), ends_on=TODAY - timedelta(days=1))
    current = _create(study, title="Not mine")
    research.attach_researcher(ended, study["researcher"], study["admin"])
    login(client, study["researcher"])
    response = client.get(f"/research/{ended.uuid}/extract.csv", follow_redirects=True)
    assert "not active today" in response.get_data(as_text=True)
    assert client.get(f"/research/{current.uuid}/extract.csv").status_code == 404  # not attached
    research.attach_researcher(current, study["researcher"], study["admin"])
    assert client.get(f"/research/{current.uuid}/extract.xlsx").status_code == 404
    logout(client)
    login(client, study["admin"])
    assert client.get(f"/research/{current.uuid}/extract.csv").status_code == 403


def test_a_researcher_moved_to_another_organization_keeps_no_project(client, db, study):
    _population(study, 12)
    project = _create(study)
    research.attach_researcher(project, study["researcher"], study["admin"])
    study["researcher"].organization_id = create_research_org().id
    db.session.flush()
    login(client, study["researcher"])
    assert client.get(f"/research/{project.uuid}/extract.csv").status_code == 404
    assert project.title not in client.get("/research").get_data(as_text=True)


def test_the_rows_come_in_no_order_of_the_database(client, db, study):
    students = _population(study, 40)
    project = _create(study, variables=["grade", "tier"], school_years=[TODAY.year - 2, TODAY.year - 1])
    research.attach_researcher(project, study["researcher"], study["admin"])
    login(client, study["researcher"])
    rows = _rows(_download(client, project)[1])
    assert [(r["school_year"], r["pseudonym"]) for r in rows] == sorted((r["school_year"], r["pseudonym"]) for r in rows)
    by_id = [research_pseudonym(project, s) for s in sorted(students, key=lambda s: s.id)]
    assert [r["pseudonym"] for r in rows if r["school_year"] == str(TODAY.year - 1)] != by_id


def research_pseudonym(project, student):
    from casemgr.deidentify import pseudonym

    return pseudonym(project.pseudonym_secret, student.state_id)


def test_columns_only_some_grades_have_do_not_tell_a_hidden_grade(client, db, study):
    """Grade generalized to a band: FAFSA, given for seniors alone, would pick the
    seniors out of it; the rows are counted with that pattern, so every such group is k."""
    from casemgr.models import SchoolEnrollment
    from tests.factories import create_indicator, create_student

    year = TODAY.year - 1
    for school in study["schools"]:
        for n in range(66):
            grade = 12 if n < 6 else 11
            student = create_student(school, grade=grade, last_name=f"Senior{n}")
            db.session.add(SchoolEnrollment(student_id=student.id, school_id=school.id, school_year=year,
                                            entry_date=TODAY.replace(year=year, month=8, day=20), grade=grade))
            create_indicator(student, year, fafsa_status="complete" if grade == 12 else None)
    db.session.flush()
    project = _create(study, variables=["school", "grade", "gender", "ethnicity", "birth_year", "fafsa_status"],
                      school_years=[year])
    project.extract_generalization = {"levels": {"grade": 1}, "merged": {}}  # a band, as a district's data may need
    research.attach_researcher(project, study["researcher"], study["admin"])
    db.session.flush()
    login(client, study["researcher"])
    rows = _rows(_download(client, project)[1])
    assert {r["grade"] for r in rows} <= {"11–12", "*"}
    groups = {}
    for row in rows:
        key = (row["school_year"], row["school"], row["grade"], row["gender"], row["ethnicity"], row["birth_year"],
               row["fafsa_status"] == "")
        groups.setdefault(key, set()).add(row["pseudonym"])
    assert groups and all(len(who) >= 10 for who in groups.values())


def test_a_later_extract_is_never_less_generalized(client, db, study):
    _population(study, 60)
    project = _create(study, variables=["school", "grade", "tier"], school_years=[TODAY.year - 1])
    research.attach_researcher(project, study["researcher"], study["admin"])
    project.extract_generalization = {"levels": {"grade": 2}, "merged": {"school": ["North High"]}}
    db.session.flush()
    login(client, study["researcher"])
    _, data, readme = _download(client, project)
    rows = _rows(data)
    assert {r["grade"] for r in rows} == {"*"} and "North High" not in data.decode()
    assert "Other" in {r["school"] for r in rows}
    db.session.refresh(project)
    assert project.extract_generalization["levels"]["grade"] == 2
    assert f"(students: {len({r['pseudonym'] for r in rows})})" in readme


def test_the_new_project_form_opens_on_the_29th_of_february(client, db, study, monkeypatch):
    from datetime import date

    from casemgr.views import research as research_views

    assert research_views._years_after(date(2028, 2, 29), 2) == date(2030, 3, 1)
    monkeypatch.setattr(research_views, "today", lambda: date(2028, 2, 29))
    login(client, study["admin"])
    assert client.get("/admin/research/new").status_code == 200
