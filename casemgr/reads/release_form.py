"""The printable release form (issue 6 item 5): a FERPA consent to disclose (34 CFR
99.30), pre-filled for one student and one partner organization with a data-sharing
agreement in force with the student's district, for signing on paper. Staff then record
the signed form as a paper consent.

Nothing here decides access: the view has asked `policy.may_print_release_form`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

from casemgr import policy
from casemgr.models import DataSharingAgreement, Organization, Student
from casemgr.models.enums import Category, OrgKind
from casemgr.school_year import end_of_school_year
from casemgr.services.consents import agreement_purpose

CATEGORY_DESCRIPTIONS = {
    Category.IDENTITY: _l("Name, date of birth, school, grade and student ID numbers."),
    Category.ATTENDANCE: _l("The days the student was present, absent or late, and the reasons recorded."),
    Category.GRADES: _l("Course marks and the credits earned toward graduation."),
    Category.ASSESSMENTS: _l("Scores on state and district tests."),
    Category.BEHAVIOR: _l("Suspensions and other discipline records."),
    Category.COLLEGE: _l("Whether the FAFSA (the federal student aid form) is done, and college applications."),
    Category.NOTES: _l("Notes that school staff and the organization write about the support the student receives."),
    Category.SERVICES: _l("Programs the student takes part in, needs the school has noted, and referrals."),
    Category.POSTSECONDARY: _l("After graduation: the colleges where the student enrolled and any degree earned, "
                               "as the National Student Clearinghouse reports them."),
}


@dataclass(frozen=True)
class ReleaseForm:
    student: Student
    district: Organization
    organization: Organization
    categories: list[Category]  # those the agreement allows, in the order of SPEC §3
    agreement: DataSharingAgreement  # the newest in force
    expires_on: date
    student_signs: bool  # the student is eligible: they sign, not a parent
    purpose: str  # of every agreement in force, as the online consent form states it
    purpose_translated: bool  # in the reader's language (else in the district's default)


def build_release_form(student: Student, organization: Organization, today: date,
                       language: str | None = None) -> ReleaseForm | None:
    """The form for `organization`, or None when no agreement with the student's
    district is in force (no release can name it); its purpose in `language` where the
    agreements give it."""
    agreements = sorted(
        (a for a in policy.active_agreements(organization.id, today) if a.district_id == student.district_id),
        key=lambda a: (a.starts_on, a.id), reverse=True,
    )
    if organization.kind != OrgKind.PARTNER or not agreements:
        return None
    allowed = {c for agreement in agreements for c in agreement.categories}
    purpose, translated = agreement_purpose(organization, student, today, language)
    return ReleaseForm(
        student=student,
        district=student.district,
        organization=organization,
        categories=[c for c in Category if c in allowed],
        agreement=agreements[0],
        expires_on=end_of_school_year(student.district_id, today),
        student_signs=student.is_eligible_on(today),
        purpose=purpose,
        purpose_translated=translated,
    )
