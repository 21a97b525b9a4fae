"""One vocabulary of consent states (issue 14, item 5): the roster, the student page,
the consent history and the family's consents page word a consent the same way, from
`casemgr.words.consent_states`; and the roster's consent filter lives in the URL."""
from __future__ import annotations

import re
from datetime import date, timedelta

from casemgr.clock import start_of, today
from casemgr.models import ConsentRevocation
from casemgr.models.enums import Role
from tests.factories import (
    add_to_roster,
    create_agreement,
    create_consent,
    create_district,
    create_guardian,
    create_partner,
    create_school,
    create_student,
    create_user,
)
from tests.helpers import login

TODAY = today()
LONG_AGO = TODAY - timedelta(days=400)
LATER = TODAY + timedelta(days=200)
TRAINED = TODAY - timedelta(days=100)
COMPLIANT = dict(confidentiality_signed_on=TRAINED, ferpa_trained_on=TRAINED)


def _day(value) -> str:
    return f"{value.day} {value:%B %Y}"


class World:
    def __init__(self):
        self.district = create_district("Riverside Schools")
        self.school = create_school(self.district, "high", "Riverside High")
        self.partner = create_partner("Northside Youth")
        create_agreement(self.partner, self.district, categories=["identity", "attendance", "notes"],
                         starts_on=LONG_AGO, ends_on=LATER)
        self.worker = create_user(Role.YOUTH_WORKER, self.partner, full_name="Ana Mentor", **COMPLIANT)

    def student(self, first, last, **consent):
        student = create_student(self.school, first_name=first, last_name=last)
        add_to_roster(student, self.partner, added_on=LONG_AGO)
        if consent:
            create_consent(student, self.partner, ["identity", "attendance"], **consent)
        return student


def _row(html: str, name: str) -> str:
    start = html.index(name, html.index('id="roster"'))
    return html[html.rindex("<tr", 0, start):html.index("</tr>", start)]


def test_the_roster_says_expired_on_and_revoked_on_where_it_said_no_consent(client, db):
    w = World()
    ended = TODAY - timedelta(days=60)
    w.student("Eva", "Expired", signed_on=LONG_AGO, expires_on=ended)
    revoked = create_consent(w.student("Rex", "Revoked"), w.partner, ["identity"], signed_on=LONG_AGO,
                             expires_on=LATER)
    # midday on 6 October where the district is
    db.session.add(ConsentRevocation(consent_id=revoked.id, revoked_at=start_of(date(2026, 10, 6)) + timedelta(hours=12)))
    w.student("Nia", "Never")
    w.student("Ada", "Active", signed_on=LONG_AGO, expires_on=LATER)
    soon = TODAY + timedelta(days=10)
    w.student("Sol", "Soon", signed_on=LONG_AGO, expires_on=soon)
    db.session.flush()
    login(client, w.worker)
    html = client.get("/").get_data(as_text=True)
    assert f"Expired on {_day(ended)}" in _row(html, "Eva Expired")
    assert "Revoked on 6 October 2026" in _row(html, "Rex Revoked")
    assert "No consent" in _row(html, "Nia Never")
    assert f"Active until {_day(LATER)}" in _row(html, "Ada Active")
    assert f"Ending soon: {_day(soon)}" in _row(html, "Sol Soon")


def test_the_student_page_and_the_roster_use_the_same_words(client, db):
    w = World()
    ended = TODAY - timedelta(days=60)
    student = w.student("Eva", "Expired", signed_on=LONG_AGO, expires_on=ended)
    db.session.flush()
    login(client, w.worker)
    words = f"Expired on {_day(ended)}"
    assert words in _row(client.get("/").get_data(as_text=True), "Eva Expired")
    page = client.get(f"/students/{student.uuid}").get_data(as_text=True)
    assert words in page
    history = client.get(f"/students/{student.uuid}/consents").get_data(as_text=True)
    assert words in history


def test_the_family_reads_the_same_states_in_spanish(client, db):
    w = World()
    ended = TODAY - timedelta(days=60)
    student = w.student("Eva", "Expired", signed_on=LONG_AGO, expires_on=ended)
    parent = create_user(Role.PARENT, w.district, locale="es")
    create_guardian(student, user=parent)
    db.session.flush()
    login(client, parent)
    page = client.get(f"/family/children/{student.uuid}/consents").get_data(as_text=True)
    assert "Venció el" in page


def test_consent_words_in_english_and_spanish(app):
    from flask_babel import force_locale

    from casemgr.words.consent_states import ConsentState, consent_words
    day = TODAY.replace(month=10, day=6) if TODAY.month != 2 else TODAY
    with app.test_request_context():
        assert consent_words(ConsentState("missing")) == "No consent"
        assert consent_words(ConsentState("expired", day)) == f"Expired on {_day(day)}"
        with force_locale("es"):
            assert consent_words(ConsentState("missing")) == "Sin consentimiento"
            assert consent_words(ConsentState("revoked", day)).startswith("Revocado el ")


# --- the roster's consent filter is in the URL ------------------------------------------


def test_the_roster_filter_links_change_the_address_so_a_refresh_keeps_them(client, db):
    w = World()
    w.student("Nia", "Never")
    w.student("Ada", "Active", signed_on=LONG_AGO, expires_on=LATER)
    db.session.flush()
    login(client, w.worker)
    html = client.get("/").get_data(as_text=True)
    filters = html[html.index('class="filter-links"'):]
    filters = filters[:filters.index("</ul>")]
    links = re.findall(r"<a [^>]*>", filters)
    assert len(links) == 4
    for link in links:
        assert 'hx-push-url="true"' in link, link
    # what the address then says, loaded afresh (a refresh), is the filtered roster
    refreshed = client.get("/?consent=missing").get_data(as_text=True)
    assert "Nia Never" in refreshed and "Ada Active" not in refreshed
    assert 'href="/?consent=missing" hx-get="/?consent=missing"' in refreshed
    assert re.search(r'href="/\?consent=missing"[^>]*aria-current="true"', refreshed)


def test_the_roster_and_the_student_page_agree_for_every_state(client, db):
    """The roster reads the state in SQL (`partner_workspace.newest_consent`), the
    student page from the consents (`consent_states.standing`): the same words."""
    w = World()
    students = [
        w.student("Eva", "Expired", signed_on=LONG_AGO, expires_on=TODAY - timedelta(days=3)),
        w.student("Pia", "Pending", signed_on=TODAY + timedelta(days=5), expires_on=LATER),
        w.student("Nia", "Never"),
    ]
    renewed = w.student("Ren", "Renewed", signed_on=LONG_AGO, expires_on=TODAY - timedelta(days=90))
    create_consent(renewed, w.partner, ["identity"], signed_on=TODAY - timedelta(days=80), expires_on=LATER)
    revoked = w.student("Rex", "Revoked")
    older = create_consent(revoked, w.partner, ["identity"], signed_on=LONG_AGO, expires_on=TODAY - timedelta(days=9))
    newest = create_consent(revoked, w.partner, ["identity"], signed_on=TODAY - timedelta(days=8), expires_on=LATER)
    db.session.add(ConsentRevocation(consent_id=newest.id, revoked_at=start_of(date(2026, 11, 2)) + timedelta(hours=12)))
    assert older.id < newest.id
    db.session.flush()
    login(client, w.worker)
    roster = client.get("/").get_data(as_text=True)
    expected = {"Eva Expired": "Expired on ", "Pia Pending": "Starts on ", "Nia Never": "No consent",
                "Ren Renewed": "Active until ", "Rex Revoked": "Revoked on 2 November 2026"}
    for student in [*students, renewed, revoked]:
        words = re.search(r'<span class="state state--\w+">([^<]+)</span>', _row(roster, student.display_name))[1]
        assert words.startswith(expected[student.display_name]), (student.display_name, words)
        page = client.get(f"/students/{student.uuid}").get_data(as_text=True)
        assert f">{words}</span>" in page, (student.display_name, words)
