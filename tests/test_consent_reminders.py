"""Reminders of consents that end within 30 days (issue 6 item 6): on the partner homes
(the roster's students whose consent for the organization ends soon) and on the family
home (each child's consents ending soon, in the family's language)."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from casemgr.clock import today
from casemgr.models import ConsentRevocation, DisclosureEntry
from casemgr.models.enums import Role
from casemgr.services.disclosure import NAME_ONLY
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
from tests.helpers import login, logout
from tests.test_translations import untranslated

TODAY = today()
LONG_AGO = TODAY - timedelta(days=200)
LATER = TODAY + timedelta(days=200)
COMPLIANT = dict(confidentiality_signed_on=LONG_AGO, ferpa_trained_on=LONG_AGO)


def _longdate(day) -> str:
    return f"{day.day} {day:%B %Y}"


class World:
    """Northside's roster holds a student at each edge of the 30 days, and students whose
    consent is expired, revoked, renewed or for another organization only."""

    def __init__(self, db):
        self.district = create_district("Riverside Schools")
        self.school = create_school(self.district, "high", "Riverside High")
        self.northside = create_partner("Northside Youth")
        self.eastside = create_partner("Eastside Tutoring")
        for partner in (self.northside, self.eastside):
            create_agreement(partner, self.district, categories=["identity", "attendance", "notes"],
                             starts_on=LONG_AGO, ends_on=LATER)
        self.worker = create_user(Role.YOUTH_WORKER, self.northside, full_name="Ana Mentor", **COMPLIANT)
        self.admin = create_user(Role.PARTNER_ADMIN, self.northside, full_name="Jordan Director", **COMPLIANT)
        self.eastside_worker = create_user(Role.YOUTH_WORKER, self.eastside, **COMPLIANT)
        self.lapsed = create_user(Role.YOUTH_WORKER, self.northside, confidentiality_signed_on=LONG_AGO,
                                  ferpa_trained_on=TODAY - timedelta(days=400))
        self.at30 = self.student("Thirty", "Days", expires_on=TODAY + timedelta(days=30))
        self.at31 = self.student("Thirtyone", "Days", expires_on=TODAY + timedelta(days=31))
        self.ends_today = self.student("Endsto", "Day", expires_on=TODAY)
        self.expired = self.student("Gone", "Expired", expires_on=TODAY - timedelta(days=1))
        self.revoked = self.student("Taken", "Back", expires_on=TODAY + timedelta(days=5))
        db.session.add(ConsentRevocation(consent_id=self.revoked_consent.id))
        self.renewed = self.student("Renewed", "Already", expires_on=TODAY + timedelta(days=5))
        create_consent(self.renewed, self.northside, ["identity"], signed_on=TODAY, expires_on=LATER)
        self.eastside_only = self.student("East", "Only", expires_on=None)
        add_to_roster(self.eastside_only, self.eastside, added_on=LONG_AGO)
        create_consent(self.eastside_only, self.eastside, ["identity"], signed_on=LONG_AGO,
                       expires_on=TODAY + timedelta(days=10))
        db.session.flush()

    def student(self, first, last, expires_on, **fields):
        student = create_student(self.school, first_name=first, last_name=last, **fields)
        add_to_roster(student, self.northside, added_on=LONG_AGO)
        if expires_on is not None:
            self.revoked_consent = create_consent(student, self.northside, ["identity", "attendance"],
                                                  signed_on=LONG_AGO, expires_on=expires_on)
        return student


def reminder(html: str) -> str:
    """The reminder block of a partner home, or "" when there is none."""
    if 'id="expiring-consents"' not in html:
        return ""
    block = html.split('id="expiring-consents"')[1]
    return block[:block.index("</section>")]


@pytest.mark.parametrize("who", ["worker", "admin"])
def test_the_partner_home_reminds_of_consents_ending_within_30_days(client, db, who):
    w = World(db)
    login(client, getattr(w, who))
    block = reminder(client.get("/").get_data(as_text=True))
    assert "2 students' consents for Northside Youth end within 30 days." in block
    assert "Thirty Days" in block and f"consent ends {_longdate(TODAY + timedelta(days=30))} (in 30 days)" in block
    assert "Endsto Day" in block and "(today)" in block
    # soonest first
    assert block.index("Endsto Day") < block.index("Thirty Days")
    for absent in ("Thirtyone", "Gone Expired", "Taken Back", "Renewed Already", "East Only"):
        assert absent not in block, absent


def test_another_organizations_worker_sees_only_its_own_consents(client, db):
    w = World(db)
    login(client, w.eastside_worker)
    block = reminder(client.get("/").get_data(as_text=True))
    assert "1 student's consent for Eastside Tutoring ends within 30 days." in block
    assert "East Only" in block and "(in 10 days)" in block
    assert "Thirty Days" not in block and "Endsto" not in block


def test_a_worker_out_of_compliance_sees_no_reminder(client, db):
    w = World(db)
    login(client, w.lapsed)
    html = client.get("/").get_data(as_text=True)
    assert reminder(html) == "" and "Thirty" not in html and "Endsto" not in html


def test_the_names_in_the_reminder_are_logged_on_their_consent(client, db):
    w = World(db)
    login(client, w.worker)
    client.get("/?consent=missing")  # the roster shows no consented name: only the reminder does
    logged = db.session.scalars(sa.select(DisclosureEntry).where(DisclosureEntry.user_id == w.worker.id)).all()
    consented = [e for e in logged if e.categories]
    assert {e.student_id for e in consented} == {w.at30.id, w.ends_today.id}
    assert all(e.categories == ["identity"] and e.basis["identity"].startswith("consent:") for e in consented)
    # the names on the roster without consent are logged as the name only (issue 13: a name counts)
    names_only = [e for e in logged if not e.categories]
    assert names_only and all(e.reason == NAME_ONLY and e.student_id not in (w.at30.id, w.ends_today.id)
                              for e in names_only)


def test_the_reminder_lists_the_soonest_ten_and_counts_all_in_a_fixed_number_of_queries(client, db):
    w = World(db)
    login(client, w.worker)
    client.get("/")  # the first visit of the day is recorded on the worker (one statement more)
    counts = []

    def count(*args):
        counts[-1] += 1

    for more in (0, 11):
        for n in range(more):
            w.student(f"Extra{n:02d}", "Soon", expires_on=TODAY + timedelta(days=20))
        db.session.flush()
        counts.append(0)
        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            html = client.get("/").get_data(as_text=True)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
    block = reminder(html)
    assert "13 students' consents" in block and block.count("<li>") == 10
    assert "See all 13 on the roster" in block and "consent=expiring" in block
    assert counts[0] == counts[1], counts
    listed = client.get("/?consent=expiring").get_data(as_text=True)
    assert "Your roster (13)" in listed


# --- the family home ------------------------------------------------------------------------------


@pytest.fixture()
def family(db):
    w = World(db)
    parent = create_user(Role.PARENT, w.district, full_name="Rosa Ortega")
    child = create_student(w.school, first_name="Lucia", last_name="Ortega")
    create_guardian(child, user=parent)
    create_consent(child, w.northside, ["identity", "attendance"], signed_on=LONG_AGO,
                   expires_on=TODAY + timedelta(days=30))
    create_consent(child, w.eastside, ["notes"], signed_on=LONG_AGO, expires_on=TODAY + timedelta(days=31))
    create_consent(child, w.eastside, ["attendance"], signed_on=LONG_AGO, expires_on=TODAY - timedelta(days=1))
    stranger = create_student(w.school, first_name="Zed", last_name="Stranger")
    create_guardian(stranger)
    create_consent(stranger, w.eastside, ["grades"], signed_on=LONG_AGO, expires_on=TODAY + timedelta(days=3))
    db.session.flush()
    return dict(world=w, parent=parent, child=child, stranger=stranger)


def _card(html: str, name: str) -> str:
    start = html.index(name)
    return html[html.rindex("<article", 0, start):html.index("</article>", start)]


def test_the_family_home_reminds_of_the_childs_consent_ending_within_30_days(client, db, family):
    login(client, family["parent"])
    html = client.get("/").get_data(as_text=True)
    card = _card(html, "Lucia Ortega")
    day = TODAY + timedelta(days=30)
    assert (f"The consent for Northside Youth to see basic details (name, school, grade) and attendance ends on "
            f"{day:%B} {day.day}, {day.year}, in 30 days.") in card
    assert "Eastside Tutoring" not in card  # 31 days away, or expired
    renew = f'href="/family/children/{family["child"].uuid}/consents/new?organization={family["world"].northside.uuid}"'
    assert renew in card.split(">Renew it<")[0].rsplit("<a ", 1)[1]
    page = client.get(renew[6:-1]).get_data(as_text=True)
    assert "Give consent to Northside Youth" in page
    assert "Stranger" not in html and "grades" not in card


def test_the_family_home_reminder_is_in_the_familys_language(client, db, family):
    family["parent"].locale = "es"  # chosen with the switch, kept on the account
    db.session.flush()
    login(client, family["parent"])
    card = _card(client.get("/").get_data(as_text=True), "Lucia Ortega")
    assert "Un consentimiento vence pronto" in card
    assert ("El consentimiento para que Northside Youth vea los datos básicos (nombre, escuela, grado) y la "
            "asistencia") in card
    assert "en 30 días" in card and "vence el" in card and "Renovarlo" in card


def test_a_renewed_or_revoked_consent_is_no_longer_a_reminder(client, db, family):
    w = family["world"]
    create_consent(family["child"], w.northside, ["identity"], signed_on=TODAY, expires_on=LATER)
    db.session.flush()
    login(client, family["parent"])
    assert "ends on" not in _card(client.get("/").get_data(as_text=True), "Lucia Ortega")


def test_a_student_not_yet_eligible_is_told_a_parent_renews(client, db, family):
    login(client, create_user(Role.STUDENT, student=family["child"]))
    card = _card(client.get("/").get_data(as_text=True), "Lucia Ortega")
    assert "Northside Youth" in card and "A parent or guardian can renew the consent." in card
    assert "Renew it" not in card and "/consents/new" not in card


def test_the_family_home_with_reminders_is_all_in_spanish(client, db, family):
    login(client, family["parent"])
    assert not untranslated(client, "/")
    logout(client)
    login(client, create_user(Role.STUDENT, student=family["child"]))
    assert not untranslated(client, "/")
