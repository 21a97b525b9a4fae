"""The route-walking authorization test (SPEC §8).

Every route of the app is classified here; an unclassified route fails the first test,
so a new route cannot slip through. The second walks every classified route for every
role against the cases of the access policy and asserts the status code, and that no
hidden category's data appears anywhere in the response.

The expected outcomes below are written out by hand from SPEC §2–§4, not computed by
the policy module they check.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import url_for

from casemgr.clock import today
from casemgr.models import (
    AccountEvent,
    AmendmentRequest,
    AmendmentRequestEvent,
    Assessment,
    ClaimCode,
    Consent,
    ConsentAsk,
    ConsentRevocation,
    CourseMark,
    DisciplineIncident,
    FafsaRecord,
    PostsecondaryRecord,
    Flag,
    Note,
    Referral,
    RosterEntry,
    Section,
    SchoolYear,
    SectionEnrollment,
    SupportPlan,
    SupportPlanCheckIn,
    User,
)
from casemgr.models.enums import Category, Role
from tests.factories import (
    add_to_roster,
    create_attendance,
    create_agreement,
    create_check_in,
    create_consent,
    create_district,
    create_flag,
    create_group,
    create_guardian,
    create_partner,
    create_referral,
    create_research_org,
    create_school_year,
    create_school,
    create_service_agreement,
    create_student,
    create_support_plan,
    create_user,
)
from tests.helpers import csrf_token, login

TODAY = today()
LONG_AGO = TODAY - timedelta(days=200)
LATER = TODAY + timedelta(days=200)

# endpoint -> how it is walked
ROUTES = {
    "static": "public",
    "auth.login": "public",
    "operations.healthz": "public",
    "operations.favicon": "public",
    "auth.logout": "signed_in_post",
    "home.index": "signed_in",
    "home.classes": "teacher",
    "account.index": "signed_in",
    "account.change_password": "signed_in_post",
    "account.choose_language": "signed_in_post",
    "account.sign_out_everywhere": "signed_in_post",
    "caseload.index": "school_officials",
    "caseload.export": "school_officials",
    "caseload.print_view": "school_officials",
    "caseload_assignments.index": "caseload_assigners",
    "caseload_assignments.add_rule": "caseload_assigners",
    "caseload_assignments.remove_rule": "caseload_assigners",
    "caseload_assignments.assign": "caseload_assigners",
    "caseload_assignments.unassign": "caseload_assigners",
    "students.show": "student",
    "students.section": "student_section",
    "students.access_list": "student_access_list",
    "consents.history": "student_consents",
    "consent_asks.ask": "consent_ask",
    "consent_asks.handled": "consent_ask_answer",
    "consents.new": "student_consent_form",
    "consents.revoke": "consent_revoke",
    "casework.timeline": "student_timeline",
    "casework.plan": "casework_read",
    "casework.new_flag": "casework_write",
    "casework.close_flag": "casework_write",
    "casework.new_plan": "casework_write",
    "casework.record_check_in": "casework_write",
    "casework.close_plan": "casework_write",
    "notes.new": "notes_write",
    "notes.audience": "notes_write",
    "notes.amend": "note_amend",
    "notices.index": "notice_roles",
    "referrals.index": "school_officials",
    "referrals.new": "casework_write",
    "referrals.show": "casework_read",
    "referrals.withdraw": "casework_write",
    "inbox.index": "partner_admin",
    "inbox.show": "partner_admin_referral",
    "inbox.accept": "partner_admin_referral",
    "inbox.decline": "partner_admin_referral",
    "inbox.close": "partner_admin_referral",
    "roster.index": "partner_admin",
    "roster.remove": "partner_admin_roster",
    "admin.agreements": "district_admin",
    "admin.new_agreement": "district_admin",
    "admin.new_service_agreement": "district_admin",
    "admin.end_agreement": "district_admin",
    "admin.end_service_agreement": "district_admin",
    "admin.disclosures": "district_admin",
    "admin.disclosures_csv": "district_admin",
    "imports.index": "importers",
    "imports.upload": "importers_post",
    "imports.show": "importers",
    "imports.oneroster_schools": "district_admin",
    "imports.unmap_oneroster_school": "district_admin_post",
    "imports.status": "importers",
    "admin.thresholds": "district_admin",
    "organizations.index": "district_admin",
    "organizations.rename": "district_admin",
    "partner.staff": "partner_admin",
    "partner.compliance_form": "partner_admin",
    "family.child": "family_student",
    "family.log": "family_student",
    "family.research": "family_student",
    "rights.review": "family_student",
    "rights.confirm": "parent_signed_consent",
    "rights.revoke": "parent_signed_consent",
    "family_consents.index": "family_consents",
    "family_consents.grant": "family_consent_signer",
    "family_consents.revoke": "family_consent_signer",
    "family_consents.decline": "family_consent_signer",
    "amendments.new": "family_student_post",
    "amendments.index": "school_officials",
    "amendments.show": "amendment_request",
    "release_forms.show": "release_form",
    "reports.index": "reporters",
    "reports.print_view": "reporters",
    "reports.export": "reporters",
    "reports.minimum_n": "district_admin_post",
    "reports.log": "district_admin",
    "annual_reports.index": "signed_in",
    "annual_reports.draft": "district_admin",
    "annual_reports.publish": "district_admin_post",
    "annual_reports.show": "annual_report_reader",
    "annual_reports.pdf": "annual_report_reader",
    "annual_reports.public_link": "district_admin_post",
    "annual_reports.public": "public",
    "annual_reports.public_pdf": "public",
    "research_admin.index": "district_admin",
    "research_admin.new": "district_admin",
    "research_admin.show": "district_admin_project",
    "research_admin.attach": "district_admin_project_post",
    "research_admin.detach": "district_admin_project_post",
    "research_admin.approve": "district_admin_project_post",
    "research_admin.withdraw": "district_admin_project_post",
    "research_admin.settings": "district_admin_post",
    "clearinghouse.index": "district_admin",
    "clearinghouse.graduates_file": "district_admin",
    "clearinghouse.act_codes": "district_admin_post",
    "research.projects": "researcher",
    "research.extract": "researcher_project",
    "language.choose": "public_post",
    "two_factor.sign_in": "public",
    "two_factor.enrol": "signed_in",
    "two_factor.recovery_codes": "signed_in",
    "two_factor_admin.security": "district_admin",
    "two_factor_admin.reset": "district_admin_user",
    "family_accounts.index": "letter_issuers",
    "family_accounts.issue": "letter_issuers",
    "family_accounts.invite": "letter_issuers",
    "claim.start": "public",
    "claim.account": "public_claim_step",
    "accounts.invitation": "public",
    "accounts.renew_invitation": "public_post",
    "accounts.forgot_password": "public",
    "accounts.reset_password": "public",
    "users.index": "district_admin",
    "users.invite": "district_admin",
    "users.edit": "district_admin_account",
    "users.deactivate": "district_admin_account",
    "users.reactivate": "district_admin_account",
    "users.resend_invitation": "district_admin_account",
    "users.events": "district_admin",
    "partner.invite": "partner_admin",
    "partner.edit_member": "partner_admin_account",
    "partner.deactivate": "partner_admin_account",
    "partner.reactivate": "partner_admin_account",
    "partner.resend_invitation": "partner_admin_account",
    "partner.account_events": "partner_admin",
    "outcomes.index": "outcome_readers",
    "outcomes.export": "outcome_readers",
    "outcomes.threshold": "district_admin_post",
    "contacts.new_contact": "partner_staff",
    "contacts.note_audience": "partner_staff",
    "contacts.groups": "partner_staff",
    "contacts.progress": "partner_staff",
    "contacts.attendance": "partner_staff_group",
    "contacts.new_group": "partner_admin",
    "contacts.edit_group": "partner_admin_group",
    "contacts.members": "partner_admin_group",
    "contacts.end_group": "partner_admin_group",
}


def test_every_route_is_classified(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    unclassified = endpoints - set(ROUTES)
    assert not unclassified, f"classify these routes in tests/test_authorization.py: {sorted(unclassified)}"
    assert not set(ROUTES) - endpoints, "ROUTES lists endpoints that no longer exist"


ALL = frozenset(Category)
TEACHER = frozenset({Category.IDENTITY, Category.ATTENDANCE, Category.GRADES, Category.ASSESSMENTS, Category.NOTES})
ROSTER_ONLY = "roster only"  # 200, the name on the roster, no category

# What each category's records look like on a page: a marker planted in that category.
MARKERS = {
    Category.IDENTITY: "LIDMARK",
    Category.ATTENDANCE: "recorded school days",
    Category.GRADES: "GRADESMARK",
    Category.ASSESSMENTS: "ASSESSMARK",
    Category.BEHAVIOR: "BEHAVIORMARK",
    Category.COLLEGE: "FAFSA 20",
    Category.NOTES: "NOTESMARK",
    Category.SERVICES: "SERVICESMARK",
    Category.POSTSECONDARY: "POSTSECMARK",
}


@dataclass
class World:
    users: dict = field(default_factory=dict)
    students: dict = field(default_factory=dict)
    consents: dict = field(default_factory=dict)
    agreements: dict = field(default_factory=dict)
    flags: dict = field(default_factory=dict)
    plans: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)
    referrals: dict = field(default_factory=dict)
    partners: dict = field(default_factory=dict)
    amendments: dict = field(default_factory=dict)
    guardians: dict = field(default_factory=dict)
    asks: dict = field(default_factory=dict)
    annual_report: object = None
    group: object = None
    research_project: object = None


def _plant_records(db, student, teacher, n):
    section = Section(school_id=student.school_id, school_year=TODAY.year, local_id=f"SEC{n}",
                      course_code="ENG9", course_title=f"GRADESMARK English {n}", subject="english",
                      teacher_id=teacher.id if teacher else None)
    db.session.add(section)
    db.session.flush()
    if teacher:
        db.session.add(SectionEnrollment(section_id=section.id, student_id=student.id, entry_date=LONG_AGO))
    db.session.add_all([
        CourseMark(student_id=student.id, section_id=section.id, term="Q1", school_year=TODAY.year, mark="B",
                   failing=False, recorded_on=TODAY),
        Assessment(student_id=student.id, test_code="ASSESSMARK", administered_on=LONG_AGO, school_year=TODAY.year,
                   subject="math", scale_score=700, performance_level=3),
        DisciplineIncident(student_id=student.id, school_id=student.school_id, incident_code=f"I{n}",
                           occurred_on=TODAY, school_year=TODAY.year, incident_type="BEHAVIORMARK", action="detention"),
        FafsaRecord(student_id=student.id, school_year=TODAY.year, status="submitted", status_on=TODAY),
        PostsecondaryRecord(district_id=student.district_id, student_id=student.id, row_no=2, found=True,
                            searched_on=LONG_AGO, reported_on=TODAY, college_code="000001-00",
                            college_name="POSTSECMARK College", begins_on=LONG_AGO, ends_on=TODAY),
    ])
    db.session.flush()
    if not db.session.scalar(sa.select(SchoolYear.id).where(SchoolYear.district_id == student.district_id)):
        create_school_year(student.district, TODAY.year - 1, starts_on=TODAY - timedelta(days=300),
                           ends_on=TODAY + timedelta(days=60))
    create_attendance(student, {TODAY - timedelta(days=3): "unexcused"})


def build_world(db) -> World:
    w = World()
    district = create_district("Riverside Schools")
    high = create_school(district, "high", "Riverside High")
    middle = create_school(district, "middle", "Riverside Middle")
    elsewhere = create_school(create_district("Hill District"), "high", "Hill High")
    northside = create_partner("Northside Youth")
    eastside = create_partner("Eastside Tutoring")
    w.partners.update(northside=northside, eastside=eastside)
    w.agreements["northside"] = create_agreement(
        northside, district, categories=["identity", "attendance", "grades", "notes", "services"],
        starts_on=LONG_AGO, ends_on=LATER)
    w.agreements["eastside"] = create_agreement(
        eastside, district, categories=list(Category), starts_on=LONG_AGO, ends_on=LATER, ended_on=TODAY - timedelta(days=1))

    u = w.users
    u["district_admin"] = create_user(Role.DISTRICT_ADMIN, district)
    u["principal"] = create_user(Role.PRINCIPAL, high)
    u["counselor"] = create_user(Role.COUNSELOR, high)
    u["teacher"] = create_user(Role.TEACHER, high)
    u["partner_admin"] = create_user(Role.PARTNER_ADMIN, northside, confidentiality_signed_on=LONG_AGO, ferpa_trained_on=LONG_AGO)
    u["youth_worker"] = create_user(Role.YOUTH_WORKER, northside, confidentiality_signed_on=LONG_AGO, ferpa_trained_on=LONG_AGO)
    u["noncompliant_worker"] = create_user(Role.YOUTH_WORKER, northside, confidentiality_signed_on=LONG_AGO,
                                           ferpa_trained_on=TODAY - timedelta(days=400))
    u["eastside_worker"] = create_user(Role.YOUTH_WORKER, eastside, confidentiality_signed_on=LONG_AGO, ferpa_trained_on=LONG_AGO)
    u["parent"] = create_user(Role.PARENT, district)
    u["researcher"] = create_user(Role.RESEARCHER, create_research_org())

    s = w.students
    minor = date(TODAY.year - 15, 3, 1)
    s["own"] = create_student(high, local_id="LIDMARK1", birth_date=minor)
    s["other_school"] = create_student(middle, local_id="LIDMARK2", birth_date=minor)
    s["no_consent"] = create_student(high, local_id="LIDMARK3", birth_date=minor)
    s["revoked"] = create_student(high, local_id="LIDMARK4", birth_date=minor)
    s["expired"] = create_student(high, local_id="LIDMARK5", birth_date=minor)
    s["agreement_ended"] = create_student(high, local_id="LIDMARK6", birth_date=minor)
    s["eligible"] = create_student(high, local_id="LIDMARK7", birth_date=date(TODAY.year - 19, 1, 1), grade=12)
    s["other_child"] = create_student(high, local_id="LIDMARK8", birth_date=minor)
    s["other_district"] = create_student(elsewhere, local_id="LIDMARK9", birth_date=minor)
    for n, (name, student) in enumerate(s.items()):
        _plant_records(db, student, u["teacher"] if name == "own" else None, n)
        w.notes[name] = Note(student_id=student.id, author_id=u["counselor"].id, organization_id=high.id,
                             audience="shared", topic="attendance", body=f"NOTESMARK about {name}")
        db.session.add(w.notes[name])
    u["student"] = create_user(Role.STUDENT, student=s["eligible"])

    create_guardian(s["own"], user=u["parent"])
    create_guardian(s["eligible"], user=u["parent"])
    w.guardians["other_child"] = create_guardian(s["other_child"])  # someone else's child, no account yet

    for name in ("own", "no_consent", "revoked", "expired", "eligible"):
        add_to_roster(s[name], northside, added_on=LONG_AGO, program="SERVICESMARK mentoring")
    add_to_roster(s["agreement_ended"], eastside, added_on=LONG_AGO)
    c = w.consents
    c["own"] = create_consent(s["own"], northside, ["identity", "attendance", "behavior"], signed_on=LONG_AGO, expires_on=LATER)
    c["revoked"] = create_consent(s["revoked"], northside, ["identity", "attendance"], signed_on=LONG_AGO, expires_on=LATER)
    db.session.add(ConsentRevocation(consent_id=c["revoked"].id))
    c["expired"] = create_consent(s["expired"], northside, ["identity", "attendance"], signed_on=LONG_AGO,
                                  expires_on=TODAY - timedelta(days=1))
    c["agreement_ended"] = create_consent(s["agreement_ended"], eastside, list(Category), signed_on=LONG_AGO, expires_on=LATER)
    c["eligible"] = create_consent(s["eligible"], northside, ["identity", "attendance", "grades"], signed_on=LONG_AGO,
                                   expires_on=LATER, signer_relationship="eligible_student")
    # signed by the parent before the student turned 18: it waits for the student's decision
    c["eligible_parent_signed"] = create_consent(s["eligible"], eastside, ["identity"], signed_on=LONG_AGO,
                                                 expires_on=LATER, signer_relationship="parent")
    _plant_casework(w, middle)
    # requests for consent: one about a student of the high school, one of the middle school
    for name, partner in (("no_consent", northside), ("other_school", eastside)):
        w.asks[name] = ConsentAsk(student_id=s[name].id, organization_id=partner.id, categories=["attendance"],
                                  asked_by_id=u["youth_worker"].id)
        db.session.add(w.asks[name])
    for name, by in (("own", u["parent"]), ("other_school", u["parent"])):
        w.amendments[name] = AmendmentRequest(student_id=s[name].id, requested_by_id=by.id, part="attendance",
                                              message=f"LIDMARK amendment of {name}")
        db.session.add(w.amendments[name])
    db.session.flush()
    from casemgr.models import PublishedReport  # the district's published annual report, with a public link

    w.annual_report = PublishedReport(
        district_id=district.id, school_year=TODAY.year - 1, baseline_year=TODAY.year - 2, published_by_id=u["district_admin"].id,
        public_token="walk-public-link-0123456789", content={"district": "Riverside Schools", "year": TODAY.year - 1,
                                                              "baseline": TODAY.year - 2, "minimum_n": 10, "margin": 2,
                                                              "sections": []})
    db.session.add(w.annual_report)
    # a study of the district by the world's research partner, its researcher attached
    from casemgr.models import ResearchProject, ResearchProjectDistrict, ResearchProjectMember

    w.research_project = ResearchProject(
        district_id=district.id, organization_id=u["researcher"].organization_id, title="RESEARCHMARK study",
        purpose="A study", approval_reference="IRB 1", variables=["grade", "attendance_rate"],
        school_years=[TODAY.year - 1], starts_on=LONG_AGO, ends_on=LATER, destroy_by=LATER,
        created_by_id=u["district_admin"].id)
    db.session.add(w.research_project)
    db.session.flush()
    db.session.add(ResearchProjectDistrict(project_id=w.research_project.id, district_id=district.id,
                                           approved_by_id=u["district_admin"].id, approved_at=datetime.now(UTC)))
    db.session.add(ResearchProjectMember(project_id=w.research_project.id, user_id=u["researcher"].id,
                                         added_by_id=u["district_admin"].id))
    db.session.flush()
    # services delivered: Northside tutors, in a group of its roster (issue 17)
    create_service_agreement(northside, district, services=("tutoring",), schools=[high])
    w.group = create_group(northside, [s["own"]], name="GROUPMARK club")
    return w


def _plant_casework(w: World, middle) -> None:
    """A flag and a support plan (with a check-in) for the own student and for a
    student of another school of the same district."""
    middle_counselor = create_user(Role.COUNSELOR, middle)
    for name, author in (("own", w.users["counselor"]), ("other_school", middle_counselor)):
        student = w.students[name]
        w.flags[name] = create_flag(student, author, details=f"SERVICESMARK flag of {name}")
        w.plans[name] = create_support_plan(student, author, flag_id=w.flags[name].id, starts_on=LONG_AGO,
                                            goal=f"SERVICESMARK goal of {name}")
        create_check_in(w.plans[name], author, TODAY - timedelta(days=1), "SERVICESMARK check-in")
    # a referral sent under a consent that does not cover services, one awaiting consent,
    # and one of another school to another organization
    w.referrals["own"] = create_referral(w.students["own"], w.partners["northside"], w.users["counselor"],
                                         flag_id=w.flags["own"].id, message="SERVICESMARK referral message")
    w.referrals["no_consent"] = create_referral(w.students["no_consent"], w.partners["northside"], w.users["counselor"],
                                                status="awaiting_consent", message="SERVICESMARK awaiting")
    w.referrals["other_school"] = create_referral(w.students["other_school"], w.partners["eastside"], middle_counselor,
                                                  flag_id=w.flags["other_school"].id, message="SERVICESMARK elsewhere")


NORTHSIDE_VIEW = {
    "own": frozenset({Category.IDENTITY, Category.ATTENDANCE}),  # behavior: consented, not in the agreement
    "no_consent": ROSTER_ONLY,
    "revoked": ROSTER_ONLY,
    "expired": ROSTER_ONLY,
    "eligible": frozenset({Category.IDENTITY, Category.ATTENDANCE, Category.GRADES}),
}
HIGH_SCHOOL = {"own", "no_consent", "revoked", "expired", "agreement_ended", "eligible", "other_child"}

EXPECTED = {
    "district_admin": {name: ALL for name in HIGH_SCHOOL | {"other_school"}},
    "principal": {name: ALL for name in HIGH_SCHOOL},
    "counselor": {name: ALL for name in HIGH_SCHOOL},
    "teacher": {"own": TEACHER},
    "partner_admin": NORTHSIDE_VIEW,
    "youth_worker": NORTHSIDE_VIEW,
    "noncompliant_worker": {},
    "eastside_worker": {"agreement_ended": ROSTER_ONLY},
    "parent": {"own": ALL},  # the eligible child holds their own rights now
    "student": {"eligible": ALL},
    "researcher": {},
}
CONSENT_MANAGERS = {"district_admin", "principal", "counselor"}
CASEWORK_WRITERS = {"principal", "counselor"}
PARTNER_STAFF = {"partner_admin", "youth_worker", "noncompliant_worker", "eastside_worker"}
FAMILY = {"parent", "student"}  # the family pages are theirs; staff have the staff pages


def _assert_no_hidden_data(html: str, hidden: set[Category], where: str) -> None:
    for category in hidden:
        assert MARKERS[category] not in html, f"{where}: {category} data leaked"


def _student_requests(app, world, who, name):
    """(method, url, data, expected status) for every student route, for one user and student."""
    student = world.students[name]
    expected = EXPECTED[who].get(name)
    reachable = expected is not None
    page = 200 if reachable else 404
    manager = who in CONSENT_MANAGERS and reachable
    history = 200 if manager or (who in PARTNER_STAFF and reachable) else 404
    consent = world.consents.get(name)
    with app.test_request_context():
        yield "GET", url_for("students.show", student_id=student.uuid), None, page
        for category in Category:
            yield "GET", url_for("students.section", student_id=student.uuid, category=category), None, page
        yield "GET", url_for("consents.history", student_id=student.uuid), None, history
        family = 200 if who in FAMILY and reachable else 404
        yield "GET", url_for("family.child", student_id=student.uuid), None, family
        yield "GET", url_for("family.log", student_id=student.uuid), None, family
        yield "GET", url_for("family.research", student_id=student.uuid), None, family
        # the district offers no choice: a family's post changes nothing
        yield "POST", url_for("family.research", student_id=student.uuid), {"choice": "out"}, 403 if family == 200 else 404
        yield from _family_consent_requests(world, who, name)
        yield from _family_forms_requests(world, who, name, family == 200, manager)
        yield from _rights_requests(world, who, name)
        yield "GET", url_for("students.access_list", student_id=student.uuid), None, 200 if manager else 404
        yield "GET", url_for("consents.new", student_id=student.uuid), None, 200 if manager else 404
        yield "POST", url_for("consents.new", student_id=student.uuid), {}, 400 if manager else 404
        if consent is not None:
            yield "GET", url_for("consents.revoke", consent_id=consent.uuid), None, 200 if manager else 404
            yield "POST", url_for("consents.revoke", consent_id=consent.uuid), {"reason": "forged"}, 302 if manager else 404
        yield from _casework_requests(world, who, name)
        yield from _notes_requests(world, who, name)
        yield from _letter_requests(world, who, name)
        yield from _consent_ask_requests(world, who, name)


CONSENT_ASKERS = {"partner_admin", "youth_worker"}
CONSENT_ASK_ANSWERERS = {"principal", "counselor"}


def _consent_ask_requests(world, who, name):
    """Requests for consent: asked by a compliant partner's staff about a student on their
    roster whose record a consent could open further (every Northside student here);
    marked handled only by the counselors and principal of the student's school. Anyone
    else's POST gets 404."""
    student = world.students[name]
    asker = who in CONSENT_ASKERS and name in NORTHSIDE_VIEW
    yield "POST", url_for("consent_asks.ask", student_id=student.uuid), {}, 302 if asker else 404
    ask = world.asks.get(name)
    if ask is not None:
        answerer = who in CONSENT_ASK_ANSWERERS and EXPECTED[who].get(name) is not None
        yield "POST", url_for("consent_asks.handled", ask_id=ask.uuid), {}, 302 if answerer else 404


LETTER_ISSUERS = {"principal", "counselor"}


def _letter_requests(world, who, name):
    """Invitation letters: issued only by the student's own school (principal,
    counselors). An issuer's POST names a guardian who may claim but a language that
    does not exist (400, nothing issued); anyone else's is complete and valid and must
    still get 404."""
    student = world.students[name]
    issuer = who in LETTER_ISSUERS and EXPECTED[who].get(name) is not None
    yield "GET", url_for("family_accounts.index", student_id=student.uuid), None, 200 if issuer else 404
    guardian = world.guardians.get(name)
    claimant = str(guardian.uuid) if guardian is not None else "student"
    forged = {"claimant": claimant, "language": "xx" if issuer else "en"}
    claimable = guardian is not None or name == "eligible"
    yield "POST", url_for("family_accounts.issue", student_id=student.uuid), forged, (
        400 if issuer and claimable else 404)
    # an emailed invitation: the guardian has no address on record (400, nothing sent); anyone else's is 404
    yield "POST", url_for("family_accounts.invite", student_id=student.uuid), {"claimant": claimant}, (
        400 if issuer and guardian is not None else 404)


def _rights_requests(world, who, name):
    """The consents a parent signed, reviewed only by the eligible student themself: a
    confirmation without its signature is refused, a revocation goes through; anyone
    else's forged signature or revocation gets 404."""
    student = world.students[name]
    decides = who == "student" and name == "eligible"
    yield "GET", url_for("rights.review", student_id=student.uuid), None, 200 if decides else 404
    if name != "eligible":
        return
    consent = world.consents["eligible_parent_signed"]
    forged = {"typed_name": world.users[who].full_name, "agreed": "y"}
    yield "GET", url_for("rights.confirm", consent_id=consent.uuid), None, 200 if decides else 404
    yield "POST", url_for("rights.confirm", consent_id=consent.uuid), {} if decides else forged, 400 if decides else 404
    yield "GET", url_for("rights.revoke", consent_id=consent.uuid), None, 200 if decides else 404
    yield "POST", url_for("rights.revoke", consent_id=consent.uuid), {}, 302 if decides else 404


# who signs each student's consents online: the parent with rights until the student is
# eligible, then the student; the parent of the eligible student is only told so
CONSENT_SIGNERS = {("parent", "own"), ("student", "eligible")}


def _family_consent_requests(world, who, name):
    """The family's consent pages. A signer's POSTs carry an incomplete form (400) or
    revoke the student's consent (302); anyone else's carry a complete forged signature
    and must get 404, which the revocation count checks changed nothing."""
    student, consent, referral = world.students[name], world.consents.get(name), world.referrals.get(name)
    signer = (who, name) in CONSENT_SIGNERS
    northside = world.partners["northside"]
    page = 200 if signer or (who, name) == ("parent", "eligible") else 404
    yield "GET", url_for("family_consents.index", student_id=student.uuid), None, page
    yield "GET", url_for("family_consents.grant", student_id=student.uuid, organization=northside.uuid), None, (
        200 if signer else 404)
    forged = {"organization": str(northside.uuid), "categories": "attendance", "purpose": "forged",
              "expires_on": (TODAY + timedelta(days=30)).isoformat(), "action": "sign", "statement": "forged",
              "typed_name": world.users[who].full_name, "agreed": "y"}
    yield "POST", url_for("family_consents.grant", student_id=student.uuid), (
        {"organization": str(northside.uuid)} if signer else forged), 400 if signer else 404
    if consent is not None:
        yield "GET", url_for("family_consents.revoke", consent_id=consent.uuid), None, 200 if signer else 404
        yield "POST", url_for("family_consents.revoke", consent_id=consent.uuid), {}, 302 if signer else 404
    if referral is not None:
        yield "GET", url_for("family_consents.decline", referral_id=referral.uuid), None, 200 if signer else 404
        yield "POST", url_for("family_consents.decline", referral_id=referral.uuid), {}, 302 if signer else 404


AMENDMENT_ANSWERERS = {"principal", "counselor"}


def _family_forms_requests(world, who, name, family, manager):
    """Amendment requests, asked by the family (an empty form is refused, a forged one by
    anyone else is 404) and read by the student's school and district admins, answered
    only by the school (an empty answer is refused, a forged one is 404); the release
    form, printed by consent managers and by the family member who signs."""
    student = world.students[name]
    forged = {"part": "attendance", "message": "LIDMARK forged request"}
    yield "GET", url_for("amendments.new", student_id=student.uuid), None, 200 if family else 404
    yield "POST", url_for("amendments.new", student_id=student.uuid), {} if family else forged, 400 if family else 404
    signer = (who, name) in CONSENT_SIGNERS
    release = url_for("release_forms.show", student_id=student.uuid, organization_id=world.partners["northside"].uuid)
    yield "GET", release, None, 200 if manager or signer else 404
    yield "GET", release + "?lang=es", None, 200 if manager or signer else 404
    request = world.amendments.get(name)
    if request is not None:
        answerer = who in AMENDMENT_ANSWERERS and manager
        yield "GET", url_for("amendments.show", request_id=request.uuid), None, 200 if manager else 404
        answer = {} if answerer else {"decision": "accepted", "answer": "forged"}
        yield "POST", url_for("amendments.show", request_id=request.uuid), answer, 400 if answerer else 404


def _casework_requests(world, who, name):
    """Casework: read with `services`, written only by the school's counselors and
    principal. A non-writer's POST carries a complete, valid forged form and must
    still get 404; a writer's carries an empty one and gets its validation errors."""
    student = world.students[name]
    expected = EXPECTED[who].get(name)
    reachable = expected is not None
    services = expected not in (None, ROSTER_ONLY) and Category.SERVICES in expected
    writer = who in CASEWORK_WRITERS and reachable
    flag, plan = world.flags.get(name), world.plans.get(name)

    def forged(**data):
        return {} if writer else data

    write_page, write_post = (200, 400) if writer else (404, 404)
    yield "GET", url_for("casework.timeline", student_id=student.uuid), None, 200 if reachable else 404
    yield "GET", url_for("casework.new_flag", student_id=student.uuid), None, write_page
    yield "POST", url_for("casework.new_flag", student_id=student.uuid), forged(need="other", details="forged"), write_post
    yield "GET", url_for("casework.new_plan", student_id=student.uuid), None, write_page
    plan_form = dict(tier="1", goal="forged", strategies="forged", owner=str(world.users["counselor"].uuid),
                     starts_on=TODAY.isoformat(), duration_weeks="6", checkin_every_days="7")
    yield "POST", url_for("casework.new_plan", student_id=student.uuid), forged(**plan_form), write_post
    if plan is not None:
        yield "GET", url_for("casework.plan", plan_id=plan.uuid), None, 200 if services else 404
        check_in = forged(occurred_on=TODAY.isoformat(), summary="forged")
        yield "POST", url_for("casework.record_check_in", plan_id=plan.uuid), check_in, write_post
        yield "GET", url_for("casework.close_plan", plan_id=plan.uuid), None, write_page
        yield "POST", url_for("casework.close_plan", plan_id=plan.uuid), forged(outcome="forged"), write_post
    if flag is not None:
        yield "GET", url_for("referrals.new", flag_id=flag.uuid), None, write_page
        refer = forged(organization=str(world.partners["northside"].uuid), message="forged")
        yield "POST", url_for("referrals.new", flag_id=flag.uuid), refer, write_post
        yield "GET", url_for("casework.close_flag", flag_id=flag.uuid), None, write_page
        yield "POST", url_for("casework.close_flag", flag_id=flag.uuid), {}, 302 if writer else 404
    yield from _referral_requests(world, who, name, services, writer)


def _referral_requests(world, who, name, services, writer):
    """A referral: the school reads it with `services` and withdraws it as a writer; only
    the receiving organization's (compliant) partner admin reaches it in the inbox, where
    an empty decline or close is refused and accepting the sent one goes through."""
    referral = world.referrals.get(name)
    if referral is None:
        return
    write_page, write_post = (200, 400) if writer else (404, 404)
    yield "GET", url_for("referrals.show", referral_id=referral.uuid), None, 200 if services else 404
    yield "GET", url_for("referrals.withdraw", referral_id=referral.uuid), None, write_page
    yield "POST", url_for("referrals.withdraw", referral_id=referral.uuid), {} if writer else {"reason": "forged"}, write_post
    answers = who == "partner_admin" and referral.organization_id == world.partners["northside"].id
    page = 200 if answers else 404 if who == "partner_admin" else 403
    yield "GET", url_for("inbox.show", referral_id=referral.uuid), None, page
    yield "POST", url_for("inbox.decline", referral_id=referral.uuid), {}, 400 if answers else page
    yield "POST", url_for("inbox.close", referral_id=referral.uuid), {}, 400 if answers else page
    yield "POST", url_for("inbox.accept", referral_id=referral.uuid), {}, 302 if answers else page


NOTE_WRITERS = {"principal", "counselor", "teacher", "partner_admin", "youth_worker"}
# staff told of new notes and referral steps; the data stewards, families and researchers are not
NOTICE_ROLES = {"principal", "counselor", "teacher", "partner_admin", "youth_worker", "noncompliant_worker",
                "eastside_worker"}


def _notes_requests(world, who, name):
    """Notes: written by those who see the student's notes, except district admins and
    families; amended only by the note's author (the high school's counselor). A
    refused POST carries a complete, valid forged form and must still get 404; an
    allowed one carries an empty form and gets its validation errors."""
    student, note = world.students[name], world.notes[name]
    expected = EXPECTED[who].get(name)
    notes = expected not in (None, ROSTER_ONLY) and Category.NOTES in expected
    writer = who in NOTE_WRITERS and notes
    author = who == "counselor" and notes
    forged = {"audience": "shared", "topic": "other", "body": "NOTESMARK forged"}
    yield "GET", url_for("notes.new", student_id=student.uuid), None, 200 if writer else 404
    yield "POST", url_for("notes.new", student_id=student.uuid), {} if writer else forged, 400 if writer else 404
    yield "GET", url_for("notes.audience", student_id=student.uuid, audience="shared"), None, 200 if writer else 404
    yield "GET", url_for("notes.amend", note_id=note.uuid), None, 200 if author else 404
    yield "POST", url_for("notes.amend", note_id=note.uuid), {} if author else {"body": "NOTESMARK forged"}, (
        400 if author else 404)


ROLES = sorted(EXPECTED)


@pytest.mark.parametrize("who", ROLES)
def test_student_routes_for_every_role_and_case(app, client, db, who):
    world = build_world(db)
    user = world.users[who]
    login(client, user)
    token = csrf_token(client, "/")
    for name in world.students:
        expected = EXPECTED[who].get(name)
        visible = set() if expected in (None, ROSTER_ONLY) else set(expected)
        hidden = set(Category) - visible
        for method, url, data, status in _student_requests(app, world, who, name):
            if method == "POST":
                response = client.post(url, data={**data, "csrf_token": token})
            else:
                response = client.get(url)
            where = f"{who} {method} {url} ({name})"
            assert response.status_code == status, where
            _assert_no_hidden_data(response.get_data(as_text=True), hidden, where)
        if expected == ROSTER_ONLY:
            html = client.get(url_for_student(app, world.students[name])).get_data(as_text=True)
            assert "Consent needed" in html and "<strong>Hidden.</strong>" not in html
    revocations = db.session.scalar(sa.select(sa.func.count()).select_from(ConsentRevocation))
    assert revocations == (5 if who in CONSENT_MANAGERS else 3 if who == "student" else 2 if who in FAMILY else 1)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Consent)) == len(world.consents), who
    _assert_casework_unchanged_but_for_writers(db, who)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Note)) == len(world.notes), who
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AmendmentRequest)) == len(world.amendments), who
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AmendmentRequestEvent)) == 0, who
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClaimCode)) == 0, who
    asks = db.session.scalar(sa.select(sa.func.count()).select_from(ConsentAsk))
    # a Northside asker asks about each of its four students without an open request
    assert asks == len(world.asks) + (4 if who in CONSENT_ASKERS else 0), who
    handled = db.session.scalar(sa.select(sa.func.count()).select_from(ConsentAsk)
                                .where(ConsentAsk.handled_at.is_not(None)))
    assert handled == (1 if who in CONSENT_ASK_ANSWERERS else 0), who


def _assert_casework_unchanged_but_for_writers(db, who):
    def count(model, *where):
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))

    assert (count(Flag), count(SupportPlan), count(SupportPlanCheckIn)) == (2, 2, 2), who
    assert count(SupportPlan, SupportPlan.status == "closed") == 0, who
    assert count(Flag, Flag.status == "closed") == (1 if who in CASEWORK_WRITERS else 0), who
    statuses = dict(db.session.execute(sa.select(Referral.message, Referral.status)).all())
    assert statuses == {
        "SERVICESMARK referral message": "accepted" if who == "partner_admin" else "sent",
        "SERVICESMARK awaiting": "awaiting_consent",
        "SERVICESMARK elsewhere": "sent",
    }, who


def url_for_student(app, student):
    with app.test_request_context():
        return url_for("students.show", student_id=student.uuid)


def _service_requests(world, who):
    """Recording services (issue 17): partner staff only; a group only for its own
    organization's compliant staff; groups managed by the partner administrator."""
    staff = who in PARTNER_STAFF
    recorder = who in ("partner_admin", "youth_worker")  # compliant, of Northside, the group's organization
    group = world.group.uuid

    def partner(status: int, outsider: int = 404) -> int:
        return status if recorder else outsider if staff else 403

    yield "GET", url_for("contacts.new_contact"), 200 if staff else 403
    yield "GET", url_for("contacts.note_audience", student=world.students["own"].uuid, audience="shared"), (
        200 if recorder or who == "eastside_worker" else 404 if staff else 403)
    yield "POST", url_for("contacts.new_contact"), (400 if recorder or who == "eastside_worker"
                                                    else 403)  # a forged contact without its fields
    yield "GET", url_for("contacts.groups"), 200 if staff else 403
    yield "GET", url_for("contacts.progress"), 200 if staff else 403
    yield "GET", url_for("contacts.attendance", group_id=group), partner(200)
    yield "POST", url_for("contacts.attendance", group_id=group), partner(400)  # without the day
    admin = who == "partner_admin"
    yield "GET", url_for("contacts.new_group"), 200 if admin else 403
    yield "POST", url_for("contacts.new_group"), 400 if admin else 403
    for endpoint in ("contacts.edit_group", "contacts.members"):
        yield "GET", url_for(endpoint, group_id=group), 200 if admin else 404 if staff else 403
    yield "POST", url_for("contacts.end_group", group_id=group), 302 if admin else 404 if staff else 403
    # outcomes by program: aggregates for district admins, principals and partner admins
    reader = who in ("district_admin", "principal", "partner_admin")
    yield "GET", url_for("outcomes.index"), 200 if reader else 403
    yield "GET", url_for("outcomes.export", fmt="csv"), 404 if reader else 403  # the world has no outcomes
    yield "POST", url_for("outcomes.threshold"), 302 if who == "district_admin" else 403  # forged: nothing saved


def _global_requests(app, world, who):
    admin = who == "district_admin"
    enrolled = admin  # the factory gives district admins a second factor
    partner_admin = who == "partner_admin"
    colleague = world.users["youth_worker"]
    with app.test_request_context():
        yield "GET", url_for("home.index"), 200
        yield "GET", url_for("account.index"), 200
        yield "POST", url_for("account.change_password"), 400  # a forged change without the current password
        yield "POST", url_for("account.choose_language"), 400  # a forged choice without a language
        yield "GET", url_for("auth.login"), 302
        for endpoint in ("admin.agreements", "admin.new_agreement", "admin.new_service_agreement", "admin.disclosures",
                         "admin.disclosures_csv", "admin.thresholds"):
            yield "GET", url_for(endpoint), 200 if admin else 403
        yield "GET", url_for("admin.end_agreement", agreement_id=world.agreements["northside"].uuid), 200 if admin else 403
        yield "GET", url_for("admin.end_service_agreement", agreement_id=world.agreements["northside"].uuid), 404 if admin else 403
        yield "POST", url_for("admin.end_agreement", agreement_id=world.agreements["northside"].uuid), 302 if admin else 403
        yield "POST", url_for("admin.end_service_agreement", agreement_id=world.agreements["northside"].uuid), 404 if admin else 403
        yield "GET", url_for("organizations.index"), 200 if admin else 403
        yield "POST", url_for("organizations.index"), 400 if admin else 403  # a forged add without its fields
        northside = world.partners["northside"]
        yield "GET", url_for("organizations.rename", organization_id=northside.uuid), 200 if admin else 403
        yield "POST", url_for("organizations.rename", organization_id=northside.uuid), 400 if admin else 403
        yield "GET", url_for("partner.staff"), 200 if partner_admin else 403
        yield "GET", url_for("inbox.index"), 200 if partner_admin else 403
        yield "GET", url_for("roster.index"), 200 if partner_admin else 403
        yield "POST", url_for("roster.index"), 400 if partner_admin else 403  # a forged add without its fields
        on_roster = world.students["own"]
        yield "GET", url_for("roster.remove", student_id=on_roster.uuid), 200 if partner_admin else 403
        yield "POST", url_for("roster.remove", student_id=on_roster.uuid), 302 if partner_admin else 403
        yield "GET", url_for("roster.remove", student_id=world.students["agreement_ended"].uuid), 404 if partner_admin else 403
        yield "GET", url_for("referrals.index"), 200 if who in ("district_admin", "principal", "counselor") else 403
        yield "GET", url_for("amendments.index"), 200 if who in ("district_admin", "principal", "counselor") else 403
        yield "GET", url_for("notices.index"), 200 if who in NOTICE_ROLES else 403
        yield "GET", url_for("partner.compliance_form", user_id=colleague.uuid), 200 if partner_admin else 403
        yield "POST", url_for("partner.compliance_form", user_id=colleague.uuid), 302 if partner_admin else 403
        yield "GET", url_for("caseload.index"), 200 if who in ("district_admin", "principal", "counselor") else 403
        for fmt in ("csv", "xlsx"):
            yield "GET", url_for("caseload.export", fmt=fmt), 200 if who in ("district_admin", "principal", "counselor") else 403
        yield "GET", url_for("caseload.print_view"), 200 if who in ("district_admin", "principal", "counselor") else 403
        yield from _caseload_assignment_requests(world, who)
        yield from _service_requests(world, who)
        reporter = who in ("district_admin", "principal", "researcher")
        yield "GET", url_for("reports.index"), 200 if reporter else 403
        yield "GET", url_for("reports.print_view", by="grade"), 200 if reporter else 403
        for fmt in ("csv", "xlsx"):  # the world has no indicators: no figures to export
            yield "GET", url_for("reports.export", fmt=fmt), 404 if reporter else 403
        yield "GET", url_for("reports.log"), 200 if admin else 403
        # the published annual report: the district's people and its partners read it, others do not
        annual = world.annual_report
        reads_annual = who != "researcher"  # the world's research partner has no agreement with the district
        yield "GET", url_for("annual_reports.index"), 200
        yield "GET", url_for("annual_reports.show", report_id=annual.uuid), 200 if reads_annual else 404
        if who in ("district_admin", "researcher"):
            yield "GET", url_for("annual_reports.pdf", report_id=annual.uuid), 200 if reads_annual else 404
        yield "GET", url_for("annual_reports.draft", year=TODAY.year - 1, baseline=TODAY.year - 2), 302 if admin else 403
        yield "POST", url_for("annual_reports.publish"), 302 if admin else 403  # a forged post: refused, nothing published
        yield "POST", url_for("annual_reports.public_link", report_id=annual.uuid), 302 if admin else 403
        yield "POST", url_for("reports.minimum_n"), 302 if admin else 403  # a forged post: refused, nothing saved
        # research projects: the district admin's to record, a researcher's to read when attached
        project = world.research_project
        yield "GET", url_for("research_admin.index"), 200 if admin else 403
        yield "GET", url_for("research_admin.new"), 200 if admin else 403
        yield "POST", url_for("research_admin.new"), 400 if admin else 403  # a forged post without its fields
        yield "GET", url_for("research_admin.show", project_id=project.uuid), 200 if admin else 403
        yield "POST", url_for("research_admin.attach", project_id=project.uuid), 302 if admin else 403  # no one chosen
        researcher = world.users["researcher"]
        yield "POST", url_for("research_admin.detach", project_id=project.uuid, user_id=researcher.uuid), \
            302 if admin else 403
        # its own project: nothing to approve or withdraw (refused with a message)
        yield "POST", url_for("research_admin.approve", project_id=project.uuid), 302 if admin else 403
        yield "POST", url_for("research_admin.withdraw", project_id=project.uuid), 302 if admin else 403
        yield "POST", url_for("research_admin.settings"), 302 if admin else 403
        yield "GET", url_for("research.projects"), 200 if who == "researcher" else 403
        for fmt in ("csv", "parquet"):
            yield "GET", url_for("research.extract", project_id=project.uuid, fmt=fmt), 200 if who == "researcher" else 403
        yield "GET", url_for("home.classes"), 200 if who == "teacher" else 403
        importer = who in ("district_admin", "partner_admin")  # a partner admin imports its service contacts
        yield "GET", url_for("imports.index"), 200 if importer else 403
        yield "GET", url_for("clearinghouse.index"), 200 if admin else 403
        yield "GET", url_for("clearinghouse.graduates_file", class_year=1999), 404 if admin else 403  # no graduates
        yield "POST", url_for("clearinghouse.act_codes"), 302 if admin else 403  # a forged post: nothing changes
        yield "POST", url_for("imports.upload"), 400 if importer else 403  # a forged post without a file
        yield "GET", url_for("imports.show", batch_id="00000000-0000-4000-8000-000000000000"), 404 if importer else 403
        yield "GET", url_for("imports.oneroster_schools"), 200 if admin else 403
        yield "POST", url_for("imports.oneroster_schools"), 400 if admin else 403  # a forged mapping without its fields
        yield "POST", url_for("imports.unmap_oneroster_school"), 400 if admin else 403
        yield "GET", url_for("imports.status", batch_id="00000000-0000-4000-8000-000000000000"), 404 if importer else 403
        yield "GET", url_for("static", filename="css/casemgr.css"), 200
        yield "GET", url_for("operations.healthz"), 200
        yield "GET", url_for("operations.favicon"), 301
        yield "POST", url_for("language.choose"), 400  # a forged switch without a language
        # claiming a family account is for people not signed in
        yield "GET", url_for("claim.start"), 302
        yield "POST", url_for("claim.start"), 302
        yield "GET", url_for("claim.account"), 302
        yield "POST", url_for("claim.account"), 302
        yield from _two_factor_requests(world, who, admin, enrolled)
        yield from _account_requests(world, who)


def _caseload_assignment_requests(world, who):
    """Only the school's principal, or a district admin for a school of the district,
    assigns caseloads; a forged post without its fields is refused (400), a rule or
    student that is not of the school is 404."""
    principal, admin = who == "principal", who == "district_admin"
    here = {"school": str(world.users["counselor"].organization.uuid)} if admin else {}
    allowed = principal or admin
    yield "GET", url_for("caseload_assignments.index", **here), 200 if allowed else 403
    yield "POST", url_for("caseload_assignments.add_rule", **here), 400 if allowed else 403
    yield "POST", url_for("caseload_assignments.assign", **here), 400 if allowed else 403
    nobody = "00000000-0000-4000-8000-000000000000"
    yield "POST", url_for("caseload_assignments.remove_rule", rule_id=nobody, **here), 404 if allowed else 403
    for name, status in (("own", 302), ("other_school", 404)):  # own: not assigned one by one, said so
        yield "POST", url_for("caseload_assignments.unassign", student_id=world.students[name].uuid, **here), (
            status if allowed else 403)


def _two_factor_requests(world, who, admin, enrolled):
    """Everyone reaches their own second-factor page; recovery codes need a second
    factor; only district admins set the district's requirement and reset someone's
    second factor, of their district's people and partner staff only (another
    district's counselor is 404, as is their own). An empty code is refused."""
    yield "GET", url_for("two_factor.sign_in"), 302  # signed in already
    yield "GET", url_for("two_factor.enrol"), 200
    yield "POST", url_for("two_factor.enrol"), 200 if enrolled else 400  # enrolled: the page says so
    yield "GET", url_for("two_factor.recovery_codes"), 200 if enrolled else 302
    yield "POST", url_for("two_factor.recovery_codes"), 400 if enrolled else 302
    yield "GET", url_for("two_factor_admin.security"), 200 if admin else 403
    yield "POST", url_for("two_factor_admin.security"), 302 if admin else 403
    for name, reachable in (("youth_worker", True), ("counselor", True), ("hill_counselor", False),
                            ("district_admin", False)):
        person = world.users[name]
        if name == who:
            continue
        page = (200 if reachable else 404) if admin else 403
        reset = url_for("two_factor_admin.reset", user_id=person.uuid)
        yield "GET", reset, page
        yield "POST", reset, (302 if reachable else 404) if admin else 403
    yield "GET", url_for("two_factor_admin.reset", user_id="00000000-0000-4000-8000-000000000000"), 404 if admin else 403


def _account_requests(world, who):
    """Staff accounts: district admins manage the district's staff and the partner
    admins, never youth workers; a partner admin manages only their own organization's
    staff (another organization's answers 404). Everyone else is refused the pages (403).
    The emailed-link pages are public; a forged link is 404."""
    admin, partner_admin = who == "district_admin", who == "partner_admin"
    users = world.users

    def admin_only(status):
        return status if admin else 403

    def partner_only(status):
        return status if partner_admin else 403

    for endpoint in ("users.index", "users.invite", "users.events"):
        yield "GET", url_for(endpoint), admin_only(200)
    yield "POST", url_for("users.invite"), admin_only(400)  # a forged invitation without its fields
    yield "GET", url_for("users.edit", user_id=users["partner_admin"].uuid), admin_only(200)
    yield "GET", url_for("users.edit", user_id=users["counselor"].uuid), admin_only(200)
    for name in ("youth_worker", "parent", "student"):  # not the district admin's to manage
        yield "GET", url_for("users.edit", user_id=users[name].uuid), admin_only(404)
        yield "POST", url_for("users.deactivate", user_id=users[name].uuid), admin_only(404)
    yield "POST", url_for("users.edit", user_id=users["counselor"].uuid), admin_only(400)
    yield "POST", url_for("users.reactivate", user_id=users["teacher"].uuid), admin_only(400)  # already active
    yield "POST", url_for("users.resend_invitation", user_id=users["teacher"].uuid), admin_only(400)  # accepted
    yield "POST", url_for("users.deactivate", user_id=users["district_admin"].uuid), admin_only(400)  # themselves

    yield "GET", url_for("partner.invite"), partner_only(200)
    yield "POST", url_for("partner.invite"), partner_only(400)
    yield "GET", url_for("partner.account_events"), partner_only(200)
    yield "GET", url_for("partner.edit_member", user_id=users["youth_worker"].uuid), partner_only(200)
    yield "POST", url_for("partner.edit_member", user_id=users["youth_worker"].uuid), partner_only(400)
    yield "POST", url_for("partner.reactivate", user_id=users["youth_worker"].uuid), partner_only(400)
    yield "POST", url_for("partner.resend_invitation", user_id=users["youth_worker"].uuid), partner_only(400)
    yield "POST", url_for("partner.deactivate", user_id=users["partner_admin"].uuid), partner_only(400)
    for name in ("eastside_worker", "counselor", "district_admin", "parent"):  # another organization's: 404
        yield "GET", url_for("partner.edit_member", user_id=users[name].uuid), partner_only(404)
        yield "POST", url_for("partner.edit_member", user_id=users[name].uuid), partner_only(404)
        for endpoint in ("partner.deactivate", "partner.reactivate", "partner.resend_invitation"):
            yield "POST", url_for(endpoint, user_id=users[name].uuid), partner_only(404)

    yield "GET", url_for("accounts.forgot_password"), 200
    yield "POST", url_for("accounts.forgot_password"), 400  # without an address
    yield "GET", url_for("accounts.invitation", token="forged-token"), 404
    yield "POST", url_for("accounts.invitation", token="forged-token"), 404
    yield "POST", url_for("accounts.renew_invitation", token="forged-token"), 404
    yield "GET", url_for("accounts.reset_password", token="forged-token"), 404
    yield "POST", url_for("accounts.reset_password", token="forged-token"), 404


def build_world_with_another_district(db) -> World:
    """The world, with a counselor of the other district (whose second factor no
    district admin here may reset)."""
    world = build_world(db)
    world.users["hill_counselor"] = create_user(Role.COUNSELOR, world.students["other_district"].school)
    return world


@pytest.mark.parametrize("who", ROLES)
def test_role_pages_for_every_role(app, client, db, who):
    world = build_world_with_another_district(db)
    login(client, world.users[who])
    token = csrf_token(client, "/")
    for method, url, status in _global_requests(app, world, who):
        response = client.post(url, data={"csrf_token": token}) if method == "POST" else client.get(url)
        assert response.status_code == status, f"{who} {method} {url}"
    removed = db.session.scalar(sa.select(sa.func.count()).select_from(RosterEntry).where(RosterEntry.removed_on.is_not(None)))
    assert removed == (1 if who == "partner_admin" else 0), who
    resets = db.session.scalar(sa.select(sa.func.count()).select_from(AccountEvent)
                               .where(AccountEvent.action == "two_factor_reset"))
    assert resets == (2 if who == "district_admin" else 0), who
    # nobody's account changed: no role, organization or active flag moved, nobody was invited
    accounts = {user.email: (user.role, user.organization_id, user.active) for user in world.users.values()}
    db.session.expire_all()
    assert {u.email: (u.role, u.organization_id, u.active) for u in db.session.scalars(sa.select(User))
            if u.email in accounts} == accounts, who
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == len(world.users) + 1, who
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302


def test_signed_out_visitors_reach_only_the_sign_in_page(app, client, db):
    world = build_world(db)
    student = world.students["own"]
    for path in ("/", f"/students/{student.uuid}", f"/students/{student.uuid}/consents", "/admin/agreements", "/admin/organizations", "/partner/staff",
                 f"/plans/{world.plans['own'].uuid}", f"/students/{student.uuid}/flags/new",
                 f"/students/{student.uuid}/notes/new", f"/notes/{world.notes['own'].uuid}/amend", "/referrals",
                 f"/referrals/{world.referrals['own'].uuid}", f"/flags/{world.flags['own'].uuid}/refer",
                 "/partner/referrals", f"/partner/referrals/{world.referrals['own'].uuid}", "/partner/roster",
                 "/notices",
                 f"/family/children/{student.uuid}", f"/family/children/{student.uuid}/log",
                 f"/family/children/{student.uuid}/parent-consents",
                 f"/family/parent-consents/{world.consents['eligible_parent_signed'].uuid}/confirm",
                 f"/family/children/{student.uuid}/consents",
                 f"/family/children/{student.uuid}/consents/new?organization={world.partners['northside'].uuid}",
                 f"/family/consents/{world.consents['own'].uuid}/revoke",
                 f"/family/referrals/{world.referrals['no_consent'].uuid}/decline",
                 f"/family/children/{student.uuid}/amendments/new", "/amendments",
                 f"/amendments/{world.amendments['own'].uuid}",
                 f"/release-forms/{student.uuid}/{world.partners['northside'].uuid}",
                 "/login/two-factor", "/account/two-factor", "/account/two-factor/recovery-codes", "/admin/security",
                 f"/admin/users/{world.users['counselor'].uuid}/two-factor/reset",
                 f"/students/{student.uuid}/family-accounts",
                 "/admin/users", "/admin/users/new", f"/admin/users/{world.users['counselor'].uuid}",
                 "/admin/account-events", "/partner/staff/new", "/partner/account-events",
                 f"/partner/staff/{world.users['youth_worker'].uuid}/account",
                 "/reports", "/reports/log", "/annual-reports", f"/annual-reports/{world.annual_report.uuid}",
                 f"/annual-reports/{world.annual_report.uuid}.pdf"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), path
    # a published report's public link opens without signing in; a made-up one does not
    assert client.get(f"/public/annual-reports/{world.annual_report.public_token}").status_code == 200
    assert client.get("/public/annual-reports/walk-public-link-9876543210").status_code == 404
    assert client.get("/login").status_code == 200
    # claiming an account: step one is public, step two needs step one's proof
    assert client.get("/claim").status_code == 200
    response = client.get("/claim/account")
    assert response.status_code == 302 and response.headers["Location"] == "/claim"
    token = csrf_token(client, "/claim")
    response = client.post(f"/students/{student.uuid}/family-accounts/letters",
                           data={"claimant": "student", "language": "en", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


# whose notes and referral steps each role is told about in the world above: the
# counselor wrote every note and sent every referral, so nothing is new to them
NOTICED_STUDENTS = {
    "principal": HIGH_SCHOOL,  # notes of the school's students, and their referrals' steps
    "teacher": {"own"},
    "partner_admin": {"own"},  # no consent covers notes; the referral awaiting consent is not named
    "youth_worker": set(),
    "noncompliant_worker": set(),
    "eastside_worker": set(),
    "counselor": {"no_consent"},  # the open request for consent about a student of the school
}


@pytest.mark.parametrize("who", sorted(NOTICED_STUDENTS))
def test_notices_name_only_students_the_role_may_read_about(app, client, db, who):
    world = build_world(db)
    login(client, world.users[who])
    html = client.get("/notices").get_data(as_text=True)
    named = {name for name, student in world.students.items() if f"{student.display_name}<" in html}
    assert named == NOTICED_STUDENTS[who], who
    _assert_no_hidden_data(html, set(Category) - {Category.IDENTITY}, f"{who} notices")
