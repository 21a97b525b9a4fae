"""Invitations (issue 11 item 2): a single-use, expiring emailed link, only its hash
stored; the invitee chooses their own password and is signed in."""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa

from casemgr.models import AccountEvent, AccountToken
from casemgr.models.enums import Role
from casemgr.services.invitations import send_invitation
from tests.conftest import first_link, message_text
from tests.factories import create_school, create_user
from tests.helpers import csrf_token, login

GOOD_PASSWORD = "lantern orchard bicycle granite"


def _events(db, user):
    return [e.action for e in db.session.scalars(
        sa.select(AccountEvent).where(AccountEvent.user_id == user.id).order_by(AccountEvent.id))]


def _invited(db, mailbox, role=Role.COUNSELOR, **fields):
    admin = create_user(Role.DISTRICT_ADMIN)
    school = create_school(admin.organization)
    user = create_user(role, school, password_hash=None, **fields)
    send_invitation(user, admin)
    db.session.commit()
    return admin, user, urlsplit(first_link(mailbox.last(user.email))).path


def test_an_invitee_chooses_a_password_and_is_signed_in(client, db, mailbox):
    admin, user, path = _invited(db, mailbox, full_name="Rosa Delgado")
    message = mailbox.last(user.email)
    assert message["Subject"] == "Your casemgr account: choose a password"
    assert message.get_body(preferencelist=("html",)) is not None
    assert admin.full_name in message_text(message)
    token = path.rsplit("/", 1)[1]
    stored = db.session.scalar(sa.select(AccountToken).where(AccountToken.user_id == user.id))
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert stored.expires_at - datetime.now(UTC) > timedelta(days=6, hours=23)

    page = client.get(path)
    assert page.status_code == 200 and "Choose your password" in page.get_data(as_text=True)
    weak = client.post(path, data={"password": "password1234", "confirm": "password1234",
                                   "csrf_token": csrf_token(client, path)})
    assert weak.status_code == 400 and "easy to guess" in weak.get_data(as_text=True)
    mismatch = client.post(path, data={"password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD + "x",
                                       "csrf_token": csrf_token(client, path)})
    assert mismatch.status_code == 400 and "not the same" in mismatch.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash is None

    done = client.post(path, data={"password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD,
                                   "csrf_token": csrf_token(client, path)})
    assert done.status_code == 302 and done.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200 and "Rosa Delgado" in home.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash is not None and user.password_changed_at is not None
    assert _events(db, user) == ["invited", "invitation_accepted", "signed_in"]
    assert user.last_login_at is not None

    # the link works once
    again = client.get(path)
    assert again.status_code == 400 and "already been used" in again.get_data(as_text=True)
    assert "Forgot your password?" in again.get_data(as_text=True)


def test_the_invitee_can_sign_in_with_the_chosen_password(app, client, db, mailbox):
    _, user, path = _invited(db, mailbox)
    client.post(path, data={"password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD, "csrf_token": csrf_token(client, path)})
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    other = app.test_client()
    assert login(other, user, GOOD_PASSWORD).status_code == 302


def test_an_expired_link_says_so_and_sends_a_fresh_one_to_the_same_address(client, db, mailbox):
    _, user, path = _invited(db, mailbox)
    db.session.execute(sa.update(AccountToken).where(AccountToken.user_id == user.id)
                       .values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    db.session.commit()
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 400 and "This link has expired" in html
    refused = client.post(path, data={"password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD,
                                      "csrf_token": csrf_token(client, path)})
    assert refused.status_code == 400
    db.session.refresh(user)
    assert user.password_hash is None

    renewed = client.post(path + "/renew", data={"csrf_token": csrf_token(client, path)})
    assert renewed.status_code == 200 and "new link" in renewed.get_data(as_text=True)
    assert len(mailbox.to(user.email)) == 2
    fresh = urlsplit(first_link(mailbox.last(user.email))).path
    assert fresh != path and client.get(fresh).status_code == 200
    assert "no longer works" in client.get(path).get_data(as_text=True)
    assert _events(db, user) == ["invited", "invitation_resent"]


def test_resending_revokes_the_earlier_link(client, db, mailbox):
    admin, user, first = _invited(db, mailbox)
    send_invitation(user, admin)
    db.session.commit()
    second = urlsplit(first_link(mailbox.last(user.email))).path
    assert first != second
    assert client.get(first).status_code == 400
    assert client.get(second).status_code == 200
    open_links = db.session.scalar(sa.select(sa.func.count()).select_from(AccountToken).where(
        AccountToken.user_id == user.id, AccountToken.revoked_at.is_(None)))
    assert open_links == 1


def test_a_used_link_cannot_ask_for_a_new_invitation(client, db, mailbox):
    _, user, path = _invited(db, mailbox)
    client.post(path, data={"password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD, "csrf_token": csrf_token(client, path)})
    count = len(mailbox)
    response = client.post(path + "/renew", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    assert len(mailbox) == count


def test_bad_links_get_a_plain_404(client, db):
    for path in ("/invitations/not-a-token", "/invitations/" + "a" * 10_000, "/invitations/abc%00def",
                 "/password/reset/not-a-token", "/password/reset/" + "b" * 10_000, "/password/reset/x%00y"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "This link does not work" in response.get_data(as_text=True)
    assert client.post("/invitations/not-a-token/renew", data={"csrf_token": csrf_token(client)}).status_code == 404


def test_accepting_without_csrf_or_with_huge_or_nul_input_changes_nothing(client, db, mailbox):
    _, user, path = _invited(db, mailbox)
    assert client.post(path, data={"password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD}).status_code == 400
    huge = "x" * 10_000
    response = client.post(path, data={"password": huge, "confirm": huge, "csrf_token": csrf_token(client, path)})
    assert response.status_code == 400 and "at most 1024" in response.get_data(as_text=True)
    nul = GOOD_PASSWORD + "\x00"
    response = client.post(path, data={"password": nul, "confirm": nul, "csrf_token": csrf_token(client, path)})
    assert response.status_code == 400 and "punctuation only" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash is None


def test_a_deactivated_invitee_cannot_use_the_link(client, db, mailbox):
    _, user, path = _invited(db, mailbox)
    user.active = False
    db.session.commit()
    page = client.get(path)
    assert page.status_code == 400 and "no longer works" in page.get_data(as_text=True)
    assert "Send me a new invitation link" not in page.get_data(as_text=True)
    assert client.post(path + "/renew", data={"csrf_token": csrf_token(client, path)}).status_code == 302
    assert len(mailbox.to(user.email)) == 1


def test_the_invitation_is_in_the_invitees_language(client, db, mailbox):
    _, user, path = _invited(db, mailbox, locale="es")
    message = mailbox.last(user.email)
    assert message["Subject"] == "Su cuenta de casemgr: elija una contraseña"
    assert "Abra este enlace" in message_text(message)


def test_every_link_page_is_in_spanish(app, client, db, mailbox):
    from casemgr import throttle
    from tests.test_translations import untranslated, visible_texts

    _, user, invitation = _invited(db, mailbox)
    client.post("/password/forgot", data={"email": create_user(Role.PARENT).email,
                                          "csrf_token": csrf_token(client, "/password/forgot")})
    db.session.commit()
    expired_user = create_user(Role.TEACHER, password_hash=None)
    send_invitation(expired_user, None)
    db.session.execute(sa.update(AccountToken).where(AccountToken.user_id == expired_user.id)
                       .values(expires_at=datetime.now(UTC) - timedelta(days=1)))
    db.session.commit()
    expired = urlsplit(first_link(mailbox.last(expired_user.email))).path
    for path in (invitation, expired, "/password/forgot", "/invitations/forged", "/password/reset/forged"):
        assert not untranslated(client, path), path
    for data in ({"password": "short", "confirm": "other"}, {"password": "password1234", "confirm": "password1234"},
                 {"password": "a\x00" * 20, "confirm": "a\x00" * 20}):
        data["csrf_token"] = csrf_token(client, invitation)
        throttle.reset(app)  # six refused passwords for one link would be throttled (tests/test_throttle.py)
        english = client.post(invitation, data=data, headers={"Accept-Language": "en"})
        spanish = client.post(invitation, data=data, headers={"Accept-Language": "es"})
        assert english.status_code == spanish.status_code == 400
        assert not visible_texts(spanish.get_data(as_text=True)) & visible_texts(english.get_data(as_text=True)), data
    for email in ("someone@example.test", "not an email"):
        data = {"email": email, "csrf_token": csrf_token(client, "/password/forgot")}
        english = client.post("/password/forgot", data=data, headers={"Accept-Language": "en"})
        spanish = client.post("/password/forgot", data=data, headers={"Accept-Language": "es"})
        assert not visible_texts(spanish.get_data(as_text=True)) & visible_texts(english.get_data(as_text=True)), email
