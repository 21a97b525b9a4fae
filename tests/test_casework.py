"""Flags, support plans and the student timeline (issue 4, item 5)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa

from casemgr.clock import today
from casemgr.models import DisclosureEntry, Flag, SupportPlan, SupportPlanCheckIn
from casemgr.models.enums import Role
from casemgr.services.casework import plan_schedule
from tests.factories import (
    add_to_roster,
    create_agreement,
    create_check_in,
    create_consent,
    create_flag,
    create_guardian,
    create_partner,
    create_school,
    create_student,
    create_support_plan,
    create_user,
)
from tests.helpers import csrf_token, login, logout

TODAY = today()


def _world(db):
    school = create_school(name="Riverside High")
    student = create_student(school)
    counselor = create_user(Role.COUNSELOR, school, full_name="Casey Counselor")
    return school, student, counselor


def _count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _plan_form(default_owner, **overrides):
    data = {
        "flag": "",
        "tier": "2",
        "goal": "Attend every school day",
        "strategies": "Morning check-in with the counselor",
        "owner": str(default_owner.uuid),
        "starts_on": TODAY.isoformat(),
        "duration_weeks": "6",
        "checkin_every_days": "7",
    }
    data.update(overrides)
    return data


def _post(client, path, data):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, path)})


# --- flags ----------------------------------------------------------------------------------


def test_counselor_raises_a_flag_and_sees_it_on_the_timeline(client, db):
    school, student, counselor = _world(db)
    login(client, counselor)
    response = _post(client, f"/students/{student.uuid}/flags/new",
                     {"need": "attendance_support", "details": "  Missed 4 Mondays  "})
    assert response.status_code == 302
    [flag] = db.session.scalars(sa.select(Flag)).all()
    assert (flag.need, flag.details, flag.status, flag.raised_by_id) == ("attendance_support", "Missed 4 Mondays", "open", counselor.id)
    html = client.get(f"/students/{student.uuid}").get_data(as_text=True)
    assert "Flag raised: attendance support." in html
    assert "Raised a flag: <strong>Attendance support</strong>" in html and "Missed 4 Mondays" in html
    assert f"/students/{student.uuid}/plans/new?flag={flag.uuid}" in html


def test_a_second_open_flag_for_the_same_need_is_refused(client, db):
    school, student, counselor = _world(db)
    create_flag(student, counselor, "tutoring")
    login(client, counselor)
    response = _post(client, f"/students/{student.uuid}/flags/new", {"need": "tutoring"})
    assert response.status_code == 400
    assert "This student already has an open flag for tutoring." in response.get_data(as_text=True)
    assert _count(db, Flag) == 1


def test_closing_a_flag_keeps_it_on_the_timeline(client, db):
    school, student, counselor = _world(db)
    flag = create_flag(student, counselor, "mentoring", created_at=datetime.now(timezone.utc) - timedelta(days=3))
    principal = create_user(Role.PRINCIPAL, school, full_name="Pat Principal")
    login(client, principal)
    path = f"/flags/{flag.uuid}/close"
    assert "Close the flag for mentoring?" in client.get(path).get_data(as_text=True)
    assert _post(client, path, {}).status_code == 302
    db.session.refresh(flag)
    assert flag.status == "closed" and flag.closed_by_id == principal.id and flag.closed_at is not None
    again = _post(client, path, {})
    assert again.status_code == 302
    assert "This flag is already closed." in client.get(again.headers["Location"]).get_data(as_text=True)
    html = client.get(f"/students/{student.uuid}").get_data(as_text=True)
    assert "Closed the flag: <strong>Mentoring</strong>" in html and "Pat Principal" in html
    assert "Raised a flag: <strong>Mentoring</strong> <span class=\"muted\">(since closed)</span>" in html


# --- support plans ----------------------------------------------------------------------------


def test_plan_form_offers_the_defaults_and_a_plan_opens_with_them(client, db):
    school, student, counselor = _world(db)
    login(client, counselor)
    path = f"/students/{student.uuid}/plans/new"
    html = client.get(path).get_data(as_text=True)
    assert f'<option selected value="{counselor.uuid}">' in html
    assert f'value="{TODAY.isoformat()}"' in html and 'value="6"' in html and 'value="7"' in html
    response = _post(client, path, _plan_form(counselor))
    assert response.status_code == 302
    [plan] = db.session.scalars(sa.select(SupportPlan)).all()
    assert response.headers["Location"] == f"/plans/{plan.uuid}"
    assert (plan.tier, plan.owner_id, plan.starts_on, plan.duration_weeks, plan.checkin_every_days) == (
        2, counselor.id, TODAY, 6, 7)
    assert plan.status == "open" and plan.flag_id is None and plan.created_by_id == counselor.id
    page = client.get(f"/plans/{plan.uuid}").get_data(as_text=True)
    assert f"Next check-in due on <strong>{(TODAY + timedelta(days=7)).day}" in page
    assert f"to {(TODAY + timedelta(weeks=6)).day} " in page


def test_a_plan_opens_from_a_flag_once(client, db):
    school, student, counselor = _world(db)
    flag = create_flag(student, counselor, "tutoring")
    login(client, counselor)
    path = f"/students/{student.uuid}/plans/new"
    assert f'<option selected value="{flag.uuid}">' in client.get(f"{path}?flag={flag.uuid}").get_data(as_text=True)
    assert _post(client, path, _plan_form(counselor, flag=str(flag.uuid))).status_code == 302
    [plan] = db.session.scalars(sa.select(SupportPlan)).all()
    assert plan.flag_id == flag.id
    again = _post(client, path, _plan_form(counselor, flag=str(flag.uuid)))
    assert again.status_code == 400
    assert "This flag already has an open support plan." in again.get_data(as_text=True)
    assert _count(db, SupportPlan) == 1


def test_check_ins_move_the_next_due_date_and_appear_on_the_timeline(client, db):
    school, student, counselor = _world(db)
    plan = create_support_plan(student, counselor, starts_on=TODAY - timedelta(days=10))
    login(client, counselor)
    path = f"/plans/{plan.uuid}/check-ins"
    day = TODAY - timedelta(days=2)
    response = _post(client, path, {"occurred_on": day.isoformat(), "summary": "Came on time all week"})
    assert response.status_code == 302
    [check_in] = db.session.scalars(sa.select(SupportPlanCheckIn)).all()
    assert (check_in.occurred_on, check_in.summary, check_in.recorded_by_id) == (day, "Came on time all week", counselor.id)
    page = client.get(f"/plans/{plan.uuid}").get_data(as_text=True)
    assert "Came on time all week" in page and "Check-in overdue" not in page
    due = day + timedelta(days=7)
    assert f"Next check-in due on <strong>{due.day} {due:%B %Y}</strong>" in page
    assert "Check-in on the support plan" in client.get(f"/students/{student.uuid}").get_data(as_text=True)


def test_a_plan_without_a_recent_check_in_is_overdue(client, db):
    school, student, counselor = _world(db)
    plan = create_support_plan(student, counselor, starts_on=TODAY - timedelta(days=20))
    create_check_in(plan, counselor, TODAY - timedelta(days=17))
    login(client, counselor)
    page = client.get(f"/plans/{plan.uuid}").get_data(as_text=True)
    assert "Check-in overdue</strong> by 10 days" in page
    db.session.refresh(plan)
    schedule = plan_schedule(plan, TODAY)
    assert schedule.next_check_in_on == TODAY - timedelta(days=10) and schedule.overdue_days == 10
    assert not schedule.past_end


def test_next_check_in_is_never_after_the_end_and_a_plan_past_its_end_says_so(db):
    school, student, counselor = _world(db)
    plan = create_support_plan(student, counselor, starts_on=TODAY - timedelta(days=8), duration_weeks=1,
                               checkin_every_days=30)
    schedule = plan_schedule(plan, TODAY)
    assert schedule.ends_on == TODAY - timedelta(days=1) == schedule.next_check_in_on
    assert schedule.past_end and schedule.overdue_days == 1


def test_closing_a_plan_records_the_outcome_and_stops_check_ins(client, db):
    school, student, counselor = _world(db)
    plan = create_support_plan(student, counselor, starts_on=TODAY - timedelta(days=30))
    create_check_in(plan, counselor, TODAY - timedelta(days=3), "Last review")
    login(client, counselor)
    path = f"/plans/{plan.uuid}/close"
    empty = _post(client, path, {"outcome": "   "})
    assert empty.status_code == 400 and "Write the outcome of the plan." in empty.get_data(as_text=True)
    assert _post(client, path, {"outcome": "Goal met: 97% attendance"}).status_code == 302
    db.session.refresh(plan)
    assert (plan.status, plan.closed_on, plan.outcome) == ("closed", TODAY, "Goal met: 97% attendance")
    assert plan.goal == "Attend every day for six weeks" and len(plan.check_ins) == 1
    late = _post(client, f"/plans/{plan.uuid}", {"occurred_on": TODAY.isoformat(), "summary": "More"})
    assert late.status_code == 405
    refused = client.post(f"/plans/{plan.uuid}/check-ins", data={
        "occurred_on": TODAY.isoformat(), "summary": "More", "csrf_token": csrf_token(client, f"/plans/{plan.uuid}")})
    assert refused.status_code == 400
    assert "This plan is closed; check-ins can no longer be added." in refused.get_data(as_text=True)
    assert _count(db, SupportPlanCheckIn) == 1
    timeline = client.get(f"/students/{student.uuid}").get_data(as_text=True)
    assert "Closed the support plan" in timeline and "Goal met: 97% attendance" in timeline



def test_the_timeline_says_who_closed_a_plan_and_when(client, db):
    school, student, counselor = _world(db)
    principal = create_user(Role.PRINCIPAL, school, full_name="Pat Principal")
    plan = create_support_plan(student, counselor, starts_on=TODAY - timedelta(days=30))
    login(client, principal)
    assert _post(client, f"/plans/{plan.uuid}/close", {"outcome": "Moved to tier 1"}).status_code == 302
    db.session.refresh(plan)
    assert plan.closed_by_id == principal.id and plan.closed_at is not None
    html = client.get(f"/students/{student.uuid}").get_data(as_text=True)
    event = html[html.index('<li class="timeline__event timeline__event--plan_closed">'):]
    assert "Pat Principal" in event[:event.index("</li>")]


# --- validation: clear messages, nothing written --------------------------------------------


def test_bad_fields_are_explained_and_nothing_is_written(client, db):
    school, student, counselor = _world(db)
    login(client, counselor)
    flag_path = f"/students/{student.uuid}/flags/new"
    bad_flag = _post(client, flag_path, {"need": "astrology", "details": "x" * 2001}).get_data(as_text=True)
    assert "Choose the kind of need." in bad_flag and "Keep the details to 2000 characters or fewer." in bad_flag

    plan_path = f"/students/{student.uuid}/plans/new"
    response = _post(client, plan_path, _plan_form(
        counselor, tier="7", goal=" ", strategies="", starts_on="31/02/2026", duration_weeks="60",
        checkin_every_days="0"))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    for message in ("Choose tier 1, 2 or 3.", "Write the goal of the plan.", "Write the strategies the plan will use.",
                    "Enter the start date (YYYY-MM-DD).", "Enter a duration from 1 to 52 weeks.",
                    "Enter how often to check in, from 1 to 90 days."):
        assert message in html, message
    ancient = _post(client, plan_path, _plan_form(counselor, starts_on="1990-01-01")).get_data(as_text=True)
    assert "The start date cannot be more than a year ago." in ancient
    words = _post(client, plan_path, _plan_form(counselor, duration_weeks="six")).get_data(as_text=True)
    assert "Enter a duration from 1 to 52 weeks." in words

    plan = create_support_plan(student, counselor, starts_on=TODAY - timedelta(days=5))
    check_in_path = f"/plans/{plan.uuid}/check-ins"
    future = _post(client, check_in_path, {"occurred_on": (TODAY + timedelta(days=1)).isoformat(), "summary": "Soon"})
    assert future.status_code == 400 and "A check-in date cannot be in the future." in future.get_data(as_text=True)
    early = _post(client, check_in_path, {"occurred_on": (TODAY - timedelta(days=6)).isoformat(), "summary": "Early"})
    assert "A check-in cannot be before the plan started" in early.get_data(as_text=True)
    empty = _post(client, check_in_path, {"occurred_on": TODAY.isoformat(), "summary": ""})
    assert "Write a summary of the check-in." in empty.get_data(as_text=True)
    assert (_count(db, Flag), _count(db, SupportPlan), _count(db, SupportPlanCheckIn)) == (0, 1, 0)


# --- who may ------------------------------------------------------------------------------------


def test_only_counselors_and_the_principal_of_the_school_write_casework(client, db):
    school, student, counselor = _world(db)
    flag = create_flag(student, counselor)
    plan = create_support_plan(student, counselor)
    partner = create_partner()
    create_agreement(partner, school.district, categories=["identity", "services"],
                     starts_on=TODAY - timedelta(days=30), ends_on=TODAY + timedelta(days=300))
    create_consent(student, partner, ["identity", "services"], signed_on=TODAY - timedelta(days=5),
                   expires_on=TODAY + timedelta(days=90))
    add_to_roster(student, partner, added_on=TODAY - timedelta(days=5))
    worker = create_user(Role.YOUTH_WORKER, partner, confidentiality_signed_on=TODAY, ferpa_trained_on=TODAY)
    parent = create_user(Role.PARENT, school.district)
    create_guardian(student, user=parent)
    teacher = create_user(Role.TEACHER, school)
    admin = create_user(Role.DISTRICT_ADMIN, school.district)
    for user in (teacher, create_user(Role.COUNSELOR), worker, parent, admin):
        login(client, user)
        token = csrf_token(client, "/")
        for path in (f"/students/{student.uuid}/flags/new", f"/students/{student.uuid}/plans/new",
                     f"/flags/{flag.uuid}/close", f"/plans/{plan.uuid}/close"):
            assert client.get(path).status_code == 404, (user.role, path)
        forged = {"need": "tutoring", "outcome": "forged", "occurred_on": TODAY.isoformat(), "summary": "forged",
                  **_plan_form(counselor), "csrf_token": token}
        for path in (f"/students/{student.uuid}/flags/new", f"/students/{student.uuid}/plans/new",
                     f"/flags/{flag.uuid}/close", f"/plans/{plan.uuid}/check-ins", f"/plans/{plan.uuid}/close"):
            assert client.post(path, data=forged).status_code == 404, (user.role, path)
        html = client.get(f"/students/{student.uuid}").get_data(as_text=True)
        assert "Raise a flag" not in html
        logout(client)
    db.session.refresh(flag)
    db.session.refresh(plan)
    assert (_count(db, Flag), _count(db, SupportPlan), _count(db, SupportPlanCheckIn)) == (1, 1, 0)
    assert flag.status == "open" and plan.status == "open"


def test_reading_a_plan_follows_the_services_category(client, db):
    school, student, counselor = _world(db)
    plan = create_support_plan(student, counselor)
    parent = create_user(Role.PARENT, school.district)
    create_guardian(student, user=parent)
    teacher = create_user(Role.TEACHER, school)
    for user, status in ((create_user(Role.DISTRICT_ADMIN, school.district), 200), (parent, 200),
                         (teacher, 404), (create_user(Role.COUNSELOR), 404)):
        login(client, user)
        response = client.get(f"/plans/{plan.uuid}")
        assert response.status_code == status, user.role
        if status == 200:
            assert "Record a check-in" not in response.get_data(as_text=True)
        logout(client)


def test_a_forged_owner_or_flag_from_elsewhere_is_refused(client, db):
    school, student, counselor = _world(db)
    other_school = create_school(school.district)
    outsider = create_user(Role.COUNSELOR, other_school)
    teacher = create_user(Role.TEACHER, school)
    other_flag = create_flag(create_student(other_school), outsider)
    login(client, counselor)
    path = f"/students/{student.uuid}/plans/new"
    for forged, message in (
        ({"owner": str(outsider.uuid)}, "Choose a counselor or the principal of Riverside High."),
        ({"owner": str(teacher.uuid)}, "Choose a counselor or the principal of Riverside High."),
        ({"flag": str(other_flag.uuid)}, "Choose one of this student&#39;s open flags, or none."),
    ):
        response = _post(client, path, _plan_form(counselor, **forged))
        assert response.status_code == 400 and message in response.get_data(as_text=True), forged
    assert client.get(f"/flags/{other_flag.uuid}/close").status_code == 404
    assert _count(db, SupportPlan) == 0


# --- the timeline ---------------------------------------------------------------------------------


def test_the_timeline_is_newest_first_and_paginated(client, db):
    school, student, counselor = _world(db)
    now = datetime.now(timezone.utc)
    needs = ["attendance_support", "tutoring", "mentoring", "college_application", "fafsa_help", "family_support", "other"]
    for age, need in enumerate(needs):  # raised 1..7 weeks ago, the first need most recently
        create_flag(student, counselor, need, details=f"FLAG{age}", created_at=now - timedelta(weeks=age + 1))
    plan = create_support_plan(student, counselor, goal="PLANGOAL", starts_on=TODAY - timedelta(days=60),
                               created_at=now - timedelta(days=60))
    for weeks in range(1, 5):
        create_check_in(plan, counselor, TODAY - timedelta(weeks=weeks, days=3), f"CHECKIN{weeks}")
    login(client, counselor)
    first = client.get(f"/students/{student.uuid}").get_data(as_text=True)
    expected = ["FLAG0", "CHECKIN1", "FLAG1", "CHECKIN2", "FLAG2", "CHECKIN3", "FLAG3", "CHECKIN4", "FLAG4", "FLAG5"]
    positions = [first.index(marker) for marker in expected]
    assert positions == sorted(positions)
    assert "FLAG6" not in first and "Opened a tier 2 support plan" not in first
    assert "Older events" in first and "Newer events" not in first

    path = f"/students/{student.uuid}/timeline?page=2"
    fragment = client.get(path, headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in html and "Vary" in fragment.headers
    assert html.index("FLAG6") < html.index("Opened a tier 2 support plan")
    assert "Newer events" in html and "Older events" not in html
    full = client.get(path).get_data(as_text=True)  # without JavaScript: the same page, whole
    assert "<html" in full and "FLAG6" in full and "Whole record" in full


def test_flags_are_left_off_the_timeline_of_those_who_cannot_see_services(client, db):
    school, student, counselor = _world(db)
    create_flag(student, counselor, details="SECRETDETAIL")
    teacher = create_user(Role.TEACHER, school)
    from casemgr.models import Section, SectionEnrollment

    section = Section(school_id=school.id, school_year=TODAY.year, local_id="S1", course_code="E9",
                      course_title="English", subject="english", teacher_id=teacher.id)
    db.session.add(section)
    db.session.flush()
    db.session.add(SectionEnrollment(section_id=section.id, student_id=student.id, entry_date=TODAY - timedelta(days=9)))
    db.session.flush()
    login(client, teacher)
    html = client.get(f"/students/{student.uuid}").get_data(as_text=True)
    assert "SECRETDETAIL" not in html and "Raise a flag" not in html
    timeline = html.split('id="timeline"')[1].split("</section>")[0]
    assert "Notes, newest first." in timeline and "Nothing on the timeline yet." in timeline  # teachers see notes
    fragment = client.get(f"/students/{student.uuid}/timeline", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "SECRETDETAIL" not in fragment.get_data(as_text=True)


def test_the_timeline_is_hidden_from_those_who_see_neither_notes_nor_services(client, db):
    school, student, counselor = _world(db)
    create_flag(student, counselor, details="SECRETDETAIL")
    partner = create_partner("Northside Youth")
    create_agreement(partner, school.district, categories=["identity", "attendance"],
                     starts_on=TODAY - timedelta(days=30), ends_on=TODAY + timedelta(days=300))
    create_consent(student, partner, ["identity", "attendance"], signed_on=TODAY - timedelta(days=5),
                   expires_on=TODAY + timedelta(days=90))
    add_to_roster(student, partner, added_on=TODAY - timedelta(days=5))
    login(client, create_user(Role.YOUTH_WORKER, partner, confidentiality_signed_on=TODAY, ferpa_trained_on=TODAY))
    html = client.get(f"/students/{student.uuid}").get_data(as_text=True)
    # partner staff: no timeline at all; the one consent panel says why
    assert 'id="timeline"' not in html and "SECRETDETAIL" not in html
    panel = html.split('id="consent-panel"')[1].split("</section>")[0]
    assert "agreement with the district does not include" in panel and "notes, and services and programs" in panel


# --- the disclosure log ------------------------------------------------------------------------


def test_viewing_a_plan_is_logged_as_a_read_of_services(client, db):
    school, student, counselor = _world(db)
    plan = create_support_plan(student, counselor)
    login(client, counselor)
    assert client.get(f"/plans/{plan.uuid}").status_code == 200
    [entry] = db.session.scalars(sa.select(DisclosureEntry).where(DisclosureEntry.student_id == student.id)).all()
    assert entry.allowed and entry.action == "view" and entry.categories == ["services"]
    assert entry.basis == {"services": "school_official"} and entry.request_path == f"/plans/{plan.uuid}"
    assert entry.user_id == counselor.id


def test_a_refused_plan_page_is_logged_as_denied(client, db):
    school, student, counselor = _world(db)
    plan = create_support_plan(student, counselor)
    login(client, create_user(Role.COUNSELOR))
    assert client.get(f"/plans/{plan.uuid}").status_code == 404
    [entry] = db.session.scalars(sa.select(DisclosureEntry).where(DisclosureEntry.student_id == student.id)).all()
    assert not entry.allowed and entry.action == "denied"
