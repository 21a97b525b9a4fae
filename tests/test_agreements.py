"""District admins create and end agreements; partner admins record compliance."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from casemgr.clock import today
from casemgr.models import DataSharingAgreement, ServiceAgreement, User
from casemgr.models.enums import Role
from casemgr.services import referrals
from tests.factories import (
    add_to_roster,
    create_agreement,
    create_consent,
    create_district,
    create_flag,
    create_partner,
    create_referral,
    create_school,
    create_service_agreement,
    create_student,
    create_user,
)
from tests.helpers import csrf_token, login

TODAY = today()


def _count(db, model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_admin_creates_a_data_sharing_agreement(client, db):
    admin = create_user(Role.DISTRICT_ADMIN)
    partner = create_partner("Northside Youth")
    login(client, admin)
    path = "/admin/agreements/new"
    response = client.post(path, data={
        "organization": str(partner.uuid), "categories": ["attendance", "identity"],
        "purpose": "Mentoring", "starts_on": TODAY.isoformat(), "ends_on": (TODAY + timedelta(days=365)).isoformat(),
        "csrf_token": csrf_token(client, path),
    })
    assert response.status_code == 302
    agreement = db.session.scalar(sa.select(DataSharingAgreement))
    assert agreement.district_id == admin.organization_id
    assert agreement.categories == ["attendance", "identity"]
    page = client.get("/admin/agreements").get_data(as_text=True)
    assert "Northside Youth" in page and "Active" in page


def test_agreement_form_rejects_bad_input_and_writes_nothing(client, db):
    login(client, create_user(Role.DISTRICT_ADMIN))
    partner = create_partner()
    path = "/admin/agreements/new"
    cases = [
        ({"organization": "", "categories": ["attendance"], "purpose": "x", "starts_on": "2026-09-01", "ends_on": "2027-06-30"},
         "Choose the partner organization."),
        ({"organization": str(partner.uuid), "categories": [], "purpose": "x", "starts_on": "2026-09-01", "ends_on": "2027-06-30"},
         "Choose at least one category."),
        ({"organization": str(partner.uuid), "categories": ["shoe_size"], "purpose": "x", "starts_on": "2026-09-01", "ends_on": "2027-06-30"},
         "is not a valid choice for this field."),
        ({"organization": str(partner.uuid), "categories": ["attendance"], "purpose": "x", "starts_on": "2027-09-01", "ends_on": "2027-06-30"},
         "The end date must be on or after the start date."),
        ({"organization": str(partner.uuid), "categories": ["attendance"], "purpose": "x", "starts_on": "soon", "ends_on": "2027-06-30"},
         "Enter the start date (YYYY-MM-DD)."),
    ]
    for data, message in cases:
        data["csrf_token"] = csrf_token(client, path)
        response = client.post(path, data=data)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    assert _count(db, DataSharingAgreement) == 0


def test_admin_creates_a_service_agreement_for_own_schools_only(client, db):
    admin = create_user(Role.DISTRICT_ADMIN)
    own_school = create_school(admin.organization)
    foreign_school = create_school()
    partner = create_partner()
    login(client, admin)
    path = "/admin/service-agreements/new"
    base = {"organization": str(partner.uuid), "services": ["tutoring"], "capacity": "25",
            "starts_on": TODAY.isoformat(), "ends_on": (TODAY + timedelta(days=200)).isoformat()}
    refused = client.post(path, data=dict(base, schools=[str(foreign_school.uuid)], csrf_token=csrf_token(client, path)))
    assert refused.status_code == 400
    zero = client.post(path, data=dict(base, capacity="0", schools=[str(own_school.uuid)], csrf_token=csrf_token(client, path)))
    assert "Enter a capacity between 1 and 100,000." in zero.get_data(as_text=True)
    assert _count(db, ServiceAgreement) == 0
    ok = client.post(path, data=dict(base, schools=[str(own_school.uuid)], csrf_token=csrf_token(client, path)))
    assert ok.status_code == 302
    agreement = db.session.scalar(sa.select(ServiceAgreement))
    assert [s.id for s in agreement.schools] == [own_school.id] and agreement.capacity == 25


def test_admin_ends_an_agreement_and_cannot_touch_another_districts(client, db):
    admin = create_user(Role.DISTRICT_ADMIN)
    partner = create_partner()
    mine = create_agreement(partner, admin.organization, starts_on=TODAY - timedelta(days=30), ends_on=TODAY + timedelta(days=30))
    theirs = create_agreement(partner, create_district(), starts_on=TODAY - timedelta(days=30), ends_on=TODAY + timedelta(days=30))
    login(client, admin)
    token = csrf_token(client, "/admin/agreements")
    assert client.post(f"/admin/agreements/{theirs.uuid}/end", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/admin/agreements/{mine.uuid}/end", data={"csrf_token": token}).status_code == 302
    db.session.refresh(mine)
    db.session.refresh(theirs)
    assert mine.ended_on == TODAY and theirs.ended_on is None
    assert client.post(f"/admin/agreements/{mine.uuid}/end", data={}).status_code == 400


def test_admin_pages_are_for_district_admins_only(client, db):
    for role in [r for r in Role if r is not Role.DISTRICT_ADMIN]:
        login(client, create_user(role))
        for path in ("/admin/agreements", "/admin/agreements/new", "/admin/disclosures"):
            assert client.get(path).status_code == 403, (role, path)
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


def test_partner_admin_records_compliance_dates(client, db):
    partner = create_partner()
    admin = create_user(Role.PARTNER_ADMIN, partner, confidentiality_signed_on=TODAY, ferpa_trained_on=TODAY)
    worker = create_user(Role.YOUTH_WORKER, partner, full_name="Ana Ruiz")
    outsider = create_user(Role.YOUTH_WORKER)
    login(client, admin)
    page = client.get("/partner/staff").get_data(as_text=True)
    assert "Ana Ruiz" in page and "Ana Ruiz has not signed the confidentiality agreement." in page
    assert outsider.full_name not in page
    path = f"/partner/staff/{worker.uuid}/compliance"
    future = client.post(path, data={"confidentiality_signed_on": (TODAY + timedelta(days=2)).isoformat(),
                                     "ferpa_trained_on": TODAY.isoformat(), "csrf_token": csrf_token(client, path)})
    assert "The signature date cannot be in the future." in future.get_data(as_text=True)
    db.session.refresh(worker)
    assert worker.confidentiality_signed_on is None
    old = TODAY - timedelta(days=400)
    ok = client.post(path, data={"confidentiality_signed_on": TODAY.isoformat(), "ferpa_trained_on": old.isoformat(),
                                 "csrf_token": csrf_token(client, path)})
    assert ok.status_code == 302
    assert "Ana Ruiz&#39;s FERPA training is more than 12 months old." in client.get("/partner/staff").get_data(as_text=True)
    assert client.get(f"/partner/staff/{outsider.uuid}/compliance").status_code == 404


def test_the_staff_page_names_whom_a_block_is_about(client, db):
    """Words about another staff member name them; only the admin's own row says "you"."""
    partner = create_partner()
    old = TODAY - timedelta(days=400)
    admin = create_user(Role.PARTNER_ADMIN, partner, full_name="Rosa Diaz", confidentiality_signed_on=TODAY,
                        ferpa_trained_on=old)
    create_user(Role.YOUTH_WORKER, partner, full_name="Ana Ruiz", confidentiality_signed_on=TODAY, ferpa_trained_on=old)
    create_user(Role.YOUTH_WORKER, partner, full_name="Luis Gómez", confidentiality_signed_on=TODAY)
    login(client, admin)
    page = client.get("/partner/staff").get_data(as_text=True)
    assert "Ana Ruiz&#39;s FERPA training is more than 12 months old." in page
    assert "Luis Gómez has not completed FERPA training." in page
    assert page.count("Your FERPA training is more than 12 months old.") == 1  # the admin's own row
    assert "You have not" not in page


def _partner_at_work(db):
    """Northside Youth at a school: an agreement for identity and attendance, two
    consented students on its roster and one without consent, a service agreement for
    mentoring, and an open referral."""
    school = create_school(name="Riverside High")
    admin = create_user(Role.DISTRICT_ADMIN, school.district)
    counselor = create_user(Role.COUNSELOR, school)
    partner = create_partner("Northside Youth")
    sharing = create_agreement(partner, school.district, categories=["identity", "attendance"])
    service = create_service_agreement(partner, school.district, services=("mentoring",), schools=(school,))
    students = [create_student(school) for _ in range(3)]
    for student in students:
        add_to_roster(student, partner)
    for student in students[:2]:
        create_consent(student, partner)
    create_referral(students[2], partner, counselor, status="awaiting_consent")
    return school, admin, counselor, partner, sharing, service, students


def test_ending_an_agreement_asks_first_and_says_what_stops(client, db):
    _, admin, _, _, sharing, _, _ = _partner_at_work(db)
    login(client, admin)
    listing = client.get("/admin/agreements").get_data(as_text=True)
    assert f'href="/admin/agreements/{sharing.uuid}/end"' in listing  # a link to the question, not a button that ends it
    page = " ".join(client.get(f"/admin/agreements/{sharing.uuid}/end").get_data(as_text=True).split())
    assert "End the data-sharing agreement with Northside Youth today?" in page
    assert "Northside Youth's staff stop seeing the records of 2 students" in page
    assert "records of 2 students (on its roster, with a family's consent): identity, attendance." in page
    assert "Its service agreement for Mentoring at Riverside High can no longer receive referrals." in page
    assert "1 open referral" in page
    db.session.refresh(sharing)
    assert sharing.ended_on is None  # asking changed nothing
    path = f"/admin/agreements/{sharing.uuid}/end"
    assert client.post(path, data={"csrf_token": csrf_token(client, path)}).status_code == 302
    db.session.refresh(sharing)
    assert sharing.ended_on == TODAY


def test_ending_a_service_agreement_asks_first_and_says_what_stops(client, db):
    _, admin, _, _, _, service, _ = _partner_at_work(db)
    login(client, admin)
    page = " ".join(client.get(f"/admin/service-agreements/{service.uuid}/end").get_data(as_text=True).split())
    assert "End the service agreement with Northside Youth today?" in page
    assert "Referrals for Mentoring at Riverside High can no longer be sent to Northside Youth, and its 25 places" in page
    assert "1 open referral" in page
    db.session.refresh(service)
    assert service.ended_on is None


def test_a_service_agreement_without_a_sharing_agreement_says_it_cannot_receive_referrals(client, db):
    _, admin, counselor, partner, sharing, _, students = _partner_at_work(db)
    sharing.ended_on = TODAY
    db.session.flush()
    login(client, admin)
    listing = " ".join(client.get("/admin/agreements").get_data(as_text=True).split())
    assert "Cannot receive referrals: Northside Youth has no data-sharing agreement in force." in listing
    assert listing.count("Cannot receive referrals") == 1
    # one that starts later is not flagged by today's gap: its partner may sign in time
    later = create_partner("Eastside Tutors")
    create_service_agreement(later, admin.organization, starts_on=TODAY + timedelta(days=30),
                             ends_on=TODAY + timedelta(days=300))
    listing = " ".join(client.get("/admin/agreements").get_data(as_text=True).split())
    assert "Eastside Tutors has no data-sharing agreement" not in listing
    # and referral targeting refuses it
    student = students[0]
    flag = create_flag(student, counselor, need="mentoring")
    [option] = referrals.referral_options(student, "mentoring", TODAY)
    assert option.organization.id == partner.id and not option.available
    with pytest.raises(referrals.ReferralError, match="no data-sharing agreement in force"):
        referrals.send_referral(student, flag, partner, None, counselor, TODAY)


def test_the_agreement_form_asks_for_the_purpose_in_each_family_language(client, db):
    admin = create_user(Role.DISTRICT_ADMIN)
    partner = create_partner("Northside Youth")
    login(client, admin)
    path = "/admin/agreements/new"
    assert "Purpose in Spanish" in client.get(path).get_data(as_text=True)
    response = client.post(path, data={
        "organization": str(partner.uuid), "categories": ["identity"], "purpose": "Mentoring",
        "purpose_es": "  Mentoría  ", "starts_on": TODAY.isoformat(),
        "ends_on": (TODAY + timedelta(days=365)).isoformat(), "csrf_token": csrf_token(client, path),
    })
    assert response.status_code == 302
    agreement = db.session.scalar(sa.select(DataSharingAgreement))
    assert agreement.purpose == "Mentoring" and agreement.purpose_translations == {"es": "Mentoría"}
    assert agreement.purpose_in("es") == ("Mentoría", "es") and agreement.purpose_in("en") == ("Mentoring", None)
    assert '<small lang="es">Mentoría</small>' in client.get("/admin/agreements").get_data(as_text=True)
