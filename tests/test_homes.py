"""The homes as work queues (issue 14, item 1): each item comes from the situation that
should produce it, nothing from another school or a finished case, every student shown
is logged as one list entry, and each home reads in a fixed number of statements."""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from casemgr.clock import today
from casemgr.models import AmendmentRequest, AmendmentRequestEvent, DisclosureEntry, Organization, SchoolYear
from casemgr.models.enums import Category, Role
from tests.factories import (
    create_check_in,
    create_consent,
    create_flag,
    create_partner,
    create_referral,
    create_school,
    create_student,
    create_support_plan,
    create_user,
)
from tests.helpers import login

TODAY = today()
YEAR = TODAY.year if TODAY.month >= 8 else TODAY.year - 1
LONG_AGO = datetime.now(UTC) - timedelta(days=90)


@pytest.fixture()
def school(db):
    school = create_school(name="Riverside High")
    db.session.add(SchoolYear(district_id=school.district_id, year=YEAR, starts_on=TODAY.replace(year=YEAR, month=8, day=15),
                              ends_on=TODAY.replace(year=YEAR + 1, month=6, day=15)))
    db.session.flush()
    return school


@contextmanager
def counting(db):
    """The statements run inside the block: `counted[0]` after it."""
    counted = [0]

    def count(*args, **kwargs):
        counted[0] += 1

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield counted
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


def home(client, query: str = "") -> str:
    response = client.get(f"/{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def section(html: str, key: str) -> str:
    """The HTML of one section of the queue."""
    found = re.search(rf'<section class="queue__part" id="queue-{key}".*?</section>', html, re.S)
    assert found, key
    return found.group(0)


def list_entries(db, user) -> list[DisclosureEntry]:
    return db.session.scalars(sa.select(DisclosureEntry).where(DisclosureEntry.user_id == user.id)).all()


# --- counselor and principal ------------------------------------------------------------------


def school_situation(db, school):
    """One student per queue item, and their near misses."""
    counselor = create_user(Role.COUNSELOR, school)
    other_school = create_school(db.session.get(Organization, school.district_id))
    partner = create_partner(name="Northside Youth")
    s = {name: create_student(school, last_name=name) for name in (
        "Flagged", "Planned", "Closedflag", "Overdue", "Checkedin", "Declined", "Oldreferral", "Sentonly",
        "Correcting", "Answered", "Ending", "Renewed", "Lasting")}
    elsewhere = create_student(other_school, last_name="Elsewhere")
    # open flags without a plan: Flagged yes; Planned has an open plan; Closedflag is closed
    create_flag(s["Flagged"], counselor, need="tutoring", created_at=LONG_AGO)
    flag = create_flag(s["Planned"], counselor)
    create_support_plan(s["Planned"], counselor, flag_id=flag.id, starts_on=TODAY)
    create_flag(s["Closedflag"], counselor, status="closed", closed_at=LONG_AGO)
    create_flag(elsewhere, counselor)
    # check-ins: Overdue's plan began 20 days ago, weekly, last check-in 10 days ago
    plan = create_support_plan(s["Overdue"], counselor, starts_on=TODAY - timedelta(days=20))
    create_check_in(plan, counselor, TODAY - timedelta(days=10))
    fresh = create_support_plan(s["Checkedin"], counselor, starts_on=TODAY - timedelta(days=20))
    create_check_in(fresh, counselor, TODAY - timedelta(days=2))
    create_support_plan(s["Checkedin"], counselor, starts_on=TODAY - timedelta(days=30), status="closed",
                        closed_on=TODAY - timedelta(days=1), closed_at=LONG_AGO)
    # referrals: declined today; declined 90 days ago; only sent
    create_referral(s["Declined"], partner, counselor, status="declined")
    create_referral(s["Oldreferral"], partner, counselor, status="closed", updated_at=LONG_AGO)
    create_referral(s["Sentonly"], partner, counselor, status="sent")
    create_referral(elsewhere, partner, counselor, status="accepted")
    # correction requests: one open, one answered
    parent = create_user(Role.PARENT, db.session.get(Organization, school.district_id))
    db.session.add(AmendmentRequest(student_id=s["Correcting"].id, requested_by_id=parent.id, part="attendance",
                                    message="She was here on 3 October"))
    answered = AmendmentRequest(student_id=s["Answered"].id, requested_by_id=parent.id, part="attendance",
                                message="Wrong day")
    db.session.add(answered)
    db.session.flush()
    db.session.add(AmendmentRequestEvent(request_id=answered.id, decision="accepted", answer="Fixed",
                                         decided_by_id=counselor.id))
    # consents: ending in 10 days; ending in 10 days but renewed; ending in 90 days
    create_consent(s["Ending"], partner, expires_on=TODAY + timedelta(days=10), signed_on=TODAY - timedelta(days=60))
    create_consent(s["Renewed"], partner, expires_on=TODAY + timedelta(days=10), signed_on=TODAY - timedelta(days=60))
    create_consent(s["Renewed"], partner, expires_on=TODAY + timedelta(days=300), signed_on=TODAY)
    create_consent(s["Lasting"], partner, expires_on=TODAY + timedelta(days=90), signed_on=TODAY - timedelta(days=60))
    create_consent(elsewhere, partner, expires_on=TODAY + timedelta(days=5), signed_on=TODAY - timedelta(days=60))
    db.session.flush()
    return counselor, s, elsewhere


@pytest.mark.parametrize("role", [Role.COUNSELOR, Role.PRINCIPAL])
def test_school_queue_items_come_from_their_situations(client, db, school, role):
    counselor, s, elsewhere = school_situation(db, school)
    user = counselor if role is Role.COUNSELOR else create_user(role, school)
    login(client, user)
    html = home(client)
    flags = section(html, "flags")
    assert " Flagged</a>" in flags and "Tutoring" in flags
    assert "Planned" not in flags and "Closedflag" not in flags
    check_ins = section(html, "check_ins")
    assert " Overdue</a>" in check_ins and "3 days overdue" in check_ins
    assert "Checkedin" not in check_ins
    referrals = section(html, "referrals")
    assert " Declined</a>" in referrals and "Northside Youth" in referrals and "Declined" in referrals
    assert "Oldreferral" not in referrals and "Sentonly" not in referrals
    corrections = section(html, "corrections")
    assert " Correcting</a>" in corrections and "Answered" not in corrections
    consents = section(html, "consents")
    assert " Ending</a>" in consents and "in 10 days" in consents
    assert "Renewed" not in consents and "Lasting" not in consents
    assert "Elsewhere" not in html
    # each item links to where the work is done
    plan_link = re.search(r'href="/plans/[0-9a-f-]{36}[^<]* Overdue<', check_ins)
    assert plan_link and re.search(r'href="/referrals/[0-9a-f-]{36}[^<]* Declined<', referrals)
    assert re.search(r'href="/amendments/[0-9a-f-]{36}[^<]* Correcting<', corrections)
    assert f'href="/students/{s["Flagged"].uuid}"' in flags


def test_school_queue_since_a_chosen_date(client, db, school):
    counselor, s, _ = school_situation(db, school)
    login(client, counselor)
    long_ago = (TODAY - timedelta(days=120)).isoformat()
    referrals = section(home(client, f"?since={long_ago}"), "referrals")
    assert " Oldreferral</a>" in referrals and " Declined</a>" in referrals
    assert referrals.index(" Declined</a>") < referrals.index(" Oldreferral</a>")  # declined first
    assert f'value="{(TODAY - timedelta(days=30)).isoformat()}"' in home(client)


@pytest.mark.parametrize("since", ["tomorrow", "2999-01-01", "1900-01-01", "2026-02-30", "x" * 500])
def test_school_queue_refuses_a_bad_date_with_a_message(client, db, school, since):
    login(client, create_user(Role.COUNSELOR, school))
    html = home(client, f"?since={since}")
    assert 'class="field-error"' in html
    assert f'value="{(TODAY - timedelta(days=30)).isoformat()}"' in html


def test_school_queue_is_logged_as_one_list_entry(client, db, school):
    counselor, s, elsewhere = school_situation(db, school)
    login(client, counselor)
    home(client)
    entries = list_entries(db, counselor)
    assert len(entries) == 1
    shown = {s[name].id for name in ("Flagged", "Overdue", "Declined", "Correcting", "Ending")}
    assert set(entries[0].student_ids) == shown
    assert entries[0].basis == {c: "school_official" for c in entries[0].categories}
    assert {str(Category.IDENTITY), str(Category.SERVICES)} <= set(entries[0].categories)


def test_school_queue_reads_in_a_fixed_number_of_statements(client, db, school):
    counselor, _, _ = school_situation(db, school)
    login(client, counselor)
    counts = []
    for _ in range(3):
        with counting(db) as counted:
            home(client)
        counts.append(counted[0])
        school_situation(db, school)  # as many items again in every section
    assert len(set(counts)) == 1, counts
    assert counts[0] <= 8, counts
