"""Defects seen on the seeded demo (issue 14, item 5), where the fault is visual: each
checked in the browser by where things are drawn, and axe-checked."""
from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import expect

from casemgr.extensions import db
from casemgr.models import Flag, Student, User
from tests.browser.conftest import assert_accessible, sign_in


def _inside(inner: dict, outer: dict) -> bool:
    return (inner["x"] >= outer["x"] - 0.5 and inner["y"] >= outer["y"] - 0.5
            and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
            and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5)


def test_the_attendance_chart_shows_its_whole_scale(page):
    """"100%" is drawn whole, not clipped to "00%", and the scale's floor is labelled."""
    sign_in(page, "counselor@example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Caseload").click()
    page.locator("#caseload-results tbody th a").first.click()
    chart = page.locator("svg.chart__svg")
    expect(chart).to_be_visible()
    page.wait_for_load_state()  # measured with the stylesheet applied
    svg = chart.bounding_box()
    labels = chart.locator("text.chart__axis[text-anchor='end']")
    for n in range(labels.count()):
        assert _inside(labels.nth(n).bounding_box(), svg), labels.nth(n).text_content()
    assert labels.count() == 3  # the floor, the 90% line, 100%
    expect(labels.last).to_have_text("100%")
    expect(page.locator(".chart__note")).to_contain_text("Scale from")
    assert_accessible(page)


def _on_one_line(box: dict, label: dict) -> bool:
    """The box's middle lies within the label's first line, and it stands before it."""
    middle = box["y"] + box["height"] / 2
    return label["y"] <= middle <= label["y"] + min(label["height"], 2 * box["height"]) and box["x"] < label["x"]


def _padding(locator) -> tuple[float, float]:
    style = locator.evaluate("e => [getComputedStyle(e).paddingTop, getComputedStyle(e).paddingLeft]")
    return float(style[0].removesuffix("px")), float(style[1].removesuffix("px"))


def test_the_familys_consent_request_and_form_keep_buttons_padded_and_boxes_beside_labels(page):
    sign_in(page, "parent@example.org")
    page.get_by_role("link", name="Answer the requests").click()
    request = page.locator(".consent-request").first
    review = request.get_by_role("link", name="Review and give consent")
    expect(review).to_be_visible()
    page.wait_for_load_state()  # measured with the stylesheet applied
    for button in (review, request.get_by_role("link", name="Say no")):
        top, left = _padding(button)
        assert top >= 6 and left >= 12, (top, left)
    review.click()
    options = page.locator(".checkbox-list li")
    expect(options.first).to_be_visible()
    page.wait_for_load_state()
    for n in range(options.count()):
        box, label = options.nth(n).locator("input").bounding_box(), options.nth(n).locator("label").bounding_box()
        assert _on_one_line(box, label), (box, label)
    assert_accessible(page)


def test_the_referral_forms_radio_buttons_sit_beside_their_labels(page, live_server):
    with live_server.app.app_context():
        counselor = db.session.scalar(sa.select(User).where(User.email == "counselor@example.org"))
        flag = db.session.scalar(
            sa.select(Flag).join(Student, Student.id == Flag.student_id)
            .where(Student.school_id == counselor.organization_id, Flag.status == "open")
            .order_by(Flag.id).limit(1))
        assert flag is not None, "the seeded school has no open flag"
        flag_id = flag.uuid
    sign_in(page, "counselor@example.org")
    page.goto(f"/flags/{flag_id}/refer")
    radios = page.locator(".option input[type='radio']")
    expect(radios.first).to_be_visible()
    page.wait_for_load_state()
    for n in range(radios.count()):
        radio = radios.nth(n)
        label = page.locator(f"label[for='{radio.get_attribute('id')}']")
        assert _on_one_line(radio.bounding_box(), label.bounding_box())
    assert_accessible(page)


def test_ending_an_agreement_asks_first_and_says_what_stops(page):
    sign_in(page, "admin@example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Agreements").click()
    page.get_by_role("link", name="End today… the agreement with Northside Youth").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("End the data-sharing agreement with Northside Youth today?")
    expect(page.locator("main")).to_contain_text("Northside Youth's staff stop seeing the records of")
    expect(page.locator("main")).to_contain_text("can no longer receive referrals")
    assert_accessible(page)
    page.get_by_role("link", name="No, keep it").click()  # nothing ended
    expect(page.get_by_role("heading", level=1)).to_have_text("Agreements")
    expect(page.get_by_role("link", name="End today… the agreement with Northside Youth")).to_be_visible()
    assert_accessible(page)
