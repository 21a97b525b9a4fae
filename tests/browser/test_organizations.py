"""A district admin adds a school and renames it, on a desktop and at phone width."""
from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, sign_in


def test_district_admin_adds_and_renames_a_school(page):
    code = f"HS-{uuid.uuid4().hex[:6].upper()}"
    sign_in(page, "admin@example.org")
    page.get_by_role("link", name="Organizations").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Organizations")
    assert_accessible(page)

    page.get_by_label("Kind").select_option("school")
    page.get_by_label("Code").fill(code)
    page.get_by_label("Name", exact=True).fill("Lakeview High School")
    page.get_by_role("button", name="Add organization").click()
    expect(page.get_by_label("Level (schools only)")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)  # the page with its error summary

    page.get_by_label("Level (schools only)").select_option("high")
    page.get_by_role("button", name="Add organization").click()
    expect(page.get_by_text(f"School Lakeview High School ({code}) added.")).to_be_visible()

    page.get_by_role("link", name="Rename Lakeview High School").click()
    page.get_by_label("New name").fill("Lakeview Collegiate")
    page.get_by_role("button", name="Save the name").click()
    expect(page.get_by_text("Lakeview High School is now Lakeview Collegiate.")).to_be_visible()
    expect(page.get_by_role("row", name=f"Lakeview Collegiate {code}")).to_be_visible()


def test_organizations_page_at_phone_width(phone_page):
    sign_in(phone_page, "admin@example.org")
    phone_page.goto("/admin/organizations")
    expect(phone_page.get_by_role("button", name="Add organization")).to_be_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(phone_page)
