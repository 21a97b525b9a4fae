"""Indicator cards on the student page: the tier in words, the attendance chart, each
card only for those who may see its categories."""
from __future__ import annotations

from datetime import date, timedelta

from casemgr import indicators
from casemgr.clock import today
from casemgr.reads.indicator_cards import CHART_HEIGHT, MIN_DAYS_TO_COMPARE, AttendanceChart, Month
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


def _months(*days_and_absences) -> list[Month]:
    """Months from September on, each (school days, days absent)."""
    return [Month(date(2026 + (8 + n) // 12, (8 + n) % 12 + 1, 1), days, absent)
            for n, (days, absent) in enumerate(days_and_absences)]


def test_the_chart_scale_starts_near_the_lowest_month_so_82_and_88_differ():
    chart = AttendanceChart(_months((50, 9), (25, 3), (21, 1)))  # 82%, 88%, 95%
    assert chart.floor == 70 and chart.ticks == [70, 90, 100]
    assert chart.height(0.88) - chart.height(0.82) >= 15  # of 100: at 0% it was 6
    assert chart.height(1.0) == CHART_HEIGHT and chart.height(0.70) == 0
    assert AttendanceChart(_months((20, 0), (20, 1))).floor == 80  # the 90% line always shows
    assert AttendanceChart(_months((20, 15))).floor == 20  # a bar never falls below the scale


def test_a_month_with_few_school_days_is_drawn_but_never_the_best():
    chart = AttendanceChart(_months((21, 2), (20, 1), (4, 0)))  # September 90%, October 95%, December 100%
    assert chart.best.month.month == 10
    assert [m.month.month for m in chart.short] == [11]  # the 4-day month (the third, November here)
    assert AttendanceChart(_months((4, 0), (3, 0))).best is None  # nothing to compare


def test_the_page_says_which_months_are_too_short_to_compare(client, db, school):  # noqa: F811
    student = enrolled_student(db, school, absences=2)  # August 9 of 11 days (82%), September 9 of 9 (100%)
    indicators.recompute(student.district_id, AS_OF)
    login(client, create_user(Role.COUNSELOR, school))
    html = " ".join(client.get(f"/students/{student.uuid}").get_data(as_text=True).split())
    assert "Scale from 70% to 100%." in html
    assert '>100%</text>' in html and '>70%</text>' in html
    assert html.count("chart__bar--short") == 1 and "chart__bar--best" not in html
    assert f"Outlined: September, with fewer than {MIN_DAYS_TO_COMPARE} school days, too few to compare." in html
