"""The TOTP second factor: enrolment, the sign-in step, recovery codes, who must have
it, the demo's one-step sign-in and a district admin's reset."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa

from casemgr import two_factor
from casemgr.identity import PENDING_KEY
from casemgr.models import AccountEvent, RecoveryCode, User
from casemgr.models.enums import Role
from tests.factories import (
    PASSWORD,
    TOTP_SECRET,
    create_agreement,
    create_district,
    create_partner,
    create_school,
    create_user,
)
from tests.helpers import csrf_token, login, logout, totp_code

SECRET_ON_PAGE = re.compile(r'<code class="totp-secret" id="totp-secret" translate="no">([A-Z2-7 ]+)</code>')
CODES_ON_PAGE = re.compile(r"<li><code translate=\"no\">([a-z2-9]{5}-[a-z2-9]{5})</code></li>")


def events(db, user, action):
    return db.session.scalars(
        sa.select(AccountEvent).where(AccountEvent.user_id == user.id, AccountEvent.action == action)
        .order_by(AccountEvent.id)
    ).all()


def fresh(db, user) -> User:
    db.session.expire(user)
    return db.session.get(User, user.id)


def password_step(client, user, next_page=None):
    path = "/login" + (f"?next={next_page}" if next_page else "")
    return client.post(path, data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client)})


def code_step(client, code, next_page=None):
    path = "/login/two-factor" + (f"?next={next_page}" if next_page else "")
    return client.post(path, data={"code": code, "csrf_token": csrf_token(client, "/login")})


def enrol(client, user) -> list[str]:
    """Set up the authenticator through the pages, as a person would: read the key from
    the page, answer with its current code; the recovery codes shown once."""
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = SECRET_ON_PAGE.search(page).group(1).replace(" ", "")
    code = pyotp.TOTP(secret).now()
    response = client.post("/account/two-factor", data={"code": code, "csrf_token": csrf_token(client, "/")})
    assert response.status_code == 200
    codes = CODES_ON_PAGE.findall(response.get_data(as_text=True))
    assert len(codes) == 10
    return codes


def without_second_factor(role=Role.DISTRICT_ADMIN, organization=None, **fields):
    return create_user(role, organization, totp_secret=None, totp_enabled_at=None, **fields)


def test_counselor_enrols_with_a_qr_code_and_gets_ten_recovery_codes_once(client, db):
    counselor = create_user(Role.COUNSELOR)
    login(client, counselor)
    assert "set up two-factor sign-in" in client.get("/").get_data(as_text=True)  # offered, not required
    page = client.get("/account/two-factor")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'src="data:image/svg+xml;base64,' in html and 'alt="QR code' in html
    secret = fresh(db, counselor).totp_secret
    assert two_factor.grouped_secret(secret) in html
    assert client.get("/account/two-factor").get_data(as_text=True).count(two_factor.grouped_secret(secret)) == 1
    uri = two_factor.provisioning_uri(counselor, secret)
    assert uri.startswith("otpauth://totp/casemgr:") and "issuer=casemgr" in uri

    wrong = client.post("/account/two-factor", data={"code": "000000", "csrf_token": csrf_token(client, "/")})
    assert wrong.status_code == 400 and "That code did not match" in wrong.get_data(as_text=True)
    assert fresh(db, counselor).totp_enabled_at is None

    codes = enrol(client, counselor)
    counselor = fresh(db, counselor)
    assert counselor.two_factor_enabled and counselor.totp_secret == secret
    stored = set(db.session.scalars(sa.select(RecoveryCode.code_hash).where(RecoveryCode.user_id == counselor.id)))
    assert stored == {two_factor.recovery_code_hash(code) for code in codes}
    assert not any(code in stored for code in codes)  # only hashes are kept
    assert len(events(db, counselor, "two_factor_enabled")) == 1
    # the codes are not shown again; the page now says the second factor is on
    again = client.get("/account/two-factor").get_data(as_text=True)
    assert "Two-factor sign-in is on" in again and codes[0] not in again
    assert "10 unused recovery codes" in again
    assert "set up two-factor sign-in" not in client.get("/").get_data(as_text=True)


def test_sign_in_asks_the_code_after_the_password_and_keeps_next(client, db):
    admin = create_user(Role.DISTRICT_ADMIN)
    response = password_step(client, admin, "/admin/agreements")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login/two-factor?next=/admin/agreements"
    assert client.get("/").status_code == 302  # not signed in yet
    assert not events(db, admin, "signed_in")
    page = client.get("/login/two-factor?next=/admin/agreements")
    assert page.status_code == 200 and "authenticator app" in page.get_data(as_text=True)

    response = code_step(client, totp_code(admin), "/admin/agreements")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/agreements"
    assert client.get("/admin/agreements").status_code == 200
    (signed_in,) = events(db, admin, "signed_in")
    assert signed_in.details == {"second_factor": "app"}


def test_a_code_is_never_accepted_twice(client, db):
    admin = create_user(Role.DISTRICT_ADMIN)
    code = totp_code(admin)
    password_step(client, admin)
    assert code_step(client, code).status_code == 302
    logout(client)
    password_step(client, admin)
    replay = code_step(client, code)
    assert replay.status_code == 401
    assert "a code works only once" in replay.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert len(events(db, admin, "signed_in")) == 1


def test_a_wrong_code_changes_nothing_and_says_so(client, db):
    admin = create_user(Role.DISTRICT_ADMIN)
    password_step(client, admin)
    wrong = pyotp.TOTP(TOTP_SECRET).at(datetime.now(UTC) - timedelta(minutes=10))
    response = code_step(client, wrong)
    assert response.status_code == 401
    assert "That code did not work." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert fresh(db, admin).totp_last_counter is None
    assert [e.details for e in events(db, admin, "sign_in_failed")] == [{"step": "second_factor"}]
    # the pending proof still stands: the right code now signs in
    assert code_step(client, totp_code(admin)).status_code == 302


def test_five_wrong_codes_ask_for_the_password_again(app, client, db):
    from casemgr import throttle

    admin = create_user(Role.DISTRICT_ADMIN)
    password_step(client, admin, "/caseload")
    with client.session_transaction() as session:
        kept = dict(session)  # a cookie kept to try more codes with later
    for _ in range(5):
        assert code_step(client, "000000", "/caseload").status_code == 401
    throttle.reset(app)  # the throttle's pause (tests/test_throttle.py) ends; the count of wrong codes holds
    response = code_step(client, totp_code(admin), "/caseload")
    assert response.headers["Location"] == "/login?next=/caseload"
    assert "too many wrong codes" in client.get("/login").get_data(as_text=True)
    with client.session_transaction() as session:
        session.update(kept)
    assert code_step(client, totp_code(admin)).headers["Location"] == "/login"
    assert client.get("/").status_code == 302
    # a new password step allows new tries
    password_step(client, admin)
    assert code_step(client, totp_code(admin)).status_code == 302


@pytest.mark.parametrize("code, status", [("1" * 10_000, 400), ("12\x0034", 401), ("", 400), ("abcde-fghij", 401)])
def test_bad_codes_are_refused_without_harm(client, db, code, status):
    admin = create_user(Role.DISTRICT_ADMIN)
    password_step(client, admin)
    assert code_step(client, code).status_code == status
    assert client.get("/").status_code == 302


def test_the_code_step_needs_its_csrf_token(client, db):
    admin = create_user(Role.DISTRICT_ADMIN)
    password_step(client, admin)
    assert client.post("/login/two-factor", data={"code": totp_code(admin)}).status_code == 400
    assert client.get("/").status_code == 302


def test_a_recovery_code_works_once_and_says_how_many_are_left(client, db):
    counselor = create_user(Role.COUNSELOR)
    login(client, counselor)
    codes = enrol(client, counselor)
    logout(client)

    password_step(client, counselor, "/caseload")
    response = code_step(client, codes[3].upper().replace("-", " "), "/caseload")  # as typed from paper
    assert response.status_code == 302 and response.headers["Location"] == "/caseload"
    assert "You have 9 recovery codes left." in client.get("/").get_data(as_text=True)
    (used,) = events(db, counselor, "recovery_code_used")
    assert used.details == {"left": 9}
    assert events(db, counselor, "signed_in")[-1].details == {"second_factor": "recovery_code"}
    logout(client)

    password_step(client, counselor)
    assert code_step(client, codes[3]).status_code == 401
    assert client.get("/").status_code == 302


def test_new_recovery_codes_replace_the_old_ones(client, db):
    counselor = create_user(Role.COUNSELOR)
    login(client, counselor)
    old = enrol(client, counselor)
    assert client.get("/account/two-factor/recovery-codes").status_code == 200
    refused = client.post("/account/two-factor/recovery-codes", data={"code": "000000", "csrf_token": csrf_token(client, "/")})
    assert refused.status_code == 400
    response = client.post("/account/two-factor/recovery-codes",
                           data={"code": totp_code(counselor), "csrf_token": csrf_token(client, "/")})
    new = CODES_ON_PAGE.findall(response.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    stored = set(db.session.scalars(sa.select(RecoveryCode.code_hash).where(RecoveryCode.user_id == counselor.id)))
    assert stored == {two_factor.recovery_code_hash(code) for code in new}
    logout(client)
    password_step(client, counselor)
    assert code_step(client, old[0]).status_code == 401
    assert code_step(client, new[0]).status_code == 302


def test_the_pending_proof_expires_after_five_minutes(client, db):
    admin = create_user(Role.DISTRICT_ADMIN)
    password_step(client, admin, "/caseload")
    with client.session_transaction() as session:
        session[PENDING_KEY] = {**session[PENDING_KEY], "at": session[PENDING_KEY]["at"] - 301}
    response = code_step(client, totp_code(admin), "/caseload")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/caseload"
    assert "Your sign-in has timed out" in client.get("/login").get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert fresh(db, admin).totp_last_counter is None


def test_signing_out_everywhere_voids_a_pending_proof(client, db):
    admin = create_user(Role.DISTRICT_ADMIN)
    password_step(client, admin)
    db.session.execute(sa.update(User).where(User.id == admin.id).values(session_generation=User.session_generation + 1))
    response = code_step(client, totp_code(admin))
    assert response.headers["Location"].startswith("/login")
    assert client.get("/").status_code == 302


def test_the_code_step_without_a_password_sends_to_sign_in(client, db):
    response = client.get("/login/two-factor?next=/caseload")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/caseload"


def test_an_unenrolled_district_admin_reaches_only_enrolment(client, db):
    admin = without_second_factor()
    response = login(client, admin)
    assert response.status_code == 302 and response.headers["Location"] == "/"  # signed in, one step
    for path in ("/", "/admin/agreements", "/caseload", "/account/two-factor/recovery-codes", "/admin/security",
                 "/no-such-page"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/account/two-factor", path
    htmx = client.get("/caseload", headers={"HX-Request": "true"})
    assert htmx.status_code == 403 and htmx.headers["HX-Redirect"] == "/account/two-factor"
    token = csrf_token(client, "/account/two-factor")
    assert client.post("/admin/security", data={"csrf_token": token, "require_staff_two_factor": "y"}).status_code == 302
    assert not admin.organization.require_staff_two_factor
    page = client.get("/account/two-factor")
    assert page.status_code == 200 and "Your role requires two-factor sign-in" in page.get_data(as_text=True)
    assert client.get("/static/css/casemgr.css").status_code == 200
    assert client.post("/language", data={"csrf_token": token, "language": "es"}).status_code == 302

    enrol(client, admin)
    assert client.get("/admin/agreements").status_code == 200
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


def test_the_district_setting_requires_it_of_every_staff_role(client, db):
    district = create_district()
    school = create_school(district)
    counselor = create_user(Role.COUNSELOR, school)
    parent = create_user(Role.PARENT, district)
    partner, unrelated = create_partner(), create_partner()
    create_agreement(partner, district, starts_on=datetime.now(UTC).date() - timedelta(days=30))
    worker = create_user(Role.YOUTH_WORKER, partner)
    unrelated_worker = create_user(Role.YOUTH_WORKER, unrelated)
    assert not any(two_factor.required_for(u) for u in (counselor, parent, worker, unrelated_worker))

    admin = create_user(Role.DISTRICT_ADMIN, district)
    login(client, admin)
    assert "Require two-factor sign-in for every staff role" in client.get("/admin/security").get_data(as_text=True)
    response = client.post("/admin/security", data={"csrf_token": csrf_token(client, "/"), "require_staff_two_factor": "y"})
    assert response.status_code == 302
    db.session.refresh(district)
    assert district.require_staff_two_factor
    (changed,) = db.session.scalars(sa.select(AccountEvent).where(AccountEvent.action == "settings_changed")).all()
    assert (changed.organization_id, changed.actor_id, changed.details) == (
        district.id, admin.id, {"require_staff_two_factor": True})
    logout(client)

    assert two_factor.required_for(counselor) and two_factor.required_for(worker)
    assert not two_factor.required_for(parent) and not two_factor.required_for(unrelated_worker)
    login(client, counselor)
    assert client.get("/").headers["Location"] == "/account/two-factor"
    logout(client)
    login(client, parent)
    assert client.get("/").status_code == 200
    logout(client)
    login(client, unrelated_worker)
    assert client.get("/").status_code == 200


def test_demo_logins_sign_in_in_one_step_outside_production_only(app, client, db, monkeypatch):
    demo_admin = without_second_factor(demo_login=True)
    response = login(client, demo_admin)
    assert response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert 'id="two-factor-demo"' in home.get_data(as_text=True)  # says how to enrol, with a link
    assert 'href="/account/two-factor"' in home.get_data(as_text=True)

    monkeypatch.setitem(app.config, "ENV_NAME", "production")
    assert client.get("/").headers["Location"] == "/account/two-factor"


def test_a_demo_login_that_enrolled_is_asked_the_code(client, db):
    demo_admin = create_user(Role.DISTRICT_ADMIN, demo_login=True)
    response = password_step(client, demo_admin)
    assert response.headers["Location"].startswith("/login/two-factor")


def test_a_district_admin_resets_a_second_factor_which_ends_every_session(app, client, db):
    district = create_district()
    admin = create_user(Role.DISTRICT_ADMIN, district)
    counselor = create_user(Role.COUNSELOR, create_school(district))
    theirs = app.test_client()
    login(theirs, counselor)
    enrol(theirs, counselor)
    assert theirs.get("/").status_code == 200

    login(client, admin)
    listing = client.get("/admin/security").get_data(as_text=True)
    assert counselor.full_name in listing and f"/admin/users/{counselor.uuid}/two-factor/reset" in listing
    page = client.get(f"/admin/users/{counselor.uuid}/two-factor/reset")
    assert page.status_code == 200 and counselor.email in page.get_data(as_text=True)
    assert client.post(f"/admin/users/{counselor.uuid}/two-factor/reset").status_code == 400  # no CSRF
    assert fresh(db, counselor).two_factor_enabled
    response = client.post(f"/admin/users/{counselor.uuid}/two-factor/reset", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302

    counselor = fresh(db, counselor)
    assert (counselor.totp_secret, counselor.totp_enabled_at, counselor.totp_last_counter) == (None, None, None)
    assert not db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == counselor.id))
    (reset,) = events(db, counselor, "two_factor_reset")
    assert reset.actor_id == admin.id and reset.details == {"was_enabled": True}
    assert theirs.get("/").headers["Location"].startswith("/login")  # their session ended
    # the next sign-in is one step again, and they may set it up anew
    assert login(theirs, counselor).headers["Location"] == "/"
    assert client.get("/admin/agreements").status_code == 200  # the admin's own session goes on


def test_a_reset_reaches_only_the_admins_district_and_partner_staff(client, db):
    admin = create_user(Role.DISTRICT_ADMIN)
    elsewhere = create_user(Role.COUNSELOR, create_school(create_district()), totp_secret=TOTP_SECRET,
                            totp_enabled_at=datetime.now(UTC))
    other_admin = create_user(Role.DISTRICT_ADMIN)
    partner_worker = create_user(Role.YOUTH_WORKER)
    login(client, admin)
    token = csrf_token(client, "/")
    for person in (elsewhere, other_admin, admin):
        assert client.get(f"/admin/users/{person.uuid}/two-factor/reset").status_code == 404
        assert client.post(f"/admin/users/{person.uuid}/two-factor/reset", data={"csrf_token": token}).status_code == 404
    assert client.get("/admin/users/not-a-uuid/two-factor/reset").status_code == 404
    assert fresh(db, elsewhere).two_factor_enabled and fresh(db, other_admin).two_factor_enabled
    assert not db.session.scalar(sa.select(sa.func.count()).select_from(AccountEvent)
                                 .where(AccountEvent.action == "two_factor_reset"))
    assert client.get(f"/admin/users/{partner_worker.uuid}/two-factor/reset").status_code == 200


def test_only_district_admins_reset_or_set_the_requirement(client, db):
    district = create_district()
    principal = create_user(Role.PRINCIPAL, create_school(district))
    counselor = create_user(Role.COUNSELOR, principal.organization)
    login(client, principal)
    assert client.get("/admin/security").status_code == 403
    assert client.get(f"/admin/users/{counselor.uuid}/two-factor/reset").status_code == 403
    response = client.post("/admin/security", data={"csrf_token": csrf_token(client, "/"), "require_staff_two_factor": "y"})
    assert response.status_code == 403
    assert not fresh(db, counselor).organization.district.require_staff_two_factor


def test_the_sign_in_step_speaks_spanish(client, db):
    admin = create_user(Role.DISTRICT_ADMIN, locale="es")
    client.post("/language", data={"csrf_token": csrf_token(client), "language": "es"})
    password_step(client, admin)
    html = client.get("/login/two-factor").get_data(as_text=True)
    assert 'lang="es"' in html and "Continuar" in html
