"""The homes as work queues (issue 14, item 1): each item comes from the situation that
should produce it, nothing from another school or a finished case, every student shown
is logged as one list entry, and each home reads in a fixed number of statements."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from casemgr.clock import today
from casemgr.models import (
    AmendmentRequest,
    AmendmentRequestEvent,
    ConsentAsk,
    DataSharingAgreement,
    DisclosureEntry,
    ImportBatch,
    Note,
    Organization,
    SchoolYear,
    SectionEnrollment,
    TierChange,
)
from casemgr.models.enums import Category, Role
from casemgr.services.disclosure import NAME_ONLY
from tests.factories import (
    add_to_roster,
    create_agreement,
    create_check_in,
    create_consent,
    create_district,
    create_flag,
    create_indicator,
    create_mark,
    create_partner,
    create_referral,
    create_school,
    create_section,
    create_service_agreement,
    create_student,
    create_support_plan,
    create_user,
)
from tests.helpers import login, logout, statements_counted

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


def statement_counts(db, client, add_more, times: int = 3) -> list[int]:
    """The statements of the home page, read `times` times with `add_more()` between."""
    counts = []
    for _ in range(times):
        with statements_counted() as counted:
            home(client)
        counts.append(counted[0])
        add_more()
    return counts


def home(client, query: str = "") -> str:
    response = client.get(f"/{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def section(html: str, key: str) -> str:
    """The HTML of one section of the queue."""
    return section_of(html, f"queue-{key}")


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
        "Correcting", "Answered", "Ending", "Renewed", "Lasting", "Asked", "Handledask")}
    elsewhere = create_student(other_school, last_name="Elsewhere")
    tier_story(db, s["Flagged"], (40, 1), (10, 3))
    tier_story(db, elsewhere, (40, 1), (10, 3))
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
    # requests for consent: one open, one handled
    worker = create_user(Role.YOUTH_WORKER, partner)
    for student in (s["Asked"], s["Handledask"], elsewhere):
        db.session.add(ConsentAsk(student_id=student.id, organization_id=partner.id, categories=["attendance"],
                                  asked_by_id=worker.id))
    db.session.flush()
    handled = db.session.scalar(sa.select(ConsentAsk).where(ConsentAsk.student_id == s["Handledask"].id))
    handled.handled_at, handled.handled_by_id = datetime.now(UTC), counselor.id
    db.session.flush()
    return counselor, s, elsewhere


def tier_story(db, student, *changes):
    """The student's tier history, (days ago, tier) each, and their tier now (the last)."""
    for days_ago, tier in changes:
        db.session.add(TierChange(student_id=student.id, school_year=YEAR, since=TODAY - timedelta(days=days_ago),
                                  tier=tier))
    create_indicator(student, YEAR, tier=changes[-1][1])
    return student


def test_school_queue_shows_who_became_tier_3_or_rose_a_tier(client, db, school):
    counselor = create_user(Role.COUNSELOR, school)
    rose = tier_story(db, create_student(school, last_name="Rose"), (40, 1), (10, 2))
    tier_story(db, create_student(school, last_name="Jumped"), (40, 1), (5, 3))
    tier_story(db, create_student(school, last_name="Newthree"), (5, 3))
    tier_story(db, create_student(school, last_name="Steady"), (40, 3))
    tier_story(db, create_student(school, last_name="Fell"), (40, 3), (10, 2))
    tier_story(db, create_student(school, last_name="Earlier"), (80, 1), (50, 2))
    tier_story(db, create_student(school, last_name="Newone"), (5, 1))
    other = create_school(db.session.get(Organization, school.district_id))
    tier_story(db, create_student(other, last_name="Otherschool"), (40, 1), (10, 3))
    login(client, counselor)
    tiers = section(home(client), "tiers")
    assert " Rose</a>" in tiers and "tier 1 → <strong>tier 2</strong>" in tiers
    assert " Jumped</a>" in tiers and " Newthree</a>" in tiers
    for absent in ("Steady", "Fell", "Earlier", "Newone", "Otherschool"):
        assert absent not in tiers, absent
    assert tiers.index(" Jumped</a>") < tiers.index(" Newthree</a>") < tiers.index(" Rose</a>")  # tier 3, largest rise
    assert f'href="/students/{rose.uuid}"' in tiers
    earlier = section(home(client, f"?since={(TODAY - timedelta(days=60)).isoformat()}"), "tiers")
    assert " Earlier</a>" in earlier and " Jumped</a>" in earlier
    assert " Rose</a>" not in earlier  # no tier recorded 60 days ago, and not tier 3 now


@pytest.mark.parametrize("role", [Role.COUNSELOR, Role.PRINCIPAL])
def test_school_queue_items_come_from_their_situations(client, db, school, role):
    counselor, s, _ = school_situation(db, school)
    user = counselor if role is Role.COUNSELOR else create_user(role, school)
    login(client, user)
    html = home(client)
    assert " Flagged</a>" in section(html, "tiers")
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
    asks = section(html, "consent_asks")
    assert " Asked</a>" in asks and "Northside Youth asked on" in asks and "Handledask" not in asks
    assert f'href="/students/{s["Asked"].uuid}#consent-asks"' in asks
    assert "Elsewhere" not in html
    # each item links to where the work is done
    plan_link = re.search(r'href="/plans/[0-9a-f-]{36}[^<]* Overdue<', check_ins)
    assert plan_link and re.search(r'href="/referrals/[0-9a-f-]{36}[^<]* Declined<', referrals)
    assert re.search(r'href="/amendments/[0-9a-f-]{36}[^<]* Correcting<', corrections)
    assert f'href="/students/{s["Flagged"].uuid}"' in flags


def test_school_queue_since_a_chosen_date(client, db, school):
    counselor, _, _ = school_situation(db, school)
    login(client, counselor)
    long_ago = (TODAY - timedelta(days=120)).isoformat()
    referrals = section(home(client, f"?since={long_ago}"), "referrals")
    assert " Oldreferral</a>" in referrals and " Declined</a>" in referrals
    assert referrals.index(" Declined</a>") < referrals.index(" Oldreferral</a>")  # declined first
    assert f'value="{(TODAY - timedelta(days=30)).isoformat()}"' in home(client)


def test_a_counselor_moved_to_another_school_sees_that_schools_queue_at_once(client, db, school):
    """The queue's statement is built once per user and day and then reused: a change to
    the user's row (here, their school) builds another, never reads the one before."""
    counselor = create_user(Role.COUNSELOR, school)
    tier_story(db, create_student(school, last_name="Riverbank"), (40, 1), (5, 3))
    other = create_school(db.session.get(Organization, school.district_id), name="Hilltop High")
    tier_story(db, create_student(other, last_name="Hillside"), (40, 1), (5, 3))
    login(client, counselor)
    for _ in range(2):  # the second reads the statement the first built
        tiers = section(home(client), "tiers")
        assert " Riverbank</a>" in tiers and "Hillside" not in tiers
    counselor.organization_id = other.id
    db.session.flush()
    tiers = section(home(client), "tiers")
    assert " Hillside</a>" in tiers and "Riverbank" not in tiers


@pytest.mark.parametrize(("zone", "shown"), [("Pacific/Kiritimati", "2 December 2026"),
                                             ("Pacific/Pago_Pago", "1 December 2026")])
def test_school_queue_dates_are_the_districts_days(client, db, school, monkeypatch, app, zone, shown):
    """A flag raised at 12:30 UTC on 1 December was raised on 2 December in a district at
    UTC+14 and on 1 December at UTC-11: the queue says the district's day, not the
    database server's."""
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_TIMEZONE", zone)
    counselor = create_user(Role.COUNSELOR, school)
    create_flag(create_student(school, last_name="Late"), counselor, created_at=datetime(2026, 12, 1, 12, 30, tzinfo=UTC))
    login(client, counselor)
    assert f"flagged on {shown}, no support plan yet" in section(home(client), "flags")


@pytest.mark.parametrize("since", ["tomorrow", "2999-01-01", "1900-01-01", "2026-02-30", "x" * 500])
def test_school_queue_refuses_a_bad_date_with_a_message(client, db, school, since):
    login(client, create_user(Role.COUNSELOR, school))
    html = home(client, f"?since={since}")
    assert 'class="field-error"' in html
    assert f'value="{(TODAY - timedelta(days=30)).isoformat()}"' in html


def test_a_counselor_with_a_caseload_starts_from_their_own_students(client, db, school):
    """The queue of a counselor who has a caseload is about their students, with the
    whole school one click away; a counselor without one sees the whole school."""
    from casemgr.services import caseloads

    counselor, s, _ = school_situation(db, school)
    principal = create_user(Role.PRINCIPAL, school)
    caseloads.assign_students(principal, school, counselor, f"{s['Flagged'].state_id}, {s['Ending'].state_id}")
    login(client, counselor)
    html = home(client)
    assert 'aria-current="page">My students' in html
    assert " Flagged</a>" in section(html, "flags") and " Ending</a>" in section(html, "consents")
    for elsewhere in ("Overdue", "Declined", "Correcting", "Asked"):
        assert f" {elsewhere}</a>" not in html, elsewhere
    whole = home(client, "?scope=school")
    assert 'aria-current="page">Whole school' in whole
    assert " Overdue</a>" in section(whole, "check_ins") and " Asked</a>" in section(whole, "consent_asks")
    logout(client)
    login(client, create_user(Role.COUNSELOR, school))  # no caseload: the whole school, no switch
    other = home(client)
    assert "My students" not in other and " Overdue</a>" in section(other, "check_ins")


def test_school_queue_logs_each_student_with_what_their_sections_show(client, db, school):
    """One list entry per set of categories shown: a student who is only in "consents
    ending" is logged for their name, not for their grades."""
    counselor, s, _ = school_situation(db, school)
    login(client, counselor)
    home(client)
    logged = {}
    for entry in list_entries(db, counselor):
        assert entry.basis == {c: "school_official" for c in entry.categories}
        for student_id in entry.student_ids or [entry.student_id]:
            assert student_id not in logged
            logged[student_id] = set(entry.categories)
    tiers = {"attendance", "behavior", "college", "grades", "identity"}
    assert logged == {
        s["Flagged"].id: tiers | {"services"},  # rose a tier, and a flag without a plan
        s["Overdue"].id: {"identity", "services"},
        s["Declined"].id: {"identity", "services"},
        s["Correcting"].id: {"identity"},
        s["Ending"].id: {"identity"},
        s["Asked"].id: {"identity"},
    }
    assert len(list_entries(db, counselor)) == 3  # one per set of categories


def test_school_queue_reads_in_a_fixed_number_of_statements(client, db, school):
    counselor, _, _ = school_situation(db, school)
    login(client, counselor)
    counts = statement_counts(db, client, lambda: school_situation(db, school))  # as many items again in each section
    assert len(set(counts)) == 1, counts
    assert counts[0] <= 8, counts


# --- teacher ------------------------------------------------------------------------------------


def teacher_situation(db, school):
    teacher = create_user(Role.TEACHER, school)
    colleague = create_user(Role.TEACHER, school)
    failing, passing, left = (create_student(school, last_name=name) for name in ("Failing", "Passing", "Leftclass"))
    other = create_student(school, last_name="Notmine")
    algebra = create_section(teacher, [failing, passing], course_title="Algebra I", subject="math")
    create_section(teacher, [left], course_title="Geometry", entry_date=TODAY - timedelta(days=60))
    db.session.execute(sa.update(SectionEnrollment).where(SectionEnrollment.student_id == left.id)
                       .values(exit_date=TODAY - timedelta(days=1)))
    create_section(teacher, [create_student(school, last_name="Lastyear")], school_year=YEAR - 1,
                   course_title="Old course")
    english = create_section(colleague, [failing, other], course_title="English 9")
    create_mark(failing, algebra, "F", "Q1")
    create_mark(failing, algebra, "C", "Q2")
    create_mark(failing, english, "F", "Q1")  # another teacher's section
    create_mark(passing, algebra, "B", "Q1")
    create_indicator(failing, YEAR, tier=3, rate="0.7800")
    create_indicator(passing, YEAR, rate="0.9650")
    return teacher, {s.last_name: s for s in (failing, passing, left, other)}


def test_teacher_home_lists_their_sections_with_attendance_and_failing_marks(client, db, school):
    teacher, s = teacher_situation(db, school)
    login(client, teacher)
    html = home(client)
    algebra = re.search(r'<section class="class-section".*?Algebra I.*?</section>', html, re.DOTALL).group(0)
    assert "Student" in algebra and "78.0%" in algebra and "96.5%" in algebra
    assert "Q1: F" in algebra and "Q2: C" not in algebra and "1 failing" in algebra
    assert f'href="/students/{s["Failing"].uuid}"' in algebra
    assert "English 9" not in html and "Notmine" not in html  # a colleague's section
    assert "Leftclass" not in html and "Old course" not in html and "Lastyear" not in html
    assert html.count("Q1: F") == 1  # not the failing mark of English 9
    entries = list_entries(db, teacher)
    assert len(entries) == 1 and set(entries[0].student_ids) == {s["Failing"].id, s["Passing"].id}
    assert entries[0].basis == {c: "teacher_of_record" for c in ("attendance", "grades", "identity")}


def test_teacher_reaches_their_classes_from_the_navigation(client, db, school):
    teacher, s = teacher_situation(db, school)
    login(client, teacher)
    html = home(client)
    assert 'href="/classes"' in html and "My classes" in html
    page = client.get("/classes")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Algebra I" in text and f'href="/students/{s["Failing"].uuid}"' in text
    assert client.get(f'/students/{s["Failing"].uuid}').status_code == 200


def test_teacher_home_reads_in_a_fixed_number_of_statements(client, db, school):
    teacher, _ = teacher_situation(db, school)
    login(client, teacher)

    def another_section():
        students = [create_student(school) for _ in range(5)]
        create_mark(students[0], create_section(teacher, students))

    counts = statement_counts(db, client, another_section)
    assert len(set(counts)) == 1, counts
    assert counts[0] <= 8, counts


# --- district admin -------------------------------------------------------------------------


def district_situation(db, school):
    district = db.session.get(Organization, school.district_id)
    admin = create_user(Role.DISTRICT_ADMIN, district)
    other_district = create_district()
    second_school = create_school(district, name="Lakeside Middle")
    db.session.add_all([
        ImportBatch(kind="students", filename="students-ok.csv", district_id=district.id, status="succeeded",
                    rows_read=611, finished_at=datetime.now(UTC)),
        ImportBatch(kind="attendance", filename="attendance-bad.csv", district_id=district.id, status="rejected",
                    error_count=3, finished_at=datetime.now(UTC)),
        ImportBatch(kind="students", filename="elsewhere.csv", district_id=other_district.id, status="succeeded"),
    ])
    soon, later, ended, elsewhere = (create_partner(name=n) for n in ("Soon Partner", "Later Partner", "Ended Partner",
                                                                      "Elsewhere Partner"))
    create_agreement(soon, district, starts_on=TODAY - timedelta(days=300), ends_on=TODAY + timedelta(days=30))
    create_agreement(later, district, starts_on=TODAY - timedelta(days=300), ends_on=TODAY + timedelta(days=200))
    create_agreement(ended, district, starts_on=TODAY - timedelta(days=300), ends_on=TODAY + timedelta(days=20),
                     ended_on=TODAY - timedelta(days=1))
    create_agreement(elsewhere, other_district, starts_on=TODAY - timedelta(days=300), ends_on=TODAY + timedelta(days=5))
    create_service_agreement(later, district, starts_on=TODAY - timedelta(days=300), ends_on=TODAY + timedelta(days=10))
    create_user(Role.YOUTH_WORKER, later, full_name="Untrained Worker", confidentiality_signed_on=TODAY)
    create_user(Role.YOUTH_WORKER, later, full_name="Lapsed Worker", confidentiality_signed_on=TODAY,
                ferpa_trained_on=TODAY - timedelta(days=400))
    create_user(Role.YOUTH_WORKER, later, full_name="Compliant Worker", confidentiality_signed_on=TODAY,
                ferpa_trained_on=TODAY)
    create_user(Role.YOUTH_WORKER, later, full_name="Gone Worker", active=False)
    create_user(Role.YOUTH_WORKER, elsewhere, full_name="Elsewhere Worker")
    parent = create_user(Role.PARENT, district)
    asking = [create_student(school, last_name="Askingone"), create_student(second_school, last_name="Askingtwo")]
    for student in asking:
        db.session.add(AmendmentRequest(student_id=student.id, requested_by_id=parent.id, part="attendance",
                                        message="Wrong"))
    outsider = create_student(create_school(other_district), last_name="Outsider")
    db.session.add(AmendmentRequest(student_id=outsider.id, requested_by_id=create_user(Role.PARENT, other_district).id,
                                    part="attendance", message="Wrong"))
    create_user(Role.PRINCIPAL, second_school, full_name="Invited Principal", password_hash=None)
    create_user(Role.PRINCIPAL, create_school(other_district), full_name="Foreign Invitee", password_hash=None)
    db.session.flush()
    return admin, asking


def test_district_home_shows_the_districts_state(client, db, school):
    admin, asking = district_situation(db, school)
    login(client, admin)
    html = home(client)
    assert "students-ok.csv" in html and "attendance-bad.csv" in html and "elsewhere.csv" not in html
    assert "Rejected" in html and "611 rows read" in html
    agreements = section_of(html, "district-agreements")
    assert "Soon Partner" in agreements and "Later Partner" in agreements  # the service agreement ends in 10 days
    assert "Ended Partner" not in agreements and "Elsewhere Partner" not in agreements
    assert agreements.index("Later Partner") < agreements.index("Soon Partner")  # soonest first
    blocked = section_of(html, "district-blocked")
    assert "Untrained Worker" in blocked and "has not completed FERPA training" in blocked
    assert "Lapsed Worker" in blocked and "more than 12 months old" in blocked
    assert "Compliant Worker" not in blocked and "Gone Worker" not in blocked and "Elsewhere Worker" not in blocked
    corrections = section_of(html, "district-corrections")
    assert " Askingone<" in corrections and " Askingtwo<" in corrections and "Outsider" not in corrections
    assert "Lakeside Middle" in corrections
    invited = section_of(html, "district-invited")
    assert "Invited Principal" in invited and "Foreign Invitee" not in invited
    entries = list_entries(db, admin)
    assert len(entries) == 1 and set(entries[0].student_ids) == {s.id for s in asking}


def test_district_home_reads_in_a_fixed_number_of_statements(client, db, school):
    admin, _ = district_situation(db, school)
    login(client, admin)
    counts = statement_counts(db, client, lambda: district_situation(db, school))
    assert len(set(counts)) == 1, counts
    assert counts[0] <= 10, counts


def section_of(html: str, element_id: str) -> str:
    found = re.search(rf'<section class="queue__part" id="{element_id}".*?</section>', html, re.DOTALL)
    assert found, element_id
    return found.group(0)


# --- youth worker ---------------------------------------------------------------------------


TIER_AND_MORE = [Category.IDENTITY, Category.ATTENDANCE, Category.GRADES, Category.BEHAVIOR, Category.COLLEGE,
                 Category.NOTES]


def worker_situation(db, school, **worker_fields):
    district = db.session.get(Organization, school.district_id)
    partner = create_partner(name="Northside Youth")
    create_agreement(partner, district, categories=TIER_AND_MORE, starts_on=TODAY - timedelta(days=300),
                     ends_on=TODAY + timedelta(days=300))
    worker = create_user(Role.YOUTH_WORKER, partner, confidentiality_signed_on=TODAY - timedelta(days=100),
                         ferpa_trained_on=TODAY - timedelta(days=100), **worker_fields)
    counselor = create_user(Role.COUNSELOR, school)
    signed = {"signed_on": TODAY - timedelta(days=100), "expires_on": TODAY + timedelta(days=200)}
    everything = tier_story(db, create_student(school, last_name="Consented"), (40, 1), (5, 2))
    create_consent(everything, partner, TIER_AND_MORE, **signed)
    attendance_only = tier_story(db, create_student(school, last_name="Partly"), (40, 1), (5, 3))
    # ending within 30 days: also in the reminder of consents ending, which shows only the name
    create_consent(attendance_only, partner, [Category.IDENTITY, Category.ATTENDANCE],
                   signed_on=TODAY - timedelta(days=100), expires_on=TODAY + timedelta(days=20))
    no_consent = tier_story(db, create_student(school, last_name="Unconsented"), (40, 1), (5, 3))
    not_mine = tier_story(db, create_student(school, last_name="Notonroster"), (40, 1), (5, 3))
    create_consent(not_mine, partner, TIER_AND_MORE, **signed)
    for student in (everything, attendance_only, no_consent):
        add_to_roster(student, partner, added_on=TODAY - timedelta(days=60))
    section = create_section(create_user(Role.TEACHER, school), [everything, attendance_only])
    for student in (everything, attendance_only):
        create_mark(student, section, "F", recorded_on=TODAY - timedelta(days=5))
        db.session.add(Note(student_id=student.id, author_id=counselor.id, organization_id=school.id,
                            audience="shared", topic="attendance", body="Called home"))
    db.session.flush()
    return worker, {s.last_name: s for s in (everything, attendance_only, no_consent, not_mine)}


def roster_row(html: str, last_name: str) -> str:
    found = re.search(rf"<tr>\s*<th scope=\"row\"><a [^>]*>[^<]* {last_name}</a>.*?</tr>", html, re.DOTALL)
    assert found, last_name
    return found.group(0)


def test_youth_worker_sees_each_students_tier_and_changes_as_consents_allow(client, db, school):
    worker, s = worker_situation(db, school)
    login(client, worker)
    html = home(client)
    everything = roster_row(html, "Consented")
    assert "Tier 2" in everything and "tier 1 → <strong>tier 2</strong>" in everything
    assert "1 new failing mark" in everything and "1 new note" in everything
    partly = roster_row(html, "Partly")
    assert "Tier 3" not in partly and "tier 1" not in partly and "Not shared" in partly
    assert "failing" not in partly and "note" not in partly
    assert "Consent needed" in roster_row(html, "Unconsented") and "Tier 3" not in roster_row(html, "Unconsented")
    assert "Notonroster" not in html
    assert f"Since {(TODAY - timedelta(days=30)).day} " in html  # the first visit: the last 30 days
    assert "(the last 30 days: your first visit)" in html and "your last visit before today" not in html
    entries = list_entries(db, worker)
    name_only = [e for e in entries if not e.categories]  # the page names them (the disclosure guard)
    assert [(e.student_id, e.reason) for e in name_only] == [(s["Unconsented"].id, NAME_ONLY)]
    entries = [e for e in entries if e.categories]
    by_student = {tuple(e.student_ids or [e.student_id]): e for e in entries}
    assert set(by_student) == {(s["Consented"].id,), (s["Partly"].id,)}
    assert set(by_student[(s["Consented"].id,)].categories) == {str(c) for c in TIER_AND_MORE}
    assert set(by_student[(s["Partly"].id,)].categories) == {"identity", "attendance"}
    assert all(basis.startswith("consent:") for e in entries for basis in e.basis.values())


def test_youth_worker_sees_nothing_more_once_the_agreement_ends(client, db, school):
    """The worker's statements are built once per day and reused, under a key that holds
    the agreements in force: the district ending the agreement mid-day builds new ones,
    under which the consented student shows nothing."""
    worker, _ = worker_situation(db, school)
    login(client, worker)
    for _ in range(2):  # the second reads the statements the first built
        assert "Tier 2" in roster_row(home(client), "Consented")
    for agreement in db.session.scalars(sa.select(DataSharingAgreement)
                                        .where(DataSharingAgreement.organization_id == worker.organization_id)):
        agreement.ended_on = TODAY
    db.session.flush()
    assert "Tier 2" not in home(client)


def test_youth_worker_changes_count_from_their_last_visit(client, db, school):
    worker, _ = worker_situation(db, school, home_seen_on=TODAY - timedelta(days=3))
    login(client, worker)
    html = home(client)
    everything = roster_row(html, "Consented")
    assert "1 new note" in everything  # written today
    assert "failing" not in everything and "tier 1 →" not in everything  # 5 days ago, before the last visit
    assert f"Since {(TODAY - timedelta(days=3)).day} " in html and "your last visit before today" in html
    db.session.refresh(worker)
    assert (worker.home_seen_on, worker.home_changes_since) == (TODAY, TODAY - timedelta(days=3))
    assert f"Since {(TODAY - timedelta(days=3)).day} " in home(client)  # a second visit the same day: the same changes


def test_youth_worker_home_reads_in_a_fixed_number_of_statements(client, db, school):
    worker, _ = worker_situation(db, school)
    partner = db.session.get(Organization, worker.organization_id)

    def more_students():
        for _ in range(3):
            student = tier_story(db, create_student(school), (40, 1), (5, 2))
            create_consent(student, partner, TIER_AND_MORE, signed_on=TODAY - timedelta(days=100),
                           expires_on=TODAY + timedelta(days=200))
            add_to_roster(student, partner, added_on=TODAY - timedelta(days=60))

    login(client, worker)
    home(client)  # the first visit of the day records it
    counts = statement_counts(db, client, more_students)
    assert len(set(counts)) == 1, counts


def test_school_queue_counts_every_item_and_shows_the_most_urgent(client, db, school):
    counselor = create_user(Role.COUNSELOR, school)
    for day in range(12):
        create_flag(create_student(school, last_name=f"Waiting{chr(65 + day)}"), counselor,
                    created_at=LONG_AGO + timedelta(days=day))
    login(client, counselor)
    flags = section(home(client), "flags")
    assert "(12)" in flags and "2 more" in flags
    assert " WaitingA</a>" in flags and " WaitingJ</a>" in flags  # the ten longest waiting
    assert "WaitingK" not in flags and "WaitingL" not in flags
