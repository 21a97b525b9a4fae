"""The caseload: visible students only, live filters, search, sort, pages, fixed query count."""
from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from casemgr.clock import today
from casemgr.models import DisclosureEntry, Flag, SchoolYear, StudentIndicator
from casemgr.models.enums import Role
from casemgr.models.indicators import SORTED_MEASURES
from casemgr.reads import caseload
from tests.factories import create_school, create_student, create_user
from tests.helpers import login, logout

TODAY = today()
YEAR = TODAY.year if TODAY.month >= 8 else TODAY.year - 1


def with_indicator(db, student, tier=1, rate="0.9800", chronic=False, failures=0, **fields):
    db.session.add(StudentIndicator(
        student_id=student.id, school_year=YEAR, as_of=TODAY, settings_id=_settings(db, student.district_id),
        days_enrolled=50, days_absent=int((1 - Decimal(rate)) * 50), attendance_rate=Decimal(rate),
        attendance_band="on_track", chronic_absence=chronic, severe_absence=False, course_failures=failures,
        core_failure=False, suspensions=0, off_track_count=tier - 1, tier=tier,
        sort_last_name=student.last_name, sort_first_name=student.first_name, **fields,
    ))
    db.session.flush()
    return student


def _settings(db, district_id):
    from casemgr.indicators import current_settings

    return current_settings(district_id).id


@pytest.fixture()
def school(db):
    school = create_school(name="Riverside High")
    db.session.add(SchoolYear(district_id=school.district_id, year=YEAR, starts_on=date(YEAR, 8, 15), ends_on=date(YEAR + 1, 6, 15)))
    db.session.flush()
    return school


def page(client, query="", **headers):
    response = client.get(f"/caseload{query}", headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_counselor_sees_only_the_students_of_their_school(client, db, school):
    mine = with_indicator(db, create_student(school, last_name="Mineview"), tier=3)
    other = create_student(create_school(school.district), last_name="Otherschool")
    elsewhere = create_student(create_school(), last_name="Otherdistrict")
    login(client, create_user(Role.COUNSELOR, school))
    html = page(client)
    assert "Mineview" in html and "Tier 3" in html
    assert other.last_name not in html and elsewhere.last_name not in html
    assert "1 student." in html
    logged = db.session.scalars(sa.select(DisclosureEntry.student_id)).all()
    assert logged == [mine.id]


def test_filters_search_and_sort(client, db, school):
    a = with_indicator(db, create_student(school, last_name="Alvarez", grade=9), tier=3, rate="0.7000", chronic=True)
    b = with_indicator(db, create_student(school, last_name="Baker", grade=10), tier=2, rate="0.9200", failures=2)
    c = with_indicator(db, create_student(school, last_name="Chen", grade=10, local_id="L-777"), tier=1, rate="0.9900")
    create_student(school, last_name="Doe", grade=11)  # no indicators yet
    login(client, create_user(Role.COUNSELOR, school))
    assert "Alvarez" in page(client, "?tier=3") and "Baker" not in page(client, "?tier=3")
    grade10 = page(client, "?grade=10")
    assert "Baker" in grade10 and "Chen" in grade10 and "Alvarez" not in grade10
    chronic = page(client, "?indicator=chronic")
    assert "Alvarez" in chronic and "Baker" not in chronic
    assert "Baker" in page(client, "?indicator=failures") and "Chen" not in page(client, "?indicator=failures")
    assert "Chen" in page(client, "?q=che") and "Baker" not in page(client, "?q=che")
    assert "Chen" in page(client, "?q=L-777")
    assert "Alvarez" not in page(client, "?q=%25")  # a wildcard is searched as text
    by_attendance = page(client, "?sort=attendance&dir=asc")
    assert by_attendance.index("Alvarez") < by_attendance.index("Baker") < by_attendance.index("Chen")
    by_tier = page(client)  # default: tier, highest first; students without indicators last
    assert by_tier.index("Alvarez") < by_tier.index("Baker") < by_tier.index("Chen") < by_tier.index("Doe")
    assert a and b and c


def test_bad_filters_are_ignored_with_a_message(client, db, school):
    with_indicator(db, create_student(school, last_name="Alvarez"))
    login(client, create_user(Role.COUNSELOR, school))
    html = page(client, "?tier=9&grade=x&indicator=shoe&sort=evil&dir=sideways&page=-3&school=nope")
    assert "Alvarez" in html
    assert "Ignored an unknown tier." in html and "Ignored a grade that is not a number." in html
    assert "Unknown indicator filter" in html


def test_pages_and_htmx_fragments(client, db, school):
    for n in range(55):
        with_indicator(db, create_student(school, last_name=f"Student{n:02d}", first_name="Pat"))
    login(client, create_user(Role.COUNSELOR, school))
    first = page(client, "?sort=name&dir=asc")
    assert "55 students, page 1 of 2." in first and "Student49" in first and "Student50" not in first
    second = page(client, "?sort=name&dir=asc&page=2")
    assert "Student50" in second and "Student49" not in second
    fragment = page(client, "?sort=name&dir=asc&page=2", **{"HX-Request": "true"})
    assert "<html" not in fragment and fragment.strip().startswith('<div id="caseload-results">')
    assert 'hx-push-url="true"' in first


def test_district_admin_sees_every_school_and_filters_by_school(client, db, school):
    admin = create_user(Role.DISTRICT_ADMIN, school.district)
    other_school = create_school(school.district, name="Riverside Middle")
    with_indicator(db, create_student(school, last_name="Highschooler"))
    with_indicator(db, create_student(other_school, last_name="Middleschooler"))
    login(client, admin)
    html = page(client)
    assert "Highschooler" in html and "Middleschooler" in html
    only = page(client, f"?school={other_school.uuid}")
    assert "Middleschooler" in only and "Highschooler" not in only


@pytest.mark.parametrize("role", [Role.TEACHER, Role.YOUTH_WORKER, Role.PARTNER_ADMIN, Role.PARENT, Role.STUDENT, Role.RESEARCHER])
def test_other_roles_have_no_caseload(client, db, role):
    login(client, create_user(role))
    assert client.get("/caseload").status_code == 403


def test_the_query_count_is_fixed_whatever_the_page_size_or_sort(app, client, db, school):
    counselor = create_user(Role.COUNSELOR, school)
    login(client, counselor)
    counts = []

    def count(*args, **kwargs):
        counts[-1] += 1

    for students, query in ((1, ""), (60, "?sort=attendance"), (60, "?sort=name&page=2&tier=1")):
        while db.session.scalar(sa.select(sa.func.count()).select_from(StudentIndicator)) < students:
            student = with_indicator(db, create_student(school))
            db.session.add(Flag(student_id=student.id, need="tutoring", raised_by_id=counselor.id))
            db.session.flush()
        counts.append(0)
        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            page(client, query)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(set(counts)) == 1, counts
    assert counts[0] <= 10, counts


def listed(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="[^"]*">([^<]+)</a>', html)


def every_page(client, query: str) -> list[str]:
    names, number = [], 1
    while True:
        html = page(client, f"{query}&page={number}")
        names += listed(html)
        if "Next page" not in html:
            return names
        number += 1


@pytest.fixture()
def varied_school(db, school):
    """Students with ties on every measure, no credits below grade 9, and two without
    indicators yet."""
    rows = [
        # last name, grade, tier, rate, failures, credits earned/expected
        ("Adams", 9, 3, "0.7000", 2, None),
        ("Baker", 10, 2, "0.9200", 1, ("4.00", "5.00")),
        ("Cruz", 10, 2, "0.9200", 0, ("6.00", "5.00")),
        ("Diaz", 8, 1, "0.9900", 0, None),
        ("Evans", 11, 3, "0.7000", 2, ("4.00", "10.00")),
        ("Fox", 8, 1, "0.9200", 1, None),
        ("Gray", 12, 1, "0.9900", 0, ("15.00", "15.00")),
        ("Hill", 9, 2, None, 0, None),
        ("Iqbal", 11, 1, "0.9500", 0, ("4.00", "10.00")),
    ]
    for last, grade, tier, rate, failures, credits in rows:
        student = create_student(school, last_name=last, first_name="Pat", grade=grade)
        with_indicator(db, student, tier=tier, rate=rate or "0.9000", failures=failures,
                       credits_earned=Decimal(credits[0]) if credits else None,
                       credits_expected=Decimal(credits[1]) if credits else None)
        if rate is None:
            db.session.get(StudentIndicator, (student.id, YEAR)).attendance_rate = None
    create_student(school, last_name="Zeller", first_name="Pat", grade=10)
    create_student(school, last_name="Young", first_name="Pat", grade=9)
    db.session.flush()
    return school


def test_a_measure_sort_breaks_ties_by_name_and_lists_students_without_a_value_last(client, db, varied_school):
    login(client, create_user(Role.COUNSELOR, varied_school))
    by_tier = listed(page(client))
    assert by_tier == [f"{name}, Pat" for name in (
        "Adams", "Evans", "Baker", "Cruz", "Hill", "Diaz", "Fox", "Gray", "Iqbal", "Young", "Zeller")]
    by_credits = listed(page(client, "?sort=credits&dir=asc"))
    assert by_credits[:5] == ["Evans, Pat", "Iqbal, Pat", "Baker, Pat", "Gray, Pat", "Cruz, Pat"]
    assert by_credits[5:] == [f"{n}, Pat" for n in ("Adams", "Diaz", "Fox", "Hill", "Young", "Zeller")]


@pytest.mark.parametrize("role", [Role.COUNSELOR, Role.DISTRICT_ADMIN])
def test_a_large_set_read_in_index_order_pages_exactly_like_a_sorted_small_one(client, db, varied_school, monkeypatch,
                                                                               role):
    """A district is read in a measure's index order, a school's caseload sorted whole:
    the same students in the same order, page after page."""
    other = create_school(varied_school.district, name="Lakeside High")
    with_indicator(db, create_student(other, last_name="Adams", first_name="Ana", grade=10), tier=3, rate="0.7000",
                   failures=2)
    create_student(other, last_name="Baker", first_name="Ana", grade=9)
    login(client, create_user(role, varied_school if role is Role.COUNSELOR else varied_school.district))
    monkeypatch.setattr(caseload, "PAGE_SIZE", 4)
    queries = [f"?sort={sort}&dir={direction}" for sort in caseload.MEASURE_SORTS for direction in ("asc", "desc")]
    queries += ["?sort=attendance&dir=asc&grade=10", "?sort=credits&dir=desc&tier=1", "?sort=tier&dir=desc&q=pat",
                "?sort=failures&dir=desc&indicator=failures"]
    for query in queries:
        sorted_whole = every_page(client, query)
        monkeypatch.setattr(caseload, "SORT_WHOLE_SET_UP_TO", 0)
        in_index_order = every_page(client, query)
        monkeypatch.setattr(caseload, "SORT_WHOLE_SET_UP_TO", 2_000)
        assert in_index_order == sorted_whole, query
        assert len(sorted_whole) == len(set(sorted_whole)) and sorted_whole, query


def test_every_measure_sort_has_its_indexes():
    assert caseload.MEASURE_SORTS.keys() == SORTED_MEASURES.keys()


def test_search_matches_name_prefixes_whatever_the_case_and_ids_exactly(client, db, school):
    create_student(school, last_name="Chen", first_name="Mei", local_id="L-777")
    create_student(school, last_name="Okafor", first_name="Chinedu", preferred_name="Chi")
    create_student(school, last_name="Under_score", first_name="Al")
    create_student(school, last_name="Underwood", first_name="Al")
    login(client, create_user(Role.COUNSELOR, school))
    assert listed(page(client, "?q=CHE")) == ["Chen, Mei"]
    assert listed(page(client, "?q=chi&sort=name")) == ["Okafor, Chi"]
    assert listed(page(client, "?q=chen mei")) == ["Chen, Mei"] and listed(page(client, "?q=chen al")) == []
    assert listed(page(client, "?q=under_")) == ["Under_score, Al"]
    assert listed(page(client, "?q=l-777")) == [] and listed(page(client, "?q=L-777")) == ["Chen, Mei"]


def test_district_admin_sorts_by_school_then_name(client, db, school):
    lakeside = create_school(school.district, name="Lakeside Middle")
    create_student(school, last_name="Baker", first_name="Pat")
    create_student(school, last_name="Adams", first_name="Pat")
    create_student(lakeside, last_name="Cruz", first_name="Pat")
    login(client, create_user(Role.DISTRICT_ADMIN, school.district))
    assert listed(page(client, "?sort=school&dir=asc")) == ["Cruz, Pat", "Adams, Pat", "Baker, Pat"]
    assert listed(page(client, "?sort=school&dir=desc")) == ["Adams, Pat", "Baker, Pat", "Cruz, Pat"]
    assert listed(page(client, f"?sort=school&school={lakeside.uuid}")) == ["Cruz, Pat"]


def test_the_query_count_is_the_same_for_every_sort_filter_and_search(app, client, db, varied_school, monkeypatch):
    """Per role: the same number of queries whatever the sort, direction, filters, search,
    school or page, and whether the page is read in index order or sorted whole."""
    queries = [f"?sort={sort}&dir={direction}" for sort in caseload.SORTS for direction in ("asc", "desc")]
    queries += ["?tier=2", "?indicator=failures&grade=10", "?q=pat", "?q=baker&sort=name", "?page=2&sort=grade",
                f"?school={varied_school.uuid}&q=pat&sort=attendance"]
    counts = []

    def count(*args, **kwargs):
        counts[-1] += 1

    for role, organization in ((Role.COUNSELOR, varied_school), (Role.DISTRICT_ADMIN, varied_school.district)):
        login(client, create_user(role, organization))
        per_role = {}
        for whole_up_to in (2_000, 0):
            monkeypatch.setattr(caseload, "SORT_WHOLE_SET_UP_TO", whole_up_to)
            for query in queries:
                counts.append(0)
                sa.event.listen(db.engine, "before_cursor_execute", count)
                try:
                    assert listed(page(client, query)), query
                finally:
                    sa.event.remove(db.engine, "before_cursor_execute", count)
                per_role[(query, whole_up_to)] = counts[-1]
        assert len(set(per_role.values())) == 1, (role, per_role)
        assert max(per_role.values()) <= 10, (role, per_role)
        logout(client)


class _FilterFields(HTMLParser):
    """The values the caseload's filter form sends: its own fields and those outside it
    that name it (`form="caseload-filters"`), as a browser and htmx collect them."""

    def __init__(self):
        super().__init__()
        self.inside = False
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == "caseload-filters":
            self.inside = True
        elif tag == "input" and attrs.get("name") and (self.inside or attrs.get("form") == "caseload-filters"):
            self.fields[attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def filter_fields(html: str) -> dict[str, str]:
    parser = _FilterFields()
    parser.feed(html)
    return parser.fields


def test_a_search_after_sorting_by_a_column_keeps_that_sort(client, db, varied_school):
    """Sorting by a column header swaps only the results (htmx); the filter form must
    then send that sort with the next search or filter, not the sort the page was
    first loaded with."""
    login(client, create_user(Role.COUNSELOR, varied_school))
    first = filter_fields(page(client))
    assert (first["sort"], first["dir"]) == ("tier", "desc")
    swapped = filter_fields(page(client, "?sort=attendance&dir=asc", **{"HX-Request": "true"}))
    assert (swapped.get("sort"), swapped.get("dir")) == ("attendance", "asc")
    searched = page(client, "?q=pat&sort=attendance&dir=asc&tier=", **{"HX-Request": "true"})
    assert filter_fields(searched)["sort"] == "attendance"
    assert listed(searched)[:2] == ["Adams, Pat", "Evans, Pat"]  # 70% first


def test_the_why_column_says_what_the_tier_rests_on_in_short_words(client, db, school):
    student = create_student(school, last_name="Reasons", grade=10)
    with_indicator(db, student, tier=3, rate="0.7800", chronic=True, failures=2)
    indicator = db.session.get(StudentIndicator, (student.id, YEAR))
    indicator.days_enrolled, indicator.days_absent, indicator.suspensions = 50, 11, 1
    with_indicator(db, create_student(school, last_name="Fine"), tier=1, rate="0.9900", failures=0)
    with_indicator(db, create_student(school, last_name="Credits", grade=11), tier=2, credits_on_track=False,
                   credits_earned=Decimal(4), credits_expected=Decimal(10))
    db.session.flush()
    login(client, create_user(Role.COUNSELOR, school))
    html = page(client, "?sort=name")
    reasons = dict(zip((name.split(",")[0] for name in listed(html)), re.findall(r'<td class="why">([^<]*)</td>', html)))
    assert reasons == {"Credits": "behind on credits", "Fine": "", "Reasons": "22% absent, 2 F&#39;s, suspension"}


def exported_rows(client, query: str) -> list[list[str]]:
    import csv
    import io

    response = client.get(f"/caseload/export.csv{query}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_the_export_is_every_page_of_what_is_shown_logged_once_as_an_export(client, db, school, monkeypatch):
    for n in range(7):
        with_indicator(db, create_student(school, last_name=f"Tier{n}", first_name="Pat", grade=9 + n % 2),
                       tier=3 if n < 5 else 1, rate=f"0.{70 + n}00")
    with_indicator(db, create_student(school, last_name="=HYPERLINK(\"x\")", first_name="+Evil", grade=9), tier=3,
                   rate="0.5000")
    login(client, create_user(Role.COUNSELOR, school))
    monkeypatch.setattr(caseload, "PAGE_SIZE", 2)  # the page shows 2 of them; the export has all
    query = "?tier=3&grade=9&sort=attendance&dir=desc&q=&page=2"
    shown = listed(page(client, query))
    assert len(shown) == 2
    before = db.session.scalar(sa.select(sa.func.max(DisclosureEntry.id)))
    rows = exported_rows(client, query)
    assert rows[0][:7] == ["Last name", "First name", "State ID", "Grade", "Tier", "Why",
                           f"Change since {(TODAY - timedelta(days=30)).isoformat()}"]
    names = [f"{r[0]}, {r[1]}" for r in rows[1:]]
    assert names == ["Tier4, Pat", "Tier2, Pat", "Tier0, Pat", "'=HYPERLINK(\"x\"), '+Evil"]  # 74%, 72%, 70%, 50%
    entries = db.session.execute(sa.select(DisclosureEntry.action, DisclosureEntry.student_ids,
                                           DisclosureEntry.categories).where(DisclosureEntry.id > before)).all()
    assert len(entries) == 1 and entries[0].action == "export"
    assert len(entries[0].student_ids) == 4
    assert set(entries[0].categories) == {"identity", "attendance", "grades", "behavior", "college", "services"}


def test_the_excel_export_has_the_same_rows(client, db, school):
    import io

    from openpyxl import load_workbook

    with_indicator(db, create_student(school, last_name="Sheet", first_name="Ana"), tier=2, failures=1)
    with_indicator(db, create_student(school, last_name="-1+1", first_name="Bo"), tier=1)
    login(client, create_user(Role.COUNSELOR, school))
    response = client.get("/caseload/export.xlsx?sort=name")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert [row[0] for row in values] == ["Last name", "-1+1", "Sheet"]  # text cells: never a formula
    assert sheet["A2"].data_type == "s"
    assert values[2][5] == "1 F" and values[2][4] == 2 and values[2][7] == 98.0
    assert client.get("/caseload/export.pdf").status_code == 404


def test_the_print_view_lists_every_row_with_a_heading_and_no_navigation_on_paper(client, db, school, monkeypatch):
    for n in range(5):
        with_indicator(db, create_student(school, last_name=f"Printed{n}", first_name="Pat"), tier=2)
    login(client, create_user(Role.COUNSELOR, school))
    monkeypatch.setattr(caseload, "PAGE_SIZE", 2)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(DisclosureEntry))
    html = client.get("/caseload/print?tier=2&sort=name&page=2").get_data(as_text=True)
    assert len(listed(html)) == 5 and "Caseload: Riverside High" in html and "tier 2" in html
    assert "sorted by name" in html and "Next page" not in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DisclosureEntry)) == before + 1
    css = client.get("/static/css/casemgr.css").get_data(as_text=True)
    assert ".site-header" in css.split("@media print")[1].split("}")[0]  # no navigation on paper


def test_the_change_column_compares_the_tier_with_a_chosen_day(client, db, school):
    from casemgr.models import TierChange

    rose = with_indicator(db, create_student(school, last_name="Rose"), tier=3)
    fell = with_indicator(db, create_student(school, last_name="Fell"), tier=1)
    with_indicator(db, create_student(school, last_name="Same"), tier=2)
    for student, tier, days_ago in ((rose, 2, 40), (rose, 3, 10), (fell, 3, 60), (fell, 2, 45), (fell, 1, 5)):
        db.session.add(TierChange(student_id=student.id, school_year=YEAR, since=TODAY - timedelta(days=days_ago),
                                  tier=tier))
    db.session.flush()
    login(client, create_user(Role.COUNSELOR, school))

    def changes(query):
        html = page(client, query)
        return dict(zip((n.split(",")[0] for n in listed(html)), re.findall(r'<td class="change">([^<]*)</td>', html)))

    assert changes("?sort=name") == {"Fell": "↓ from tier 2", "Rose": "↑ from tier 2", "Same": ""}  # 30 days ago
    since = (TODAY - timedelta(days=50)).isoformat()
    html = page(client, f"?sort=name&since={since}")
    assert changes(f"?sort=name&since={since}") == {"Fell": "↓ from tier 3", "Rose": "", "Same": ""}
    assert f"since={since}" in html.split('id="caseload-results"')[1]  # sort links and exports keep the day
    assert "Ignored a change date" in page(client, "?since=2026-02-30")
    assert "before today" in page(client, f"?since={TODAY.isoformat()}")


def test_the_change_in_attendance_is_in_whole_points():
    row = caseload.CaseloadRow(student=None, indicator=caseload.ListedIndicators(
        tier=2, attendance_rate=Decimal("0.8800"), attendance_band="watch", course_failures=0, core_failure=False,
        credits_earned=None, credits_expected=None, credits_on_track=None, fafsa_status=None, fafsa_off_track=None,
        chronic_absence=False, severe_absence=False, days_absent=6, days_enrolled=50, ninth_grade_on_track=None,
        suspensions=0), school_name="", open_flags=0, tier_then=1, rate_then=Decimal("0.9412"))
    assert row.change == ["↑ from tier 1", "−6 pts"]
    row.rate_then, row.tier_then = Decimal("0.8500"), 2
    assert row.change == ["+3 pts"]
    row.rate_then = Decimal("0.8790")
    assert row.change == []
