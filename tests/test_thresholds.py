"""District admins edit the indicator thresholds; each change is a new version."""
from __future__ import annotations

import sqlalchemy as sa

from casemgr.models import ThresholdSettings
from casemgr.models.enums import Role
from tests.factories import create_user
from tests.helpers import csrf_token, login

DEFAULTS = {
    "band_watch_below": "95", "band_at_risk_below": "90", "band_critical_below": "80",
    "chronic_absence_rate": "10", "severe_absence_rate": "20", "min_enrolled_days": "10",
    "ninth_grade_min_credits": "5", "ninth_grade_max_core_failures": "1",
    "credits_grade9": "5", "credits_grade10": "10", "credits_grade11": "15", "credits_grade12": "20",
    "fafsa_deadline_month": "3", "fafsa_deadline_day": "1",
}


def versions(db, district_id):
    return db.session.scalars(
        sa.select(ThresholdSettings).where(ThresholdSettings.district_id == district_id).order_by(ThresholdSettings.version)
    ).all()


def post(client, **changes):
    data = dict(DEFAULTS, **changes, csrf_token=csrf_token(client, "/admin/thresholds"))
    return client.post("/admin/thresholds", data=data)


def test_the_form_shows_the_defaults_and_an_ontario_schedule_makes_version_two(client, db):
    admin = create_user(Role.DISTRICT_ADMIN)
    login(client, admin)
    page = client.get("/admin/thresholds").get_data(as_text=True)
    assert 'value="95.0"' in page and "version 1" in page
    response = post(client, credits_grade9="8", credits_grade10="16", credits_grade11="23", credits_grade12="30")
    assert response.status_code == 302
    v1, v2 = versions(db, admin.organization_id)
    assert (v1.credits_grade9, v2.credits_grade9, v2.credits_grade12) == (5, 8, 30)
    assert v2.created_by_id == admin.id


def test_saving_unchanged_thresholds_makes_no_new_version(client, db):
    admin = create_user(Role.DISTRICT_ADMIN)
    login(client, admin)
    client.get("/admin/thresholds")
    assert post(client).status_code == 302
    assert len(versions(db, admin.organization_id)) == 1


def test_bad_thresholds_are_explained_and_nothing_is_saved(client, db):
    admin = create_user(Role.DISTRICT_ADMIN)
    login(client, admin)
    client.get("/admin/thresholds")
    cases = [
        ({"severe_absence_rate": "5"}, "Severe chronic absence must be a higher share of days than chronic absence."),
        ({"band_at_risk_below": "97"}, "The attendance bands must rise"),
        ({"credits_grade11": "9"}, "The credit schedule must not go down"),
        ({"fafsa_deadline_month": "2", "fafsa_deadline_day": "31"}, "The FAFSA date is not a real date."),
        ({"chronic_absence_rate": "abc"}, "Not a valid decimal value."),
        ({"min_enrolled_days": "0"}, "Enter a number between 1 and 60."),
        ({"chronic_absence_rate": "150"}, "Enter a percentage between 1 and 100."),
    ]
    for changes, message in cases:
        response = post(client, **changes)
        assert response.status_code == 400, changes
        assert message in response.get_data(as_text=True), changes
    assert [v.version for v in versions(db, admin.organization_id)] in ([], [1])  # only the defaults
