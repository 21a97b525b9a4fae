"""Password reset by email (issue 11 item 4): the same answer whether or not the address
has an account, a single-use link valid 30 minutes, and every other session ends."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa

from casemgr.models import AccountEvent, AccountToken
from casemgr.models.enums import Role
from tests.conftest import first_link, message_text
from tests.factories import PASSWORD, create_user
from tests.helpers import csrf_token, login

NEW_PASSWORD = "harbor violet sandstone kettle"


def _ask(client, email):
    """Ask for a reset link; the response is closed, as a server does once it is sent."""
    response = client.post("/password/forgot", data={"email": email, "csrf_token": csrf_token(client, "/password/forgot")})
    response.close()
    return response


def _main(response) -> str:
    html = response.get_data(as_text=True)
    return re.search(r"<main.*</main>", html, re.S).group(0)


def _reset_path(mailbox, user) -> str:
    return urlsplit(first_link(mailbox.last(user.email))).path


def test_the_sign_in_page_links_to_the_reset(client, db):
    assert 'href="/password/forgot"' in client.get("/login").get_data(as_text=True)
    assert client.get("/password/forgot").status_code == 200


def test_the_answer_is_the_same_whether_or_not_an_account_exists(client, db, mailbox):
    user = create_user(Role.COUNSELOR)
    invited = create_user(Role.TEACHER, password_hash=None)
    deactivated = create_user(Role.TEACHER, active=False)
    db.session.commit()
    answers = {email: _ask(client, email) for email in
               (user.email, "nobody@example.test", invited.email, deactivated.email, user.email.upper())}
    assert {a.status_code for a in answers.values()} == {200}
    assert len({_main(a) for a in answers.values()}) == 1
    assert "Check your email" in _main(answers[user.email])
    assert {m["To"] for m in mailbox.messages} == {user.email}
    assert len(mailbox.to(user.email)) == 2
    message = mailbox.last(user.email)
    assert message["Subject"] == "Reset your casemgr password"
    assert "30 minutes" in message_text(message)
    requested = db.session.scalars(sa.select(AccountEvent.action).where(AccountEvent.user_id.in_(
        [user.id, invited.id, deactivated.id]))).all()
    assert requested == ["password_reset_requested"] * 2


def test_a_reset_sets_the_password_and_ends_every_other_session(app, client, db, mailbox):
    user = create_user(Role.COUNSELOR, full_name="Dana Whitfield")
    db.session.commit()
    elsewhere = app.test_client()
    login(elsewhere, user)
    assert elsewhere.get("/").status_code == 200

    _ask(client, user.email)
    path = _reset_path(mailbox, user)
    link = db.session.scalar(sa.select(AccountToken).where(AccountToken.user_id == user.id))
    assert timedelta(minutes=29) < link.expires_at - datetime.now(UTC) <= timedelta(minutes=30)
    assert client.get(path).status_code == 200
    weak = client.post(path, data={"password": "dana whitfield 2026", "confirm": "dana whitfield 2026",
                                   "csrf_token": csrf_token(client, path)})
    assert weak.status_code == 400 and "your name" in weak.get_data(as_text=True)
    done = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                                   "csrf_token": csrf_token(client, path)})
    assert done.status_code == 302 and done.headers["Location"] == "/login"

    assert elsewhere.get("/").status_code == 302  # the other session ended
    assert login(app.test_client(), user, PASSWORD).status_code == 401
    assert login(app.test_client(), user, NEW_PASSWORD).status_code == 302
    actions = db.session.scalars(sa.select(AccountEvent.action).where(AccountEvent.user_id == user.id)
                                 .order_by(AccountEvent.id)).all()
    assert "password_reset_requested" in actions and "password_reset" in actions

    used = client.get(path)
    assert used.status_code == 400 and "already been used" in used.get_data(as_text=True)


def test_a_new_request_revokes_the_earlier_link_and_an_old_link_expires(client, db, mailbox):
    user = create_user(Role.COUNSELOR)
    db.session.commit()
    _ask(client, user.email)
    first = _reset_path(mailbox, user)
    _ask(client, user.email)
    second = _reset_path(mailbox, user)
    assert first != second
    assert "no longer works" in client.get(first).get_data(as_text=True)
    db.session.execute(sa.update(AccountToken).where(AccountToken.user_id == user.id)
                       .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    db.session.commit()
    expired = client.get(second)
    assert expired.status_code == 400 and "This link has expired" in expired.get_data(as_text=True)
    refused = client.post(second, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                                        "csrf_token": csrf_token(client, "/login")})
    assert refused.status_code == 400
    assert login(client, user, PASSWORD).status_code == 302


def test_bad_input_changes_nothing(client, db, mailbox):
    user = create_user(Role.COUNSELOR)
    db.session.commit()
    for email in ("x" * 10_000 + "@example.test", "not an email", "a\x00b@example.test", ""):
        response = _ask(client, email)
        assert response.status_code == 400, email
    assert client.post("/password/forgot", data={"email": user.email}).status_code == 400  # no CSRF
    assert len(mailbox) == 0
    _ask(client, user.email)
    path = _reset_path(mailbox, user)
    assert client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 400
    huge = "y" * 10_000
    response = client.post(path, data={"password": huge, "confirm": huge, "csrf_token": csrf_token(client, path)})
    assert response.status_code == 400
    assert login(client, user, PASSWORD).status_code == 302


def test_the_reset_pages_and_mail_are_in_spanish(client, db, mailbox):
    user = create_user(Role.PARENT, locale="es")
    db.session.commit()
    client.set_cookie("casemgr_language", "es")
    page = client.get("/password/forgot").get_data(as_text=True)
    assert "¿Olvidó su contraseña?" in page
    _ask(client, user.email)
    message = mailbox.last(user.email)
    assert message["Subject"] == "Restablezca su contraseña de casemgr"
    assert "30 minutos" in message_text(message)


def test_links_use_the_configured_address_whatever_host_the_request_names(app, client, db, mailbox, monkeypatch):
    monkeypatch.setitem(app.config, "BASE_URL", "https://casemgr.example.org")
    user = create_user(Role.COUNSELOR)
    db.session.commit()
    from casemgr.services.password_reset import request_reset

    with app.test_request_context("/password/forgot", method="POST", base_url="http://attacker.example.net"):
        message = request_reset(user.email)
    assert first_link(message).startswith("https://casemgr.example.org/password/reset/")


def test_the_reset_mail_leaves_only_after_the_answer(client, db, mailbox):
    """How long the answer takes must not tell whether the address has an account."""
    user = create_user(Role.COUNSELOR)
    db.session.commit()
    response = client.post("/password/forgot", data={"email": user.email,
                                                      "csrf_token": csrf_token(client, "/password/forgot")})
    assert response.status_code == 200 and len(mailbox) == 0
    response.close()
    assert len(mailbox.to(user.email)) == 1
