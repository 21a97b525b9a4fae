"""Services delivered (issue 17, items 1 and 2): a worker logs a contact and takes a
group's attendance for students of the roster only; the partner administrator defines
groups; dosage shows on the student page and the partner home to whoever sees services."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from casemgr.clock import today
from casemgr.models import DisclosureEntry, Note, ProgramGroup, ProgramGroupMember, ServiceContact
from casemgr.models.enums import Category, Role
from tests.factories import (
    add_to_roster,
    create_agreement,
    create_consent,
    create_contact,
    create_district,
    create_group,
    create_partner,
    create_school,
    create_school_year,
    create_service_agreement,
    create_student,
    create_user,
)
from tests.helpers import csrf_token, login, logout

TODAY = today()
LONG_AGO = TODAY - timedelta(days=200)
LATER = TODAY + timedelta(days=200)
COMPLIANT = dict(confidentiality_signed_on=LONG_AGO, ferpa_trained_on=LONG_AGO)
SHARED = ["identity", "attendance", "notes", "services"]


class World:
    def __init__(self):
        self.district = create_district("Riverside Schools")
        create_school_year(self.district, TODAY.year if TODAY.month >= 8 else TODAY.year - 1)
        self.school = create_school(self.district, "high", "Riverside High")
        self.partner = create_partner("Northside Youth")
        create_agreement(self.partner, self.district, categories=SHARED, starts_on=LONG_AGO, ends_on=LATER)
        create_service_agreement(self.partner, self.district, services=("tutoring", "mentoring"), schools=[self.school])
        self.admin = create_user(Role.PARTNER_ADMIN, self.partner, full_name="Jordan Director", **COMPLIANT)
        self.worker = create_user(Role.YOUTH_WORKER, self.partner, full_name="Ana Mentor", **COMPLIANT)
        self.counselor = create_user(Role.COUNSELOR, self.school)

    def student(self, first, last, consent=SHARED, roster=True, **fields):
        student = create_student(self.school, first_name=first, last_name=last, **fields)
        if roster:
            add_to_roster(student, self.partner, added_on=LONG_AGO)
        if consent:
            create_consent(student, self.partner, consent, signed_on=LONG_AGO, expires_on=LATER)
        return student


def _post(client, path, data):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/")})


def _contacts(db, *where) -> list[ServiceContact]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(ServiceContact).where(*where).order_by(ServiceContact.id)))


# --- one contact -------------------------------------------------------------------------------

def test_a_worker_logs_a_contact_with_a_note_that_follows_its_audience(client, db):
    w = World()
    ana = w.student("Ana", "Lopez")
    login(client, w.worker)
    page = client.get(f"/services/contacts/new?student={ana.uuid}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'<option selected value="{ana.uuid}">' in html or f'value="{ana.uuid}" selected' in html
    response = _post(client, "/services/contacts/new", {
        "student": str(ana.uuid), "day": (TODAY - timedelta(days=1)).isoformat(), "service": "tutoring",
        "minutes": "45", "mode": "individual", "note": "Worked on fractions; ready for the quiz.",
        "audience": "shared"})
    assert response.status_code == 302
    [contact] = _contacts(db, ServiceContact.student_id == ana.id)
    assert (contact.service, contact.minutes, contact.mode, contact.attended, contact.source) == (
        "tutoring", 45, "individual", True, "app")
    assert contact.recorded_by_id == w.worker.id and contact.organization_id == w.partner.id
    note = db.session.get(Note, contact.note_id)
    assert (note.audience, note.topic, note.body) == ("shared", "academic", "Worked on fractions; ready for the quiz.")
    # the note is logged as any note written
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DisclosureEntry).where(
        DisclosureEntry.student_id == ana.id, DisclosureEntry.action == "note_written")) == 1


def test_a_contact_without_a_note_needs_no_notes_consent(client, db):
    w = World()
    ana = w.student("Ana", "Lopez", consent=None)
    login(client, w.worker)
    response = _post(client, "/services/contacts/new", {
        "student": str(ana.uuid), "day": TODAY.isoformat(), "service": "mentoring", "minutes": "30",
        "mode": "group"})
    assert response.status_code == 302
    [contact] = _contacts(db, ServiceContact.student_id == ana.id)
    assert (contact.mode, contact.note_id) == ("group", None)
    # with a note, the same contact is refused whole: no consent lets the worker write notes
    response = _post(client, "/services/contacts/new", {
        "student": str(ana.uuid), "day": TODAY.isoformat(), "service": "mentoring", "minutes": "30",
        "mode": "individual", "note": "Talked.", "audience": "organization"})
    assert response.status_code == 400
    assert "You cannot write notes about this student." in response.get_data(as_text=True)
    assert len(_contacts(db, ServiceContact.student_id == ana.id)) == 1


def test_bad_contacts_change_nothing_and_say_why(client, db):
    w = World()
    ana = w.student("Ana", "Lopez")
    stranger = w.student("Sam", "Stranger", roster=False)
    other_district = create_student(create_school(create_district()), first_name="Far", last_name="Away")
    login(client, w.worker)
    good = {"student": str(ana.uuid), "day": TODAY.isoformat(), "service": "tutoring", "minutes": "60",
            "mode": "individual"}
    cases = {
        "Choose a student from your roster.": {"student": str(stranger.uuid)},
        "Choose a student from your roster.\n": {"student": str(other_district.uuid)},
        "Choose a student from your roster.\n\n": {"student": "not-a-uuid"},
        "The day is in the future": {"day": (TODAY + timedelta(days=1)).isoformat()},
        "more than a year ago": {"day": (TODAY - timedelta(days=400)).isoformat()},
        "Enter the minutes, from 1 to 720.": {"minutes": "0"},
        "Enter the minutes, from 1 to 720.\n": {"minutes": "721"},
        "Choose one of the services your organization": {"service": "fafsa_help"},
        "Choose one of the services your organization\n": {"service": "made_up"},
        "Choose individual or group.": {"mode": "both"},
        "Not a valid integer value": {"minutes": "lots"},
    }
    for message, change in cases.items():
        response = _post(client, "/services/contacts/new", {**good, **change})
        assert response.status_code == 400, change
        assert message.strip() in response.get_data(as_text=True), change
    assert _contacts(db) == []


def test_a_contact_before_the_student_joined_the_roster_is_refused(client, db):
    w = World()
    ana = create_student(w.school, first_name="Ana", last_name="Late")
    add_to_roster(ana, w.partner, added_on=TODAY - timedelta(days=3))
    login(client, w.worker)
    response = _post(client, "/services/contacts/new", {
        "student": str(ana.uuid), "day": (TODAY - timedelta(days=10)).isoformat(), "service": "tutoring",
        "minutes": "60", "mode": "individual"})
    assert response.status_code == 400
    assert "was not on your organization&#39;s roster on that day" in response.get_data(as_text=True)
    assert _contacts(db) == []


def test_the_service_must_be_in_force_with_the_students_district(client, db):
    w = World()
    ana = w.student("Ana", "Lopez")
    # a second district's agreement offers family support; Ana's district's does not
    elsewhere = create_district()
    create_service_agreement(w.partner, elsewhere, services=("family_support",))
    login(client, w.worker)
    response = _post(client, "/services/contacts/new", {
        "student": str(ana.uuid), "day": TODAY.isoformat(), "service": "family_support", "minutes": "60",
        "mode": "individual"})
    assert response.status_code == 400
    assert "Choose one of the services your organization" in response.get_data(as_text=True)
    assert _contacts(db) == []


def test_a_worker_not_compliant_records_nothing(client, db):
    w = World()
    ana = w.student("Ana", "Lopez")
    untrained = create_user(Role.YOUTH_WORKER, w.partner, confidentiality_signed_on=LONG_AGO)
    login(client, untrained)
    page = client.get("/services/contacts/new")
    assert page.status_code == 200
    assert "not completed FERPA training" in page.get_data(as_text=True)
    assert "Ana" not in page.get_data(as_text=True)
    response = _post(client, "/services/contacts/new", {
        "student": str(ana.uuid), "day": TODAY.isoformat(), "service": "tutoring", "minutes": "60",
        "mode": "individual"})
    assert response.status_code == 403
    assert _contacts(db) == []


def test_school_staff_cannot_reach_the_service_pages(client, db):
    w = World()
    group = create_group(w.partner, [])
    login(client, w.counselor)
    for path in ("/services/contacts/new", "/services/groups", f"/services/groups/{group.uuid}/attendance"):
        assert client.get(path).status_code == 403


# --- groups and attendance ------------------------------------------------------------------

def test_attendance_for_a_group_is_saved_in_one_request_and_again_changes_only_what_changed(client, db):
    w = World()
    members = [w.student(f"Kid{i:02}", f"Member{i:02}") for i in range(12)]
    outsider = w.student("Out", "Sider")
    group = create_group(w.partner, members, service="tutoring", session_minutes=90)
    login(client, w.worker)
    sheet = client.get(f"/services/groups/{group.uuid}/attendance")
    html = sheet.get_data(as_text=True)
    assert sheet.status_code == 200 and html.count('name="present"') == 12
    assert html.count(" checked>") == 12  # not taken yet: everyone present until unticked
    assert "Out Sider" not in html
    present = [str(s.uuid) for s in members[:10]]
    day = TODAY - timedelta(days=2)
    token = csrf_token(client, "/")
    response = client.post(f"/services/groups/{group.uuid}/attendance",
                           data={"csrf_token": token, "day": day.isoformat(), "minutes": "90", "present": present})
    assert response.status_code == 302
    rows = _contacts(db, ServiceContact.group_id == group.id)
    assert len(rows) == 12
    assert sum(r.attended for r in rows) == 10
    assert {r.contact_on for r in rows} == {day} and {r.minutes for r in rows} == {90}
    assert {r.mode for r in rows} == {"group"} and {r.service for r in rows} == {"tutoring"}
    # the sheet of that day shows what was taken
    html = client.get(f"/services/groups/{group.uuid}/attendance?day={day.isoformat()}").get_data(as_text=True)
    assert html.count(" checked>") == 10 and "taken: 10 of 12 present" in html
    # saving again with one more present changes one row
    ids_before = {r.id for r in rows}
    response = client.post(f"/services/groups/{group.uuid}/attendance",
                           data={"csrf_token": token, "day": day.isoformat(), "minutes": "90",
                                 "present": present + [str(members[10].uuid)]})
    assert response.status_code == 302
    rows = _contacts(db, ServiceContact.group_id == group.id)
    assert {r.id for r in rows} == ids_before and sum(r.attended for r in rows) == 11
    assert sum(r.updated_at is not None for r in rows) == 1
    # a forged sheet naming a student outside the group changes nothing
    response = client.post(f"/services/groups/{group.uuid}/attendance",
                           data={"csrf_token": token, "day": day.isoformat(), "minutes": "90",
                                 "present": [str(outsider.uuid)]})
    assert response.status_code == 400
    assert "not in this group" in response.get_data(as_text=True)
    assert sum(r.attended for r in _contacts(db, ServiceContact.group_id == group.id)) == 11
    assert _contacts(db, ServiceContact.student_id == outsider.id) == []


def test_a_member_who_left_the_roster_is_not_on_the_sheet_and_gets_no_row(client, db):
    w = World()
    stays = w.student("Stays", "Here")
    left = w.student("Left", "Roster")
    group = create_group(w.partner, [stays, left])
    from casemgr.models import RosterEntry
    entry = db.session.scalar(sa.select(RosterEntry).where(RosterEntry.student_id == left.id))
    entry.removed_on = TODAY - timedelta(days=1)
    db.session.flush()
    login(client, w.worker)
    html = client.get(f"/services/groups/{group.uuid}/attendance").get_data(as_text=True)
    assert "Stays Here" in html and "Left Roster" not in html
    response = _post(client, f"/services/groups/{group.uuid}/attendance",
                     {"day": TODAY.isoformat(), "minutes": "60", "present": [str(stays.uuid)]})
    assert response.status_code == 302
    assert [(r.student_id, r.attended) for r in _contacts(db, ServiceContact.group_id == group.id)] == [(stays.id, True)]


def test_another_organizations_group_answers_404(client, db):
    w = World()
    other = create_partner("Other Org")
    theirs = create_group(other, [])
    login(client, w.worker)
    assert client.get(f"/services/groups/{theirs.uuid}/attendance").status_code == 404
    assert _post(client, f"/services/groups/{theirs.uuid}/attendance",
                 {"day": TODAY.isoformat(), "minutes": "60"}).status_code == 404


def test_an_ended_group_takes_no_attendance(client, db):
    w = World()
    kid = w.student("Kid", "One")
    group = create_group(w.partner, [kid], archived_on=TODAY - timedelta(days=1))
    login(client, w.worker)
    response = _post(client, f"/services/groups/{group.uuid}/attendance",
                     {"day": TODAY.isoformat(), "minutes": "60", "present": [str(kid.uuid)]})
    assert response.status_code == 400
    assert "This group has ended" in response.get_data(as_text=True)
    assert _contacts(db) == []


def test_the_partner_admin_defines_a_group_and_its_members_from_the_roster(client, db):
    w = World()
    a, b = w.student("Amy", "A"), w.student("Ben", "B")
    stranger = w.student("Sam", "Stranger", roster=False)
    login(client, w.admin)
    response = _post(client, "/services/groups/new", {
        "name": "Homework Club", "service": "tutoring", "weekdays": ["1", "3"], "starts_at": "15:30",
        "session_minutes": "90", "leader": str(w.worker.id)})
    assert response.status_code == 302
    group = db.session.scalar(sa.select(ProgramGroup).where(ProgramGroup.organization_id == w.partner.id))
    assert (group.name, group.service, group.weekdays, group.session_minutes, group.leader_id) == (
        "Homework Club", "tutoring", [1, 3], 90, w.worker.id)
    # the same name again is refused with a sentence
    again = _post(client, "/services/groups/new", {"name": "homework club", "service": "tutoring",
                                                   "session_minutes": "60"})
    assert again.status_code == 400 and "already has a group named" in again.get_data(as_text=True)
    # a service the agreement does not offer is refused
    bad = _post(client, "/services/groups/new", {"name": "FAFSA night", "service": "fafsa_help",
                                                 "session_minutes": "60"})
    assert bad.status_code == 400
    page = client.get(f"/services/groups/{group.uuid}/members").get_data(as_text=True)
    assert "Amy A" in page and "Ben B" in page and "Sam Stranger" not in page
    assert _post(client, f"/services/groups/{group.uuid}/members",
                 {"members": [str(a.uuid), str(b.uuid)]}).status_code == 302
    forged = _post(client, f"/services/groups/{group.uuid}/members", {"members": [str(a.uuid), str(stranger.uuid)]})
    assert forged.status_code == 400
    db.session.expire_all()
    assert set(db.session.scalars(sa.select(ProgramGroupMember.student_id).where(
        ProgramGroupMember.group_id == group.id))) == {a.id, b.id}
    assert _post(client, f"/services/groups/{group.uuid}/members", {"members": [str(b.uuid)]}).status_code == 302
    db.session.expire_all()
    assert set(db.session.scalars(sa.select(ProgramGroupMember.student_id).where(
        ProgramGroupMember.group_id == group.id))) == {b.id}
    assert _post(client, f"/services/groups/{group.uuid}/end", {}).status_code == 302
    db.session.expire_all()
    assert db.session.get(ProgramGroup, group.id).archived_on == TODAY


def test_a_youth_worker_does_not_manage_groups(client, db):
    w = World()
    group = create_group(w.partner, [])
    login(client, w.worker)
    assert _post(client, "/services/groups/new", {"name": "Mine", "service": "tutoring",
                                                  "session_minutes": "60"}).status_code == 403
    assert client.get(f"/services/groups/{group.uuid}/edit").status_code == 404
    assert client.get(f"/services/groups/{group.uuid}/members").status_code == 404
    assert _post(client, f"/services/groups/{group.uuid}/end", {}).status_code == 404


# --- dosage ---------------------------------------------------------------------------------------

def test_dosage_shows_on_the_student_page_and_the_partner_home(client, db):
    w = World()
    ana = w.student("Ana", "Lopez")
    hidden = w.student("Hidden", "Services", consent=["identity"])
    month_start = TODAY.replace(day=1)
    for days_back, minutes in ((1, 60), (8, 90), (40, 30)):
        create_contact(ana, w.partner, TODAY - timedelta(days=days_back), minutes=minutes)
    group = create_group(w.partner, [ana])
    create_contact(ana, w.partner, TODAY - timedelta(days=3), minutes=60, mode="group", group_id=group.id,
                   attended=False)  # absent: not counted
    create_contact(hidden, w.partner, TODAY - timedelta(days=1), minutes=60)
    login(client, w.worker)
    home = client.get("/").get_data(as_text=True)
    row = home[home.index("Ana Lopez", home.index('id="roster"')):]
    row = row[:row.index("</tr>")]
    assert "Tutoring: 3 sessions, 3.0 h" in row
    hidden_row = home[home.index("Hidden Services", home.index('id="roster"')):]
    hidden_row = hidden_row[:hidden_row.index("</tr>")]
    assert "session" not in hidden_row
    # the home logs the services it showed, on Ana's consent
    entry = db.session.scalars(sa.select(DisclosureEntry).where(
        DisclosureEntry.user_id == w.worker.id, DisclosureEntry.categories.any("services"))).all()
    assert entry and all(hidden.id not in (e.student_ids or [e.student_id]) for e in entry)
    # the counselor sees every partner's programs on the student page, with this month
    logout(client)
    login(client, w.counselor)
    page = client.get(f"/students/{ana.uuid}").get_data(as_text=True)
    section = page[page.index("Services this school year"):]
    assert "Northside Youth: tutoring" in section
    this_month = sum(1 for d in (1, 8) if TODAY - timedelta(days=d) >= month_start)
    assert f"{this_month} session{'' if this_month == 1 else 's'}" in section
    assert "absent" in section  # the latest contacts list the absence


def test_services_hidden_by_consent_show_no_dosage_on_the_student_page(client, db):
    w = World()
    kid = w.student("Kid", "Private", consent=["identity"])
    create_contact(kid, w.partner, TODAY - timedelta(days=1), minutes=60)
    login(client, w.worker)
    page = client.get(f"/students/{kid.uuid}").get_data(as_text=True)
    assert "Services this school year" not in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DisclosureEntry).where(
        DisclosureEntry.student_id == kid.id, DisclosureEntry.categories.any(str(Category.SERVICES)))) == 0


def test_the_counselors_caseload_says_which_partners_serve_each_student_and_how_much(client, db):
    w = World()
    ana = w.student("Ana", "Lopez")
    other = w.student("Ben", "Quiet")
    mentors = create_partner("Eastside Mentors")
    create_service_agreement(mentors, w.district, services=("mentoring",))
    add_to_roster(ana, mentors, added_on=LONG_AGO)
    create_contact(ana, w.partner, TODAY - timedelta(days=2), minutes=90)
    create_contact(ana, w.partner, TODAY - timedelta(days=1), minutes=90)
    create_contact(ana, mentors, TODAY - timedelta(days=1), minutes=30, service="mentoring")
    login(client, w.counselor)
    html = client.get("/caseload?scope=school").get_data(as_text=True)
    row = html[html.index("Lopez, Ana"):]
    row = row[:row.index("</tr>")]
    assert "Northside Youth: tutoring, 3.0 h" in row and "Eastside Mentors: mentoring, 0.5 h" in row
    row = html[html.index("Quiet, Ben"):]
    assert "Northside" not in row[:row.index("</tr>")]
    # the exported caseload says the same
    exported = client.get("/caseload/export.csv?scope=school").get_data(as_text=True)
    line = next(line for line in exported.splitlines() if line.startswith("Lopez,"))
    assert "Northside Youth: tutoring, 3.0 h; Eastside Mentors: mentoring, 0.5 h" in line


# --- found in review: the agreement's schools, double taps, the note's readers -----------------

def test_a_service_agreement_naming_schools_covers_only_those(client, db):
    w = World()
    other_school = create_school(w.district, "middle", "Riverside Middle")
    elsewhere = create_student(other_school, first_name="Far", last_name="Side")
    add_to_roster(elsewhere, w.partner, added_on=LONG_AGO)
    create_consent(elsewhere, w.partner, SHARED, signed_on=LONG_AGO, expires_on=LATER)
    here = w.student("Near", "Side")
    group = create_group(w.partner, [here, elsewhere])
    login(client, w.worker)
    response = _post(client, "/services/contacts/new", {
        "student": str(elsewhere.uuid), "day": TODAY.isoformat(), "service": "tutoring", "minutes": "60",
        "mode": "individual"})
    assert response.status_code == 400
    assert "offers at Far Side&#39;s school" in response.get_data(as_text=True)
    html = client.get(f"/services/groups/{group.uuid}/attendance").get_data(as_text=True)
    assert "Near Side" in html and "Far Side" not in html
    response = _post(client, f"/services/groups/{group.uuid}/attendance",
                     {"day": TODAY.isoformat(), "minutes": "60", "present": [str(here.uuid)]})
    assert response.status_code == 302
    assert [r.student_id for r in _contacts(db, ServiceContact.group_id == group.id)] == [here.id]


def test_the_same_contact_form_sent_twice_records_one_contact(client, db):
    w = World()
    ana = w.student("Ana", "Lopez")
    login(client, w.worker)
    html = client.get(f"/services/contacts/new?student={ana.uuid}").get_data(as_text=True)
    import re

    token = re.search(r'name="token" type="hidden" value="([^"]+)"|type="hidden" name="token" value="([^"]+)"|'
                      r'id="token" name="token" type="hidden" value="([^"]+)"', html)
    token = next(g for g in token.groups() if g)
    data = {"student": str(ana.uuid), "day": TODAY.isoformat(), "service": "tutoring", "minutes": "45",
            "mode": "individual", "note": "Fractions.", "audience": "organization", "token": token}
    assert _post(client, "/services/contacts/new", data).status_code == 302
    assert _post(client, "/services/contacts/new", data).status_code == 302
    assert len(_contacts(db, ServiceContact.student_id == ana.id)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Note).where(Note.student_id == ana.id)) == 1


def test_the_sheet_of_a_past_day_lists_only_who_was_on_the_roster_that_day(client, db):
    w = World()
    early = w.student("Early", "Member")
    late = create_student(w.school, first_name="Late", last_name="Member")
    add_to_roster(late, w.partner, added_on=TODAY - timedelta(days=2))
    group = create_group(w.partner, [early, late])
    login(client, w.worker)
    day = (TODAY - timedelta(days=5)).isoformat()
    html = client.get(f"/services/groups/{group.uuid}/attendance?day={day}").get_data(as_text=True)
    assert "Early Member" in html and "Late Member" not in html
    today_html = client.get(f"/services/groups/{group.uuid}/attendance").get_data(as_text=True)
    assert "Late Member" in today_html


def test_the_contact_form_shows_who_will_read_the_note_before_it_is_saved(client, db):
    w = World()
    ana = w.student("Ana", "Lopez")
    no_notes = w.student("Quiet", "Family", consent=["identity"])
    login(client, w.worker)
    html = client.get(f"/services/contacts/new?student={ana.uuid}").get_data(as_text=True)
    assert "will be able to read this note" in html and "Northside Youth" in html
    # "Preview" sends the form back with the readers of the audience chosen, and saves nothing
    response = _post(client, "/services/contacts/new", {
        "student": str(ana.uuid), "day": TODAY.isoformat(), "service": "tutoring", "minutes": "45",
        "mode": "individual", "note": "Hello", "audience": "shared", "preview": "1"})
    assert response.status_code == 200 and "will be able to read this note" in response.get_data(as_text=True)
    assert _contacts(db) == []
    fragment = client.get(f"/services/contacts/audience?student={ana.uuid}&audience=family",
                          headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "will be able to read this note" in fragment and "<html" not in fragment
    fragment = client.get(f"/services/contacts/audience?student={no_notes.uuid}&audience=shared").get_data(as_text=True)
    assert "You cannot write notes about this student" in fragment
    stranger = w.student("Not", "Mine", roster=False)
    fragment = client.get(f"/services/contacts/audience?student={stranger.uuid}&audience=shared").get_data(as_text=True)
    assert "Choose the student" in fragment and "Not Mine" not in fragment


def test_a_partner_reads_another_organizations_contacts_without_its_group_names(client, db):
    w = World()
    ana = w.student("Ana", "Lopez")
    other = create_partner("Harbor Health")
    create_service_agreement(other, w.district, services=("family_support",))
    add_to_roster(ana, other, added_on=LONG_AGO)
    circle = create_group(other, [ana], name="Recovery circle", service="family_support")
    create_contact(ana, other, TODAY - timedelta(days=1), service="family_support", mode="group", group_id=circle.id)
    login(client, w.worker)
    page = client.get(f"/students/{ana.uuid}").get_data(as_text=True)
    assert "Harbor Health, family support" in page and "Recovery circle" not in page
    logout(client)
    login(client, w.counselor)
    assert "Recovery circle" in client.get(f"/students/{ana.uuid}").get_data(as_text=True)


def test_nul_bytes_huge_numbers_and_long_text_get_a_message_not_an_error(client, db):
    w = World()
    ana = w.student("Ana", "Lopez")
    group = create_group(w.partner, [ana])
    login(client, w.admin)
    huge = "9" * 40
    for data in ({"student": str(ana.uuid), "day": TODAY.isoformat(), "service": "tutoring", "minutes": huge,
                  "mode": "individual"},
                 {"student": "\x00", "day": "\x00", "service": "\x00", "minutes": "\x00", "mode": "\x00",
                  "note": "a\x00b", "token": "\x00"},
                 {"student": str(ana.uuid), "day": TODAY.isoformat(), "service": "tutoring", "minutes": "30",
                  "mode": "individual", "note": "x" * 20000, "audience": "shared"}):
        assert _post(client, "/services/contacts/new", data).status_code == 400, data
    assert _post(client, f"/services/groups/{group.uuid}/attendance",
                 {"day": TODAY.isoformat(), "minutes": huge, "present": [str(ana.uuid)]}).status_code == 400
    assert client.get(f"/services/groups/{group.uuid}/attendance?day=99999-99-99").status_code == 200
    assert _post(client, "/services/groups/new", {"name": "Club\x00" + "x" * 500, "service": "tutoring",
                                                  "session_minutes": huge}).status_code == 400
    assert client.get(f"/reports/programs?year={huge}").status_code == 200  # the latest year instead
    assert _contacts(db) == []
