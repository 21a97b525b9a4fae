"""The partner workspace: the roster with consent status and the latest notes on the
home page; the administrator adds students only by exact state ID and birth date, and
removes them (issue 5, item 3)."""
from __future__ import annotations

import re
from datetime import date, timedelta

import sqlalchemy as sa

from casemgr.clock import today
from casemgr.models import DisclosureEntry, Note, RosterEntry
from casemgr.models.enums import Role
from casemgr.services.disclosure import NAME_ONLY
from casemgr.services.roster import MAX_REFUSED_PER_HOUR
from tests.factories import (
    add_to_roster,
    create_agreement,
    create_consent,
    create_district,
    create_partner,
    create_referral,
    create_school,
    create_student,
    create_user,
)
from tests.helpers import csrf_token, login, logout

TODAY = today()
LONG_AGO = TODAY - timedelta(days=200)
LATER = TODAY + timedelta(days=200)
COMPLIANT = dict(confidentiality_signed_on=LONG_AGO, ferpa_trained_on=LONG_AGO)
NO_MATCH = "No student matches that state ID and birth date. Check both and try again."


class World:
    def __init__(self, db):
        self.district = create_district("Riverside Schools")
        self.school = create_school(self.district, "high", "Riverside High")
        self.partner = create_partner("Northside Youth")
        create_agreement(self.partner, self.district, categories=["identity", "attendance", "notes", "services"],
                         starts_on=LONG_AGO, ends_on=LATER)
        self.admin = create_user(Role.PARTNER_ADMIN, self.partner, full_name="Jordan Director", **COMPLIANT)
        self.worker = create_user(Role.YOUTH_WORKER, self.partner, full_name="Ana Mentor", **COMPLIANT)
        self.counselor = create_user(Role.COUNSELOR, self.school)

    def student(self, first, last, consent=None, expires_on=LATER, **fields):
        student = create_student(self.school, first_name=first, last_name=last, **fields)
        add_to_roster(student, self.partner, added_on=LONG_AGO)
        if consent:
            create_consent(student, self.partner, consent, signed_on=LONG_AGO, expires_on=expires_on)
        return student


def _post(client, path, data=None):
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, "/")})


def _count(db, model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _without_tokens(html: str) -> str:
    """The page without its CSRF tokens, which are signed with the time."""
    return re.sub(r'(X-CSRFToken": "|name="csrf_token"[^>]*?value=")[^"]+', r"\1", html)


def _row(html: str, name: str) -> str:
    """The table row of the roster that names `name`."""
    start = html.index(name, html.index('id="roster"'))
    return html[html.rindex("<tr>", 0, start):html.index("</tr>", start)]


# --- the youth worker's home ----------------------------------------------------------------


def test_home_is_the_roster_with_each_students_consent_status(client, db):
    w = World(db)
    active = w.student("Alma", "Active", ["identity", "attendance"])
    expiring = w.student("Eli", "Expiring", ["identity"], expires_on=TODAY + timedelta(days=12))
    missing = w.student("Mia", "Missing")
    removed = create_student(w.school, first_name="Remy", last_name="Removed")
    add_to_roster(removed, w.partner, added_on=LONG_AGO, removed_on=TODAY - timedelta(days=1))
    create_student(w.school, first_name="Nora", last_name="Notonroster")
    login(client, w.worker)
    html = client.get("/").get_data(as_text=True)
    assert "Your roster (3)" in html
    assert "Removed" not in html and "Notonroster" not in html
    row = _row(html, "Alma Active")
    assert f"Active until {LATER.day} {LATER:%B %Y}" in row and "Identity, Attendance" in row
    assert "Ending soon: " in _row(html, "Eli Expiring")
    row = _row(html, "Mia Missing")
    assert "No consent" in row and "Name only: consent needed" in row and missing.state_id not in html
    # the names shown under a consent are logged, each on its own consent; a name without consent is logged as
    # the name only (issue 13: a name counts)
    logged = db.session.scalars(sa.select(DisclosureEntry).where(DisclosureEntry.user_id == w.worker.id)).all()
    assert {(e.student_id, tuple(e.categories), e.reason) for e in logged} == {
        (active.id, ("identity",), None), (expiring.id, ("identity",), None), (missing.id, (), NAME_ONLY)}
    assert all(e.basis["identity"].startswith("consent:") for e in logged if e.categories)

    only_missing = client.get("/?consent=missing", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in only_missing and "Mia Missing" in only_missing and "Alma" not in only_missing
    assert "Eli Expiring" in client.get("/?consent=expiring").get_data(as_text=True)


def test_a_page_past_the_last_shows_the_last_and_an_empty_filter_still_counts(client, db, monkeypatch):
    """The roster's page is read with its total and the home's other counts in one
    statement: a page number past the last still lands on the last page, and a filter
    that matches no one still shows the reminder's and the navigation's counts."""
    from casemgr.reads import partner_workspace

    monkeypatch.setattr(partner_workspace, "ROSTER_PAGE_SIZE", 2)
    w = World(db)
    for name in ("Ada", "Ben", "Cal"):
        w.student(name, "Expiring", ["identity"], expires_on=TODAY + timedelta(days=12))
    login(client, w.worker)
    html = client.get("/?page=9").get_data(as_text=True)
    roster = html[html.index('id="roster"'):]
    assert "Your roster (3)" in html and "Page 2 of 2" in roster
    assert "Cal Expiring" in roster and "Ada Expiring" not in roster  # the last page holds the third student
    empty = client.get("/?consent=missing").get_data(as_text=True)
    assert "3 students' consents" in empty  # the reminder still counts them
    assert "Ada Expiring" not in empty[empty.index('id="roster"'):]


def test_home_lists_the_latest_notes_the_worker_may_read(client, db):
    w = World(db)
    with_notes = w.student("Noah", "Notes", ["identity", "notes"])
    without = w.student("Ivy", "Identityonly", ["identity"])
    other_org = create_partner("Someone Else")
    for audience, body, org in (
        ("shared", "Shared note text", w.school),
        ("organization", "Our own organization note", w.partner),
        ("organization", "Another organization's private note", other_org),
        ("restricted", "Restricted health matter", w.school),
        ("family", "Family note text", w.school),
    ):
        db.session.add(Note(student_id=with_notes.id, author_id=w.counselor.id, organization_id=org.id,
                            audience=audience, topic="other", body=body))
    db.session.add(Note(student_id=without.id, author_id=w.counselor.id, organization_id=w.school.id,
                        audience="shared", topic="other", body="Not consented note"))
    db.session.flush()
    login(client, w.worker)
    html = client.get("/").get_data(as_text=True)
    notes = html.split('id="latest-notes-heading"')[1]
    for shown in ("Shared note text", "Our own organization note", "Family note text"):
        assert shown in notes
    for hidden in ("Another organization", "Restricted health", "Not consented note"):
        assert hidden not in notes
    entry = db.session.scalar(sa.select(DisclosureEntry).where(
        DisclosureEntry.user_id == w.worker.id, DisclosureEntry.student_id == with_notes.id))
    assert entry.categories == ["identity", "notes"]


def test_a_worker_out_of_compliance_sees_why_and_no_names(client, db):
    w = World(db)
    w.student("Alma", "Active", ["identity"])
    lapsed = create_user(Role.YOUTH_WORKER, w.partner, confidentiality_signed_on=None, ferpa_trained_on=LONG_AGO)
    login(client, lapsed)
    html = client.get("/").get_data(as_text=True)
    assert "You have not signed the confidentiality agreement." in html and "Alma" not in html
    assert client.get("/partner/roster").status_code == 403


def test_partner_admin_home_counts_referrals_roster_and_blocked_staff(client, db):
    w = World(db)
    a = w.student("Alma", "Active", ["identity"])
    create_user(Role.YOUTH_WORKER, w.partner, ferpa_trained_on=None)
    create_referral(a, w.partner, w.counselor, status="sent")
    create_referral(create_student(w.school), w.partner, w.counselor, status="awaiting_consent")
    login(client, w.admin)
    html = client.get("/").get_data(as_text=True)
    glance = html.split('aria-label="At a glance"')[1].split("</ul>")[0]
    assert "<strong>1</strong> <a href=\"/partner/referrals\">referral waiting for your answer</a>" in glance
    assert "and 1 waiting for family consent" in glance
    assert "<strong>1</strong> <a href=\"/partner/roster\">students on the roster</a>" in glance
    assert "<strong>1</strong> <a href=\"/partner/staff\">staff blocked" in glance
    assert "Your roster (1)" in html


# --- adding by state ID and birth date ----------------------------------------------------------------


def test_the_administrator_adds_a_student_by_exact_state_id_and_birth_date(client, db):
    w = World(db)
    student = create_student(w.school, first_name="Sam", last_name="Newcomer", birth_date=date(2011, 3, 9))
    login(client, w.admin)
    response = _post(client, "/partner/roster", {"state_id": f"  {student.state_id} ", "birth_date": "2011-03-09",
                                                  "program": "Tuesday mentoring"})
    assert response.status_code == 302
    assert "Sam Newcomer added to your roster." in client.get("/partner/roster").get_data(as_text=True)
    [entry] = db.session.scalars(sa.select(RosterEntry)).all()
    assert (entry.student_id, entry.organization_id, entry.added_on, entry.added_by_id, entry.program) == (
        student.id, w.partner.id, TODAY, w.admin.id, "Tuesday mentoring")
    logged = db.session.scalar(sa.select(DisclosureEntry).where(DisclosureEntry.student_id == student.id)
                               .order_by(DisclosureEntry.id).limit(1))  # the adding, before the roster page's view
    assert logged.allowed and logged.reason == "added to the roster of Northside Youth by state ID and birth date"
    again = _post(client, "/partner/roster", {"state_id": student.state_id, "birth_date": "2011-03-09"})
    assert again.status_code == 400 and "Sam Newcomer is already on your roster." in again.get_data(as_text=True)
    assert _count(db, RosterEntry) == 1


def test_a_wrong_birth_date_is_refused_exactly_like_an_unknown_state_id(client, db):
    w = World(db)
    student = create_student(w.school, first_name="Sam", last_name="Hidden", birth_date=date(2011, 3, 9))
    unknown = "ZZ99999999"
    assert len(unknown) == len(student.state_id)
    login(client, w.admin)
    token = csrf_token(client, "/partner/roster")
    wrong_date = client.post("/partner/roster", data={"state_id": student.state_id, "birth_date": "2011-03-10",
                                                      "csrf_token": token})
    no_such_id = client.post("/partner/roster", data={"state_id": unknown, "birth_date": "2011-03-10",
                                                      "csrf_token": token})
    assert wrong_date.status_code == no_such_id.status_code == 400
    first, second = (_without_tokens(r.get_data(as_text=True)) for r in (wrong_date, no_such_id))
    assert NO_MATCH in first and "Hidden" not in first
    assert first.replace(student.state_id, unknown) == second
    assert _count(db, RosterEntry) == 0
    refusals = db.session.scalars(sa.select(DisclosureEntry).where(DisclosureEntry.user_id == w.admin.id)
                                  .order_by(DisclosureEntry.id)).all()
    assert [(e.allowed, e.student_id) for e in refusals] == [(False, student.id), (False, None)]
    assert all(e.reason.startswith("roster add refused") for e in refusals)


def test_a_student_of_a_district_without_an_agreement_cannot_be_added(client, db):
    w = World(db)
    outsider = create_student(create_school(create_district()), birth_date=date(2011, 3, 9))
    login(client, w.admin)
    response = _post(client, "/partner/roster", {"state_id": outsider.state_id, "birth_date": "2011-03-09"})
    assert response.status_code == 400 and NO_MATCH in response.get_data(as_text=True)
    assert _count(db, RosterEntry) == 0


def test_repeated_refusals_are_turned_away_for_an_hour(client, db):
    w = World(db)
    student = create_student(w.school, birth_date=date(2011, 3, 9))
    login(client, w.admin)
    for day in range(1, MAX_REFUSED_PER_HOUR + 1):
        response = _post(client, "/partner/roster", {"state_id": student.state_id, "birth_date": f"2011-01-{day:02d}"})
        assert NO_MATCH in response.get_data(as_text=True)
    right = _post(client, "/partner/roster", {"state_id": student.state_id, "birth_date": "2011-03-09"})
    assert right.status_code == 400 and "Too many refused attempts in the last hour." in right.get_data(as_text=True)
    assert _count(db, RosterEntry) == 0


def test_bad_fields_are_explained_and_nothing_is_written(client, db):
    w = World(db)
    login(client, w.admin)
    response = _post(client, "/partner/roster", {"state_id": "", "birth_date": "yesterday"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Enter the student&#39;s state ID." in html and "Enter the student&#39;s birth date (YYYY-MM-DD)." in html
    assert _count(db, RosterEntry) == 0 and _count(db, DisclosureEntry) == 0


# --- removing -----------------------------------------------------------------------------------------


def test_removing_a_student_ends_the_roster_entry_and_the_workers_view(client, db):
    w = World(db)
    student = w.student("Alma", "Active", ["identity", "attendance"])
    login(client, w.worker)
    assert client.get(f"/students/{student.uuid}").status_code == 200
    logout(client)
    login(client, w.admin)
    path = f"/partner/roster/{student.uuid}/remove"
    assert "Remove Alma Active from your roster?" in client.get(path).get_data(as_text=True)
    assert _post(client, path).status_code == 302
    [entry] = db.session.scalars(sa.select(RosterEntry)).all()
    assert (entry.removed_on, entry.removed_by_id) == (TODAY, w.admin.id)
    assert "Alma Active removed from your roster." in client.get("/partner/roster").get_data(as_text=True)
    assert client.get(path).status_code == 404 and _post(client, path).status_code == 404
    logout(client)
    login(client, w.worker)
    assert client.get(f"/students/{student.uuid}").status_code == 404
    assert "Alma" not in client.get("/").get_data(as_text=True)


def test_only_the_organizations_own_roster_can_be_changed(client, db):
    w = World(db)
    theirs = create_partner("Another Partner")
    create_agreement(theirs, w.district, starts_on=LONG_AGO, ends_on=LATER)
    student = create_student(w.school)
    add_to_roster(student, theirs, added_on=LONG_AGO)
    login(client, w.admin)
    assert client.get(f"/partner/roster/{student.uuid}/remove").status_code == 404
    assert _post(client, f"/partner/roster/{student.uuid}/remove").status_code == 404
    assert db.session.scalar(sa.select(RosterEntry.removed_on)) is None
    logout(client)
    login(client, w.worker)
    assert client.get("/partner/roster").status_code == 403
    assert _post(client, f"/partner/roster/{student.uuid}/remove").status_code == 403
