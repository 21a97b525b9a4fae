"""Case notes (issue 5, items 1 and 5): who reads each audience, posting and amending
in place and without JavaScript, plain text only, the length limit, the timeline."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from casemgr import policy
from casemgr.clock import today
from casemgr.models import DisclosureEntry, Note, Section, SectionEnrollment
from casemgr.models.enums import NoteAudience, Role
from casemgr.services import notes as notes_service
from tests.factories import (
    add_to_roster,
    create_agreement,
    create_consent,
    create_district,
    create_flag,
    create_guardian,
    create_partner,
    create_research_org,
    create_school,
    create_student,
    create_user,
)
from tests.helpers import csrf_token, login, logout

TODAY = today()
LONG_AGO = TODAY - timedelta(days=200)
LATER = TODAY + timedelta(days=200)
HTMX = {"HX-Request": "true"}


@dataclass
class NotesWorld:
    student: object
    users: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)


def _teach(db, teacher, student, n):
    section = Section(school_id=student.school_id, school_year=TODAY.year, local_id=f"N{n}", course_code="ENG9",
                      course_title="English 9", subject="english", teacher_id=teacher.id)
    db.session.add(section)
    db.session.flush()
    db.session.add(SectionEnrollment(section_id=section.id, student_id=student.id, entry_date=LONG_AGO))
    db.session.flush()


def _partner(district, name, consented, student):
    partner = create_partner(name)
    create_agreement(partner, district, categories=["identity", "attendance", "notes", "services"],
                     starts_on=LONG_AGO, ends_on=LATER)
    create_consent(student, partner, consented, signed_on=LONG_AGO, expires_on=LATER)
    add_to_roster(student, partner, added_on=LONG_AGO)
    return partner


def _compliant(role, organization, **fields):
    return create_user(role, organization, confidentiality_signed_on=LONG_AGO, ferpa_trained_on=TODAY - timedelta(days=10),
                       **fields)


def build_notes_world(db, with_notes: bool = True) -> NotesWorld:
    district = create_district("Riverside Schools")
    school = create_school(district, name="Riverside High")
    other_school = create_school(district, name="Riverside Middle")
    student = create_student(school, birth_date=date(TODAY.year - 15, 3, 1))
    northside = _partner(district, "Northside Youth", ["identity", "notes"], student)
    eastside = _partner(district, "Eastside Tutoring", ["identity", "notes"], student)
    westside = _partner(district, "Westside Club", ["identity", "attendance"], student)  # no consent for notes
    w = NotesWorld(student)
    u = w.users
    u["district_admin"] = create_user(Role.DISTRICT_ADMIN, district, full_name="Dana Admin")
    u["principal"] = create_user(Role.PRINCIPAL, school, full_name="Pat Principal")
    u["counselor"] = create_user(Role.COUNSELOR, school, full_name="Casey Counselor")
    u["teacher"] = create_user(Role.TEACHER, school, full_name="Terry Teacher")
    _teach(db, u["teacher"], student, 1)
    u["other_teacher"] = create_user(Role.TEACHER, school)
    u["other_school_counselor"] = create_user(Role.COUNSELOR, other_school)
    u["youth_worker"] = _compliant(Role.YOUTH_WORKER, northside, full_name="Ana Ruiz")
    u["partner_admin"] = _compliant(Role.PARTNER_ADMIN, northside, full_name="Nia Northside")
    u["other_org_worker"] = _compliant(Role.YOUTH_WORKER, eastside)
    u["worker_without_notes"] = _compliant(Role.YOUTH_WORKER, westside)
    u["parent"] = create_user(Role.PARENT, district, full_name="Rosa Parent")
    create_guardian(student, user=u["parent"])
    u["student"] = create_user(Role.STUDENT, student=student)
    u["researcher"] = create_user(Role.RESEARCHER, create_research_org())
    if with_notes:
        for author in ("counselor", "youth_worker"):
            for audience in NoteAudience:
                if author == "youth_worker" and audience == NoteAudience.RESTRICTED:
                    continue  # partner staff never write restricted notes
                w.notes[(author, audience)] = _note(db, student, u[author], audience, f"TEXT-{author}-{audience}")
    return w


def _note(db, student, author, audience, body, **fields):
    values = dict(student_id=student.id, author_id=author.id, organization_id=author.organization_id,
                  audience=str(audience), topic="attendance", body=body)
    values.update(fields)
    note = Note(**values)
    db.session.add(note)
    db.session.flush()
    return note


# --- who reads which note: audience × role ---------------------------------------------------
#
# "read": the note's text; "exists": only that a restricted note exists; None: nothing at
# all (the student page itself answers 404 for the readers in NO_ACCESS).

R, E = "read", "exists"
NOTE_KEYS = [("counselor", a) for a in NoteAudience] + [("youth_worker", a) for a in NoteAudience if a != "restricted"]


def _row(c_shared, c_org, c_family, c_restricted, w_shared, w_org, w_family):
    values = (c_shared, c_org, c_family, c_restricted, w_shared, w_org, w_family)
    return dict(zip(NOTE_KEYS, values))


EXPECTED = {
    #                             counselor's notes              worker's notes
    #                             shared org  family restricted  shared org  family
    "district_admin":        _row(R,     None, R,     R,          R,     None, R),
    "principal":             _row(R,     R,    R,     R,          R,     None, R),
    "counselor":             _row(R,     R,    R,     R,          R,     None, R),
    "teacher":               _row(R,     R,    R,     E,          R,     None, R),
    "youth_worker":          _row(R,     None, R,     E,          R,     R,    R),
    "partner_admin":         _row(R,     None, R,     E,          R,     R,    R),
    "other_org_worker":      _row(R,     None, R,     E,          R,     None, R),
    "worker_without_notes":  _row(None,  None, None,  None,       None,  None, None),
    "parent":                _row(None,  None, R,     None,       None,  None, R),
    "student":               _row(None,  None, R,     None,       None,  None, R),
}
NO_ACCESS = ["other_teacher", "other_school_counselor", "researcher"]


@pytest.mark.parametrize("reader", sorted(EXPECTED) + NO_ACCESS)
def test_each_audience_is_read_by_exactly_its_readers(client, db, reader):
    w = build_notes_world(db)
    login(client, w.users[reader])
    response = client.get(f"/students/{w.student.uuid}/timeline")
    html = response.get_data(as_text=True)
    if reader in NO_ACCESS:
        assert response.status_code == 404
        assert "TEXT-" not in html
        return
    assert response.status_code == 200
    for (author, audience), outcome in EXPECTED[reader].items():
        marker = f"TEXT-{author}-{audience}"
        assert (marker in html) == (outcome == R), f"{reader} reading {author}'s {audience} note"
    exists = sum(outcome == E for outcome in EXPECTED[reader].values())
    assert html.count("A restricted note by a counselor on") == exists, reader
    page = client.get(f"/students/{w.student.uuid}").get_data(as_text=True)  # the record page draws the same timeline
    assert sorted(re.findall(r"TEXT-[a-z_]+-[a-z]+", page)) == sorted(re.findall(r"TEXT-[a-z_]+-[a-z]+", html))


@pytest.mark.parametrize("author, audience", NOTE_KEYS)
def test_the_audience_preview_names_exactly_those_readers(db, author, audience):
    w = build_notes_world(db, with_notes=False)
    writer = w.users[author]
    readers, told = policy.note_readers(w.student, audience, writer.organization_id)
    by_outcome = {outcome: {name for name, rows in EXPECTED.items() if rows[(author, audience)] == outcome}
                  for outcome in (R, E)}
    ids = {user.id: name for name, user in w.users.items()}
    assert {ids[v.user.id] for v in readers} == by_outcome[R]
    assert {ids[v.user.id] for v in told} == by_outcome[E]


def test_the_sql_and_python_faces_of_the_reading_rule_agree(db):
    w = build_notes_world(db)
    for name, user in w.users.items():
        for note in w.notes.values():
            row = db.session.execute(
                sa.select(policy.note_text_readable(user), policy.note_listed(user)).where(Note.id == note.id)).one()
            python = (policy.reads_note(user, note.audience, note.organization_id),
                      policy.lists_note(user, note.audience, note.organization_id))
            assert tuple(row) == python, (name, note.body)


def test_the_preview_counts_readers_by_organization_and_role(client, db):
    w = build_notes_world(db, with_notes=False)
    login(client, w.users["counselor"])
    path = f"/students/{w.student.uuid}/notes/audience"
    shared = client.get(f"{path}?audience=shared", headers=HTMX)
    html = " ".join(shared.get_data(as_text=True).split())
    assert shared.status_code == 200 and "<html" not in html
    assert "<strong>7 people</strong> will be able to read this note, you included" in html
    assert "<strong>Riverside High</strong>: 1 principal, 1 counselor, 1 teacher" in html
    assert "<strong>Riverside Schools</strong>: 1 district administrator" in html
    assert "<strong>Northside Youth</strong>: 1 partner administrator, 1 youth worker" in html
    assert "<strong>Eastside Tutoring</strong>: 1 youth worker" in html
    assert "Westside Club" not in html and "The family" not in html
    family = " ".join(client.get(f"{path}?audience=family", headers=HTMX).get_data(as_text=True).split())
    assert "<strong>9 people</strong>" in family and "<strong>The family</strong>: 1 parent or guardian, the student" in family
    restricted = " ".join(client.get(f"{path}?audience=restricted", headers=HTMX).get_data(as_text=True).split())
    assert "<strong>3 people</strong>" in restricted
    assert "4 others who can see this student's notes will see only that a restricted note exists" in restricted
    assert "choose who can read the note" in client.get(f"{path}?audience=everyone", headers=HTMX).get_data(as_text=True).lower()
    page = client.get(f"{path}?audience=organization")  # without JavaScript: the note form with the preview
    text = " ".join(page.get_data(as_text=True).split())
    assert page.status_code == 200 and "<html" in text and "Write a note" in text
    assert "<strong>3 people</strong> will be able to read this note" in text and "Riverside High</strong>: 1 principal" in text


# --- writing a note -------------------------------------------------------------------------------


def _form(**overrides):
    data = {"audience": "shared", "topic": "academic", "body": "Tutoring on Tuesdays went well."}
    data.update(overrides)
    return data


def _post_note(client, student, headers=None, **overrides):
    path = f"/students/{student.uuid}/notes/new"
    return client.post(path, data={**_form(**overrides), "csrf_token": csrf_token(client, path)}, headers=headers or {})


def _notes(db):
    return db.session.scalars(sa.select(Note).order_by(Note.id)).all()


def test_a_worker_posts_a_note_in_place_and_it_is_logged(client, db):
    w = build_notes_world(db, with_notes=False)
    worker = w.users["youth_worker"]
    login(client, worker)
    page = client.get(f"/students/{w.student.uuid}").get_data(as_text=True)
    assert 'id="note-form"' in page and "Write a note" in page
    assert 'value="restricted"' not in page  # partner staff are not offered the restricted audience
    response = _post_note(client, w.student, HTMX, body="Came to all three sessions.")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<section class="record-section timeline" id="timeline"')
    assert "Note posted." in html and "Came to all three sessions." in html
    [note] = _notes(db)
    assert (note.audience, note.topic, note.author_id, note.organization_id, note.amends_id) == (
        "shared", "academic", worker.id, worker.organization_id, None)
    entries = db.session.scalars(sa.select(DisclosureEntry).where(DisclosureEntry.action == "note_written")).all()
    [written] = entries
    assert written.allowed and written.user_id == worker.id and written.student_id == w.student.id
    assert written.categories == ["notes"] and written.basis["notes"].startswith("consent:")


def test_without_javascript_a_note_posts_and_redirects_to_the_timeline(client, db):
    w = build_notes_world(db, with_notes=False)
    login(client, w.users["counselor"])
    response = _post_note(client, w.student, audience="restricted", topic="family", body="Safety plan in place.")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/students/{w.student.uuid}#timeline"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Note posted." in html and "Safety plan in place." in html and "Restricted</span>" in html
    written = db.session.scalar(sa.select(DisclosureEntry).where(DisclosureEntry.action == "note_written"))
    assert written.basis == {"notes": "school_official"}


def test_the_preview_button_shows_the_audience_and_writes_nothing(client, db):
    w = build_notes_world(db, with_notes=False)
    login(client, w.users["counselor"])
    response = _post_note(client, w.student, audience="organization", body="Draft", preview="1")
    html = " ".join(response.get_data(as_text=True).split())
    assert response.status_code == 200 and "<strong>3 people</strong>" in html and "Riverside High" in html
    assert "Draft</textarea>" in html and re.search(r'checked id="audience-\d" name="audience" type="radio" value="organization">', html)
    assert _notes(db) == []
    with_htmx = _post_note(client, w.student, HTMX, audience="family", body="Draft", preview="1")
    assert with_htmx.headers["HX-Retarget"] == "#note-form" and "<strong>9 people</strong>" in with_htmx.get_data(as_text=True)
    assert _notes(db) == []


def test_teachers_of_record_write_notes_but_not_restricted_ones(client, db):
    w = build_notes_world(db, with_notes=False)
    login(client, w.users["teacher"])
    assert client.get(f"/students/{w.student.uuid}/notes/new").status_code == 200
    refused = _post_note(client, w.student, audience="restricted")
    assert refused.status_code == 400 and "Choose who can read the note." in refused.get_data(as_text=True)
    assert _post_note(client, w.student, audience="organization").status_code == 302
    assert [n.audience for n in _notes(db)] == ["organization"]


@pytest.mark.parametrize("audience", ["restricted", "public", "", "shared' OR '1'='1"])
def test_forged_audiences_are_refused_and_nothing_is_written(client, db, audience):
    w = build_notes_world(db, with_notes=False)
    login(client, w.users["youth_worker"])
    response = _post_note(client, w.student, audience=audience)
    assert response.status_code == 400
    assert "Choose who can read the note." in response.get_data(as_text=True)
    assert _notes(db) == []


def test_the_service_refuses_what_the_form_would(db):
    w = build_notes_world(db, with_notes=False)
    worker_access = policy.student_access(w.users["youth_worker"], w.student)
    for audience, topic, body, message in (
        ("restricted", "other", "x", "Choose who can read the note."),
        ("shared", "gossip", "x", "Choose the topic of the note."),
        ("shared", "other", " \r\n ", "Write the note."),
        ("shared", "other", "x" * 5001, "Keep the note to 5,000 characters or fewer; this one has 5,001."),
    ):
        with pytest.raises(notes_service.NoteError, match=re.escape(message)):
            notes_service.post_note(worker_access, audience, topic, body)
    admin_access = policy.student_access(w.users["district_admin"], w.student)
    with pytest.raises(notes_service.NoteError):
        notes_service.post_note(admin_access, "shared", "other", "x")
    assert _notes(db) == []


@pytest.mark.parametrize("reader", ["district_admin", "parent", "student", "worker_without_notes", "other_teacher",
                                    "other_school_counselor", "researcher"])
def test_who_may_not_write_gets_404_and_nothing_is_written(client, db, reader):
    w = build_notes_world(db, with_notes=False)
    login(client, w.users[reader])
    token = csrf_token(client, "/")
    base = f"/students/{w.student.uuid}/notes"
    assert client.get(f"{base}/new").status_code == 404
    assert client.get(f"{base}/audience?audience=shared", headers=HTMX).status_code == 404
    assert client.post(f"{base}/new", data={**_form(), "csrf_token": token}).status_code == 404
    assert client.post(f"{base}/new", data={**_form(), "csrf_token": token}, headers=HTMX).status_code == 404
    assert _notes(db) == []
    denied = db.session.scalars(sa.select(DisclosureEntry).where(DisclosureEntry.allowed.is_(False))).all()
    assert denied and all(e.student_id == w.student.id for e in denied)
    assert 'id="note-form"' not in client.get(f"/students/{w.student.uuid}").get_data(as_text=True)


def test_a_note_on_a_student_of_another_school_is_404(client, db):
    w = build_notes_world(db, with_notes=False)
    elsewhere = create_student(create_school(create_district()))
    login(client, w.users["counselor"])
    assert client.get(f"/students/{elsewhere.uuid}/notes/new").status_code == 404
    token = csrf_token(client, "/")
    response = client.post(f"/students/{elsewhere.uuid}/notes/new", data={**_form(), "csrf_token": token})
    assert response.status_code == 404 and elsewhere.last_name not in response.get_data(as_text=True)
    assert _notes(db) == []


# --- plain text only ------------------------------------------------------------------------------

INJECTIONS = [
    ("<script>alert('x')</script>", "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"),
    ('<img src=x onerror="alert(1)">', "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;"),
    ('"><svg onload=alert(1)>', "&#34;&gt;&lt;svg onload=alert(1)&gt;"),
    ("<a href=\"javascript:alert(1)\">click</a>", "&lt;a href=&#34;javascript:alert(1)&#34;&gt;click&lt;/a&gt;"),
    ("{{ 7*7 }} {% raw %}", "{{ 7*7 }} {% raw %}"),
    ("</textarea><b>bold</b>", "&lt;/textarea&gt;&lt;b&gt;bold&lt;/b&gt;"),
]


@pytest.mark.parametrize("attack, escaped", INJECTIONS)
def test_html_and_script_in_a_note_come_back_as_text(client, db, attack, escaped):
    w = build_notes_world(db, with_notes=False)
    login(client, w.users["counselor"])
    posted = _post_note(client, w.student, HTMX, body=f"Before {attack} after")
    for html in (posted.get_data(as_text=True), client.get(f"/students/{w.student.uuid}").get_data(as_text=True)):
        assert f"Before {escaped} after" in html
        assert attack == escaped or attack not in html
        assert "<script>alert" not in html and "<img src=x" not in html and "<svg" not in html and "<b>bold" not in html
        assert not re.search(r"""(href|src)=["']?javascript:""", html)
        assert "49" not in html.split("Before", 1)[1].split("after", 1)[0]
    [note] = _notes(db)
    assert note.body == f"Before {attack} after"  # stored as written; escaped when shown


def test_line_breaks_are_kept_and_control_characters_dropped(client, db):
    w = build_notes_world(db, with_notes=False)
    login(client, w.users["counselor"])
    _post_note(client, w.student, body="  Line one\r\nLine <two>\r\n\r\nLine four\x00\x07  ")
    [note] = _notes(db)
    assert note.body == "Line one\nLine <two>\n\nLine four"
    html = client.get(f"/students/{w.student.uuid}/timeline").get_data(as_text=True)
    assert "Line one<br>Line &lt;two&gt;<br><br>Line four" in html


def test_the_length_limit_is_explained_and_nothing_is_written(client, db):
    w = build_notes_world(db, with_notes=False)
    login(client, w.users["counselor"])
    too_long = _post_note(client, w.student, body="x" * 5001)
    html = too_long.get_data(as_text=True)
    assert too_long.status_code == 400
    assert "Keep the note to 5,000 characters or fewer; this one has 5,001. Nothing was posted." in html
    assert "x" * 5001 in html  # the text is kept in the form, to shorten
    with_htmx = _post_note(client, w.student, HTMX, body="y" * 6000)
    assert with_htmx.status_code == 200 and with_htmx.headers["HX-Retarget"] == "#note-form"
    assert "this one has 6,000" in with_htmx.get_data(as_text=True)
    empty = _post_note(client, w.student, body="   ", topic="")
    assert "Write the note." in empty.get_data(as_text=True)
    assert "Choose the topic of the note." in empty.get_data(as_text=True)
    assert _notes(db) == []
    # Windows line breaks count once, as they are stored
    assert _post_note(client, w.student, body="ab\r\n" * 1250).status_code == 302
    assert _post_note(client, w.student, body="z" * 5000).status_code == 302
    assert [len(n.body) for n in _notes(db)] == [3749, 5000]


# --- amendments -----------------------------------------------------------------------------------


def _amend(client, note, body, headers=None):
    path = f"/notes/{note.uuid}/amend"
    return client.post(path, data={"body": body, "csrf_token": csrf_token(client, "/")}, headers=headers or {})


def test_the_author_amends_a_note_in_place_and_both_are_shown(client, db):
    w = build_notes_world(db, with_notes=False)
    counselor = w.users["counselor"]
    original = _note(db, w.student, counselor, "shared", "Tutoring is on Tuesdays.", topic="academic",
                     created_at=datetime.now(timezone.utc) - timedelta(days=3))
    login(client, counselor)
    timeline = client.get(f"/students/{w.student.uuid}/timeline").get_data(as_text=True)
    assert f'hx-get="/notes/{original.uuid}/amend"' in timeline
    form = client.get(f"/notes/{original.uuid}/amend", headers=HTMX)
    assert form.status_code == 200 and "<html" not in form.get_data(as_text=True)
    assert f'hx-post="/notes/{original.uuid}/amend"' in form.get_data(as_text=True)
    response = _amend(client, original, "Correction: tutoring is on Wednesdays.", HTMX)
    html = " ".join(response.get_data(as_text=True).split())
    assert response.status_code == 200 and "Amendment posted." in html
    [_, amendment] = _notes(db)
    assert (amendment.amends_id, amendment.audience, amendment.topic, amendment.author_id) == (
        original.id, "shared", "academic", counselor.id)
    # the original shows its amendment, and the amendment the note it corrects
    assert html.count("Tutoring is on Tuesdays.") == 2 and html.count("Correction: tutoring is on Wednesdays.") == 2
    assert f"Amended on {TODAY.day} {TODAY:%B %Y} by Casey Counselor:" in html
    assert "Amends the note of" in html and "The original note," in html
    assert html.index("Correction: tutoring is on Wednesdays.") < html.index(f'id="note-{original.uuid}"')
    assert f"/notes/{amendment.uuid}/amend" not in html  # an amendment is not amended; the original is, again
    assert db.session.scalar(
        sa.select(sa.func.count()).select_from(DisclosureEntry).where(DisclosureEntry.action == "note_written")) == 1
    # the reader sees both too
    logout(client)
    login(client, w.users["youth_worker"])
    read = client.get(f"/students/{w.student.uuid}/timeline").get_data(as_text=True)
    assert "Tutoring is on Tuesdays." in read and "Correction: tutoring is on Wednesdays." in read
    assert f"/notes/{original.uuid}/amend" not in read


def test_amending_without_javascript(client, db):
    w = build_notes_world(db, with_notes=False)
    worker = w.users["youth_worker"]
    original = _note(db, w.student, worker, "organization", "Met with the family on Monday.")
    login(client, worker)
    page = client.get(f"/notes/{original.uuid}/amend")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html and "Met with the family on Monday." in html
    assert "Only Northside Youth" in html
    empty = _amend(client, original, "  ")
    assert empty.status_code == 400 and "Write the note." in empty.get_data(as_text=True)
    too_long = _amend(client, original, "x" * 5001, HTMX)
    assert too_long.headers["HX-Retarget"] == f"#amend-{original.uuid}" and "this one has 5,001" in too_long.get_data(as_text=True)
    response = _amend(client, original, "It was Tuesday.")
    assert response.status_code == 302 and response.headers["Location"] == f"/students/{w.student.uuid}#timeline"
    assert "Amendment posted." in client.get(response.headers["Location"]).get_data(as_text=True)
    [_, amendment] = _notes(db)
    assert (amendment.audience, amendment.organization_id) == ("organization", worker.organization_id)


@pytest.mark.parametrize("who", ["principal", "district_admin", "teacher", "youth_worker", "parent"])
def test_only_the_author_amends_a_note(client, db, who):
    w = build_notes_world(db, with_notes=False)
    original = _note(db, w.student, w.users["counselor"], "family", "Shared with the family.")
    login(client, w.users[who])
    assert client.get(f"/notes/{original.uuid}/amend").status_code == 404
    assert _amend(client, original, "Forged correction").status_code == 404
    assert _amend(client, original, "Forged correction", HTMX).status_code == 404
    assert len(_notes(db)) == 1
    assert f"/notes/{original.uuid}/amend" not in client.get(f"/students/{w.student.uuid}/timeline").get_data(as_text=True)


def test_an_amendment_is_not_amended_and_unknown_notes_are_404(client, db):
    w = build_notes_world(db, with_notes=False)
    counselor = w.users["counselor"]
    original = _note(db, w.student, counselor, "shared", "First")
    amendment = _note(db, w.student, counselor, "shared", "Second", amends_id=original.id)
    login(client, counselor)
    assert client.get(f"/notes/{amendment.uuid}/amend").status_code == 404
    assert _amend(client, amendment, "Third").status_code == 404
    assert client.get("/notes/6f1c1d7e-3a4b-4c5d-8e9f-0a1b2c3d4e5f/amend").status_code == 404
    assert _amend(client, original, "Third").status_code == 302
    assert [n.amends_id for n in _notes(db)] == [None, original.id, original.id]


def test_an_amendment_with_another_audience_is_never_shown_beside_the_original(client, db):
    """Rows the service would not write (an amendment whose audience differs) are shown
    only as what they are, each under its own audience."""
    w = build_notes_world(db, with_notes=False)
    counselor = w.users["counselor"]
    original = _note(db, w.student, counselor, "shared", "SHARED-ORIGINAL")
    _note(db, w.student, counselor, "restricted", "RESTRICTED-AMENDMENT", amends_id=original.id)
    login(client, w.users["youth_worker"])
    html = client.get(f"/students/{w.student.uuid}/timeline").get_data(as_text=True)
    assert "SHARED-ORIGINAL" in html and "RESTRICTED-AMENDMENT" not in html
    assert "A restricted amendment by a counselor on" in html


# --- the timeline ---------------------------------------------------------------------------------


def test_notes_and_flags_share_the_timeline_newest_first_and_paginated(client, db):
    w = build_notes_world(db, with_notes=False)
    counselor = w.users["counselor"]
    now = datetime.now(timezone.utc)
    for age in range(12):
        _note(db, w.student, counselor, "shared", f"NOTE{age:02d}", created_at=now - timedelta(days=age * 2 + 1))
    create_flag(w.student, counselor, "tutoring", details="FLAGGED", created_at=now - timedelta(days=4))
    login(client, counselor)
    first = client.get(f"/students/{w.student.uuid}/timeline").get_data(as_text=True)
    order = ["NOTE00", "NOTE01", "FLAGGED", "NOTE02", "NOTE03", "NOTE04", "NOTE05", "NOTE06", "NOTE07", "NOTE08"]
    positions = [first.index(marker) for marker in order]
    assert positions == sorted(positions) and "NOTE09" not in first
    assert "Notes, flags, support plans and referrals, newest first." in first
    second = client.get(f"/students/{w.student.uuid}/timeline?page=2", headers=HTMX).get_data(as_text=True)
    assert "NOTE09" in second and "NOTE11" in second and "NOTE08" not in second
    assert 'id="note-form"' not in second  # the form is on the first page


def _add_casework(db, w, how_many, since):
    """A flag, and notes of every audience by both authors (every third one amended),
    interleaved in time after `since`, newest last."""
    counselor, worker = w.users["counselor"], w.users["youth_worker"]
    for n in range(how_many):
        author = counselor if n % 2 else worker
        audience = ("shared", "restricted", "family", "organization")[n % 4] if author is counselor else "shared"
        at = since + timedelta(minutes=10 * n)
        original = _note(db, w.student, author, audience, f"N{n}", created_at=at)
        if n % 3 == 0:
            _note(db, w.student, author, audience, f"A{n}", amends_id=original.id, created_at=at + timedelta(minutes=1))
    create_flag(w.student, counselor, created_at=since + timedelta(minutes=10 * how_many))


def test_the_timeline_query_count_does_not_grow_with_the_notes(app, client, db):
    w = build_notes_world(db, with_notes=False)
    path = f"/students/{w.student.uuid}/timeline"
    now = datetime.now(timezone.utc)
    counts = {}

    def count(*args, **kwargs):
        counts[key] += 1

    # each first page holds a flag, readable notes, amendments and restricted notes
    for size, how_many, since in (("few", 4, now - timedelta(days=2)), ("many", 60, now - timedelta(days=1))):
        _add_casework(db, w, how_many, since)
        for who in ("counselor", "teacher", "youth_worker"):
            login(client, w.users[who])
            key = (who, size)
            counts[key] = 0
            sa.event.listen(db.engine, "before_cursor_execute", count)
            try:
                assert client.get(path).status_code == 200
            finally:
                sa.event.remove(db.engine, "before_cursor_execute", count)
            logout(client)
    for who in ("counselor", "teacher", "youth_worker"):
        assert counts[(who, "few")] == counts[(who, "many")], counts


def test_reading_the_timeline_logs_the_notes_it_shows(client, db):
    w = build_notes_world(db)
    login(client, w.users["youth_worker"])
    client.get(f"/students/{w.student.uuid}/timeline")
    [entry] = db.session.scalars(sa.select(DisclosureEntry).where(DisclosureEntry.student_id == w.student.id)).all()
    assert entry.allowed and entry.action == "view" and entry.categories == ["notes"]
    assert entry.basis["notes"].startswith("consent:")
