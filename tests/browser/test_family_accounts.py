"""A family account from a printed invitation letter, in the browser (issue 11 item 3):
a counselor issues a Spanish letter and prints it, and the parent claims the account
with its code on a phone, in Spanish, and lands on their home; axe finds nothing
serious on the school's page, the letter or the claim pages."""
from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa
from playwright.sync_api import expect

from casemgr.clock import today
from casemgr.extensions import db
from casemgr.models import Guardian, GuardianLink, Student, User
from tests.browser.conftest import assert_accessible, sign_in

PASSWORD = "lantern orchard bicycle thunder"


def assert_fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} scrolls sideways ({width}px)"


def a_family_without_an_account(app) -> dict:
    """A guardian with educational rights and no account, of a minor at the demo
    counselor's school."""
    cutoff = date(today().year - 17, 1, 1)
    with app.app_context():
        counselor = db.session.scalar(sa.select(User).where(User.email == "counselor@example.org"))
        guardian, student = db.session.execute(
            sa.select(Guardian, Student)
            .join(GuardianLink, GuardianLink.guardian_id == Guardian.id)
            .join(Student, Student.id == GuardianLink.student_id)
            .where(Student.school_id == counselor.organization_id, Student.postsecondary.is_(False),
                   Student.birth_date > cutoff, GuardianLink.educational_rights.is_(True), Guardian.user_id.is_(None))
            .order_by(Guardian.id.desc())
            .limit(1)
        ).one()
        return dict(guardian=guardian.full_name, guardian_id=str(guardian.uuid), student_id=str(student.uuid),
                    student=f"{student.first_name} {student.last_name}", birth_date=student.birth_date.isoformat())


def test_a_parent_claims_an_account_with_a_spanish_letter_on_a_phone(page, phone_page, live_server):
    family = a_family_without_an_account(live_server.app)

    sign_in(page, "counselor@example.org")
    page.goto(f"/students/{family['student_id']}")
    page.get_by_role("link", name="Family accounts").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Family accounts for")
    assert_accessible(page)
    person = page.locator(".claimant").filter(has_text=family["guardian"])
    expect(person).to_contain_text("No letter issued.")
    person.get_by_label("Language of the letter").select_option("es")
    person.get_by_role("button", name="Issue a letter").click()
    letter = page.locator("article.claim-letter")
    expect(letter).to_have_attribute("lang", "es")
    expect(letter.get_by_role("heading", level=1)).to_have_text("Su invitación al portal para familias")
    expect(letter).to_contain_text(family["guardian"])
    expect(letter).to_contain_text(f"{live_server.url}/claim")
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    assert_accessible(page)
    code = letter.locator(".claim-letter__code").inner_text().strip()
    assert re.fullmatch(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}", code)
    page.emulate_media(media="print")
    expect(page.locator(".release-controls")).to_be_hidden()
    expect(page.locator(".site-header")).to_be_hidden()
    expect(letter.locator(".claim-letter__code")).to_be_visible()

    phone = phone_page
    phone.set_default_timeout(10_000)
    phone.goto("/claim")
    phone.get_by_role("button", name="Español").click()
    expect(phone.locator("html")).to_have_attribute("lang", "es")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Abra su cuenta familiar")
    assert_fits(phone)
    assert_accessible(phone)

    # a wrong birth date first: the same answer as a wrong code
    phone.get_by_label("Código de la carta").fill(code.lower())
    phone.get_by_label("Fecha de nacimiento del estudiante").fill("2001-01-01")
    phone.get_by_role("button", name="Continuar").click()
    expect(phone.get_by_role("alert")).to_contain_text("no corresponden a una carta de invitación vigente")
    assert_fits(phone)
    assert_accessible(phone)

    phone.get_by_label("Código de la carta").fill(code.lower())
    phone.get_by_label("Fecha de nacimiento del estudiante").fill(family["birth_date"])
    phone.get_by_role("button", name="Continuar").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Elija su correo electrónico y su contraseña")
    expect(phone.locator("main")).to_contain_text(family["student"])
    assert_fits(phone)
    assert_accessible(phone)

    email = f"family-{family['guardian_id'][:8]}@example.org"
    phone.get_by_label("Correo electrónico").fill(email)
    phone.get_by_label("Contraseña", exact=True).fill("short")
    phone.get_by_label("Repita la contraseña").fill("short")
    phone.get_by_role("button", name="Abrir mi cuenta").click()
    expect(phone.get_by_role("alert")).to_contain_text("Use al menos 12 caracteres")
    assert_fits(phone)
    assert_accessible(phone)

    phone.get_by_label("Correo electrónico").fill(email)
    phone.get_by_label("Contraseña", exact=True).fill(PASSWORD)
    phone.get_by_label("Repita la contraseña").fill(PASSWORD)
    phone.get_by_role("button", name="Abrir mi cuenta").click()
    expect(phone).to_have_url(f"{live_server.url}/")
    expect(phone.get_by_role("status")).to_contain_text("¡Bienvenido! Su cuenta está lista.")
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Bienvenido/a")
    expect(phone.locator("main")).to_contain_text(family["student"])
    assert_fits(phone)
    assert_accessible(phone)

    # the school's page now says the guardian has an account
    page.emulate_media(media="screen")
    page.goto(f"/students/{family['student_id']}/family-accounts")
    expect(page.locator(".claimant").filter(has_text=family["guardian"])).to_contain_text("Already has an account")
