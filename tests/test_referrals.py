"""Referrals: ranking, sending with and without consent, the partner's inbox and every
status change, what the receiving organization sees, and the refusals (issue 5)."""
from __future__ import annotations

import uuid
from datetime import date, timedelta

import sqlalchemy as sa

from casemgr.clock import today
from casemgr.models import ConsentRevocation, DisclosureEntry, Referral, ReferralEvent, RosterEntry
from casemgr.models.enums import Role
from casemgr.services.referrals import referral_options
from tests.factories import (
    add_to_roster,
    create_agreement,
    create_consent,
    create_district,
    create_flag,
    create_guardian,
    create_partner,
    create_referral,
    create_school,
    create_service_agreement,
    create_student,
    create_user,
)
from tests.helpers import csrf_token, login, logout

TODAY = today()
LONG_AGO = TODAY - timedelta(days=200)
LATER = TODAY + timedelta(days=200)
COMPLIANT = dict(confidentiality_signed_on=LONG_AGO, ferpa_trained_on=LONG_AGO)


class World:
    def __init__(self, db):
        self.district = create_district("Riverside Schools")
        self.school = create_school(self.district, "high", "Riverside High")
        self.student = create_student(self.school, first_name="Marisol", last_name="Quintero",
                                      birth_date=date(TODAY.year - 15, 4, 2), grade=10)
        self.guardian = create_guardian(self.student)
        self.counselor = create_user(Role.COUNSELOR, self.school, full_name="Casey Counselor")
        self.northside = self.partner("Northside Youth", ["identity", "attendance", "grades", "services"])
        self.admin = create_user(Role.PARTNER_ADMIN, self.northside, full_name="Jordan Director", **COMPLIANT)
        self.flag = create_flag(self.student, self.counselor, "mentoring", details="Needs a steady adult")

    def partner(self, name, categories=("identity", "attendance", "services"), capacity=10, services=("mentoring",),
                schools=None):
        org = create_partner(name)
        create_agreement(org, self.district, categories=list(categories), starts_on=LONG_AGO, ends_on=LATER)
        create_service_agreement(org, self.district, services=services, schools=schools or [self.school],
                                 capacity=capacity)
        return org

    def consent(self, partner, categories=("identity", "attendance", "services"), **fields):
        values = dict(signed_on=LONG_AGO, expires_on=LATER)
        values.update(fields)
        return create_consent(self.student, partner, list(categories), **values)


def _post(client, path, data=None):
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, "/")})


def _refer(client, world, partner, message="Please call the family first."):
    return _post(client, f"/flags/{world.flag.uuid}/refer", {"organization": str(partner.uuid), "message": message})


def _the_referral(db) -> Referral:
    [referral] = db.session.scalars(sa.select(Referral)).all()
    db.session.refresh(referral)
    return referral


def _log(db, **where):
    query = sa.select(DisclosureEntry).order_by(DisclosureEntry.id)
    for key, value in where.items():
        query = query.where(getattr(DisclosureEntry, key) == value)
    return db.session.scalars(query).all()


def _steps(db, referral):
    return [e.status for e in db.session.scalars(
        sa.select(ReferralEvent).where(ReferralEvent.referral_id == referral.id).order_by(ReferralEvent.id))]


# --- ranking ----------------------------------------------------------------------------------


def test_organizations_are_ranked_by_fit_then_remaining_capacity(client, db):
    w = World(db)
    others = [create_student(w.school) for _ in range(3)]
    already = w.partner("Already Serving", capacity=3)  # has the student: full, still first
    add_to_roster(w.student, already, added_on=LONG_AGO)
    for s in others[:2]:
        add_to_roster(s, already, added_on=LONG_AGO)
    consented = w.partner("Consented Club", capacity=2)
    w.consent(consented)
    roomy = w.partner("Roomy Mentors", capacity=10)  # 2 on the roster, 1 referral waiting: 7 free
    add_to_roster(others[0], roomy, added_on=LONG_AGO)
    add_to_roster(others[1], roomy, added_on=LONG_AGO)
    create_referral(others[2], roomy, w.counselor, status="awaiting_consent")
    create_referral(others[0], roomy, w.counselor, status="sent")  # already on its roster: no extra place
    spacious = w.partner("Spacious Friends", capacity=8)  # 8 free
    no_sharing = create_partner("No Sharing Agreement")
    create_service_agreement(no_sharing, w.district, schools=[w.school], capacity=50)
    elsewhere = w.partner("Other School Only", schools=[create_school(w.district, "high", "Hill High")])
    tutoring = w.partner("Tutoring Only", services=("tutoring",))
    ended = w.partner("Ended Agreement")
    ended_agreement_of(db, ended).ended_on = TODAY
    db.session.flush()

    options = referral_options(w.student, "mentoring", TODAY)
    names = [o.organization.name for o in options]
    # Northside: no consent, 10 places free, ranks with the other unconsented organizations by places
    assert names == ["Already Serving", "Consented Club", "Northside Youth", "Spacious Friends", "Roomy Mentors",
                     "No Sharing Agreement"]
    assert elsewhere.name not in names and tutoring.name not in names and ended.name not in names
    by_name = {o.organization.name: o for o in options}
    roomy_load = by_name["Roomy Mentors"].load
    assert (roomy_load.capacity, roomy_load.on_roster, roomy_load.pending, roomy_load.remaining) == (10, 2, 1, 7)
    assert by_name["Already Serving"].load.remaining == 0 and by_name["Already Serving"].available
    assert set(by_name["Consented Club"].shares) == {"identity", "attendance", "services"}
    assert not by_name["No Sharing Agreement"].available

    login(client, w.counselor)
    html = client.get(f"/flags/{w.flag.uuid}/refer").get_data(as_text=True)
    positions = [html.index(name) for name in names]
    assert positions == sorted(positions)
    assert "Already works with this student (on its roster)." in html
    assert "Family consent on file: the referral would share identity, attendance and services." in html
    assert "7 of 10 places free." in html and "No places free (3 students for 3 places)." in html
    assert "No Sharing Agreement has no data-sharing agreement in force with the district" in html
    assert f'value="{no_sharing.uuid}"' not in html  # not offered as a choice


def ended_agreement_of(db, partner):
    from casemgr.models import ServiceAgreement

    return db.session.scalar(sa.select(ServiceAgreement).where(ServiceAgreement.organization_id == partner.id))


# --- sending ----------------------------------------------------------------------------------


def test_a_referral_with_consent_is_sent_and_disclosed_to_the_organization(client, db):
    w = World(db)
    consent = w.consent(w.northside, ["identity", "attendance"])
    login(client, w.counselor)
    response = _refer(client, w, w.northside)
    referral = _the_referral(db)
    assert response.status_code == 302 and response.headers["Location"] == f"/referrals/{referral.uuid}"
    assert (referral.status, referral.service, referral.flag_id, referral.message) == (
        "sent", "mentoring", w.flag.id, "Please call the family first.")
    assert _steps(db, referral) == ["sent"]
    [entry] = _log(db, action="referral")
    assert (entry.user_id, entry.organization_id, entry.student_id) == (w.counselor.id, w.northside.id, w.student.id)
    assert entry.categories == ["attendance", "identity"] and entry.reason == "referral sent"
    assert entry.basis == {"identity": f"consent:{consent.uuid}", "attendance": f"consent:{consent.uuid}"}
    page = client.get(f"/referrals/{referral.uuid}").get_data(as_text=True)
    assert "Referral sent to Northside Youth." in page
    assert "Through this referral, under the family's consent: Identity, Attendance." in page
    timeline = client.get(f"/students/{w.student.uuid}/timeline").get_data(as_text=True)
    assert "Referred to <a" in timeline and "Northside Youth</a> for <strong>mentoring</strong>" in timeline


def test_disclosure_follows_consent_before_and_after_it_is_recorded(client, db):
    """Without consent the partner learns only that a referral for a service at a school
    waits; a paper consent sends it, and the partner then sees exactly its categories."""
    w = World(db)
    login(client, w.counselor)
    _refer(client, w, w.northside, message="Lives with grandmother; call after 4pm.")
    referral = _the_referral(db)
    assert referral.status == "awaiting_consent"
    [entry] = _log(db, action="referral")
    assert entry.categories == [] and entry.organization_id == w.northside.id
    page = client.get(f"/referrals/{referral.uuid}").get_data(as_text=True)
    assert "Awaiting family consent." in page and f"organization={w.northside.uuid}" in page
    logout(client)

    login(client, w.admin)
    inbox = client.get("/partner/referrals").get_data(as_text=True)
    detail = client.get(f"/partner/referrals/{referral.uuid}").get_data(as_text=True)
    for html in (inbox, detail):
        assert "Riverside High" in html and "mentoring" in html.lower()
        for secret in ("Marisol", "Quintero", w.student.state_id, "grandmother", "Casey Counselor", "Needs a steady"):
            assert secret not in html
    assert "Waiting for family consent" in detail
    assert _post(client, f"/partner/referrals/{referral.uuid}/accept").status_code == 302
    db.session.refresh(referral)
    assert referral.status == "awaiting_consent" and _steps(db, referral) == ["awaiting_consent"]
    logout(client)

    login(client, w.counselor)
    consent_path = f"/students/{w.student.uuid}/consents/new"
    assert f'<option selected value="{w.northside.uuid}">' in client.get(
        f"{consent_path}?organization={w.northside.uuid}").get_data(as_text=True)
    response = _post(client, consent_path, {
        "organization": str(w.northside.uuid), "categories": ["identity", "attendance"],
        "purpose": "Mentoring", "signer": f"guardian:{w.guardian.uuid}", "signed_on": TODAY.isoformat(),
        "expires_on": LATER.isoformat()})
    assert response.status_code == 302
    db.session.refresh(referral)
    assert referral.status == "sent" and _steps(db, referral) == ["awaiting_consent", "sent"]
    released = _log(db, action="referral")[-1]
    assert released.categories == ["attendance", "identity"] and released.reason == "family consent recorded; referral sent"
    timeline = client.get(f"/students/{w.student.uuid}/timeline").get_data(as_text=True)
    assert "Family consent recorded: the referral to" in timeline
    logout(client)

    login(client, w.admin)
    detail = client.get(f"/partner/referrals/{referral.uuid}").get_data(as_text=True)
    assert "Marisol Quintero" in detail and w.student.state_id in detail
    assert "Under the family's consent: Identity, Attendance." in detail
    assert "Attendance:</strong> No attendance recorded this school year yet." in detail
    assert "grandmother" not in detail  # the message is services, which the consent does not cover
    assert "Grades" not in detail  # in the agreement, not in the consent
    view = _log(db, user_id=w.admin.id, action="view")[-1]
    assert view.categories == ["attendance", "identity"] and view.student_id == w.student.id


def test_the_message_is_shared_when_the_consent_covers_services(client, db):
    w = World(db)
    w.consent(w.northside, ["identity", "services"])
    login(client, w.counselor)
    _refer(client, w, w.northside, message="Lives with grandmother; call after 4pm.")
    logout(client)
    login(client, w.admin)
    detail = client.get(f"/partner/referrals/{_the_referral(db).uuid}").get_data(as_text=True)
    assert "Message from the school" in detail and "Lives with grandmother; call after 4pm." in detail
    assert "Attendance:" not in detail


def test_sending_refusals_write_nothing(client, db):
    w = World(db)
    no_sharing = create_partner("No Sharing Agreement")
    create_service_agreement(no_sharing, w.district, schools=[w.school])
    tutoring = w.partner("Tutoring Only", services=("tutoring",))
    login(client, w.counselor)
    path = f"/flags/{w.flag.uuid}/refer"
    for org in (no_sharing, tutoring):
        response = _post(client, path, {"organization": str(org.uuid)})
        assert response.status_code == 400
        assert "Choose one of the organizations that can take this referral." in response.get_data(as_text=True)
    assert _post(client, path, {"organization": str(uuid.uuid4())}).status_code == 400
    assert _post(client, path, {"organization": str(w.northside.uuid), "message": "x" * 2001}).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Referral)) == 0

    assert _refer(client, w, w.northside).status_code == 302
    again = _refer(client, w, w.northside)
    assert again.status_code == 400
    assert "Choose one of the organizations that can take this referral." in again.get_data(as_text=True)
    assert "Already referred to Northside Youth (awaiting family consent)." in again.get_data(as_text=True)

    closed = create_flag(w.student, w.counselor, "tutoring", status="closed", closed_at=sa.func.now())
    html = client.get(f"/flags/{closed.uuid}/refer").get_data(as_text=True)
    assert "This flag is closed." in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Referral)) == 1


# --- the partner's answers ----------------------------------------------------------------------


def test_accept_then_close_with_each_change_shown_to_the_counselor(client, db):
    w = World(db)
    w.consent(w.northside)
    login(client, w.counselor)
    _refer(client, w, w.northside)
    referral = _the_referral(db)
    logout(client)

    login(client, w.admin)
    inbox = client.get("/partner/referrals").get_data(as_text=True)
    assert "Waiting for your answer (1)" in inbox and "Marisol Quintero" in inbox
    path = f"/partner/referrals/{referral.uuid}"
    response = _post(client, f"{path}/decline", {"reason": "  "})
    assert response.status_code == 400 and "Write why you are declining the referral." in response.get_data(as_text=True)
    response = _post(client, f"{path}/close", {"outcome": "Done"})
    assert response.status_code == 400 and "Only an accepted referral is closed with an outcome." in response.get_data(as_text=True)
    assert _post(client, f"{path}/accept").status_code == 302
    assert "Referral accepted: the student is now on your roster." in client.get(path).get_data(as_text=True)
    again = _post(client, f"{path}/accept")
    assert "This referral has already been accepted." in client.get(again.headers["Location"]).get_data(as_text=True)
    late_decline = _post(client, f"{path}/decline", {"reason": "Full"})
    assert late_decline.status_code == 400 and "This referral has already been accepted." in late_decline.get_data(as_text=True)
    [entry] = db.session.scalars(sa.select(RosterEntry).where(RosterEntry.student_id == w.student.id)).all()
    assert (entry.organization_id, entry.added_on, entry.added_by_id, entry.program) == (
        w.northside.id, TODAY, w.admin.id, "Mentoring")
    assert client.get(f"/students/{w.student.uuid}").status_code == 200  # on the roster now

    assert _post(client, f"{path}/close", {"outcome": ""}).status_code == 400
    assert _post(client, f"{path}/close", {"outcome": "Met weekly for six weeks; attendance up."}).status_code == 302
    db.session.refresh(referral)
    assert referral.status == "closed" and referral.outcome == "Met weekly for six weeks; attendance up."
    assert _steps(db, referral) == ["sent", "accepted", "closed"]
    steps = [e.reason for e in _log(db, action="referral")]
    assert steps == ["referral sent", "referral accepted; added to the roster", "referral closed"]
    assert {e.organization_id for e in _log(db, action="referral")} == {w.northside.id}
    logout(client)

    login(client, w.counselor)
    page = client.get(f"/referrals/{referral.uuid}").get_data(as_text=True)
    assert "Met weekly for six weeks; attendance up." in page and "Jordan Director" in page
    history = page.split('id="referral-history"')[1]
    assert history.index("Sent, waiting for an answer") < history.index("Accepted") < history.index("Closed")
    timeline = client.get(f"/students/{w.student.uuid}/timeline").get_data(as_text=True)
    assert "accepted the referral for <strong>mentoring</strong>" in timeline
    assert "Closed the referral to" in timeline and "<strong>Outcome:</strong> Met weekly" in timeline
    listing = client.get("/referrals?status=closed").get_data(as_text=True)
    assert "Quintero, Marisol" in listing and "Closed" in listing


def test_decline_records_the_reason_and_the_school_sees_it(client, db):
    w = World(db)
    w.consent(w.northside)
    referral = create_referral(w.student, w.northside, w.counselor, flag_id=w.flag.id)
    login(client, w.admin)
    path = f"/partner/referrals/{referral.uuid}"
    assert _post(client, f"{path}/decline", {"reason": "Full at Riverside High until January."}).status_code == 302
    db.session.refresh(referral)
    assert (referral.status, referral.decline_reason) == ("declined", "Full at Riverside High until January.")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RosterEntry)) == 0
    assert "This referral has already been declined." in client.get(
        _post(client, f"{path}/accept").headers["Location"]).get_data(as_text=True)
    logout(client)
    login(client, w.counselor)
    timeline = client.get(f"/students/{w.student.uuid}/timeline").get_data(as_text=True)
    assert "declined the referral" in timeline and "<strong>Reason:</strong> Full at Riverside High" in timeline


def test_other_organizations_and_forged_ids_get_404(client, db):
    w = World(db)
    w.consent(w.northside)
    referral = create_referral(w.student, w.northside, w.counselor)
    eastside = w.partner("Eastside")
    login(client, create_user(Role.PARTNER_ADMIN, eastside, **COMPLIANT))
    for path in (f"/partner/referrals/{referral.uuid}", f"/partner/referrals/{uuid.uuid4()}"):
        assert client.get(path).status_code == 404
        for action in ("accept", "decline", "close"):
            assert _post(client, f"{path}/{action}", {"reason": "x", "outcome": "x"}).status_code == 404
    assert "Marisol" not in client.get("/partner/referrals").get_data(as_text=True)
    denied = _log(db, action="denied")
    assert denied and all(e.student_id == w.student.id for e in denied)
    logout(client)

    login(client, create_user(Role.COUNSELOR, create_school(w.district)))
    assert client.get(f"/referrals/{referral.uuid}").status_code == 404
    assert _post(client, f"/referrals/{referral.uuid}/withdraw", {"reason": "x"}).status_code == 404
    assert _post(client, f"/flags/{w.flag.uuid}/refer", {"organization": str(w.northside.uuid)}).status_code == 404
    assert "Quintero" not in client.get("/referrals?status=all").get_data(as_text=True)
    logout(client)

    login(client, create_user(Role.YOUTH_WORKER, w.northside, **COMPLIANT))
    assert client.get("/partner/referrals").status_code == 403
    assert _post(client, f"/partner/referrals/{referral.uuid}/accept").status_code == 403
    db.session.refresh(referral)
    assert referral.status == "sent"


def test_a_partner_admin_out_of_compliance_sees_no_referral(client, db):
    w = World(db)
    w.consent(w.northside)
    referral = create_referral(w.student, w.northside, w.counselor)
    lapsed = create_user(Role.PARTNER_ADMIN, w.northside, confidentiality_signed_on=LONG_AGO,
                         ferpa_trained_on=TODAY - timedelta(days=400))
    login(client, lapsed)
    inbox = client.get("/partner/referrals").get_data(as_text=True)
    assert "Your FERPA training is more than 12 months old." in inbox and "Marisol" not in inbox
    assert client.get(f"/partner/referrals/{referral.uuid}").status_code == 404
    assert _post(client, f"/partner/referrals/{referral.uuid}/accept").status_code == 404


def test_a_revoked_consent_hides_the_student_and_blocks_accepting(client, db):
    w = World(db)
    consent = w.consent(w.northside)
    referral = create_referral(w.student, w.northside, w.counselor, message="Call the grandmother.")
    db.session.add(ConsentRevocation(consent_id=consent.id))
    db.session.flush()
    login(client, w.admin)
    path = f"/partner/referrals/{referral.uuid}"
    detail = client.get(path).get_data(as_text=True)
    assert "Consent needed." in detail and "Marisol" not in detail and "grandmother" not in detail
    assert "Accept referral" not in detail and "Decline referral" in detail
    response = _post(client, f"{path}/accept")
    assert "no longer active" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RosterEntry)) == 0
    assert _post(client, f"{path}/decline", {"reason": "The family withdrew consent."}).status_code == 302
    db.session.refresh(referral)
    assert referral.status == "declined"


def test_the_school_withdraws_a_referral_that_never_reached_the_partner(client, db):
    w = World(db)
    login(client, w.counselor)
    _refer(client, w, w.northside, message="Family is moving soon.")
    referral = _the_referral(db)
    path = f"/referrals/{referral.uuid}/withdraw"
    assert _post(client, path, {"reason": ""}).status_code == 400
    assert _post(client, path, {"reason": "The family chose another program."}).status_code == 302
    db.session.refresh(referral)
    assert (referral.status, referral.outcome) == ("closed", "Withdrawn by the school: The family chose another program.")
    again = _post(client, path, {"reason": "again"})
    assert again.status_code == 400 and "This referral is already closed." in again.get_data(as_text=True)
    logout(client)

    w.consent(w.northside)  # a later consent does not revive it, nor reveal who it was for
    login(client, w.admin)
    detail = client.get(f"/partner/referrals/{referral.uuid}").get_data(as_text=True)
    assert "withdrew this referral before the family consented" in detail
    for secret in ("Marisol", "another program", "moving", "Casey Counselor"):
        assert secret not in detail


def test_the_school_list_shows_its_own_referrals_by_status(client, db):
    w = World(db)
    other = create_student(create_school(w.district), last_name="Elsewhere")
    create_referral(w.student, w.northside, w.counselor, status="accepted")
    create_referral(other, w.northside, w.counselor, status="sent")
    login(client, w.counselor)
    html = client.get("/referrals").get_data(as_text=True)
    assert "1 referral." in html and "Quintero, Marisol" in html and "Elsewhere" not in html
    assert "0 referrals." in client.get("/referrals?status=declined").get_data(as_text=True)
    fragment = client.get("/referrals?status=accepted", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "Quintero, Marisol" in fragment
    listed = _log(db, user_id=w.counselor.id, student_id=w.student.id)
    assert listed and listed[-1].categories == ["identity", "services"]
    logout(client)
    login(client, create_user(Role.TEACHER, w.school))
    assert client.get("/referrals").status_code == 403
