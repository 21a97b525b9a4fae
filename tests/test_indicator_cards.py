"""Indicator cards on the student page: the tier in words, the attendance chart, each
card only for those who may see its categories."""
from __future__ import annotations

from datetime import timedelta

from casemgr import indicators
from casemgr.clock import today
from casemgr.models.enums import Role
from tests.factories import add_to_roster, create_agreement, create_consent, create_partner, create_user
from tests.helpers import login
from tests.test_indicators import AS_OF, _mark, _section, enrolled_student, school  # noqa: F401  (fixture)

TODAY = today()


def test_counselor_reads_the_tier_in_words_and_the_chart(client, db, school):  # noqa: F811
    student = enrolled_student(db, school, absences=5)  # 25% missed: severe
    _mark(db, student, _section(db, school, "math", local_id="m1"), failing=True)
    _mark(db, student, _section(db, school, "other", local_id="o1"), failing=True)
    indicators.recompute(student.district_id, AS_OF)
    login(client, create_user(Role.COUNSELOR, school))
    html = client.get(f"/students/{student.uuid}").get_data(as_text=True)
    assert "Tier 3: severe chronic absence, 25% of days missed; 2 course failures (English or math)" in html
    assert "Missed 5 of 20 school days: severe chronic absence." in html
    assert f"As of {AS_OF.day} {AS_OF:%B %Y}" in html
    assert "<svg" in html and "Attendance rate by month" in html
    assert "thresholds version 1" in html


def test_partner_with_attendance_only_sees_the_attendance_card_and_no_tier(client, db, school):  # noqa: F811
    student = enrolled_student(db, school, absences=3)
    indicators.recompute(student.district_id, AS_OF)
    partner = create_partner("Northside Youth")
    long_ago, later = TODAY - timedelta(days=400), TODAY + timedelta(days=400)
    create_agreement(partner, school.district, categories=["identity", "attendance"], starts_on=long_ago, ends_on=later)
    create_consent(student, partner, categories=["identity", "attendance"], signed_on=long_ago, expires_on=later)
    add_to_roster(student, partner, added_on=long_ago)
    login(client, create_user(Role.YOUTH_WORKER, partner, confidentiality_signed_on=TODAY, ferpa_trained_on=TODAY))
    html = client.get(f"/students/{student.uuid}").get_data(as_text=True)
    assert "Missed 3 of 20 school days" in html
    assert "Risk tier" not in html and "Tier 2" not in html
    assert "Course failures" not in html


def test_no_cards_before_indicators_are_computed(client, db, school):  # noqa: F811
    student = enrolled_student(db, school, absences=3)
    login(client, create_user(Role.COUNSELOR, school))
    html = client.get(f"/students/{student.uuid}").get_data(as_text=True)
    assert "Risk tier" not in html
    assert client.get(f"/students/{student.uuid}").status_code == 200


def test_a_new_support_plan_starts_from_the_computed_tier(client, db, school):  # noqa: F811
    student = enrolled_student(db, school, absences=5)  # severe: tier 3
    indicators.recompute(student.district_id, AS_OF)
    login(client, create_user(Role.COUNSELOR, school))
    html = client.get(f"/students/{student.uuid}/plans/new").get_data(as_text=True)
    assert '<option selected value="3">' in html or '<option value="3" selected>' in html
