"""The closed vocabularies of SPEC §2–§7, stored as text with CHECK constraints."""
from enum import StrEnum


class Role(StrEnum):
    DISTRICT_ADMIN = "district_admin"
    PRINCIPAL = "principal"
    COUNSELOR = "counselor"
    TEACHER = "teacher"
    PARTNER_ADMIN = "partner_admin"
    YOUTH_WORKER = "youth_worker"
    PARENT = "parent"
    STUDENT = "student"
    RESEARCHER = "researcher"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.DISTRICT_ADMIN: "District administrator",
    Role.PRINCIPAL: "Principal",
    Role.COUNSELOR: "Counselor",
    Role.TEACHER: "Teacher",
    Role.PARTNER_ADMIN: "Partner administrator",
    Role.YOUTH_WORKER: "Youth worker",
    Role.PARENT: "Parent or guardian",
    Role.STUDENT: "Student",
    Role.RESEARCHER: "Researcher",
}

SCHOOL_STAFF = frozenset({Role.PRINCIPAL, Role.COUNSELOR, Role.TEACHER})
PARTNER_STAFF = frozenset({Role.PARTNER_ADMIN, Role.YOUTH_WORKER})
FAMILY = frozenset({Role.PARENT, Role.STUDENT})


class OrgKind(StrEnum):
    DISTRICT = "district"
    SCHOOL = "school"
    PARTNER = "partner"
    RESEARCH = "research"


# The organization each role belongs to (SPEC §2: one role, one organization).
ROLE_ORG_KIND = {
    Role.DISTRICT_ADMIN: OrgKind.DISTRICT,
    Role.PRINCIPAL: OrgKind.SCHOOL,
    Role.COUNSELOR: OrgKind.SCHOOL,
    Role.TEACHER: OrgKind.SCHOOL,
    Role.PARTNER_ADMIN: OrgKind.PARTNER,
    Role.YOUTH_WORKER: OrgKind.PARTNER,
    Role.PARENT: OrgKind.DISTRICT,
    Role.STUDENT: OrgKind.DISTRICT,
    Role.RESEARCHER: OrgKind.RESEARCH,
}


class SchoolLevel(StrEnum):
    ELEMENTARY = "elementary"
    MIDDLE = "middle"
    HIGH = "high"


class Category(StrEnum):
    IDENTITY = "identity"
    ATTENDANCE = "attendance"
    GRADES = "grades"
    ASSESSMENTS = "assessments"
    BEHAVIOR = "behavior"
    COLLEGE = "college"
    NOTES = "notes"
    SERVICES = "services"
    # where the graduate enrolled after high school (the Clearinghouse, issue 16)
    POSTSECONDARY = "postsecondary"


class AttendanceStatus(StrEnum):
    PRESENT = "present"
    TARDY = "tardy"
    EXCUSED = "excused"
    UNEXCUSED = "unexcused"
    SUSPENDED = "suspended"  # out-of-school suspension


ABSENT_STATUSES = (AttendanceStatus.EXCUSED, AttendanceStatus.UNEXCUSED, AttendanceStatus.SUSPENDED)


class Subject(StrEnum):
    ENGLISH = "english"
    MATH = "math"
    SCIENCE = "science"
    SOCIAL_STUDIES = "social_studies"
    OTHER = "other"


class FafsaState(StrEnum):
    NOT_STARTED = "not_started"
    SUBMITTED = "submitted"
    INCOMPLETE = "incomplete"
    COMPLETE = "complete"


class DisciplineAction(StrEnum):
    NONE = "none"
    DETENTION = "detention"
    IN_SCHOOL_SUSPENSION = "in_school_suspension"
    OUT_OF_SCHOOL_SUSPENSION = "out_of_school_suspension"
    EXPULSION = "expulsion"


class Service(StrEnum):
    """Needs a counselor flags, and services an organization offers (SPEC §6)."""

    ATTENDANCE_SUPPORT = "attendance_support"
    TUTORING = "tutoring"
    MENTORING = "mentoring"
    COLLEGE_APPLICATION = "college_application"
    FAFSA_HELP = "fafsa_help"
    FAMILY_SUPPORT = "family_support"
    OTHER = "other"


class ContactMode(StrEnum):
    """How a service contact was given (issue 17)."""

    INDIVIDUAL = "individual"
    GROUP = "group"


class ContactSource(StrEnum):
    APP = "app"  # recorded in casemgr by a worker
    IMPORT = "import"  # imported from the partner's own attendance system


class NoteAudience(StrEnum):
    SHARED = "shared"
    ORGANIZATION = "organization"
    FAMILY = "family"
    RESTRICTED = "restricted"


class NoteTopic(StrEnum):
    ATTENDANCE = "attendance"
    ACADEMIC = "academic"
    COLLEGE = "college"
    SOCIAL_EMOTIONAL = "social_emotional"
    FAMILY = "family"
    OTHER = "other"


class ReferralStatus(StrEnum):
    AWAITING_CONSENT = "awaiting_consent"
    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CLOSED = "closed"


class SignerRelationship(StrEnum):
    PARENT = "parent"
    GUARDIAN = "guardian"
    ELIGIBLE_STUDENT = "eligible_student"


class ConsentMethod(StrEnum):
    PAPER = "paper"
    ELECTRONIC = "electronic"


class DisclosureAction(StrEnum):
    VIEW = "view"
    EXPORT = "export"
    NOTE_WRITTEN = "note_written"
    REFERRAL = "referral"
    DENIED = "denied"


class ImportStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    REJECTED = "rejected"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # still running when its process ended: killed, or the machine stopped


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class AmendmentPart(StrEnum):
    """The part of a record a family asks the school to amend (FERPA 34 CFR 99.20)."""

    ATTENDANCE = "attendance"
    COURSE_MARK = "course_mark"
    CREDITS = "credits"
    ASSESSMENTS = "assessments"
    DISCIPLINE = "discipline"
    FAFSA = "fafsa"
    CONTACT = "contact"
    OTHER = "other"


class AmendmentDecision(StrEnum):
    ACCEPTED = "accepted"
    DENIED = "denied"


class AccountAction(StrEnum):
    """What an account event records (issue 11): who changed which account, or who
    signed in, from which address."""

    CREATED = "created"  # the first district admin, from the command line
    INVITED = "invited"
    INVITATION_RESENT = "invitation_resent"
    INVITATION_ACCEPTED = "invitation_accepted"
    UPDATED = "updated"
    DEACTIVATED = "deactivated"
    REACTIVATED = "reactivated"
    SIGNED_IN = "signed_in"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGNED_OUT = "signed_out"
    SIGNED_OUT_EVERYWHERE = "signed_out_everywhere"
    SESSION_EXPIRED = "session_expired"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET_REQUESTED = "password_reset_requested"
    PASSWORD_RESET = "password_reset"
    TWO_FACTOR_ENABLED = "two_factor_enabled"
    TWO_FACTOR_RESET = "two_factor_reset"
    RECOVERY_CODE_USED = "recovery_code_used"
    LETTER_ISSUED = "letter_issued"
    ACCOUNT_CLAIMED = "account_claimed"
    LANGUAGE_CHANGED = "language_changed"
    SETTINGS_CHANGED = "settings_changed"  # a district's security settings


class TokenPurpose(StrEnum):
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"


# Roles that sign in to the staff side; families are parents and students.
STAFF = frozenset(Role) - FAMILY
