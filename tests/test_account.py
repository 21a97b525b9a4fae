"""The account page (issue 11 item 9): name, email, language, password change, recent
sign-ins and signing out everywhere, for every role."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from casemgr.models import AccountEvent, User
from casemgr.models.enums import Role
from casemgr.passwords import verify_password
from tests.factories import PASSWORD, create_user
from tests.helpers import csrf_token, login

NEW_PASSWORD = "lantern orchard cobalt meadow"


def _events(db, user) -> list[str]:
    return list(db.session.scalars(sa.select(AccountEvent.action).where(AccountEvent.user_id == user.id)
                                   .order_by(AccountEvent.id)))


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_its_account_page(client, db, role):
    user = create_user(role)
    login(client, user)
    response = client.get("/account", headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert user.full_name in html and user.email in html
    assert "Recent sign-ins" in html and "Firefox" not in html  # the sign-in came from the test client's browser
    assert "Sign out everywhere" in html
    family = role in (Role.PARENT, Role.STUDENT)
    assert ("Two-step sign-in" in html) is not family
    if role == Role.DISTRICT_ADMIN:  # made with a second factor by the factory
        assert "On since" in html and "/account/two-factor" in html
    elif not family:
        assert "Set up two-step sign-in" in html


def test_recent_sign_ins_list_time_address_and_browser(client, db):
    user = create_user(Role.YOUTH_WORKER)
    token = csrf_token(client)
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token},
                headers={"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Version/17.0 Mobile/15E148 Safari/604.1"},
                environ_base={"REMOTE_ADDR": "203.0.113.7"})
    html = client.get("/account").get_data(as_text=True)
    assert "203.0.113.7" in html
    assert "Safari on a phone" in html


def test_changing_the_password_keeps_this_session_and_ends_the_others(app, client, db):
    user = create_user(Role.COUNSELOR)
    other = app.test_client()
    login(client, user)
    login(other, user)
    token = csrf_token(client, "/account")
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD,
        "csrf_token": token})
    assert response.status_code == 302
    assert client.get("/account").status_code == 200  # this browser goes on
    assert other.get("/").status_code == 302  # the other one is signed out
    db.session.refresh(user)
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert user.password_changed_at is not None
    assert _events(db, user)[-1] == "password_changed"


@pytest.mark.parametrize("current, new, confirm, message", [
    ("not my password", NEW_PASSWORD, NEW_PASSWORD, "Your current password is not right"),
    (PASSWORD, "short", "short", "at least 12 characters"),
    (PASSWORD, "password1234", "password1234", "easy to guess"),
    (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "The two new passwords are not the same"),
    (PASSWORD, PASSWORD, PASSWORD, "different from your current one"),
    (PASSWORD, "x" * 10_000, "x" * 10_000, "Field cannot be longer"),
    (PASSWORD, "", "", "Enter a new password"),
    (PASSWORD, "nul\x00byte in the middle of it", "nul\x00byte in the middle of it", "no tabs or control characters"),
])
def test_a_refused_password_change_says_why_and_changes_nothing(client, db, current, new, confirm, message):
    user = create_user(Role.TEACHER)
    before = db.session.scalar(sa.select(User.password_hash).where(User.id == user.id))
    login(client, user)
    token = csrf_token(client, "/account")
    response = client.post("/account/password", data={
        "current_password": current, "new_password": new, "confirm_password": confirm, "csrf_token": token})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(User.password_hash).where(User.id == user.id)) == before
    assert client.get("/").status_code == 200  # still signed in


def test_a_password_change_without_csrf_is_refused(client, db):
    user = create_user(Role.TEACHER)
    login(client, user)
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert response.status_code == 400
    db.session.refresh(user)
    assert not verify_password(user.password_hash, NEW_PASSWORD)


def test_sign_out_everywhere_ends_every_session(app, client, db):
    user = create_user(Role.PARENT)
    other = app.test_client()
    login(client, user)
    login(other, user)
    token = csrf_token(client, "/account")
    response = client.post("/account/sign-out-everywhere", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302
    assert other.get("/").status_code == 302
    assert _events(db, user)[-1] == "signed_out_everywhere"


def test_the_language_is_saved_on_the_account(client, db):
    user = create_user(Role.PARENT)
    login(client, user)
    token = csrf_token(client, "/account")
    assert client.post("/account/language", data={"language": "es", "csrf_token": token}).status_code == 302
    db.session.refresh(user)
    assert user.locale == "es"
    assert "Su cuenta" in client.get("/account").get_data(as_text=True)
    assert client.post("/account/language", data={"language": "fr", "csrf_token": token}).status_code == 400
    db.session.refresh(user)
    assert user.locale == "es"


def test_the_account_page_needs_a_sign_in(client, db):
    response = client.get("/account")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=%2Faccount"
