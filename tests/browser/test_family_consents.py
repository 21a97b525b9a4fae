"""A parent gives and revokes a consent on a phone, in Spanish (issue 6 items 2 and 11):
the youth worker sees attendance and nothing else, loses it on the next request after
the revocation, and the parent's disclosure log lists the worker's view. axe checks
every family page; none scrolls sideways at 375 px."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from casemgr.clock import today
from casemgr.extensions import db
from casemgr.models.enums import Category, Role
from tests.browser.conftest import assert_accessible, sign_in
from tests.browser.test_family import PHONE, assert_fits
from tests.factories import (
    PASSWORD,
    add_to_roster,
    create_agreement,
    create_guardian,
    create_partner,
    create_school,
    create_student,
    create_user,
)



@pytest.fixture()
def phone(browser, live_server):
    """A phone 375 px wide (the width `assert_fits` checks) and 800 px tall."""
    context = browser.new_context(base_url=live_server.url, viewport={**PHONE, "height": 800}, is_mobile=True,
                                  has_touch=True, locale="en-US")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def a_family_and_a_worker(app) -> dict:
    """A district of its own: a ninth-grader with a parent, a partner with a data-sharing
    agreement (basic details, attendance, grades), and its compliant youth worker with
    the student on the roster. No consent yet."""
    with app.app_context():
        day = today()
        school = create_school(name="Lakeview High")
        partner = create_partner("Harbor Youth Center")
        create_agreement(partner, school.district, [Category.IDENTITY, Category.ATTENDANCE, Category.GRADES],
                         purpose="After-school mentoring", starts_on=day - timedelta(days=30),
                         ends_on=day + timedelta(days=300))
        student = create_student(school, first_name="Lucia", last_name="Ortega",
                                 birth_date=day.replace(year=day.year - 14, day=1), grade=9)
        parent = create_user(Role.PARENT, school.district, full_name="Rosa Ortega")
        create_guardian(student, user=parent)
        worker = create_user(Role.YOUTH_WORKER, partner, full_name="Ana Ruiz",
                             confidentiality_signed_on=day - timedelta(days=60), ferpa_trained_on=day - timedelta(days=60))
        add_to_roster(student, partner, added_on=day - timedelta(days=10))
        world = dict(student=str(student.uuid), parent=parent.email, worker=worker.email)
        db.session.commit()
        return world


def shown_sections(page) -> list[str]:
    """The record sections the page shows rather than explains away."""
    return page.eval_on_selector_all(".record-section", "sections => sections"
                                     ".filter(s => !s.querySelector('.hidden-reason')).map(s => s.id)")


def test_a_parent_grants_and_revokes_a_consent_in_spanish_on_a_phone(phone, second_page, live_server):
    world = a_family_and_a_worker(live_server.app)
    record = f"/students/{world['student']}"

    sign_in(phone, world["parent"], PASSWORD)
    phone.get_by_role("button", name="Español").click()
    expect(phone.locator("html")).to_have_attribute("lang", "es")
    phone.get_by_role("link", name="Consentimientos: quién puede ver este expediente").click()
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Quién puede ver el expediente de")
    expect(phone.get_by_text("Todavía no se ha dado ningún consentimiento.")).to_be_visible()
    assert_fits(phone)
    assert_accessible(phone)

    phone.get_by_role("link", name="Dar consentimiento a Harbor Youth Center").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Dar consentimiento a Harbor Youth Center")
    assert_fits(phone)
    assert_accessible(phone)
    phone.get_by_label("asistencia").check()
    phone.get_by_role("button", name="Siguiente: leer y firmar").click()

    statement = phone.locator(".consent-statement")
    expect(statement).to_contain_text("Yo, Rosa Ortega, soy madre, padre o tutor de Lucia Ortega")
    expect(statement).to_contain_text("Harbor Youth Center estos registros de Lucia Ortega: la asistencia.")
    assert_fits(phone)
    assert_accessible(phone)
    phone.get_by_role("button", name="Firmar y dar consentimiento").click()
    errors = phone.locator(".error-summary")  # nothing saved yet
    expect(errors).to_contain_text("Marque la casilla")
    expect(errors).to_contain_text("Escriba su nombre completo tal como aparece en su cuenta: Rosa Ortega.")
    phone.get_by_label("He leído esta declaración y estoy de acuerdo.").check()
    phone.get_by_label("Escriba su nombre completo").fill("rosa  ortega")
    phone.get_by_role("button", name="Firmar y dar consentimiento").click()
    expect(phone.locator(".flash--success")).to_contain_text("Gracias. Desde ahora Harbor Youth Center puede ver la asistencia")
    expect(phone.locator(".consent--active")).to_contain_text("Vigente")
    assert_fits(phone)
    assert_accessible(phone)

    worker = second_page
    sign_in(worker, world["worker"], PASSWORD)
    worker.goto(record)
    attendance = worker.locator("#section-attendance")
    expect(attendance).to_be_visible()
    expect(attendance.locator(".hidden-reason")).to_have_count(0)
    assert shown_sections(worker) == ["section-attendance"]  # and nothing else

    phone.get_by_role("link", name="Revocar el consentimiento para Harbor Youth Center").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("¿Revocar el consentimiento para Harbor Youth Center?")
    assert_fits(phone)
    assert_accessible(phone)
    phone.get_by_role("button", name="Sí, revocar este consentimiento").click()
    expect(phone.locator(".flash--success")).to_contain_text("quedó revocado")
    expect(phone.locator(".consent--revoked")).to_contain_text("Revocado")

    worker.reload()
    expect(worker.locator("#consent-panel")).to_contain_text("attendance")
    assert shown_sections(worker) == []

    phone.goto(f"/family/children/{world['student']}/log")
    expect(phone.locator(".family-log")).to_contain_text("Harbor Youth Center (Ana Ruiz, trabajador")
    expect(phone.locator(".family-log__entry", has_text="Ana Ruiz").first).to_contain_text("asistencia")
    assert_fits(phone)
    assert_accessible(phone)
