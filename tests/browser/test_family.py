"""The family portal on a phone (issue 6 items 1, 4, 9, 10): a parent switches to
Spanish, reads the child's summary and the disclosure log, at 375 px without sideways
scrolling; axe finds nothing serious on any page."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DEMO_PASSWORD, assert_accessible, sign_in

PHONE = {"width": 375, "height": 740}


@pytest.fixture()
def phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True,
                                  locale="en-US")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def assert_fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways ({width}px)"


def test_a_parent_reads_the_child_and_the_log_in_spanish_on_a_phone(phone):
    sign_in(phone, "parent@example.org")
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Welcome")
    assert_fits(phone)
    phone.get_by_role("button", name="Español").click()
    expect(phone.locator("html")).to_have_attribute("lang", "es")
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Bienvenido/a")
    card = phone.locator(".child-card").first
    expect(card).to_be_visible()
    expect(card.locator(".plain-facts, .muted").first).to_contain_text(re.compile(r"Faltó|Todavía|Ninguna|Actualizado"))
    assert_fits(phone)
    assert_accessible(phone)

    card.get_by_role("link", name="Ver el expediente completo").click()
    expect(phone.get_by_role("heading", name="Este año escolar en resumen")).to_be_visible()
    assert_fits(phone)
    assert_accessible(phone)

    phone.get_by_role("link", name="Ver quién ha consultado este expediente").click()
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Quién ha consultado el expediente de")
    expect(phone.locator(".family-log__entry").first).to_contain_text(" el ")
    assert_fits(phone)
    assert_accessible(phone)
    phone.get_by_label("Desde").fill("2000-01-01")
    phone.get_by_role("button", name="Mostrar").click()
    expect(phone).to_have_url(re.compile(r"from=2000-01-01"))
    assert_fits(phone)

    # remembered on the account: a new sign-in keeps Spanish
    phone.get_by_role("button", name="Cerrar sesión").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Iniciar sesión")
    assert_fits(phone)
    assert_accessible(phone)
    phone.get_by_label("Correo electrónico").fill("parent@example.org")
    phone.get_by_label("Contraseña").fill(DEMO_PASSWORD)
    phone.get_by_role("button", name="Iniciar sesión").click()
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Bienvenido/a")
    phone.get_by_role("button", name="English").click()
    expect(phone.locator("html")).to_have_attribute("lang", "en")


def test_a_student_reads_their_own_record_on_a_phone(phone):
    sign_in(phone, "student@example.org")
    expect(phone.locator(".child-card")).to_have_count(1)
    assert_fits(phone)
    assert_accessible(phone)
    phone.get_by_role("link", name="See who has looked at this record").click()
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Who has looked at the record of")
    assert_fits(phone)
    assert_accessible(phone)
