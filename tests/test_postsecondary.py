"""Postsecondary outcomes from the Clearinghouse (issue 16 item 4): the graduates file of a
class, the StudentTracker detail report imported through the import path (validated,
row-numbered errors, idempotent), the four measures derived per graduate and checked
against values worked by hand, and who sees them on the student page."""
from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from casemgr import importers, postsecondary
from casemgr.models import (
    DisclosureEntry,
    PostsecondaryOutcome,
    PostsecondaryRecord,
    SchoolEnrollment,
    Student,
)
from casemgr.models.enums import Category, Role
from tests.factories import (
    add_to_roster,
    create_agreement,
    create_consent,
    create_district,
    create_partner,
    create_school,
    create_school_year,
    create_student,
    create_user,
)
from tests.helpers import login, logout

DATA = Path(__file__).parent / "data" / "clearinghouse"
GRADUATION = date(2024, 6, 7)  # the class of 2024, school year 2023
NUMBERS = itertools.count(1)


@pytest.fixture()
def district(db):
    district = create_district("Northfield Schools")
    district.clearinghouse_account = "10012345"
    for year in (2022, 2023, 2024):
        create_school_year(district, year)
    high = create_school(district, name="Northfield High")
    high.act_code = "036123"
    graduates = {key: _graduate(high, key) for key in ("S1001", "S1002", "S1003", "S1004", "S1005", "S1006")}
    return {"district": district, "high": high, "graduates": graduates}


def _graduate(high, local_id, left_on=GRADUATION, grade=12, **fields):
    from casemgr.extensions import db

    student = create_student(high, local_id=local_id, grade=grade, last_name=f"Grad{local_id}", left_on=left_on,
                             **fields)
    db.session.add(SchoolEnrollment(student_id=student.id, school_id=high.id, school_year=2023,
                                    entry_date=date(2023, 8, 20), exit_date=left_on, grade=grade))
    db.session.flush()
    return student


def _import(district, name="detail_good.csv", raw: bytes | None = None):
    raw = raw if raw is not None else (DATA / name).read_bytes()
    return importers.import_file("studenttracker", raw, name, district)


def _outcomes(db, district) -> dict[str, tuple]:
    rows = db.session.execute(
        sa.select(PostsecondaryOutcome, Student.local_id).join(Student, Student.id == PostsecondaryOutcome.student_id)
        .where(PostsecondaryOutcome.district_id == district.id)).all()
    return {local: (o.class_year, o.enrolled_fall, o.enrolled_within_year, o.persisted, o.completed_degree)
            for o, local in rows}


def test_the_detail_report_gives_the_measures_worked_by_hand(db, district):
    outcome = _import(district["district"])
    assert outcome.ok, [e.describe() for e in outcome.errors]
    # Class of 2024, graduated 7 June 2024. First fall: 15 Aug - 31 Oct 2024; the second:
    # 15 Aug - 31 Oct 2025; within a year: terms begun up to 7 June 2025. Reported today,
    # after the second fall began: persisting is known.
    assert _outcomes(db, district["district"]) == {
        # 26 Aug - 13 Dec 2024 overlaps the first fall; 25 Aug - 12 Dec 2025 the second
        "S1001": (2023, True, True, True, False),
        # January only: 13 Jan 2025 is 220 days after graduation; no fall term
        "S1002": (2023, False, True, False, False),
        # a 19 Aug 2024 term, a certificate on 16 May 2025, nothing in fall 2025
        "S1003": (2023, True, True, False, True),
        # searched, not found
        "S1004": (2023, False, False, False, False),
        # a gap year: 25 Aug 2025 is 444 days after graduation
        "S1005": (2023, False, False, False, False),
        # fall 2024 at one college, fall 2025 at another: persisting at any college counts
        "S1006": (2023, True, True, True, False),
    }
    assert outcome.batch.rows_inserted == 10


def test_importing_the_same_report_again_changes_nothing(db, district):
    first = _import(district["district"])
    before = db.session.execute(sa.select(PostsecondaryRecord.student_id, PostsecondaryRecord.college_code,
                                          PostsecondaryRecord.begins_on, PostsecondaryRecord.graduated_on)
                                .order_by(PostsecondaryRecord.row_no)).all()
    outcomes = _outcomes(db, district["district"])
    again = _import(district["district"])
    assert first.ok and again.ok and (again.batch.rows_inserted, again.batch.rows_updated) == (0, 0)
    after = db.session.execute(sa.select(PostsecondaryRecord.student_id, PostsecondaryRecord.college_code,
                                         PostsecondaryRecord.begins_on, PostsecondaryRecord.graduated_on)
                               .order_by(PostsecondaryRecord.row_no)).all()
    assert after == before and _outcomes(db, district["district"]) == outcomes


def test_a_later_report_replaces_the_records_of_the_graduates_it_names_only(db, district):
    _import(district["district"])
    later = ("Requester Return Field,Record Found Y/N,Search Date,College Code/Branch,2-year / 4-year,Public / Private,"
             "Enrollment Begin,Enrollment End,Graduated?,Graduation Date\n"
             "S1005,Y,20240607,003956-00,4,Public,20240826,20241213,N,\n")
    outcome = _import(district["district"], "later.csv", later.encode())
    assert outcome.ok
    result = _outcomes(db, district["district"])
    assert result["S1005"] == (2023, True, True, False, False)  # now a fall enrollment, and no second fall
    assert result["S1001"] == (2023, True, True, True, False)  # untouched
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PostsecondaryRecord).where(
        PostsecondaryRecord.student_id == district["graduates"]["S1005"].id)) == 1


def test_a_bad_report_is_rejected_whole_with_its_rows(db, district):
    outcome = _import(district["district"], "detail_bad_rows.csv")
    assert not outcome.ok and outcome.errors and all(e.row is not None for e in outcome.errors)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PostsecondaryRecord)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PostsecondaryOutcome)) == 0


@pytest.mark.parametrize("name", ["detail_missing_column.csv", "detail_empty.csv"])
def test_a_report_without_its_columns_says_so(db, district, name):
    outcome = _import(district["district"], name)
    assert not outcome.ok and outcome.errors[0].row in (None, 1)


def test_an_unknown_student_id_is_refused_with_its_row(db, district):
    text = (DATA / "detail_good.csv").read_text().replace("S1004,N", "S9999,N")
    outcome = _import(district["district"], "unknown.csv", text.encode())
    assert not outcome.ok
    assert [e.describe() for e in outcome.errors] == [
        "row 8, Requester Return Field: no student of the district has the ID S9999"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PostsecondaryRecord)) == 0


def test_another_districts_student_id_is_unknown_here(db, district):
    other = create_district("Elsewhere")
    create_school_year(other, 2023)
    outcome = _import(other)
    assert not outcome.ok and len(outcome.errors) == 10


def test_records_of_a_student_who_did_not_graduate_keep_no_outcome(db, district):
    junior = _graduate(district["high"], "S2001", left_on=None, grade=11)
    text = ("Requester Return Field,Record Found Y/N,Search Date,College Code/Branch,2-year / 4-year,"
            "Public / Private,Enrollment Begin,Enrollment End,Graduated?,Graduation Date\n"
            "S2001,N,20240607,,,,,,,\n")
    assert _import(district["district"], "junior.csv", text.encode()).ok
    assert db.session.get(PostsecondaryOutcome, junior.id) is None


# --- the measures at their edges (records stored directly, then derived) --------------

def _measure(db, district, terms, graduated_on=GRADUATION, reported_on=date(2026, 1, 1), degree=False):
    student = _graduate(district["high"], f"E{next(NUMBERS)}", left_on=graduated_on)
    for begin, end in terms:
        db.session.add(PostsecondaryRecord(
            district_id=district["district"].id, student_id=student.id, row_no=2, found=True, searched_on=graduated_on,
            reported_on=reported_on, college_code="003956-00", begins_on=begin, ends_on=end))
    if degree:
        db.session.add(PostsecondaryRecord(
            district_id=district["district"].id, student_id=student.id, row_no=3, found=True, searched_on=graduated_on,
            reported_on=reported_on, college_code="003956-00", graduated=True, graduated_on=date(2026, 5, 1)))
    if not terms and not degree:
        db.session.add(PostsecondaryRecord(district_id=district["district"].id, student_id=student.id, row_no=2,
                                           found=False, searched_on=graduated_on, reported_on=reported_on))
    db.session.flush()
    postsecondary.derive(district["district"].id, [student.id])
    o = db.session.get(PostsecondaryOutcome, student.id)
    return o.enrolled_fall, o.enrolled_within_year, o.persisted, o.completed_degree


@pytest.mark.parametrize("begin, end, fall", [
    (date(2024, 6, 20), date(2024, 8, 15), True),  # a summer term ending on the window's first day
    (date(2024, 6, 20), date(2024, 8, 14), False),
    (date(2024, 10, 31), date(2024, 12, 15), True),  # beginning on its last day
    (date(2024, 11, 1), date(2024, 12, 15), False),
    (date(2024, 1, 8), date(2025, 5, 9), True),  # a term spanning the window, begun before graduation
])
def test_the_fall_window_boundaries(db, district, begin, end, fall):
    assert _measure(db, district, [(begin, end)])[0] is fall


@pytest.mark.parametrize("begin, within", [
    (date(2024, 6, 7), True),  # the graduation day itself
    (date(2025, 6, 7), True),  # 365 days after
    (date(2025, 6, 8), False),  # 366 days after
    (date(2024, 1, 8), False),  # dual enrollment, begun before graduation, not in the fall
])
def test_within_a_year(db, district, begin, within):
    end = begin if begin.month in (1, 6) else date(begin.year, 6, 30)
    assert _measure(db, district, [(begin, min(end, date(begin.year, 6, 30)))])[1] is within


def test_a_late_graduate_s_first_fall_is_the_next_year(db, district):
    # graduated 20 August 2024: the first fall is 2025
    assert _measure(db, district, [(date(2024, 8, 26), date(2024, 12, 13))],
                    graduated_on=date(2024, 8, 20))[0] is False
    assert _measure(db, district, [(date(2025, 8, 26), date(2025, 12, 13))],
                    graduated_on=date(2024, 8, 20))[0] is True


def test_persisting_is_unknown_until_the_second_fall_and_needs_both_falls(db, district):
    both = [(date(2024, 8, 26), date(2024, 12, 13)), (date(2025, 8, 25), date(2025, 12, 12))]
    assert _measure(db, district, both, reported_on=date(2025, 8, 14))[2] is None
    assert _measure(db, district, both, reported_on=date(2025, 8, 15))[2] is True
    assert _measure(db, district, both[1:], reported_on=date(2025, 9, 1))[2] is False
    assert _measure(db, district, [], degree=True) == (False, False, False, True)
    assert _measure(db, district, []) == (False, False, False, False)


# --- the graduates file ----------------------------------------------------------------

def test_the_admin_downloads_a_class_s_graduates_file_with_ferpa_blocks_logged_as_an_export(client, db, district):
    blocked = district["graduates"]["S1002"]
    blocked.ferpa_block = True
    _graduate(district["high"], "S2001", left_on=None, grade=11)  # not a graduate: not in the file
    db.session.flush()
    admin = create_user(Role.DISTRICT_ADMIN, district["district"])
    login(client, admin)
    page = client.get("/admin/clearinghouse").get_data(as_text=True)
    assert "Class of 2024" in page and ">6<" in page.replace(" ", "")
    response = client.get("/admin/clearinghouse/graduates-2023.txt")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    lines = response.data.decode("ascii").split("\r\n")
    assert lines[0].split("\t")[:4] == ["PH3", "10012345", "Northfield Schools", "P"]
    details = [line.split("\t") for line in lines if line.startswith("PD3")]
    assert sorted(d[9] for d in details) == sorted(district["graduates"])  # column J: the district's ID
    assert {d[9]: d[14] for d in details}["S1002"] == "Y" and {d[9]: d[14] for d in details}["S1001"] == "N"
    assert all(d[10] == "036123" and d[11] == "20240607" for d in details)
    assert lines[-2] == "PT3\t8"
    entry = db.session.scalar(sa.select(DisclosureEntry).where(DisclosureEntry.user_id == admin.id,
                                                               DisclosureEntry.action == "export"))
    assert entry is not None and entry.categories == ["identity"]
    assert client.get("/admin/clearinghouse/graduates-2019.txt").status_code == 404


# --- who sees it on the student page ---------------------------------------------------

def test_the_counselor_sees_a_former_student_s_college_a_partner_only_with_consent(client, db, district):
    from datetime import timedelta

    from casemgr.clock import today

    _import(district["district"])
    graduate = district["graduates"]["S1003"]
    counselor = create_user(Role.COUNSELOR, district["high"])
    login(client, counselor)
    page = client.get(f"/students/{graduate.uuid}").get_data(as_text=True)
    assert "After high school" in page and "CERTIFICATE IN WELDING TECHNOLOGY" in page
    logout(client)

    partner = create_partner()
    create_agreement(partner, district["district"],
                     categories=[Category.IDENTITY, Category.COLLEGE, Category.POSTSECONDARY])
    add_to_roster(graduate, partner)
    worker = create_user(Role.YOUTH_WORKER, partner, confidentiality_signed_on=today(), ferpa_trained_on=today())
    create_consent(graduate, partner, categories=[Category.IDENTITY, Category.COLLEGE],
                   expires_on=today() + timedelta(days=100))
    login(client, worker)
    page = client.get(f"/students/{graduate.uuid}/sections/postsecondary").get_data(as_text=True)
    assert "CERTIFICATE IN WELDING" not in page and "Hidden." in page
    create_consent(graduate, partner, categories=[Category.IDENTITY, Category.POSTSECONDARY],
                   expires_on=today() + timedelta(days=100))
    page = client.get(f"/students/{graduate.uuid}/sections/postsecondary").get_data(as_text=True)
    assert "CERTIFICATE IN WELDING" in page


# --- reports and research ----------------------------------------------------------------

def test_the_reports_count_a_class_s_outcomes_and_hide_small_groups(db, district):
    from casemgr.reads import report_figures
    from tests.factories import create_indicator

    students = list(district["graduates"].values())
    students += [_graduate(district["high"], f"S30{n:02d}", gender="female" if n else "male") for n in range(14)]
    for student in students:
        create_indicator(student, 2023)
    _import(district["district"])
    for student in students[6:]:  # 14 more, 9 of them in college the first fall
        _measure_records(db, district, student, fall=students.index(student) % 14 < 9)
    postsecondary.derive(district["district"].id)
    figures = report_figures.year_figures(district["district"].id, 2023)
    total = figures["enrolled_fall"][()]
    # hand count: S1001, S1003, S1006 of the report and 9 of the 14 others, of 20 graduates
    assert (total.n, total.k) == (20, 12)
    assert (figures["enrolled_within_year"][()].n, figures["enrolled_within_year"][()].k) == (20, 13)
    # 13 female graduates, 8 of them in college (S3001 to S3013); one male graduate and six
    # without a gender on record: too few to show, and not recoverable from the total
    female = figures["enrolled_fall"][(("gender", "female"),)]
    assert (female.n, female.k) == (13, 8)
    assert figures["enrolled_fall"][(("gender", "male"),)].suppressed
    assert figures["enrolled_fall"][(("gender", None),)].suppressed


def _measure_records(db, district, student, fall: bool) -> None:
    begin = date(2024, 8, 26) if fall else date(2026, 1, 12)
    db.session.add(PostsecondaryRecord(
        district_id=district["district"].id, student_id=student.id, row_no=2, found=True, searched_on=GRADUATION,
        reported_on=date(2026, 1, 1), college_code="012345-00", begins_on=begin, ends_on=begin + (date(2024, 12, 13)
                                                                                                - date(2024, 8, 26))))
    db.session.flush()


def test_a_study_approved_for_the_outcomes_receives_them_on_the_graduates_year(client, db, district):
    from datetime import timedelta

    from casemgr.clock import today
    from casemgr.services import research
    from tests.factories import create_indicator, create_research_org
    from tests.test_research_projects import _download, _rows

    students = list(district["graduates"].values())
    students += [_graduate(district["high"], f"S40{n:02d}") for n in range(8)]
    for student in students:
        create_indicator(student, 2023)
    _import(district["district"])
    for n, student in enumerate(students[6:]):
        _measure_records(db, district, student, fall=n < 5)
    postsecondary.derive(district["district"].id)
    org = create_research_org()
    admin = create_user(Role.DISTRICT_ADMIN, district["district"])
    researcher = create_user(Role.RESEARCHER, org)
    project = research.create_project(
        district["district"], org, "After high school", "Who goes on", "IRB 7", ["grade", "enrolled_fall", "persisted"],
        [2023], [], today() - timedelta(days=1), today() + timedelta(days=30), today() + timedelta(days=60), admin)
    research.attach_researcher(project, researcher, admin)
    login(client, researcher)
    rows = _rows(_download(client, project)[1])
    assert list(rows[0]) == ["pseudonym", "school_year", "grade", "enrolled_fall", "persisted"]
    # 14 graduates: S1001, S1003, S1006 and 5 of the 8 others enrolled the first fall
    assert len(rows) == 14 and sum(row["enrolled_fall"] == "True" for row in rows) == 8


def test_the_admin_records_act_codes_and_a_school_without_one_is_named(client, db, district):
    from tests.helpers import csrf_token

    district["high"].act_code = None
    district["district"].clearinghouse_account = None
    db.session.flush()
    admin = create_user(Role.DISTRICT_ADMIN, district["district"])
    login(client, admin)
    response = client.get("/admin/clearinghouse/graduates-2023.txt")
    assert response.status_code == 422
    assert ("Record the district's Clearinghouse account code and the ACT code of Northfield High"
            in response.get_data(as_text=True))
    token = csrf_token(client, "/admin/clearinghouse")
    field = f"act_{district['high'].uuid}"
    refused = client.post("/admin/clearinghouse/act-codes", data={field: "36-12", "csrf_token": token},
                          follow_redirects=True)
    assert "An ACT code is six letters or digits: check Northfield High" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert district["high"].act_code is None
    refused = client.post("/admin/clearinghouse/act-codes", data={"account": "1001 2345", field: "003456",
                                                                  "csrf_token": token}, follow_redirects=True)
    assert "Nothing was saved" in refused.get_data(as_text=True)
    client.post("/admin/clearinghouse/act-codes", data={"account": "10012345", field: "003456", "csrf_token": token})
    db.session.expire_all()
    assert (district["high"].act_code, district["district"].clearinghouse_account) == ("003456", "10012345")
    lines = client.get("/admin/clearinghouse/graduates-2023.txt").data.decode().split("\r\n")
    assert lines[1].split("\t")[10] == "003456"  # column K, leading zeros kept


def test_a_recompute_follows_a_record_that_no_longer_says_the_student_graduated(db, district):
    """A students import that corrects who left when is followed by the indicators'
    recompute, which derives the measures again: a student no longer a graduate keeps none."""
    from casemgr import indicators

    _import(district["district"])
    student = district["graduates"]["S1001"]
    assert db.session.get(PostsecondaryOutcome, student.id) is not None
    student.left_on = None
    db.session.flush()
    indicators.recompute_district(district["district"].id, date(2024, 3, 1))
    assert db.session.get(PostsecondaryOutcome, student.id) is None
    assert db.session.get(PostsecondaryOutcome, district["graduates"]["S1002"].id) is not None


def test_a_partner_is_told_of_a_graduate_s_college_only_where_there_is_one(client, db, district):
    """The consent panel speaks of what a student did after high school only for a student
    who has left: a partner consented for everything else sees no panel for a student at
    school, and for a graduate learns that the agreement does not cover college enrollment."""
    from datetime import timedelta

    from casemgr.clock import today
    from tests.factories import create_student

    partner = create_partner()
    everything_else = [c for c in Category if c != Category.POSTSECONDARY]
    create_agreement(partner, district["district"], categories=everything_else)
    worker = create_user(Role.YOUTH_WORKER, partner, confidentiality_signed_on=today(), ferpa_trained_on=today())
    current = create_student(district["high"], grade=11)
    graduate = district["graduates"]["S1001"]
    for student in (current, graduate):
        add_to_roster(student, partner)
        create_consent(student, partner, categories=everything_else, expires_on=today() + timedelta(days=100))
    login(client, worker)
    assert 'id="consent-panel"' not in client.get(f"/students/{current.uuid}").get_data(as_text=True)
    page = client.get(f"/students/{graduate.uuid}").get_data(as_text=True)
    panel = page.split('id="consent-panel"')[1].split("</section>")[0]
    assert "agreement with the district does not include" in panel and "college enrollment after high school" in panel
