"""A person who keeps typing a wrong password is paused, and told until when."""
from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import PASSWORD, create_user


def _new_account(live_server) -> str:
    """An account of this test's own, so no other test's sign-ins are throttled."""
    from sqlalchemy import select

    from casemgr.extensions import db
    from casemgr.models import User
    from casemgr.models.enums import Role

    with live_server.app.app_context():
        school = db.session.scalar(select(User).where(User.email == "counselor@example.org")).organization
        user = create_user(Role.COUNSELOR, school, email=f"paused-{uuid.uuid4().hex[:10]}@example.test")
        db.session.commit()
        return user.email


def test_repeated_wrong_passwords_pause_sign_in_and_say_until_when(page, live_server):
    email = _new_account(live_server)
    for _ in range(5):
        sign_in(page, email, password="wrong-password-again")
        expect(page.get_by_text("That email and password do not match an account.")).to_be_visible()

    with page.expect_response(lambda r: r.request.method == "POST" and "/login" in r.url) as answer:
        sign_in(page, email, password=PASSWORD)  # right now, but too late: it is not checked
    response = answer.value
    assert response.status == 429
    assert 50 <= int(response.headers["retry-after"]) <= 60
    expect(page.get_by_role("heading", level=1)).to_have_text("Too many attempts")
    expect(page.get_by_text(re.compile(r"Please try again in 1 minute, at \d{1,2}:\d{2}"))).to_be_visible()
    assert_accessible(page)

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))  # not signed in


def test_the_pause_page_is_in_spanish_on_a_phone(phone_page, live_server):
    email = _new_account(live_server)
    phone_page.context.add_cookies([{"name": "casemgr_language", "value": "es", "url": live_server.url}])
    for _ in range(6):
        phone_page.goto("/login")
        phone_page.get_by_label("Correo electrónico").fill(email)
        phone_page.get_by_label("Contraseña").fill("wrong-password-again")
        phone_page.get_by_role("button", name="Iniciar sesión").click()
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Demasiados intentos")
    expect(phone_page.get_by_text(re.compile(r"Vuelva a intentarlo en 1 minuto, a las"))).to_be_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(phone_page)
