"""Sessions end server-side (issue 11 item 8): a kept cookie is refused after signing
out, a password change or deactivation; idle and absolute limits hold from the cookie
the sign-in itself issues; an htmx request whose session ended is told to load the
sign-in page and come back."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from casemgr.models import AccountEvent, User
from casemgr.models.enums import Role
from tests.factories import create_user
from tests.helpers import csrf_token, login, logout


def _cookie(client) -> str:
    return client.get_cookie("casemgr_session").value


def _replay(client, cookie: str, path: str = "/", **headers):
    client.set_cookie("casemgr_session", cookie)
    return client.get(path, headers=headers)


def _shift(client, **deltas: timedelta) -> None:
    """Move the session's own times into the past, as if that much time had gone by."""
    with client.session_transaction() as session:
        for key, delta in deltas.items():
            session[key] -= delta.total_seconds()


def test_a_cookie_kept_from_before_signing_out_is_refused(client, db):
    user = create_user(Role.COUNSELOR)
    login(client, user)
    kept = _cookie(client)
    assert _replay(client, kept).status_code == 200
    logout(client)
    response = _replay(client, kept)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    actions = db.session.scalars(sa.select(AccountEvent.action).where(AccountEvent.user_id == user.id)
                                 .order_by(AccountEvent.id)).all()
    assert actions == ["signed_in", "signed_out"]


def test_signing_out_ends_the_sessions_of_other_browsers_too(app, client, db):
    user = create_user(Role.YOUTH_WORKER)
    other = app.test_client()
    login(client, user)
    login(other, user)
    assert other.get("/").status_code == 200
    logout(client)
    assert other.get("/").status_code == 302


def test_the_cookie_from_the_sign_in_itself_idles_out(client, db):
    """The sign-in response carries the last-seen time: replayed 31 minutes later it
    is refused, though no page was opened in between."""
    login(client, create_user(Role.COUNSELOR))
    with client.session_transaction() as session:
        assert {"last_seen", "signed_in_at"} <= set(session)
    _shift(client, last_seen=timedelta(minutes=31), signed_in_at=timedelta(minutes=31))
    response = client.get("/caseload")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Fcaseload"
    assert "after a period of inactivity" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_a_session_without_its_times_has_ended(client, db):
    login(client, create_user(Role.TEACHER))
    with client.session_transaction() as session:
        del session["last_seen"]
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("role, idle_ok, idle_out", [
    (Role.COUNSELOR, timedelta(minutes=29), timedelta(minutes=31)),
    (Role.PARTNER_ADMIN, timedelta(minutes=29), timedelta(minutes=31)),
    (Role.PARENT, timedelta(minutes=119), timedelta(minutes=121)),
])
def test_idle_limits_staff_thirty_minutes_families_two_hours(client, db, role, idle_ok, idle_out):
    login(client, create_user(role))
    _shift(client, last_seen=idle_ok)
    assert client.get("/").status_code == 200
    _shift(client, last_seen=idle_out)
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("role", [Role.COUNSELOR, Role.PARENT])
def test_every_session_ends_twelve_hours_after_signing_in_however_active(client, db, role):
    login(client, create_user(role))
    _shift(client, signed_in_at=timedelta(hours=11, minutes=59))
    assert client.get("/").status_code == 200
    _shift(client, signed_in_at=timedelta(minutes=2))
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert "signed out 12 hours after signing in" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_an_htmx_request_after_the_session_ended_is_sent_to_sign_in_and_back(client, db):
    login(client, create_user(Role.COUNSELOR))
    _shift(client, last_seen=timedelta(minutes=45))
    response = client.get("/caseload?tier=3", headers={
        "HX-Request": "true", "HX-Current-URL": "http://localhost/caseload?tier=3"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=%2Fcaseload%3Ftier%3D3"
    assert response.get_data(as_text=True) == ""  # nothing to swap into the fragment


def test_an_htmx_request_without_a_session_is_sent_to_sign_in_too(client, db):
    response = client.get("/caseload", headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/caseload"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=%2Fcaseload"


def test_an_htmx_request_never_names_another_site_to_come_back_to(client, db):
    response = client.get("/caseload", headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/x"})
    assert response.headers["HX-Redirect"] == "/login"


def test_after_signing_in_again_the_person_is_back_where_they_were(client, db):
    user = create_user(Role.COUNSELOR)
    login(client, user)
    _shift(client, last_seen=timedelta(minutes=31))
    location = client.get("/caseload?tier=3").headers["Location"]
    token = csrf_token(client, location)
    from tests.factories import PASSWORD

    response = client.post(location, data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/caseload?tier=3"


def test_a_raised_generation_refuses_the_cookie_at_once(client, db):
    user = create_user(Role.PRINCIPAL)
    login(client, user)
    db.session.execute(sa.update(User).where(User.id == user.id).values(session_generation=User.session_generation + 1))
    assert client.get("/").status_code == 302


def test_a_forged_session_id_is_refused(client, db):
    user = create_user(Role.PRINCIPAL)
    login(client, user)
    for forged in (f"{user.uuid}", f"{user.uuid}.x", "not-a-uuid.0", f"{user.uuid}.{user.session_generation + 1}", "\x00"):
        with client.session_transaction() as session:
            session["_user_id"] = forged
        assert client.get("/").status_code == 302, forged
