"""The printable release form (issue 6 item 5): pre-filled for one student and one
organization with an agreement in force, in English or Spanish; opened by the staff who
record paper consents and by the family member who signs, and by nobody else."""
from __future__ import annotations

from datetime import date, timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from casemgr.clock import today
from casemgr.models import DataSharingAgreement, DisclosureEntry
from casemgr.models.enums import Role
from tests.factories import (
    add_to_roster,
    create_agreement,
    create_consent,
    create_district,
    create_guardian,
    create_partner,
    create_school,
    create_school_year,
    create_student,
    create_user,
)
from tests.helpers import login, logout

TODAY = today()
YEAR_END = TODAY + timedelta(days=90)


@pytest.fixture()
def world(db):
    district = create_district("Riverside Schools")
    high = create_school(district, "high", "Riverside High")
    other_school = create_school(district, "high", "Lakeside High")
    create_school_year(district, TODAY.year, starts_on=TODAY - timedelta(days=100), ends_on=YEAR_END)
    northside = create_partner("Northside Youth")
    create_agreement(northside, district, categories=["identity", "attendance", "college"],
                     purpose="Mentoring and attendance support", starts_on=TODAY - timedelta(days=100),
                     ends_on=TODAY + timedelta(days=300))
    no_agreement = create_partner("Westside Arts")
    minor = create_student(high, first_name="Lucia", last_name="Ortega", birth_date=date(TODAY.year - 15, 4, 2))
    adult = create_student(high, first_name="Marco", last_name="Diaz", birth_date=date(TODAY.year - 19, 1, 9), grade=12)
    stranger = create_student(high, first_name="Zed", last_name="Stranger")
    parent = create_user(Role.PARENT, district, full_name="Rosa Ortega")
    create_guardian(minor, user=parent)
    create_guardian(adult, user=parent)  # the adult child holds their own rights now
    other_parent = create_user(Role.PARENT, district)
    create_guardian(stranger, user=other_parent)
    worker = create_user(Role.YOUTH_WORKER, northside, confidentiality_signed_on=TODAY - timedelta(days=30),
                         ferpa_trained_on=TODAY - timedelta(days=30))
    add_to_roster(minor, northside, added_on=TODAY - timedelta(days=30))
    create_consent(minor, northside, ["identity", "attendance"], signed_on=TODAY - timedelta(days=30),
                   expires_on=YEAR_END)
    teacher = create_user(Role.TEACHER, high)
    return dict(
        district=district, high=high, northside=northside, no_agreement=no_agreement, minor=minor, adult=adult,
        stranger=stranger, parent=parent, other_parent=other_parent, worker=worker, teacher=teacher,
        counselor=create_user(Role.COUNSELOR, high), principal=create_user(Role.PRINCIPAL, high),
        admin=create_user(Role.DISTRICT_ADMIN, district), other_counselor=create_user(Role.COUNSELOR, other_school),
        student=create_user(Role.STUDENT, student=adult), minor_student=create_user(Role.STUDENT, student=minor),
    )


def form_url(student, organization, lang=None):
    return f"/release-forms/{student.uuid}/{organization.uuid}" + (f"?lang={lang}" if lang else "")


@pytest.mark.parametrize("who, child, status", [
    ("counselor", "minor", 200), ("principal", "minor", 200), ("admin", "minor", 200),
    ("parent", "minor", 200), ("student", "adult", 200),
    ("parent", "adult", 404),  # the eligible student signs, not the parent
    ("minor_student", "minor", 404),  # a parent signs for a minor
    ("other_parent", "minor", 404), ("parent", "stranger", 404),
    ("worker", "minor", 404), ("teacher", "minor", 404), ("other_counselor", "minor", 404),
])
def test_who_may_open_the_form(client, db, world, who, child, status):
    login(client, world[who])
    response = client.get(form_url(world[child], world["northside"]))
    assert response.status_code == status, (who, child)
    if status == 404:
        assert "Lucia" not in response.get_data(as_text=True)


def test_an_organization_without_an_agreement_in_force_has_no_form(client, db, world):
    login(client, world["counselor"])
    assert client.get(form_url(world["minor"], world["no_agreement"])).status_code == 404
    assert client.get(f"/release-forms/{world['minor'].uuid}/{world['minor'].uuid}").status_code == 404


def test_the_form_is_pre_filled_for_the_student_and_the_organization(client, db, world):
    login(client, world["counselor"])
    html = client.get(form_url(world["minor"], world["northside"], "en")).get_data(as_text=True)
    assert "Consent to share education records" in html
    assert "Riverside Schools" in html and "Lucia Ortega" in html and "Riverside High" in html
    assert f'datetime="{world["minor"].birth_date.isoformat()}"' in html
    assert "Northside Youth" in html and "Mentoring and attendance support" in html
    # the categories the agreement allows, each with a tick box and a description, and no other
    assert html.count('class="tickbox"') == 3
    assert "Basic details (name, school, grade)" in html and "present, absent or late" in html
    assert "College and FAFSA" in html and "Test scores" not in html
    assert f'datetime="{YEAR_END.isoformat()}"' in html
    assert "voluntary" in html and "revoke this consent at any time" in html
    assert "in writing to the school or in the family portal" in html and "re-disclose" in html
    assert "A parent or guardian with educational rights signs." in html
    assert "Signature" in html and "Relationship to the student" in html and ">Date<" in html


def test_the_eligible_student_signs_their_own_form(client, db, world):
    login(client, world["student"])
    html = client.get(form_url(world["adult"], world["northside"])).get_data(as_text=True)
    assert "Marco Diaz" in html and "so the student signs" in html


def test_staff_can_print_the_spanish_form_and_the_page_around_it_stays_english(client, db, world):
    login(client, world["counselor"])
    html = client.get(form_url(world["minor"], world["northside"], "es")).get_data(as_text=True)
    assert '<html lang="en">' in html and '<article class="release-form" lang="es">' in html
    assert "Consentimiento para compartir expedientes educativos" in html
    assert "voluntario" in html and "Firma" in html and "Fecha de nacimiento" in html
    assert "Consent to share education records" not in html
    assert "Back to the consents" in html  # the page around it is the reader's
    assert 'hreflang="en"' in html  # and offers the other language


def test_a_parent_reading_spanish_gets_the_spanish_form_and_may_choose_english(client, db, world):
    login(client, world["parent"])
    spanish = client.get(form_url(world["minor"], world["northside"]), headers={"Accept-Language": "es"})
    assert "Consentimiento para compartir expedientes educativos" in spanish.get_data(as_text=True)
    english = client.get(form_url(world["minor"], world["northside"], "en"), headers={"Accept-Language": "es"})
    html = english.get_data(as_text=True)
    assert '<html lang="es">' in html and "Consent to share education records" in html
    assert "Volver al expediente escolar" in html
    nonsense = client.get(form_url(world["minor"], world["northside"], "xx"), headers={"Accept-Language": "es"})
    assert nonsense.status_code == 200 and "Consentimiento" in nonsense.get_data(as_text=True)


def test_opening_the_form_is_logged_as_a_read_of_identity(client, db, world):
    login(client, world["counselor"])
    client.get(form_url(world["minor"], world["northside"]))
    entry = db.session.scalars(sa.select(DisclosureEntry).where(
        DisclosureEntry.student_id == world["minor"].id, DisclosureEntry.user_id == world["counselor"].id)).one()
    assert entry.allowed and entry.categories == ["identity"] and entry.basis == {"identity": "school_official"}


def test_staff_find_the_form_per_organization_on_the_consent_pages(client, db, world):
    login(client, world["counselor"])
    history = client.get(f"/students/{world['minor'].uuid}/consents").get_data(as_text=True)
    assert form_url(world["minor"], world["northside"], "es") in history.replace("&amp;", "&")
    assert form_url(world["minor"], world["no_agreement"]) not in history
    paper = client.get(f"/students/{world['minor'].uuid}/consents/new").get_data(as_text=True)
    assert "release forms to print" in paper


def test_the_family_finds_the_form_on_the_childs_page(client, db, world):
    login(client, world["parent"])
    html = client.get(f"/family/children/{world['minor'].uuid}").get_data(as_text=True)
    assert form_url(world["minor"], world["northside"], "es") in html.replace("&amp;", "&")
    logout(client)
    login(client, world["minor_student"])
    html = client.get(f"/family/children/{world['minor'].uuid}").get_data(as_text=True)
    assert "/release-forms/" not in html  # a parent signs for a minor



def test_the_spanish_form_states_the_purpose_in_spanish_or_says_it_has_only_english(client, db, world):
    login(client, world["parent"])
    html = " ".join(unescape(client.get(form_url(world["minor"], world["northside"], "es")).get_data(as_text=True)).split())
    assert '<p translate="no" class="prose" lang="en">Mentoring and attendance support</p>' in html
    assert "El acuerdo da este propósito solo en inglés." in html
    agreement = db.session.scalar(sa.select(DataSharingAgreement))
    agreement.purpose_translations = {"es": "Mentoría y apoyo a la asistencia"}
    db.session.flush()
    html = " ".join(unescape(client.get(form_url(world["minor"], world["northside"], "es")).get_data(as_text=True)).split())
    assert '<p translate="no" class="prose">Mentoría y apoyo a la asistencia</p>' in html
    assert "solo en inglés" not in html


def test_two_agreements_in_force_give_the_paper_form_the_purposes_of_the_online_one(client, db, world):
    """A partner with two agreements in force: the printed release and the online
    consent form state the same purposes (each agreement's, once)."""
    from casemgr.clock import today
    from casemgr.services.consents import agreement_purpose

    create_agreement(world["northside"], world["district"], categories=["identity", "grades"],
                     purpose="Tutoring after school", starts_on=date(2020, 1, 1), ends_on=date(2099, 1, 1))
    online, _ = agreement_purpose(world["northside"], world["minor"], today(), "en")
    assert sorted(online.split("\n")) == ["Mentoring and attendance support", "Tutoring after school"]
    login(client, world["parent"])
    html = unescape(client.get(form_url(world["minor"], world["northside"], "en")).get_data(as_text=True))
    assert f'<p translate="no" class="prose" lang="en">{online}</p>' in html
