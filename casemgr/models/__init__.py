"""All models, imported so the metadata (and Alembic) sees every table."""
from casemgr.models.accounts import AccountEvent, AccountToken, ClaimCode, RecoveryCode
from casemgr.models.amendments import AmendmentRequest, AmendmentRequestEvent
from casemgr.models.agreements import DataSharingAgreement, RosterEntry, ServiceAgreement, service_agreement_schools
from casemgr.models.audit import (
    DisclosureArchive, DisclosureChainHead, DisclosureDigest, DisclosureEntry, ImportBatch,
)
from casemgr.models.caseloads import CaseloadAssignment, CaseloadRule
from casemgr.models.casework import Flag, Note, Referral, ReferralEvent, SupportPlan, SupportPlanCheckIn
from casemgr.models.consent import Consent, ConsentAsk, ConsentRevocation
from casemgr.models.edfi import EdFiDescriptorMapping, EdFiStudent
from casemgr.models.indicators import IndicatorMonth, StudentIndicator, TierChange
from casemgr.models.outcomes import ProgramOutcome
from casemgr.models.people import Organization, User
from casemgr.models.postsecondary import PostsecondaryOutcome, PostsecondaryRecord
from casemgr.models.reports import PublishedReport, ReportLogEntry, StoredCube
from casemgr.models.research import ResearchOptOut, ResearchProject, ResearchProjectDistrict, ResearchProjectMember
from casemgr.models.records import (
    AttendanceYear,
    Assessment,
    CalendarDay,
    CourseMark,
    CreditRecord,
    DisciplineIncident,
    FafsaRecord,
)
from casemgr.models.services import ProgramGroup, ProgramGroupMember, ServiceContact
from casemgr.models.settings import ThresholdSettings
from casemgr.models.sources import SourceId, SourceSchool
from casemgr.models.students import (
    Guardian,
    GuardianLink,
    SchoolEnrollment,
    SchoolYear,
    Section,
    SectionEnrollment,
    Student,
)

__all__ = [
    "AccountEvent", "AccountToken", "ClaimCode", "RecoveryCode",
    "AmendmentRequest", "AmendmentRequestEvent", "CaseloadAssignment", "CaseloadRule", "Assessment", "AttendanceYear", "CalendarDay", "Consent", "ConsentAsk", "ConsentRevocation", "CourseMark",
    "CreditRecord", "DataSharingAgreement", "DisciplineIncident", "DisclosureArchive", "DisclosureChainHead", "DisclosureDigest", "DisclosureEntry", "EdFiDescriptorMapping", "EdFiStudent",
    "FafsaRecord",
    "Flag", "IndicatorMonth", "PostsecondaryOutcome", "PostsecondaryRecord", "PublishedReport", "ReportLogEntry", "StoredCube", "ResearchOptOut", "ResearchProject", "ResearchProjectDistrict", "ResearchProjectMember", "Guardian", "GuardianLink", "ImportBatch", "Note", "Organization", "Referral",
    "ReferralEvent", "RosterEntry", "SchoolEnrollment", "SchoolYear", "Section", "SectionEnrollment",
    "ProgramGroup", "ProgramGroupMember", "ServiceAgreement", "ServiceContact", "SourceId", "SourceSchool", "Student", "StudentIndicator", "SupportPlan", "SupportPlanCheckIn", "ThresholdSettings", "TierChange", "User",
    "ProgramOutcome",
    "service_agreement_schools",
]
