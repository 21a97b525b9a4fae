"""Sign-in, sign-out, CSRF, the generic failure message and the role homes."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from casemgr.models import User
from casemgr.models.enums import Role
from casemgr.views.auth import WRONG_CREDENTIALS
from tests.factories import PASSWORD, create_user
from tests.helpers import csrf_token, login, logout


@pytest.mark.parametrize("role", list(Role))
def test_each_role_signs_in_lands_on_its_home_and_signs_out(client, db, role):
    user = create_user(role)
    response = login(client, user)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"

    home = client.get("/")
    html = home.get_data(as_text=True)
    assert home.status_code == 200
    assert user.full_name in html
    assert user.organization.name in html
    assert role.label in html
    assert f"home-{role}" in html  # each role has its own home page

    response = logout(client)
    assert response.status_code == 302
    assert client.get("/").status_code == 302  # back to the sign-in page


def test_home_requires_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_wrong_password_and_unknown_email_get_the_same_message(client, db):
    user = create_user(Role.COUNSELOR)
    wrong_password = login(client, user, password="not the password")
    token = csrf_token(client)
    unknown_email = client.post(
        "/login", data={"email": "nobody@example.test", "password": PASSWORD, "csrf_token": token}
    )
    for response in (wrong_password, unknown_email):
        assert response.status_code == 401
        assert WRONG_CREDENTIALS in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_email_is_case_insensitive(client, db):
    user = create_user(Role.TEACHER)
    token = csrf_token(client)
    response = client.post(
        "/login", data={"email": user.email.upper(), "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


def test_deactivated_account_cannot_sign_in(client, db):
    user = create_user(Role.TEACHER, active=False)
    response = login(client, user)
    assert response.status_code == 401
    assert WRONG_CREDENTIALS in response.get_data(as_text=True)


def test_login_without_csrf_token_is_rejected(client, db):
    user = create_user(Role.COUNSELOR)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_logout_without_csrf_token_is_rejected(client, db):
    login(client, create_user(Role.COUNSELOR))
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200  # still signed in


def test_htmx_request_carries_csrf_in_a_header(client, db):
    login(client, create_user(Role.COUNSELOR))
    token = csrf_token(client, "/")
    page = client.get("/").get_data(as_text=True)
    assert 'hx-headers=\'{"X-CSRFToken": "' in page
    refused = client.post("/logout", headers={"HX-Request": "true"})
    assert refused.status_code == 400
    accepted = client.post("/logout", headers={"HX-Request": "true", "X-CSRFToken": token})
    assert accepted.status_code == 302


def test_next_parameter_only_redirects_within_the_site(client, db):
    user = create_user(Role.COUNSELOR)
    token = csrf_token(client)
    response = client.post(
        "/login?next=https://evil.example/steal",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/"


def test_password_is_stored_as_argon2id(db):
    user = create_user(Role.PARENT)
    stored = db.session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_hashes_use_owasp_parameters_and_an_older_hash_is_remade_at_sign_in(client, db):
    from argon2 import PasswordHasher

    user = create_user(Role.COUNSELOR)
    assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    user.password_hash = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4).hash(PASSWORD)
    db.session.commit()
    login(client, user)
    stored = db.session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_missing_fields_show_field_messages(client, db):
    token = csrf_token(client)
    response = client.post("/login", data={"email": "", "password": "", "csrf_token": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Enter your email address." in html
    assert "Enter your password." in html


def test_session_cookie_is_http_only_and_same_site(client, db):
    response = login(client, create_user(Role.COUNSELOR))
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_staff_session_ends_after_idle_timeout(client, db):
    login(client, create_user(Role.COUNSELOR))
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:
        session["last_seen"] -= 31 * 60
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert client.get("/").status_code == 302
