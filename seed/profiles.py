"""Who the partnership's districts are: each district's code, name, partners and the
roles its partners play in the demo (the partner of its key staff, the one whose
agreement was renewed from last year, the one whose agreement was ended early).

Lakeview is the demo district: its key staff are the nine demo logins, and the research
organization and its study are created with it. Riverside is a second, smaller district
of the same partnership with partners of its own; some of Lakeview's students moved there
from Riverside over the summer (seed/history.py).
"""
from __future__ import annotations

from dataclasses import dataclass

from casemgr.models.enums import Category as C
from casemgr.models.enums import Service as S


@dataclass(frozen=True)
class PartnerProfile:
    code: str
    name: str
    purpose: str
    purpose_es: str  # as its agreement gives it to families who read Spanish
    categories: tuple[str, ...]
    services: tuple[str, ...]
    program: str
    grades: range
    # which schools of a level it serves: (position in level, schools in level) -> bool
    reach: str


@dataclass(frozen=True)
class DistrictProfile:
    code: str
    name: str
    partners: tuple[PartnerProfile, ...]
    extra_partners: tuple[PartnerProfile, ...]  # one more for every 20,000 students
    lead: str  # the partner of the key staff: its roster holds every consent state
    renewed: str  # the partner that also has last year's data-sharing agreement
    ended: str | None  # the partner whose data-sharing agreement the district ended early
    unsigned: str | None  # the partner with a youth worker who never signed the confidentiality agreement
    demo_logins: bool  # the key staff are the nine demo logins (else accounts with generated names)
    hosts_research: bool  # the research organization, its researchers and its study come with this district
    local_ids_from: int = 0  # added to the local IDs, so two districts' numbers never meet
    school_namesakes_from: int = 0  # where in the namesakes its school names start


LAKEVIEW_PARTNERS = (
    PartnerProfile(
        "NSY", "Northside Youth", "After-school mentoring and attendance support for middle and high school students",
        "Mentoría después de clases y apoyo con la asistencia para estudiantes de escuela intermedia y secundaria",
        (C.IDENTITY, C.ATTENDANCE, C.GRADES, C.BEHAVIOR, C.NOTES, C.SERVICES),
        (S.MENTORING, S.ATTENDANCE_SUPPORT, S.FAMILY_SUPPORT), "Northside Mentoring", range(6, 13), "every_third",
    ),
    PartnerProfile(
        "CBM", "College Bound Mentors", "College application and FAFSA completion support for juniors and seniors",
        "Apoyo para solicitar la universidad y completar la FAFSA para estudiantes de 11.º y 12.º grado",
        (C.IDENTITY, C.GRADES, C.ASSESSMENTS, C.COLLEGE, C.NOTES, C.SERVICES),
        (S.COLLEGE_APPLICATION, S.FAFSA_HELP, S.MENTORING), "Senior Success", range(11, 13), "all",
    ),
    PartnerProfile(
        "FRC", "Family Resource Center", "Family support, basic needs and attendance outreach",
        "Apoyo a las familias, ayuda con necesidades básicas y seguimiento de la asistencia",
        (C.IDENTITY, C.ATTENDANCE, C.NOTES, C.SERVICES),
        (S.FAMILY_SUPPORT, S.ATTENDANCE_SUPPORT, S.OTHER), "Family Navigation", range(13), "every_second",
    ),
    PartnerProfile(
        "ETC", "Eastside Tutoring Collective", "Reading and math tutoring in elementary and middle school",
        "Tutoría de lectura y matemáticas en la escuela primaria e intermedia",
        (C.IDENTITY, C.GRADES, C.ASSESSMENTS, C.SERVICES),
        (S.TUTORING,), "Reading and Math Tutoring", range(1, 9), "eastside",
    ),
)
LAKEVIEW_EXTRA_PARTNERS = (
    PartnerProfile(
        "WBG", "Westside Boys & Girls Club", "After-school programs and mentoring",
        "Programas después de clases y mentoría",
        (C.IDENTITY, C.ATTENDANCE, C.NOTES, C.SERVICES), (S.MENTORING, S.OTHER), "Club After School",
        range(13), "every_fourth",
    ),
    PartnerProfile(
        "HAP", "Harbor Arts Project", "Arts enrichment and mentoring", "Actividades de arte y mentoría",
        (C.IDENTITY, C.ATTENDANCE, C.SERVICES), (S.OTHER, S.MENTORING), "Studio Arts", range(3, 13), "every_fourth",
    ),
    PartnerProfile(
        "BFC", "Bright Futures Counseling", "School-based family counseling", "Consejería familiar en la escuela",
        (C.IDENTITY, C.ATTENDANCE, C.BEHAVIOR, C.NOTES, C.SERVICES), (S.FAMILY_SUPPORT,), "Family Counseling",
        range(13), "every_third",
    ),
    PartnerProfile(
        "LTS", "Lakeview Library Teen Services", "Homework help and college application workshops",
        "Ayuda con las tareas y talleres para solicitar la universidad",
        (C.IDENTITY, C.GRADES, C.COLLEGE, C.SERVICES), (S.TUTORING, S.COLLEGE_APPLICATION), "Teen Study Hall",
        range(6, 13), "every_second",
    ),
)
RIVERSIDE_PARTNERS = (
    PartnerProfile(
        "RYA", "Riverside Youth Alliance", "Mentoring and attendance coaching for middle and high school students",
        "Mentoría y apoyo con la asistencia para estudiantes de escuela intermedia y secundaria",
        (C.IDENTITY, C.ATTENDANCE, C.GRADES, C.NOTES, C.SERVICES),
        (S.MENTORING, S.ATTENDANCE_SUPPORT), "Riverside Mentors", range(6, 13), "all",
    ),
    PartnerProfile(
        "VCP", "Valley College Pathways", "College and FAFSA advising for juniors and seniors",
        "Orientación sobre la universidad y la FAFSA para estudiantes de 11.º y 12.º grado",
        (C.IDENTITY, C.GRADES, C.ASSESSMENTS, C.COLLEGE, C.NOTES, C.SERVICES),
        (S.COLLEGE_APPLICATION, S.FAFSA_HELP), "Pathways to College", range(11, 13), "all",
    ),
    PartnerProfile(
        "RFN", "Riverside Family Network", "Family support and help with basic needs",
        "Apoyo a las familias y ayuda con necesidades básicas",
        (C.IDENTITY, C.ATTENDANCE, C.NOTES, C.SERVICES),
        (S.FAMILY_SUPPORT, S.OTHER), "Family Connections", range(13), "every_second",
    ),
)

LAKEVIEW = DistrictProfile(
    "LVUSD", "Lakeview Unified School District", LAKEVIEW_PARTNERS, LAKEVIEW_EXTRA_PARTNERS,
    lead="NSY", renewed="CBM", ended="ETC", unsigned="FRC", demo_logins=True, hosts_research=True,
)
RIVERSIDE = DistrictProfile(
    "RCSD", "Riverside County School District", RIVERSIDE_PARTNERS, (),
    lead="RYA", renewed="VCP", ended=None, unsigned=None, demo_logins=False, hosts_research=False,
    local_ids_from=500_000, school_namesakes_from=30,
)
