"""The family's log as a record, not a flood (issue 14 item 3): one person's views of the
same categories on one day are one line that opens on its entries; refusals stay
lines of their own; the family's own views are left out unless asked for."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from casemgr.clock import start_of
from casemgr.models import DisclosureEntry
from casemgr.models.enums import Role
from casemgr.reads import family_log
from tests.factories import create_student, create_user
from tests.helpers import login, logout, statements_counted
from tests.test_family import _entry, family, logged  # noqa: F401  (fixtures)
from tests.test_indicators import school  # noqa: F401  (fixture)

AT = start_of(date(2027, 3, 3)) + timedelta(hours=10)  # the worker's view in `logged`: 10:00 in the district


def _listed(db, students, user, when, categories, basis):
    entry = DisclosureEntry(user_id=user.id, organization_id=user.organization_id, student_ids=[s.id for s in students],
                            action="view", categories=categories, basis=basis, allowed=True, occurred_at=when)
    db.session.add(entry)
    db.session.flush()
    return entry


def _flood(db, family, logged):  # noqa: F811
    """Six more views of the child's attendance by the youth worker that day, one of
    them a list of two students."""
    worker, child = logged["worker"], family["child"]
    basis = db.session.scalar(sa.select(DisclosureEntry.basis).where(DisclosureEntry.user_id == worker.id,
                                                                     DisclosureEntry.action == "view"))
    for n in range(1, 6):
        _entry(db, child, worker, AT + timedelta(minutes=n), categories=["attendance"], basis=basis)
    _listed(db, [child, create_student(child.school)], worker, AT + timedelta(minutes=6), ["attendance"], basis)


def _lines(html: str) -> list[str]:
    """The lines of the log (the last with the rest of the page)."""
    return html.split('<li class="family-log__entry')[1:]


def log_page(client, family, query="", **headers):  # noqa: F811
    return client.get(f"/family/children/{family['child'].uuid}/log{query}", headers=headers).get_data(as_text=True)


def test_one_persons_views_of_the_same_categories_on_a_day_are_one_line_that_opens(client, db, family, logged):  # noqa: F811
    _flood(db, family, logged)
    login(client, family["parent"])
    html = log_page(client, family)
    sentence = ("Northside Youth (Ana Ruiz, youth worker) viewed attendance 7 times on March 3, 2027, "
                "under the consent signed on January 12, 2027.")
    assert html.count(sentence) == 1
    assert "Ana Ruiz, youth worker) viewed attendance on March 3" not in html
    line = next(line for line in _lines(html) if sentence in line)
    assert "10:00\u202fAM to 10:06\u202fAM" in line or "10:00 AM to 10:06 AM" in line
    opened = line.split("<details", 1)[1]
    assert "See the 7 entries" in opened
    assert opened.count("<time") == 7 and opened.count("in a list of students") == 1
    assert opened.count("in the record itself") == 6
    # the other lines are as they were: four lines in all
    assert len(_lines(html)) == 4


def test_other_days_other_categories_and_refusals_are_lines_of_their_own(client, db, family, logged):  # noqa: F811
    worker, counselor, child = logged["worker"], family["counselor"], family["child"]
    official = {"attendance": "school_official", "grades": "school_official"}
    refused_at = AT - timedelta(days=1)
    # the counselor again the next day, and the same day with other categories
    _entry(db, child, counselor, AT - timedelta(days=29), categories=["attendance", "grades"], basis=official)
    _entry(db, child, counselor, AT - timedelta(days=30, minutes=-5), categories=["attendance"],
           basis={"attendance": "school_official"})
    # a second refusal that day, and an allowed view by the same worker that day
    _entry(db, child, worker, refused_at + timedelta(minutes=3), action="denied", categories=["grades"], allowed=False,
           reason="no consent")
    _entry(db, child, worker, refused_at + timedelta(minutes=4), categories=["attendance"],
           basis={"attendance": "school_official"})
    login(client, family["parent"])
    html = log_page(client, family)
    name = logged["school"].name
    assert f"{name} (Dana Park, counselor) viewed attendance and grades and credits on February 1, 2027" in html
    assert f"{name} (Dana Park, counselor) viewed attendance and grades and credits on February 2, 2027" in html
    assert f"{name} (Dana Park, counselor) viewed attendance on February 1, 2027, as school staff." in html
    assert ("Northside Youth (Ana Ruiz, youth worker) asked to see grades and credits 2 times on March 2, 2027 "
            "and was refused.") in html
    assert "Northside Youth (Ana Ruiz, youth worker) viewed attendance on March 2, 2027, as school staff." in html
    refused = [line for line in _lines(html) if "was refused" in line]
    assert len(refused) == 1 and "Refused" in refused[0] and "See the 2 entries" in refused[0]
    assert len(_lines(html)) == 7


def test_a_line_opens_on_its_newest_times_and_says_how_many_more(client, db, family, logged, monkeypatch):  # noqa: F811
    _flood(db, family, logged)
    monkeypatch.setattr(family_log, "TIMES_SHOWN", 5)
    login(client, family["parent"])
    line = next(line for line in _lines(log_page(client, family)) if "7 times" in line)
    assert line.split("<details", 1)[1].count("<time") == 5
    assert "and 2 more, earlier that day." in line
    assert "10:06" in line and "10:01" not in line.split("<details", 1)[1]


def test_the_familys_own_views_are_left_out_unless_asked_for(client, db, family, logged):  # noqa: F811
    child = family["child"]
    student_user = create_user(Role.STUDENT, student=child, full_name="Lucia Ortega")
    login(client, student_user)
    client.get(f"/family/children/{child.uuid}")
    logout(client)
    login(client, family["parent"])
    client.get(f"/family/children/{child.uuid}")
    client.get(f"/family/children/{child.uuid}")
    html = log_page(client, family)
    assert "You viewed" not in html and "Lucia Ortega (student) viewed" not in html
    assert "Ana Ruiz" in html
    assert 'name="own"' in html and "Show my own views" in html and 'value="1" checked' not in html
    html = log_page(client, family, "?own=1")
    assert "You viewed" in html and "2 times" in html and "as a parent or guardian." in html
    assert "Lucia Ortega (student) viewed" in html and "as the student." in html
    assert 'value="1" checked' in html
    # a family member's refusal is not one of their own views: it stays
    _entry(db, child, family["parent"], AT, action="denied", allowed=False, reason="no access to this student")
    assert "You asked to see the record on March 3, 2027 and was refused." in log_page(client, family)


def test_the_own_views_switch_is_kept_by_the_pages(client, db, family, logged):  # noqa: F811
    at = start_of(date(2026, 9, 1)) + timedelta(hours=12)
    for n in range(26):  # 26 days of two views each: 26 lines, two pages
        for minutes in (0, 5):
            _entry(db, family["child"], family["counselor"], at + timedelta(days=n, minutes=minutes),
                   categories=["identity"], basis={"identity": "school_official"})
    login(client, family["parent"])
    html = log_page(client, family, f"?organization={logged['school'].uuid}&own=1")
    assert "Page 1 of 2" in html and len(_lines(html)) == 25
    older = html.split("Older entries")[0].rsplit("href", 1)[1]
    assert "own=1" in older and "page=2" in older
    html = log_page(client, family, f"?organization={logged['school'].uuid}&own=1&page=2")
    # the 26th line (September 1) and the counselor's view of February 1 in `logged`
    assert "Page 2 of 2" in html and len(_lines(html)) == 2


def test_a_line_in_spanish(client, db, family, logged):  # noqa: F811
    _flood(db, family, logged)
    login(client, family["parent"])
    html = log_page(client, family, **{"Accept-Language": "es"})
    assert ("Northside Youth (Ana Ruiz, trabajador juvenil) vio la asistencia 7 veces el 3 de marzo de 2027, "
            "con el consentimiento firmado el 12 de enero de 2027.") in html
    assert "Ver las 7 entradas" in html and "en una lista de estudiantes" in html
    assert "Mostrar mis propias consultas" in html


def test_the_page_costs_the_same_statements_however_many_lines_and_entries(app, client, db, family, logged):  # noqa: F811
    login(client, family["parent"])
    counts = []
    for more in (0, 40):
        for n in range(more):
            _entry(db, family["child"], family["counselor"], AT - timedelta(days=n % 20, minutes=n),
                   categories=["identity"], basis={"identity": "school_official"})
        with statements_counted() as counted:
            log_page(client, family)
        counts.append(counted[0])
    assert counts[0] == counts[1], counts
