"""Requests for consent (issue 14, item 4): a partner's staff member who sees a student's
name only asks the school to request the family's consent; the school's counselors and
principal see the open request and mark it handled."""
from __future__ import annotations

import html
from datetime import timedelta

import sqlalchemy as sa

from casemgr import policy
from casemgr.clock import today
from casemgr.models import ConsentAsk, DisclosureEntry, Student
from casemgr.models.enums import Role
from casemgr.reads import consent_asks as reads
from casemgr.services import consent_asks as service
from casemgr.services.disclosure import CONSENT_ASK_HANDLED, CONSENT_ASKED
from tests.factories import (
    add_to_roster,
    create_agreement,
    create_consent,
    create_district,
    create_partner,
    create_school,
    create_student,
    create_user,
)
from tests.helpers import csrf_token, login, logout

TODAY = today()
LONG_AGO = TODAY - timedelta(days=200)
LATER = TODAY + timedelta(days=200)
COMPLIANT = dict(confidentiality_signed_on=LONG_AGO, ferpa_trained_on=LONG_AGO)


class World:
    def __init__(self):
        self.district = create_district("Riverside Schools")
        self.school = create_school(self.district, "high", "Riverside High")
        self.other_school = create_school(self.district, "middle", "Riverside Middle")
        self.partner = create_partner("Northside Youth")
        self.other_partner = create_partner("Eastside Tutoring")
        for partner in (self.partner, self.other_partner):
            create_agreement(partner, self.district, categories=["identity", "attendance", "notes"],
                             starts_on=LONG_AGO, ends_on=LATER)
        self.worker = create_user(Role.YOUTH_WORKER, self.partner, full_name="Ana Mentor", **COMPLIANT)
        self.other_worker = create_user(Role.YOUTH_WORKER, self.other_partner, **COMPLIANT)
        self.counselor = create_user(Role.COUNSELOR, self.school, full_name="Carla Counselor")
        self.principal = create_user(Role.PRINCIPAL, self.school)
        self.other_counselor = create_user(Role.COUNSELOR, self.other_school)
        self.teacher = create_user(Role.TEACHER, self.school)
        self.student = create_student(self.school, first_name="Nia", last_name="Noconsent")
        add_to_roster(self.student, self.partner, added_on=LONG_AGO)

    def access(self, user, student=None):
        return policy.student_access(user, student or self.student, TODAY)


def _post(client, path, data=None):
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, "/")})


def _asks(db, *where) -> list[ConsentAsk]:
    return list(db.session.scalars(sa.select(ConsentAsk).where(*where)))


# --- the service ----------------------------------------------------------------------


def test_a_worker_asks_once_and_a_second_request_is_refused_while_open(db):
    w = World()
    ask = service.ask_for_consent(w.access(w.worker))
    assert ask.categories == ["identity", "attendance", "notes"] and ask.handled_at is None
    logged = db.session.scalar(sa.select(DisclosureEntry).where(DisclosureEntry.user_id == w.worker.id))
    assert logged.student_id == w.student.id and logged.reason.startswith(CONSENT_ASKED) and logged.categories == []
    try:
        service.ask_for_consent(w.access(w.worker))
    except service.ConsentAskError as error:
        assert str(error) == service.ALREADY_OPEN
    else:
        raise AssertionError("a second open request was accepted")
    # another organization's request about the same student is its own
    add_to_roster(w.student, w.other_partner, added_on=LONG_AGO)
    service.ask_for_consent(w.access(w.other_worker))
    assert len(_asks(db)) == 2


def test_a_worker_asks_only_for_what_a_consent_could_open(db):
    w = World()
    create_consent(w.student, w.partner, ["identity", "attendance"], signed_on=LONG_AGO, expires_on=LATER)
    assert service.ask_for_consent(w.access(w.worker)).categories == ["notes"]


def test_nothing_to_ask_when_everything_the_agreement_allows_is_consented(db):
    w = World()
    create_consent(w.student, w.partner, ["identity", "attendance", "notes"], signed_on=LONG_AGO, expires_on=LATER)
    access = w.access(w.worker)
    assert not policy.may_ask_for_consent(access) and reads.consent_panel(access) is not None
    try:
        service.ask_for_consent(access)
    except service.ConsentAskError as error:
        assert str(error) == service.NOTHING_TO_ASK
    else:
        raise AssertionError("a request without anything to ask was accepted")
    assert _asks(db) == []


def test_the_counselor_and_principal_see_the_open_request_and_others_do_not(db):
    w = World()
    service.ask_for_consent(w.access(w.worker))
    for reader in (w.counselor, w.principal):
        listed = reads.open_for_school(reader)
        assert [(item.student.id, item.organization, item.asked_by) for item in listed] == [
            (w.student.id, "Northside Youth", "Ana Mentor")]
    assert reads.open_count_for_school(w.counselor) == reads.open_count_for_school(w.principal) == 1
    for outsider in (w.other_counselor, w.teacher, w.worker, w.other_worker):
        assert reads.open_for_school(outsider) == [] and reads.open_count_for_school(outsider) == 0


def test_the_counselor_marks_the_request_handled_and_the_worker_may_ask_again(db):
    w = World()
    ask = service.ask_for_consent(w.access(w.worker))
    service.mark_handled(ask, w.student, w.counselor, "Called the mother; release form sent home")
    assert ask.handled_by_id == w.counselor.id and ask.handled_note.startswith("Called")
    assert reads.open_for_school(w.counselor) == []
    entry = db.session.scalar(sa.select(DisclosureEntry).where(DisclosureEntry.user_id == w.counselor.id))
    assert entry.reason.startswith(CONSENT_ASK_HANDLED)
    try:
        service.mark_handled(ask, w.student, w.principal)
    except service.ConsentAskError as error:
        assert str(error) == service.ALREADY_HANDLED
    else:
        raise AssertionError("a request was handled twice")
    assert service.ask_for_consent(w.access(w.worker)).handled_at is None


# --- the pages ---------------------------------------------------------------------------


def test_the_worker_sees_one_panel_and_asks_from_the_student_page(client, db):
    w = World()
    login(client, w.worker)
    page = client.get(f"/students/{w.student.uuid}").get_data(as_text=True)
    assert page.count('id="consent-panel"') == 1 and "<strong>Hidden.</strong>" not in page
    assert "Reload" not in page
    assert "Consent for Northside Youth: " in page and "No consent" in page
    assert "To see basic details (name, school, grade), attendance, and notes, Northside Youth needs an active consent from a parent." in page
    assert "does not include grades and credits" in page  # not in the agreement: said, not asked for
    response = _post(client, f"/students/{w.student.uuid}/consent-asks")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The school has been asked to request a consent from the family of Nia Noconsent." in page
    assert "The request is open" in page and "Ask the school to request consent" not in page
    # a second click (another tab): a clear message, nothing written
    _post(client, f"/students/{w.student.uuid}/consent-asks")
    assert service.ALREADY_OPEN in client.get(f"/students/{w.student.uuid}").get_data(as_text=True)
    assert len(_asks(db)) == 1


def test_a_worker_of_another_organization_or_about_a_student_off_the_roster_is_refused(client, db):
    w = World()
    off_roster = create_student(w.school, first_name="Otto", last_name="Offroster")
    login(client, w.other_worker)
    assert _post(client, f"/students/{w.student.uuid}/consent-asks").status_code == 404
    logout(client)
    login(client, w.worker)
    assert _post(client, f"/students/{off_roster.uuid}/consent-asks").status_code == 404
    logout(client)
    login(client, w.counselor)  # school staff see the record; they have nothing to ask
    assert _post(client, f"/students/{w.student.uuid}/consent-asks").status_code == 404
    assert _asks(db) == []


def test_the_counselor_sees_the_request_on_notices_and_the_student_page_and_marks_it_handled(client, db):
    w = World()
    ask = service.ask_for_consent(w.access(w.worker))
    db.session.flush()
    login(client, w.counselor)
    notices = client.get("/notices").get_data(as_text=True)
    assert "Requests for consent (1)" in notices and "Northside Youth" in notices and "Nia Noconsent" in notices
    assert "Asked by Ana Mentor" in notices
    page = client.get(f"/students/{w.student.uuid}").get_data(as_text=True)
    assert "Requests for consent (1)" in page
    # a note too long: a clear message, nothing written
    response = _post(client, f"/consent-asks/{ask.uuid}/handled?back=student", {"note": "x" * 501})
    assert response.status_code == 302 and f"/students/{w.student.uuid}" in response.headers["Location"]
    assert "Keep the note to 500 characters" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert _asks(db, ConsentAsk.handled_at.is_not(None)) == []
    response = _post(client, f"/consent-asks/{ask.uuid}/handled", {"note": "Release form printed"})
    assert response.status_code == 302 and "/notices" in response.headers["Location"]
    assert "is marked handled" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Requests for consent" not in client.get("/notices").get_data(as_text=True)
    assert _asks(db, ConsentAsk.handled_at.is_not(None))[0].handled_note == "Release form printed"


def test_a_counselor_of_another_school_cannot_mark_it_handled(client, db):
    w = World()
    ask = service.ask_for_consent(w.access(w.worker))
    db.session.flush()
    login(client, w.other_counselor)
    assert "Requests for consent" not in client.get("/notices").get_data(as_text=True)
    assert _post(client, f"/consent-asks/{ask.uuid}/handled").status_code == 404
    assert db.session.get(ConsentAsk, ask.id).handled_at is None
    assert db.session.get(Student, w.student.id) is not None


def test_the_family_reads_the_request_in_its_log(client, db):
    from tests.factories import create_guardian
    w = World()
    ask = service.ask_for_consent(w.access(w.worker))
    service.mark_handled(ask, w.student, w.counselor)
    parent = create_user(Role.PARENT, w.district)
    create_guardian(w.student, user=parent)
    db.session.flush()
    login(client, parent)
    log = html.unescape(client.get(f"/family/children/{w.student.uuid}/log").get_data(as_text=True))
    assert "Northside Youth asked the school on" in log and "to ask you for a consent" in log
    assert "The school answered a program's request for your consent on" in log
