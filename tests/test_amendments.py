"""Requests to amend a record (issue 6 item 7; FERPA 34 CFR 99.20): a parent (before the
student is eligible) or the student asks; the principal and counselors of the student's
school answer; district admins read; the family reads the answer in its language. The
request and the decision are kept, never edited, and every look by staff is logged."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from casemgr.clock import today
from casemgr.models import AmendmentRequest, AmendmentRequestEvent, DisclosureEntry
from casemgr.models.amendments import AMENDMENT_MESSAGE_MAX
from casemgr.models.enums import Role
from tests.factories import (
    create_district,
    create_guardian,
    create_partner,
    create_school,
    create_student,
    create_user,
)
from tests.helpers import csrf_token, login, logout

TODAY = today()


@pytest.fixture()
def world(db):
    district = create_district("Riverside Schools")
    high = create_school(district, "high", "Riverside High")
    other_school = create_school(district, "high", "Lakeside High")
    minor = create_student(high, first_name="Lucia", last_name="Ortega", birth_date=date(TODAY.year - 15, 4, 2))
    adult = create_student(high, first_name="Marco", last_name="Diaz", birth_date=date(TODAY.year - 19, 1, 9), grade=12)
    stranger = create_student(high, first_name="Zed", last_name="Stranger")
    elsewhere = create_student(other_school, first_name="Ana", last_name="Lakes")
    parent = create_user(Role.PARENT, district, full_name="Rosa Ortega", locale="es")
    create_guardian(minor, user=parent)
    create_guardian(adult, user=parent)
    other_parent = create_user(Role.PARENT, district)
    create_guardian(stranger, user=other_parent)
    partner = create_partner("Northside Youth")
    return dict(
        minor=minor, adult=adult, stranger=stranger, elsewhere=elsewhere, parent=parent, other_parent=other_parent,
        student=create_user(Role.STUDENT, student=adult), counselor=create_user(Role.COUNSELOR, high, full_name="Dana Park"),
        principal=create_user(Role.PRINCIPAL, high), admin=create_user(Role.DISTRICT_ADMIN, district),
        other_counselor=create_user(Role.COUNSELOR, other_school), teacher=create_user(Role.TEACHER, high),
        worker=create_user(Role.YOUTH_WORKER, partner, confidentiality_signed_on=TODAY, ferpa_trained_on=TODAY),
    )


def as_user(client, user):
    if client.get("/login").status_code == 302:  # someone is signed in
        logout(client)
    login(client, user)


def new_url(student):
    return f"/family/children/{student.uuid}/amendments/new"


def ask(client, student, part="attendance", item="3 March", message="I was at school that day."):
    token = csrf_token(client, "/")
    return client.post(new_url(student), data={"part": part, "item": item, "message": message, "csrf_token": token})


def requests(db):
    return db.session.scalars(sa.select(AmendmentRequest).order_by(AmendmentRequest.id)).all()


def answer(client, request, decision, text):
    token = csrf_token(client, "/")
    return client.post(f"/amendments/{request.uuid}", data={"decision": decision, "answer": text, "csrf_token": token})


def test_a_parent_asks_for_a_correction_and_sees_it_waiting(client, db, world):
    as_user(client, world["parent"])
    assert client.get(new_url(world["minor"]), headers={"Accept-Language": "en"}).status_code == 200
    response = ask(client, world["minor"], item="  3 March  ", message="My daughter was at school\r\non 3 March.")
    assert response.status_code == 302 and response.headers["Location"].endswith("#amendments")
    (request,) = requests(db)
    assert (request.student_id, request.requested_by_id, request.part) == (world["minor"].id, world["parent"].id, "attendance")
    assert request.item == "3 March" and request.message == "My daughter was at school\non 3 March."
    html = client.get(f"/family/children/{world['minor'].uuid}").get_data(as_text=True)
    assert "Esperando la respuesta de la escuela" in html and "My daughter was at school" in html


def test_the_same_request_sent_twice_is_kept_once(client, db, world):
    """A double click on "Send" must not leave a twin request the school answers twice."""
    as_user(client, world["parent"])
    assert ask(client, world["minor"]).status_code == 302
    assert ask(client, world["minor"]).status_code == 302
    assert len(requests(db)) == 1
    assert ask(client, world["minor"], message="And on 4 March too.").status_code == 302
    assert len(requests(db)) == 2


def test_the_eligible_student_asks_for_themself(client, db, world):
    as_user(client, world["student"])
    assert ask(client, world["adult"], part="course_mark", item="Algebra II", message="My mark is a B.").status_code == 302
    (request,) = requests(db)
    assert request.requested_by_id == world["student"].id and request.part == "course_mark"


@pytest.mark.parametrize("who, child", [
    ("parent", "stranger"),  # another family's child
    ("parent", "adult"),  # the student is eligible: the parent no longer can
    ("other_parent", "minor"),
    ("student", "minor"),
    ("counselor", "minor"), ("teacher", "minor"), ("worker", "minor"), ("admin", "minor"),
])
def test_no_one_else_may_ask(client, db, world, who, child):
    as_user(client, world[who])
    assert client.get(new_url(world[child])).status_code == 404
    assert ask(client, world[child]).status_code == 404
    assert requests(db) == []


@pytest.mark.parametrize("data, message", [
    ({"part": "grades_forged"}, "Choose which part of the record is wrong."),
    ({"message": "   "}, "Write what is wrong and what it should say."),
    ({"message": "x" * (AMENDMENT_MESSAGE_MAX + 1)}, "Keep the message to 2000 characters or fewer"),
    ({"item": "y" * 201}, "Keep the item or date to 200 characters or fewer."),
])
def test_a_bad_request_is_refused_with_a_message_and_nothing_is_kept(client, db, world, data, message):
    as_user(client, world["student"])
    fields = {"part": "attendance", "item": "", "message": "It is wrong.", **data}
    response = ask(client, world["adult"], **fields)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert requests(db) == []


def test_html_in_a_request_is_kept_as_text_and_never_reaches_a_page_as_html(client, db, world):
    as_user(client, world["parent"])
    attack = '<script>alert(1)</script><img src=x onerror="alert(2)">\x00\x07'
    assert ask(client, world["minor"], item="<b>bold</b>", message=attack).status_code == 302
    (request,) = requests(db)
    assert request.message == '<script>alert(1)</script><img src=x onerror="alert(2)">'  # control characters gone
    family_page = client.get(f"/family/children/{world['minor'].uuid}").get_data(as_text=True)
    as_user(client, world["counselor"])
    pages = [family_page, client.get(f"/amendments/{request.uuid}").get_data(as_text=True),
             client.get("/amendments").get_data(as_text=True),
             client.get(f"/students/{world['minor'].uuid}").get_data(as_text=True)]
    for html in pages:
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[0] and "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[1]


def test_the_school_lists_open_requests_with_a_count_and_on_the_student_page(client, db, world):
    as_user(client, world["parent"])
    ask(client, world["minor"], message="Wrong day.")
    as_user(client, world["student"])
    ask(client, world["adult"], part="fafsa", message="I submitted it.")
    for who in ("counselor", "principal", "admin"):
        as_user(client, world[who])
        home = client.get("/").get_data(as_text=True)
        assert '<span class="nav-count">2<span class="visually-hidden"> open</span>' in home, who
        listing = client.get("/amendments").get_data(as_text=True)
        assert "Lucia Ortega" in listing and "Marco Diaz" in listing and "Open (2)" in listing
        student_page = client.get(f"/students/{world['minor'].uuid}").get_data(as_text=True)
        assert "Amendment requests" in student_page and "/amendments/" in student_page
    as_user(client, world["other_counselor"])
    assert "Lucia Ortega" not in client.get("/amendments").get_data(as_text=True)
    assert "nav-count" not in client.get("/").get_data(as_text=True)


def test_listing_and_reading_a_request_are_logged_reads_of_the_record(client, db, world):
    as_user(client, world["parent"])
    ask(client, world["minor"], part="discipline", message="That incident was not him.")
    (request,) = requests(db)
    as_user(client, world["counselor"])

    def entries():
        return db.session.scalars(sa.select(DisclosureEntry).where(
            DisclosureEntry.user_id == world["counselor"].id, DisclosureEntry.student_id == world["minor"].id)).all()

    client.get("/amendments")
    client.get(f"/amendments/{request.uuid}")
    listed, read = entries()
    for entry in (listed, read):
        assert entry.allowed and entry.categories == ["behavior", "identity"]
        assert set(entry.basis.values()) == {"school_official"}


@pytest.mark.parametrize("who", ["other_counselor", "teacher", "worker", "parent", "other_parent"])
def test_staff_of_another_school_and_everyone_else_neither_see_nor_answer(client, db, world, who):
    as_user(client, world["parent"])
    ask(client, world["minor"])
    (request,) = requests(db)
    as_user(client, world[who])
    assert client.get(f"/amendments/{request.uuid}").status_code == 404
    assert answer(client, request, "accepted", "Forged: corrected").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AmendmentRequestEvent)) == 0
    listing = client.get("/amendments")
    assert listing.status_code == (200 if who == "other_counselor" else 403)
    assert "Lucia" not in listing.get_data(as_text=True)


def test_a_district_admin_reads_but_cannot_answer(client, db, world):
    as_user(client, world["parent"])
    ask(client, world["minor"])
    (request,) = requests(db)
    as_user(client, world["admin"])
    page = client.get(f"/amendments/{request.uuid}")
    assert page.status_code == 200 and "Record the answer" not in page.get_data(as_text=True)
    assert answer(client, request, "denied", "Forged").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AmendmentRequestEvent)) == 0


def test_an_accepted_request_is_shown_to_the_family_in_spanish(client, db, world):
    as_user(client, world["parent"])
    ask(client, world["minor"])
    (request,) = requests(db)
    as_user(client, world["counselor"])
    response = answer(client, request, "accepted", "We corrected 3 March to present.")
    assert response.status_code == 302
    event = db.session.scalars(sa.select(AmendmentRequestEvent)).one()
    assert (event.decision, event.decided_by_id, event.answer) == ("accepted", world["counselor"].id,
                                                                   "We corrected 3 March to present.")
    assert event.created_at is not None
    staff_page = client.get(f"/amendments/{request.uuid}").get_data(as_text=True)
    assert "Accepted</strong> by Dana Park" in staff_page and "Record the answer" not in staff_page
    as_user(client, world["parent"])  # the parent reads Spanish
    html = client.get(f"/family/children/{world['minor'].uuid}").get_data(as_text=True)
    assert "Aceptada: la escuela corregirá el expediente" in html
    assert "We corrected 3 March to present." in html and "Dana Park" in html


def test_a_denied_request_tells_the_family_why_and_of_their_right_to_a_hearing(client, db, world):
    as_user(client, world["parent"])
    ask(client, world["minor"])
    (request,) = requests(db)
    as_user(client, world["principal"])
    assert answer(client, request, "denied", "   ").status_code == 400  # an explanation is needed
    assert answer(client, request, "maybe", "Forged decision").status_code == 400
    assert answer(client, request, "denied", "The teacher's register shows an absence.").status_code == 302
    assert answer(client, request, "accepted", "Changed my mind").status_code == 400  # answered once
    assert [e.decision for e in db.session.scalars(sa.select(AmendmentRequestEvent))] == ["denied"]
    as_user(client, world["parent"])
    html = client.get(f"/family/children/{world['minor'].uuid}").get_data(as_text=True)
    assert "No aceptada: el expediente queda como está" in html
    assert "The teacher&#39;s register shows an absence." in html
    assert "derecho a pedir una audiencia" in html and "declaración" in html


def test_requests_and_decisions_are_never_edited(db, world):
    request = AmendmentRequest(student_id=world["minor"].id, requested_by_id=world["parent"].id, part="other",
                               message="Wrong address.")
    db.session.add(request)
    db.session.flush()
    db.session.add(AmendmentRequestEvent(request_id=request.id, decision="accepted", answer="Fixed.",
                                         decided_by_id=world["counselor"].id))
    db.session.flush()
    for table in ("amendment_requests", "amendment_request_events"):
        for statement in (f"UPDATE {table} SET created_at = now()", f"DELETE FROM {table}"):
            with pytest.raises(DBAPIError, match=f"{table} is append-only"), db.session.begin_nested():
                db.session.execute(sa.text(statement))


def test_the_request_page_is_in_spanish_for_a_spanish_reader(client, db, world):
    as_user(client, world["parent"])
    html = client.get(new_url(world["minor"])).get_data(as_text=True)
    assert "Pedir a la escuela que corrija el expediente" in html and "Asistencia" in html
    response = ask(client, world["minor"], message="")
    assert "Escriba qué está mal" in response.get_data(as_text=True)


def test_the_list_filter_and_the_per_record_rule_agree(app, db, world):
    """`amendment_students` (lists, counts) selects exactly the students for whom
    `reads_amendments` holds, for every user of the world."""
    from casemgr import policy
    from casemgr.models import Student

    students = [world[name] for name in ("minor", "adult", "stranger", "elsewhere")]
    for who in ("counselor", "principal", "admin", "other_counselor", "teacher", "worker", "parent", "student"):
        user = world[who]
        listed = set(db.session.scalars(sa.select(Student.id).where(
            policy.amendment_students(user), Student.id.in_([s.id for s in students]))))
        one_by_one = set()
        for student in students:
            access = policy.student_access(user, student)
            if access is not None and policy.reads_amendments(access):
                one_by_one.add(student.id)
        assert listed == one_by_one, who
        assert bool(listed) == (who in ("counselor", "principal", "admin", "other_counselor")), who
