"""The printable release form and amendment requests in the browser (issue 6 items 5
and 7): at phone width a parent asks the school to correct the record and sees the
request waiting, a student prints a release form, and the print view shows the form
alone; axe finds nothing serious on any page."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, sign_in
from tests.browser.test_family import assert_fits, phone  # noqa: F401  (fixture)


def test_a_parent_asks_the_school_to_correct_the_record_on_a_phone(phone):
    sign_in(phone, "parent@example.org")
    phone.locator(".child-card").first.get_by_role("link", name="See the whole record").click()
    section = phone.locator("#amendments")
    expect(section.get_by_role("heading", name="Requests to correct the record")).to_be_visible()
    section.get_by_role("link", name="Ask the school to correct something").click()
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Ask the school to correct the record of")
    assert_fits(phone)
    assert_accessible(phone)

    phone.get_by_role("button", name="Send the request").click()  # nothing chosen, nothing written
    expect(phone.get_by_role("alert")).to_contain_text("Choose which part of the record is wrong.")
    assert_fits(phone)
    assert_accessible(phone)

    phone.get_by_label("Which part of the record is wrong?").select_option("attendance")
    phone.get_by_label("Which item or date (optional)").fill("The Monday before last")
    phone.get_by_label("What is wrong, and what should it say?").fill(
        "My child was at school that day <b>all day</b>; please mark it present.")
    phone.get_by_role("button", name="Send the request").click()
    expect(phone).to_have_url(re.compile(r"/family/children/[0-9a-f-]+#amendments$"))
    expect(phone.get_by_role("status")).to_contain_text("Your request was sent to the school.")
    request = phone.locator("#amendments .amendment").first
    expect(request).to_contain_text("Waiting for the school's answer")
    expect(request).to_contain_text("<b>all day</b>")  # shown as typed, never as markup
    assert_fits(phone)
    assert_accessible(phone)


def test_a_student_prints_a_release_form_and_the_print_view_is_the_form_alone(phone):
    sign_in(phone, "student@example.org")
    phone.get_by_role("link", name="See the whole record").first.click()
    forms = phone.locator("section[aria-labelledby='release-heading']")
    expect(forms.get_by_role("heading", name="Release forms to print")).to_be_visible()
    forms.get_by_role("link", name=re.compile(r"^Español")).first.click()
    expect(phone.locator("article.release-form")).to_have_attribute("lang", "es")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Consentimiento para compartir expedientes educativos")
    expect(phone.get_by_role("button", name="Print")).to_be_visible()  # the page around it stays English
    assert_fits(phone)
    assert_accessible(phone)

    phone.get_by_role("link", name="English").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Consent to share education records")
    assert_fits(phone)
    assert_accessible(phone)

    phone.emulate_media(media="print")
    expect(phone.locator(".site-nav")).to_be_hidden()
    expect(phone.locator(".site-header")).to_be_hidden()
    expect(phone.locator(".site-footer")).to_be_hidden()
    expect(phone.locator(".release-controls")).to_be_hidden()
    expect(phone.get_by_role("button", name="Print")).to_be_hidden()
    expect(phone.locator("article.release-form")).to_be_visible()
    expect(phone.locator(".tickbox").first).to_be_visible()
    colour = phone.locator(".release-form__law").evaluate("e => getComputedStyle(e).color")
    assert colour == "rgb(0, 0, 0)"


def test_a_counselor_answers_a_request_and_prints_a_spanish_form(page, phone):
    sign_in(phone, "parent@example.org")
    phone.locator(".child-card").first.get_by_role("link", name="See the whole record").click()
    phone.get_by_role("link", name="Ask the school to correct something").click()
    phone.get_by_label("Which part of the record is wrong?").select_option("contact")
    phone.get_by_label("What is wrong, and what should it say?").fill("Our phone number changed.")
    phone.get_by_role("button", name="Send the request").click()
    expect(phone.get_by_role("status")).to_contain_text("Your request was sent to the school.")

    sign_in(page, "counselor@example.org")
    expect(page.locator(".site-nav a[href='/amendments'] .nav-count")).to_be_visible()
    page.get_by_role("link", name=re.compile(r"^Amendment requests")).click()
    assert_accessible(page)
    page.get_by_role("row").filter(has_text="Contact details").first.get_by_role("link").click()
    expect(page.get_by_text("Our phone number changed.")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Accept: the record will be corrected").check()
    page.get_by_label("What was done, or why the record stays as it is").fill("Updated the phone number.")
    page.get_by_role("button", name="Record the answer").click()
    expect(page.get_by_role("status")).to_contain_text("Answer recorded.")

    phone.reload()
    answered = phone.locator("#amendments .amendment").filter(has_text="Our phone number changed.")
    expect(answered).to_contain_text("Accepted: the school will correct the record")
    expect(answered).to_contain_text("Updated the phone number.")

    page.get_by_role("link", name="Back to the record").click()
    page.get_by_role("link", name="Consents", exact=True).click()
    page.get_by_role("link", name=re.compile(r"^Español")).first.click()
    expect(page.locator("article.release-form")).to_have_attribute("lang", "es")
    assert_accessible(page)
