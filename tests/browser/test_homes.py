"""The homes as work queues (issue 14, item 1): a teacher reaches a student from their
section list, and every school role's home passes axe."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, sign_in


def test_teacher_reaches_a_student_from_their_section_list(page):
    sign_in(page, "teacher@example.org")
    classes = page.locator(".classes")
    expect(classes.locator(".class-section").first).to_be_visible()
    assert_accessible(page)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My classes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My classes")
    assert_accessible(page)
    first = page.locator(".class-section").first
    name = first.locator("tbody th a").first.inner_text()
    first.locator("tbody th a").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name.split()[-1])
    expect(page.locator(".card--attendance")).to_be_visible()


@pytest.mark.parametrize("email, heading", [
    ("counselor@example.org", "What needs you"),
    ("principal@example.org", "What needs you"),
    ("admin@example.org", "What needs you"),
    ("teacher@example.org", "Your classes"),
    ("worker@example.org", "Your roster"),
])
def test_each_school_roles_home_is_accessible(page, email, heading):
    sign_in(page, email)
    expect(page.get_by_role("heading", level=2, name=heading).first).to_be_visible()
    assert_accessible(page)


def test_counselor_chooses_the_date_changes_count_from(page):
    sign_in(page, "counselor@example.org")
    page.get_by_label("Changes since").fill("2026-09-01")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"since=2026-09-01"))
    expect(page.get_by_label("Changes since")).to_have_value("2026-09-01")
    expect(page.locator("#queue-tiers")).to_be_visible()
    assert_accessible(page)
