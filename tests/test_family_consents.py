"""Consents online (issue 6 items 2 and 3): the family grants, revokes and answers the
referrals that wait for its consent, with an electronic signature (34 CFR 99.30)."""
from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta, timezone
from html import unescape

from markupsafe import escape

import pytest
import sqlalchemy as sa

from casemgr import policy
from casemgr.clock import today
from casemgr.models import Consent, ConsentRevocation, DataSharingAgreement, DisclosureEntry
from casemgr.models.enums import Category, Role
from casemgr.services import consents as consent_service
from tests.factories import (
    add_to_roster,
    create_agreement,
    create_consent,
    create_flag,
    create_guardian,
    create_partner,
    create_referral,
    create_school,
    create_student,
    create_user,
)
from tests.helpers import csrf_token, login, logout

TODAY = today()


@pytest.fixture()
def in_request(app, db):
    """The services speak the signer's language: they run inside a request."""
    with app.test_request_context():
        yield


@pytest.fixture()
def world(db):
    school = create_school(name="Central High")
    district = school.district
    partner = create_partner("Northside Youth")
    create_agreement(partner, district, [Category.IDENTITY, Category.ATTENDANCE, Category.GRADES],
                     purpose="After-school mentoring", starts_on=TODAY - timedelta(days=90),
                     ends_on=TODAY + timedelta(days=300))
    child = create_student(school, first_name="Lucia", last_name="Ortega", birth_date=date(TODAY.year - 14, 1, 1))
    parent = create_user(Role.PARENT, district, full_name="Rosa Ortega")
    create_guardian(child, user=parent)
    return dict(school=school, district=district, partner=partner, child=child, parent=parent)


def _sign(world, categories=(Category.ATTENDANCE,), typed=None, agreed=True, signer=None, expires_on=None,
          purpose="After-school mentoring", statement=None):
    signer = signer or world["parent"]
    student, partner = world["child"], world["partner"]
    expires_on = expires_on or consent_service.default_expiry(partner, student, TODAY)
    text = statement if statement is not None else consent_service.consent_statement(
        student, partner, categories, purpose, expires_on, signer)
    signature = consent_service.ElectronicSignature(typed if typed is not None else signer.full_name, agreed, text,
                                                    "203.0.113.7", "en")
    return consent_service.record_electronic_consent(student, partner, categories, purpose, expires_on, signer,
                                                     signature, TODAY)


def test_a_signed_consent_keeps_its_signature(db, world, in_request):
    consent = _sign(world, typed="  rosa   ORTEGA ")
    assert consent.method == "electronic" and consent.signer_user_id == world["parent"].id
    assert consent.signer_guardian_id is not None and consent.signer_relationship == "parent"
    assert consent.statement_text.startswith("I, Rosa Ortega, am a parent or guardian of Lucia Ortega")
    assert str(consent.signer_address) == "203.0.113.7" and consent.signed_at is not None
    assert consent.categories == ["attendance"]
    assert policy.organization_categories(world["partner"].id, world["child"], TODAY) == {
        Category.ATTENDANCE: f"consent:{consent.uuid}"}


@pytest.mark.parametrize("change, message", [
    (dict(typed="Rosa Ortiz"), "Type your full name"),
    (dict(agreed=False), "Tick the box"),
    (dict(categories=(Category.BEHAVIOR,)), "allows only these records"),
    (dict(categories=()), "at least one kind"),
    (dict(expires_on=TODAY - timedelta(days=1)), "Choose an end date"),
    (dict(expires_on=TODAY + timedelta(days=400)), "Choose an end date"),
    (dict(statement="I agree to everything."), "The statement changed"),
    (dict(purpose="  "), "Say what the records are for"),
])
def test_a_consent_breaking_a_rule_is_refused_and_nothing_is_written(db, world, in_request, change, message):
    with pytest.raises(consent_service.ConsentError, match=message):
        _sign(world, **change)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Consent)) == 0


def test_once_the_student_is_eligible_only_the_student_signs(db, world, in_request):
    child = world["child"]
    child.birth_date = date(TODAY.year - 18, 1, 1)
    student_user = create_user(Role.STUDENT, student=child, full_name="Lucia Ortega")
    with pytest.raises(consent_service.ConsentError, match="only Lucia can give or revoke consent"):
        _sign(world)
    consent = _sign(world, signer=student_user)
    assert consent.signer_relationship == "eligible_student" and consent.signer_guardian_id is None
    assert consent.statement_text.startswith("I, Lucia Ortega, consent to")
    with pytest.raises(consent_service.ConsentError):
        consent_service.revoke_family_consent(consent, child, world["parent"], TODAY)
    revocation = consent_service.revoke_family_consent(consent, child, student_user, TODAY)
    assert revocation.revoked_by_id == student_user.id
    assert policy.organization_categories(world["partner"].id, child, TODAY) == {}


def test_a_minor_student_does_not_sign(db, world, in_request):
    student_user = create_user(Role.STUDENT, student=world["child"], full_name="Lucia Ortega")
    with pytest.raises(consent_service.ConsentError, match="Until you are 18"):
        _sign(world, signer=student_user)


# --- over HTTP -----------------------------------------------------------------------------


@pytest.fixture()
def http_world(db, world):
    """`world`, plus a compliant youth worker of the partner with the child on the roster,
    another family's child, and a counselor's referral waiting for the family's consent."""
    long_ago = TODAY - timedelta(days=200)
    world["worker"] = create_user(Role.YOUTH_WORKER, world["partner"], full_name="Ana Ruiz",
                                  confidentiality_signed_on=long_ago, ferpa_trained_on=TODAY - timedelta(days=30))
    add_to_roster(world["child"], world["partner"], added_on=long_ago)
    world["stranger"] = create_student(world["school"], first_name="Zed", last_name="Stranger",
                                       birth_date=date(TODAY.year - 14, 1, 1))
    create_guardian(world["stranger"])
    world["counselor"] = create_user(Role.COUNSELOR, world["school"], full_name="Dana Park")
    flag = create_flag(world["child"], world["counselor"], need="mentoring")
    world["referral"] = create_referral(world["child"], world["partner"], world["counselor"], status="awaiting_consent",
                                        flag_id=flag.id)
    world["other_partner"] = create_partner("Eastside Tutoring")  # no agreement with the district
    return world


def _consents(db, student=None):
    query = sa.select(Consent).order_by(Consent.id)
    if student is not None:
        query = query.where(Consent.student_id == student.id)
    return db.session.scalars(query).all()


def _grant_url(world, organization=None, student=None):
    student = student or world["child"]
    organization = organization or world["partner"]
    return f"/family/children/{student.uuid}/consents/new?organization={organization.uuid}"


def _review(client, world, categories=("attendance",), purpose="After-school mentoring", expires_on=None,
            organization=None, student=None, headers=None):
    url = _grant_url(world, organization, student)
    token = csrf_token(client, url) if client.get(url).status_code == 200 else csrf_token(client, "/")
    expires_on = expires_on or consent_service.default_expiry(world["partner"], world["child"], TODAY).isoformat()
    data = {"csrf_token": token, "organization": str((organization or world["partner"]).uuid),
            "categories": list(categories), "purpose": purpose, "expires_on": expires_on, "action": "review"}
    return client.post(url.split("?")[0], data=data, headers=headers or {}), data


def _statement_shown(html: str) -> str:
    match = re.search(r'name="statement" type="hidden" value="([^"]*)"|type="hidden" name="statement" value="([^"]*)"'
                      r'|id="statement" name="statement" type="hidden" value="([^"]*)"', html)
    assert match, "no statement on the page"
    return unescape(next(g for g in match.groups() if g is not None))


def _sign_online(client, world, typed=None, agreed=True, headers=None, **choice):
    response, data = _review(client, world, headers=headers, **choice)
    assert response.status_code == 200, response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    data.update(action="sign", statement=_statement_shown(html), typed_name=typed or "Rosa Ortega")
    if agreed:
        data["agreed"] = "y"
    url = _grant_url(world, choice.get("organization"), choice.get("student")).split("?")[0]
    return client.post(url, data=data, headers=headers or {}), html


def test_the_parent_grants_a_consent_online_and_the_worker_sees_it_at_once(client, db, http_world):
    w = http_world
    login(client, w["parent"])
    index = client.get(f"/family/children/{w['child'].uuid}/consents")
    assert index.status_code == 200
    assert "No consent has been given yet." in index.get_data(as_text=True)
    response, shown = _sign_online(client, w)
    assert response.status_code == 302, response.get_data(as_text=True)
    (consent,) = _consents(db)
    assert consent.statement_text == _statement_shown(shown) and consent.locale == "en"
    assert str(consent.signer_address) == "127.0.0.1"
    assert consent.signer_user_id == w["parent"].id and consent.method == "electronic"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Northside Youth may now see attendance until" in html and "Active until" in html

    logout(client)
    login(client, w["worker"])
    assert _sections_seen(client, w["child"]) == {"attendance"}


def _sections_seen(client, student) -> set[str]:
    """The categories the record page shows (its section list marks the hidden ones)."""
    html = client.get(f"/students/{student.uuid}").get_data(as_text=True)
    links = re.findall(r'href="#section-(\w+)">[^<]*(<span class="muted">\(hidden\)</span>)?</a>', html)
    if not links:  # partner staff who see nothing: one consent panel instead of the sections
        assert 'id="consent-panel"' in html, "no section list on the record page"
    return {category for category, hidden in links if not hidden}


@pytest.mark.parametrize("change, message, status", [
    (dict(typed="Rosa Ortiz"), "Type your full name exactly as it appears on your account", 400),
    (dict(agreed=False), "Tick the box", 400),
])
def test_a_bad_signature_is_refused_and_nothing_is_written(client, db, http_world, change, message, status):
    login(client, http_world["parent"])
    response, _ = _sign_online(client, http_world, **change)
    assert response.status_code == status and message in response.get_data(as_text=True)
    assert _consents(db) == []


def test_a_category_beyond_the_agreement_is_refused(client, db, http_world):
    login(client, http_world["parent"])
    response, data = _review(client, http_world, categories=("attendance", "behavior"))
    assert response.status_code == 400
    assert "allows only these records" in response.get_data(as_text=True)
    # a signature forged around the review step is refused too
    data.update(action="sign", statement="anything", typed_name="Rosa Ortega", agreed="y")
    response = client.post(_grant_url(http_world).split("?")[0], data=data)
    assert response.status_code == 400
    assert _consents(db) == []


def test_a_forged_statement_is_refused(client, db, http_world):
    login(client, http_world["parent"])
    response, data = _review(client, http_world)
    data.update(action="sign", statement="I agree to share everything forever.", typed_name="Rosa Ortega", agreed="y")
    response = client.post(_grant_url(http_world).split("?")[0], data=data)
    assert response.status_code == 400 and "The statement changed" in response.get_data(as_text=True)
    assert _consents(db) == []


def test_an_organization_without_an_agreement_is_refused(client, db, http_world):
    login(client, http_world["parent"])
    url = _grant_url(http_world, http_world["other_partner"])
    response = client.get(url)
    assert response.status_code == 200
    assert "Eastside Tutoring has no data-sharing agreement in force" in response.get_data(as_text=True)
    response, _ = _review(client, http_world, organization=http_world["other_partner"])
    assert response.status_code == 400
    response = client.get(f"/family/children/{http_world['child'].uuid}/consents/new?organization={uuid.uuid4()}")
    assert response.status_code == 404
    assert _consents(db) == []


def test_another_familys_child_answers_404(client, db, http_world):
    w = http_world
    login(client, w["parent"])
    stranger = w["stranger"]
    assert client.get(f"/family/children/{stranger.uuid}/consents").status_code == 404
    assert client.get(_grant_url(w, student=stranger)).status_code == 404
    response, _ = _review(client, w, student=stranger)
    assert response.status_code == 404
    other = create_consent(stranger, w["partner"], signed_on=TODAY - timedelta(days=5),
                           expires_on=TODAY + timedelta(days=50))
    token = csrf_token(client, "/")
    assert client.get(f"/family/consents/{other.uuid}/revoke").status_code == 404
    assert client.post(f"/family/consents/{other.uuid}/revoke", data={"csrf_token": token}).status_code == 404
    assert other.revocation is None and len(_consents(db)) == 1
    without_rights = create_student(w["school"], birth_date=date(TODAY.year - 12, 1, 1))
    create_guardian(without_rights, user=w["parent"], educational_rights=False)
    assert client.get(f"/family/children/{without_rights.uuid}/consents").status_code == 404
    assert client.get(_grant_url(w, student=without_rights)).status_code == 404


def test_a_revocation_applies_to_the_workers_next_request(app, client, db, http_world):
    w = http_world
    consent = create_consent(w["child"], w["partner"], ["identity", "attendance"], signed_on=TODAY - timedelta(days=5),
                             expires_on=TODAY + timedelta(days=60))
    worker = app.test_client()
    login(worker, w["worker"])
    assert _sections_seen(worker, w["child"]) == {"identity", "attendance"}

    login(client, w["parent"])
    index = client.get(f"/family/children/{w['child'].uuid}/consents").get_data(as_text=True)
    assert f"/family/consents/{consent.uuid}/revoke" in index
    confirm = client.get(f"/family/consents/{consent.uuid}/revoke")
    assert confirm.status_code == 200 and "Revoke the consent for Northside Youth?" in confirm.get_data(as_text=True)
    assert consent_revocations(db) == []  # the confirmation page changes nothing
    token = csrf_token(client, f"/family/consents/{consent.uuid}/revoke")
    response = client.post(f"/family/consents/{consent.uuid}/revoke", data={"csrf_token": token})
    assert response.status_code == 302
    (revocation,) = consent_revocations(db)
    assert revocation.revoked_by_id == w["parent"].id and revocation.consent_id == consent.id

    assert _sections_seen(worker, w["child"]) == set()
    html = client.get(f"/family/children/{w['child'].uuid}/consents").get_data(as_text=True)
    assert "Revoked" in html and f"/family/consents/{consent.uuid}/revoke" not in html
    again = client.post(f"/family/consents/{consent.uuid}/revoke", data={"csrf_token": token}, follow_redirects=True)
    assert "already been revoked" in again.get_data(as_text=True)
    assert len(consent_revocations(db)) == 1


def consent_revocations(db):
    return db.session.scalars(sa.select(ConsentRevocation)).all()


def test_once_eligible_the_parent_is_told_and_cannot_grant_or_revoke(client, db, http_world):
    w = http_world
    child = w["child"]
    child.birth_date = date(TODAY.year - 18, 1, 1)
    consent = create_consent(child, w["partner"], ["identity", "attendance"], signed_on=TODAY - timedelta(days=5),
                             expires_on=TODAY + timedelta(days=60))
    login(client, w["parent"])
    index = client.get(f"/family/children/{child.uuid}/consents")
    html = index.get_data(as_text=True)
    assert index.status_code == 200 and "now holds the right to decide who sees their school records" in html
    assert "/revoke" not in html and "/consents/new" not in html and "Northside Youth" not in html
    assert client.get(_grant_url(w)).status_code == 404
    response, data = _review(client, w)
    assert response.status_code == 404
    data.update(action="sign", statement="x", typed_name="Rosa Ortega", agreed="y")
    assert client.post(_grant_url(w).split("?")[0], data=data).status_code == 404
    token = csrf_token(client, "/")
    assert client.get(f"/family/consents/{consent.uuid}/revoke").status_code == 404
    assert client.post(f"/family/consents/{consent.uuid}/revoke", data={"csrf_token": token}).status_code == 404
    referral = w["referral"]
    assert client.post(f"/family/referrals/{referral.uuid}/decline", data={"csrf_token": token}).status_code == 404
    assert consent_revocations(db) == [] and len(_consents(db)) == 1
    assert referral.status == "awaiting_consent"

    logout(client)
    student = create_user(Role.STUDENT, student=child, full_name="Lucia Ortega")
    login(client, student)
    html = client.get(f"/family/children/{child.uuid}/consents").get_data(as_text=True)
    assert f"/family/consents/{consent.uuid}/revoke" in html and "Requests waiting for your answer" in html
    response, _ = _sign_online(client, w, typed="lucia ortega")
    assert response.status_code == 302
    newest = _consents(db)[-1]
    assert newest.signer_relationship == "eligible_student" and newest.signer_user_id == student.id
    assert newest.statement_text.startswith("I, Lucia Ortega, consent to")


def test_a_minor_student_sees_the_consents_but_does_not_sign(client, db, http_world):
    w = http_world
    create_consent(w["child"], w["partner"], ["identity", "attendance"], signed_on=TODAY - timedelta(days=5),
                   expires_on=TODAY + timedelta(days=60))
    login(client, create_user(Role.STUDENT, student=w["child"], full_name="Lucia Ortega"))
    html = client.get(f"/family/children/{w['child'].uuid}/consents").get_data(as_text=True)
    assert "Until you are 18, your parent or guardian" in html and "Northside Youth" in html
    assert "/revoke" not in html and "/consents/new" not in html and "Requests waiting" not in html
    assert client.get(_grant_url(w)).status_code == 404


def test_staff_get_404_on_the_family_consent_pages(client, db, http_world):
    w = http_world
    login(client, w["counselor"])
    assert client.get(f"/family/children/{w['child'].uuid}/consents").status_code == 404
    assert client.get(_grant_url(w)).status_code == 404
    assert client.get(f"/family/referrals/{w['referral'].uuid}/decline").status_code == 404


def test_the_statement_is_stored_in_spanish_exactly_as_shown(client, db, http_world):
    w = http_world
    login(client, w["parent"])
    token = csrf_token(client, "/")
    client.post("/language", data={"language": "es", "csrf_token": token})
    response, shown = _sign_online(client, w)
    assert response.status_code == 302
    (consent,) = _consents(db)
    assert consent.locale == "es"
    assert consent.statement_text == _statement_shown(shown)
    assert consent.statement_text.startswith("Yo, Rosa Ortega, soy madre, padre o tutor")
    assert "asistencia" in consent.statement_text
    for paragraph in consent.statement_text.split("\n\n"):
        assert f"<p>{escape(paragraph)}</p>" in shown
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Gracias." in html


def test_approving_a_request_releases_the_referral(client, db, http_world):
    w = http_world
    referral = w["referral"]
    login(client, w["parent"])
    home = client.get("/").get_data(as_text=True)
    assert "The school asks for your consent" in home and "Northside Youth, for mentoring" in home
    index = client.get(f"/family/children/{w['child'].uuid}/consents").get_data(as_text=True)
    assert "Requests waiting for your answer" in index
    # the waiting referrals are services records: reading them is logged like any read
    reads = db.session.scalars(sa.select(DisclosureEntry).where(DisclosureEntry.user_id == w["parent"].id)).all()
    assert (["services"], {"services": "guardian"}) in [(e.categories, e.basis) for e in reads]
    assert f"referral={referral.uuid}" in index
    assert "Northside Youth may see at most: basic details (name, school, grade), attendance, and grades and credits" in index
    response, _ = _sign_online(client, w, categories=("identity", "attendance"))
    assert response.status_code == 302
    db.session.refresh(referral)
    assert referral.status == "sent"
    assert [e.status for e in referral.events] == ["awaiting_consent", "sent"]
    assert referral.events[-1].by_user_id == w["parent"].id
    assert "Requests waiting for your answer" not in _consent_page(client, w)
    assert "Family consent recorded" in _counselor_timeline(client, w)


def _consent_page(client, world) -> str:
    return client.get(f"/family/children/{world['child'].uuid}/consents").get_data(as_text=True)


def _counselor_timeline(client, world) -> str:
    logout(client)
    login(client, world["counselor"])
    return client.get(f"/students/{world['child'].uuid}/timeline").get_data(as_text=True)


def test_declining_a_request_closes_the_referral_and_the_school_sees_it(client, db, http_world):
    w = http_world
    referral = w["referral"]
    login(client, w["parent"])
    url = f"/family/referrals/{referral.uuid}/decline"
    page = client.get(url)
    assert page.status_code == 200 and "Say no to sharing records with Northside Youth?" in page.get_data(as_text=True)
    assert referral.status == "awaiting_consent"
    response = client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    db.session.refresh(referral)
    assert referral.status == "closed" and referral.outcome == "The family declined consent."
    assert referral.events[-1].by_user_id == w["parent"].id
    assert _consents(db) == []
    assert "Requests waiting for your answer" not in _consent_page(client, w)
    assert "The school asks for your consent" not in client.get("/").get_data(as_text=True)
    log = client.get(f"/family/children/{w['child'].uuid}/log").get_data(as_text=True)
    assert "You said no to a referral to Northside Youth" in log
    again = client.post(url, data={"csrf_token": csrf_token(client, url)}, follow_redirects=True)
    assert "already been answered" in again.get_data(as_text=True)

    assert "The family declined consent" in _counselor_timeline(client, w)


# --- in Spanish ----------------------------------------------------------------------------


def test_every_consent_page_is_in_spanish(client, db, http_world):
    from tests.test_translations import untranslated, visible_texts

    w = http_world
    consent = create_consent(w["child"], w["partner"], ["identity", "attendance"], signed_on=TODAY - timedelta(days=5),
                             expires_on=TODAY + timedelta(days=20))
    create_consent(w["child"], w["partner"], ["attendance"], signed_on=TODAY - timedelta(days=90),
                   expires_on=TODAY - timedelta(days=1), method="electronic", statement_text="x",
                   signed_at=datetime.now(timezone.utc))
    login(client, w["parent"])
    child = w["child"]
    for path in ("/", f"/family/children/{child.uuid}", f"/family/children/{child.uuid}/consents", _grant_url(w),
                 _grant_url(w, w["other_partner"]), f"{_grant_url(w)}&referral={w['referral'].uuid}",
                 f"/family/consents/{consent.uuid}/revoke", f"/family/referrals/{w['referral'].uuid}/decline"):
        assert not untranslated(client, path), path

    def both(**change):
        pages = []
        for language in ("en", "es"):
            response, _ = _review(client, w, headers={"Accept-Language": language}, **change)
            pages.append(visible_texts(response.get_data(as_text=True)))
        return pages[0] & pages[1]

    assert not both()  # the statement and the signature form
    assert not both(categories=("behavior",))  # a refusal

    logout(client)
    child.birth_date = date(TODAY.year - 18, 1, 1)
    login(client, w["parent"])
    assert not untranslated(client, f"/family/children/{child.uuid}/consents")
    logout(client)
    child.birth_date = date(TODAY.year - 14, 1, 1)
    login(client, create_user(Role.STUDENT, student=child, full_name="Lucia Ortega"))
    assert not untranslated(client, f"/family/children/{child.uuid}/consents")


# --- bad input and repeated requests ------------------------------------------------------


def test_control_characters_in_the_purpose_are_dropped_before_the_statement_is_shown(client, db, http_world):
    """A NUL cannot be stored in PostgreSQL text: it must never reach the statement."""
    login(client, http_world["parent"])
    response, _ = _review(client, http_world, purpose="After-school\x00 mentoring\x07")
    assert response.status_code == 200
    statement = _statement_shown(response.get_data(as_text=True))
    assert "\x00" not in statement and "After-school mentoring" in statement
    response, _ = _sign_online(client, http_world, purpose="After-school\x00 mentoring")
    assert response.status_code == 302
    [consent] = _consents(db)
    assert consent.purpose == "After-school mentoring" and "\x00" not in consent.statement_text


def test_a_purpose_with_a_nul_is_refused_by_the_service_and_nothing_is_written(db, world, in_request):
    with pytest.raises(consent_service.ConsentError):
        consent_service.check_consent_choice(world["child"], world["partner"], ["attendance"], "a\x00b",
                                             consent_service.default_expiry(world["partner"], world["child"], TODAY),
                                             TODAY)
    assert _consents(db) == []


def test_the_same_signature_sent_twice_records_one_consent(client, db, http_world):
    """A double click on "Sign" must not leave a twin consent that revoking the first
    would leave in force."""
    login(client, http_world["parent"])
    response, data = _review(client, http_world)
    data.update(action="sign", statement=_statement_shown(response.get_data(as_text=True)), typed_name="Rosa Ortega",
                agreed="y")
    url = _grant_url(http_world).split("?")[0]
    first, second = client.post(url, data=data), client.post(url, data=data)
    assert (first.status_code, second.status_code) == (302, 302)
    assert len(_consents(db)) == 1


def test_a_consent_revoked_by_someone_else_meanwhile_is_refused_not_an_error(db, world, in_request):
    consent = create_consent(world["child"], world["partner"], ["attendance"], signed_on=TODAY - timedelta(days=5),
                             expires_on=TODAY + timedelta(days=60))
    db.session.flush()
    assert consent.revocation is None  # loaded, as by the first of two requests
    db.session.execute(sa.insert(ConsentRevocation).values(consent_id=consent.id, revoked_by_id=world["parent"].id))
    with pytest.raises(consent_service.ConsentError, match="already been revoked"):
        consent_service.revoke_family_consent(consent, world["child"], world["parent"], TODAY)


@pytest.mark.parametrize("page", ["decline", "grant"])
def test_every_page_showing_a_waiting_referral_logs_the_read(client, db, http_world, page):
    """The request's organization and need are the student's services records, however
    the family reaches them."""
    w = http_world
    login(client, w["parent"])
    url = (f"/family/referrals/{w['referral'].uuid}/decline" if page == "decline"
           else f"{_grant_url(w)}&referral={w['referral'].uuid}")
    response = client.get(url)
    assert response.status_code == 200 and "mentoring" in response.get_data(as_text=True)
    reads = db.session.scalars(sa.select(DisclosureEntry).where(DisclosureEntry.user_id == w["parent"].id)).all()
    assert [(e.categories, e.basis) for e in reads] == [(["services"], {"services": "guardian"})]


def _purpose_field(html: str) -> tuple[str, str]:
    """The purpose box of the consent form: (its lang attribute, its text)."""
    found = re.search(r'<textarea([^>]*)name="purpose"([^>]*)>(.*?)</textarea>', html, re.S)
    attributes = found.group(1) + found.group(2)
    lang = re.search(r'lang="([a-z]+)"', attributes)
    return (lang.group(1) if lang else ""), unescape(found.group(3)).strip()


def _spanish(client):
    client.post("/language", data={"language": "es", "csrf_token": csrf_token(client, "/")})


def test_the_family_reads_the_agreements_purpose_in_their_language(client, db, http_world):
    w = http_world
    agreement = db.session.scalar(sa.select(DataSharingAgreement))
    agreement.purpose_translations = {"es": "Mentoría después de clases"}
    db.session.flush()
    login(client, w["parent"])
    assert _purpose_field(client.get(_grant_url(w)).get_data(as_text=True)) == ("en", "After-school mentoring")
    _spanish(client)
    html = client.get(_grant_url(w)).get_data(as_text=True)
    assert _purpose_field(html) == ("es", "Mentoría después de clases")
    assert "solo en inglés" not in html


def test_without_a_purpose_in_their_language_the_family_reads_the_districts_with_a_note(client, db, http_world):
    w = http_world
    login(client, w["parent"])
    _spanish(client)
    html = client.get(_grant_url(w)).get_data(as_text=True)
    assert _purpose_field(html) == ("en", "After-school mentoring")
    assert "El acuerdo da este propósito solo en inglés." in unescape(html)
