"""In-app notices (issue 5, item 4): the count in the navigation and the list of what is
new since the user last opened it, per role, without ever leaking a note the user may
not read."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from casemgr.models import ConsentRevocation, DisclosureEntry, Note, Organization, ReferralEvent, User
from tests.factories import create_referral, create_student
from tests.helpers import login, logout
from tests.test_notes import HTMX, _note, build_notes_world

NOW = datetime.now(timezone.utc)
_BADGE = re.compile(r'<span class="nav-count">([^<]+)<span class="visually-hidden"> new</span></span>')

# new notes per reader in the notes world: those whose text they read (test_notes.EXPECTED),
# less their own (the counselor and the youth worker each wrote one of every audience)
NOTE_COUNTS = {
    "principal": 6,  # the counselor's four, the worker's shared and family ones
    "counselor": 2,  # the worker's shared and family notes
    "teacher": 5,  # the counselor's restricted note is only "told it exists": not a notice
    "youth_worker": 2,  # the counselor's shared and family notes
    "partner_admin": 5,  # and the worker's note for Northside only
    "other_org_worker": 4,  # not Northside's organization note
    "worker_without_notes": 0,  # the consent does not cover notes
}
NO_NOTICES = ["district_admin", "parent", "student", "researcher"]


def badge(client) -> str | None:
    """The count beside "Notices" in the navigation of the home page, or None."""
    html = client.get("/").get_data(as_text=True)
    found = _BADGE.findall(html)
    assert len(found) <= 1
    return found[0] if found else None


def notices(client, query: str = "", headers=None) -> str:
    response = client.get(f"/notices{query}", headers=headers or {})
    assert response.status_code == 200
    return " ".join(response.get_data(as_text=True).split())


@pytest.mark.parametrize("reader", sorted(NOTE_COUNTS))
def test_the_count_is_the_notes_the_reader_may_read_written_by_others(client, db, reader):
    w = build_notes_world(db)
    login(client, w.users[reader])
    expected = NOTE_COUNTS[reader]
    assert badge(client) == (str(expected) if expected else None)
    html = notices(client)
    assert (f"{expected} new notice{'' if expected == 1 else 's'}." if expected else "Nothing new.") in html
    assert "TEXT-" not in html  # a notice names the note, never shows its text
    assert html.count('class="notice-item"') == expected
    assert badge(client) is None  # opening the list marked them seen


@pytest.mark.parametrize("reader", NO_NOTICES)
def test_district_admins_families_and_researchers_have_no_notices(client, db, reader):
    w = build_notes_world(db)
    login(client, w.users[reader])
    html = client.get("/").get_data(as_text=True)
    assert 'href="/notices"' not in html and "nav-count" not in html
    assert client.get("/notices").status_code == 403


def test_only_what_is_newer_than_the_last_visit_counts(client, db):
    w = build_notes_world(db, with_notes=False)
    principal, counselor = w.users["principal"], w.users["counselor"]
    principal.notices_seen_at = NOW - timedelta(days=1)
    _note(db, w.student, counselor, "shared", "seen", created_at=NOW - timedelta(days=2))
    _note(db, w.student, counselor, "restricted", "new", created_at=NOW - timedelta(hours=1))
    _note(db, w.student, principal, "shared", "own", created_at=NOW - timedelta(hours=1))
    db.session.flush()
    login(client, principal)
    assert badge(client) == "1"
    html = notices(client)
    assert "1 new notice." in html and "Attendance note about" in html
    assert "From a counselor, Riverside High" in html
    assert "Since you last opened your notices, on" in html


def test_opening_the_list_marks_everything_up_to_then_seen(client, db):
    w = build_notes_world(db, with_notes=False)
    principal, worker = w.users["principal"], w.users["youth_worker"]
    # the test's one transaction stops PostgreSQL's clock at `now`: notes are written
    # before it, and the visit is moved back a minute to let a later note be new
    now = db.session.scalar(sa.select(sa.func.now()))
    for hours in (3, 2):
        _note(db, w.student, worker, "shared", f"{hours}h ago", created_at=now - timedelta(hours=hours))
    login(client, principal)
    assert badge(client) == "2"
    assert "From the last 30 days" in notices(client)
    seen = db.session.scalar(sa.select(User.notices_seen_at).where(User.id == principal.id))
    newest = db.session.scalar(sa.select(sa.func.max(Note.created_at)))
    assert seen is not None and seen >= newest
    assert badge(client) is None
    assert "Nothing new." in notices(client)
    db.session.execute(sa.update(User).where(User.id == principal.id).values(notices_seen_at=now - timedelta(hours=1)))
    _note(db, w.student, worker, "shared", "later", created_at=now - timedelta(minutes=1))
    assert badge(client) == "1"


def test_the_count_and_the_page_agree_on_what_is_new(client, db):
    """A notice stamped later than now (the demo seeds the day's notes up to 18:00 UTC)
    is not new yet: the navigation does not count what the page cannot list, so the
    count never stays at "1 new" beside a page that says "Nothing new"."""
    w = build_notes_world(db, with_notes=False)
    counselor = w.users["counselor"]
    _note(db, w.student, w.users["youth_worker"], "shared", "later today", created_at=NOW + timedelta(hours=6))
    login(client, counselor)
    assert badge(client) is None
    assert "Nothing new." in notices(client)
    assert badge(client) is None


def test_a_revoked_consent_removes_the_workers_notices(client, db):
    w = build_notes_world(db)
    worker = w.users["youth_worker"]
    login(client, worker)
    assert badge(client) == "2"
    consent_id = db.session.execute(sa.text(
        "SELECT id FROM consents WHERE student_id = :s AND organization_id = :o"),
        {"s": w.student.id, "o": worker.organization_id}).scalar_one()
    db.session.add(ConsentRevocation(consent_id=consent_id))
    db.session.flush()
    assert badge(client) is None
    html = notices(client)
    assert "Nothing new." in html and w.student.display_name not in html


def test_the_list_names_the_student_and_logs_the_notes_it_shows(client, db):
    w = build_notes_world(db, with_notes=False)
    worker = w.users["youth_worker"]
    _note(db, w.student, w.users["counselor"], "shared", "x", topic="college")
    login(client, worker)
    html = notices(client)
    assert "College note about" in html and w.student.display_name in html
    assert f'href="/students/{w.student.uuid}#timeline"' in html
    [entry] = db.session.scalars(sa.select(DisclosureEntry).where(DisclosureEntry.user_id == worker.id)).all()
    assert entry.allowed and entry.student_id == w.student.id and entry.categories == ["identity", "notes"]
    assert entry.basis["notes"].startswith("consent:")
    notices(client)  # nothing new: nothing shown, nothing logged
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DisclosureEntry)
                             .where(DisclosureEntry.user_id == worker.id)) == 1


def test_referral_steps_reach_the_school_and_the_inbox(client, db):
    w = build_notes_world(db, with_notes=False)
    counselor, principal, admin = w.users["counselor"], w.users["principal"], w.users["partner_admin"]
    northside = admin.organization
    unconsented = create_student(db.session.get(Organization, w.student.school_id), first_name="Quiet")
    tutoring = create_referral(w.student, northside, counselor, status="sent", service="tutoring")
    tutoring.status = "accepted"
    db.session.add(ReferralEvent(referral_id=tutoring.id, status="accepted", by_user_id=admin.id))
    create_referral(unconsented, northside, counselor, status="awaiting_consent", service="mentoring")
    db.session.flush()

    login(client, counselor)  # the counselor sent both: only the partner's answer is news
    html = notices(client)
    assert "1 new notice." in html and "Tutoring referral accepted" in html
    assert f"{w.student.display_name}" in html and "To Northside Youth · by a partner administrator ·" in html

    logout(client)
    login(client, principal)
    html = notices(client)
    assert "3 new notices." in html and "Mentoring referral waiting for family consent" in html
    assert "Tutoring referral sent" in html and "Quiet" in html

    logout(client)
    login(client, admin)  # the inbox: the new referral, named; the one awaiting consent, not
    html = notices(client)
    assert "2 new notices." in html and "Tutoring referral sent" in html and w.student.display_name in html
    assert "Mentoring referral waiting for family consent" in html and "Quiet" not in html
    assert "Who it is for is shared once the family's consent covers it." in html
    assert "/partner/referrals/" in html and 'href="/referrals/' not in html
    logged = db.session.scalars(sa.select(DisclosureEntry.student_id).where(DisclosureEntry.user_id == admin.id)).all()
    assert logged == [w.student.id]


def test_the_badge_stops_at_99_and_the_list_pages_keep_their_window(client, db):
    w = build_notes_world(db, with_notes=False)
    counselor = w.users["counselor"]
    for n in range(130):
        _note(db, w.student, w.users["youth_worker"], "shared", f"n{n}", created_at=NOW - timedelta(minutes=n + 1))
    login(client, counselor)
    assert badge(client) == "99+"
    first = notices(client)
    assert "130 new notices, page 1 of 6." in first and first.count('class="notice-item"') == 25
    older = re.search(r'href="(/notices\?[^"]+)"[^>]*>Older notices', first).group(1).replace("&amp;", "&")
    assert "since=" in older and "until=" in older
    assert badge(client) is None  # all 130 seen, yet the next page still lists its own
    second = notices(client, older[len("/notices"):], headers=HTMX)
    assert "<html" not in second and "130 new notices, page 2 of 6." in second
    assert second.count('class="notice-item"') == 25


def test_a_window_reaching_into_the_future_marks_nothing_later_seen(client, db):
    w = build_notes_world(db)
    principal = w.users["principal"]
    login(client, principal)
    far = (NOW + timedelta(days=365)).isoformat()
    client.get("/notices", query_string={"since": (NOW - timedelta(days=3)).isoformat(), "until": far})
    seen = db.session.scalar(sa.select(User.notices_seen_at).where(User.id == principal.id))
    assert seen <= datetime.now(timezone.utc)
    assert client.get("/notices?since=yesterday&until=x&page=-3").status_code == 200


def test_the_badge_costs_one_query_whatever_the_number_of_notices(app, client, db):
    w = build_notes_world(db, with_notes=False)
    counselor = w.users["counselor"]
    login(client, counselor)
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    counts = {}
    for size, how_many in (("few", 1), ("many", 150)):
        while db.session.scalar(sa.select(sa.func.count()).select_from(Note)) < how_many:
            _note(db, w.student, w.users["youth_worker"], "shared", "x", created_at=NOW - timedelta(minutes=1))
        create_referral(w.student, w.users["partner_admin"].organization, w.users["principal"])
        statements.clear()
        sa.event.listen(db.engine, "before_cursor_execute", record)
        try:
            html = client.get("/caseload").get_data(as_text=True)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", record)
        assert "nav-count" in html
        counts[size] = len(statements)
        assert sum("AS notices" in s for s in statements) == 1, size
    assert counts["few"] == counts["many"], counts


def test_the_nav_count_has_an_accessible_name(client, db):
    w = build_notes_world(db)
    login(client, w.users["teacher"])
    html = client.get("/").get_data(as_text=True)
    link = re.search(r'<a href="/notices"[^>]*>(.*?)</a>', html, re.S).group(1)
    assert re.sub(r"<[^>]+>", "", " ".join(link.split())) == "Notices 5 new"
