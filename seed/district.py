"""The organizations of a district of the partnership and the agreements between them
(ORM: few rows). Who each district and its partners are: seed/profiles.py."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa

from casemgr.extensions import db
from casemgr.models import (
    DataSharingAgreement,
    Organization,
    SchoolYear,
    ServiceAgreement,
    ThresholdSettings,
)
from casemgr.models.enums import OrgKind
from casemgr.seed.names import school_name
from casemgr.seed.profiles import PartnerProfile
from casemgr.seed.world import LEVEL_GRADES, MockDistrict, Partner, School

RESEARCH_CODE, RESEARCH_NAME = "MERC", "Metro Education Research Collaborative"
ACT_CODES = {"LVUSD": "361", "RCSD": "362"}  # the first digits of each district's high schools' ACT codes
CLEARINGHOUSE_ACCOUNTS = {"LVUSD": "10036100", "RCSD": "10036200"}

# Students per school that the generator aims for, by level.
SCHOOL_SIZE = {"elementary": 450, "middle": 750, "high": 1100}
GRADE_WEIGHTS = {grade: 1.0 for grade in range(0, 9)} | {9: 1.06, 10: 0.97, 11: 0.92, 12: 0.88}
LEVEL_SUFFIX = {"elementary": ("Elementary School", 0), "middle": ("Middle School", 17), "high": ("High School", 29)}


def serves(reach: str, position: int, count: int) -> bool:
    return {
        "all": True,
        "every_second": position % 2 == 0,
        "every_third": position % 3 == 0,
        "every_fourth": position % 4 == (1 if count > 1 else 0),
        "eastside": position % 3 == 1 or count == 1,
    }[reach]


def school_counts(students: int) -> dict[str, int]:
    total = sum(GRADE_WEIGHTS.values())
    return {
        level: max(1, round(students * sum(GRADE_WEIGHTS[g] for g in grades) / total / SCHOOL_SIZE[level]))
        for level, grades in LEVEL_GRADES.items()
    }


def start_of(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=timezone.utc)


def create_organizations(d: MockDistrict, students: int) -> None:
    """District, schools, partners and (with the district that hosts it) the research
    organization, with their ids."""
    profile = d.profile
    created = start_of(date(d.year, 7, 1))
    district = Organization(kind=OrgKind.DISTRICT, code=profile.code, name=profile.name, created_at=created,
                            clearinghouse_account=CLEARINGHOUSE_ACCOUNTS.get(profile.code))
    db.session.add(district)
    db.session.flush()
    d.district_id = district.id
    rows: list[tuple[Organization, object]] = []
    for level, count in school_counts(students).items():
        suffix, offset = LEVEL_SUFFIX[level]
        for index in range(count):
            code = f"{profile.code}-{level[0].upper()}{index + 1:03d}"
            org = Organization(
                kind=OrgKind.SCHOOL, code=code, name=school_name(index, offset + profile.school_namesakes_from, suffix),
                district_id=district.id, level=level, created_at=created,
                # a high school's ACT code, which the Clearinghouse's graduates file carries
                act_code=f"{ACT_CODES.get(profile.code, '369')}{index + 1:03d}" if level == "high" else None,
            )
            rows.append((org, School(0, code, org.name, level)))
    profiles = profile.partners + profile.extra_partners[: min(len(profile.extra_partners), students // 20_000)]
    for partner in profiles:
        org = Organization(kind=OrgKind.PARTNER, code=partner.code, name=partner.name, created_at=created)
        rows.append((org, partner))
    research = None
    if profile.hosts_research:
        research = Organization(kind=OrgKind.RESEARCH, code=RESEARCH_CODE, name=RESEARCH_NAME, created_at=created)
    db.session.add_all([org for org, _ in rows] + ([research] if research else []))
    db.session.flush()
    if research is not None:
        d.research_id = research.id
    for org, item in rows:
        if isinstance(item, School):
            item.id = org.id
            d.schools.append(item)
        else:
            d.partners.append(_partner(org.id, item, d))


def _partner(org_id: int, profile: PartnerProfile, d: MockDistrict) -> Partner:
    partner = Partner(
        id=org_id, code=profile.code, name=profile.name, purpose=profile.purpose, purpose_es=profile.purpose_es,
        categories=[str(c) for c in profile.categories], services=[str(s) for s in profile.services],
        program=profile.program, grades=profile.grades, agreement_active=profile.code != d.profile.ended,
    )
    for level in LEVEL_GRADES:
        if not set(LEVEL_GRADES[level]) & set(profile.grades):
            continue
        level_schools = d.schools_of(level)
        partner.schools += [s for i, s in enumerate(level_schools) if serves(profile.reach, i, len(level_schools))]
    return partner


def create_school_year(d: MockDistrict) -> None:
    year = SchoolYear(district_id=d.district_id, year=d.year, starts_on=d.calendar.starts_on, ends_on=d.calendar.ends_on)
    db.session.add(year)
    db.session.flush()
    d.school_year_id = year.id


def create_agreements(d: MockDistrict, admin_id: int) -> None:
    """A data-sharing and a service agreement per partner, for this school year; one
    partner's agreement already ended, and one partner also has last year's."""
    starts_on, ends_on = date(d.year, 8, 1), date(d.year + 1, 7, 31)
    created = start_of(date(d.year, 7, 15))
    objects: list[object] = []
    for partner in d.partners:
        ended_on = None
        if not partner.agreement_active:
            ended_on = min(max(d.as_of - timedelta(days=21), starts_on), d.as_of)
        objects.append(DataSharingAgreement(
            district_id=d.district_id, organization_id=partner.id, categories=partner.categories,
            purpose=partner.purpose, purpose_translations={"es": partner.purpose_es},
            starts_on=starts_on, ends_on=ends_on, ended_on=ended_on,
            created_by_id=admin_id, created_at=created,
        ))
        objects.append(ServiceAgreement(
            district_id=d.district_id, organization_id=partner.id, services=partner.services,
            capacity=partner.capacity, starts_on=starts_on, ends_on=ends_on,
            created_by_id=admin_id, created_at=created,
        ))
    renewed = d.partner(d.profile.renewed)
    objects.append(DataSharingAgreement(
        district_id=d.district_id, organization_id=renewed.id, categories=renewed.categories,
        purpose=renewed.purpose, purpose_translations={"es": renewed.purpose_es},
        starts_on=date(d.year - 1, 8, 1), ends_on=date(d.year, 7, 31),
        created_by_id=admin_id, created_at=start_of(date(d.year - 1, 7, 15)),
    ))
    # the research partner's written agreement (FERPA 99.31(a)(6)): its researchers read
    # the district's aggregate reports, never a student's record (the policy grants the
    # researcher role none); its categories are what its studies are about
    objects.append(DataSharingAgreement(
        district_id=d.district_id, organization_id=d.research_id, categories=["attendance", "grades"],
        purpose="Studies of attendance and course success for the partnership's annual report",
        purpose_translations={"es": "Estudios de asistencia y éxito en los cursos para el informe anual de la alianza"},
        starts_on=starts_on, ends_on=ends_on, created_by_id=admin_id, created_at=created,
    ))
    db.session.add_all(objects)
    db.session.flush()
    _link_service_schools(d, [o for o in objects if isinstance(o, ServiceAgreement)])


def create_research_project(d: MockDistrict, admin_id: int) -> int:
    """The research partner's study under written agreement (issue 16), covering every
    stored school year and school, with the demo researcher attached."""
    from casemgr.models import ResearchProject, ResearchProjectDistrict, ResearchProjectMember, SchoolYear

    years = sorted(db.session.scalars(sa.select(SchoolYear.year).where(SchoolYear.district_id == d.district_id)))
    project = ResearchProject(
        district_id=d.district_id, organization_id=d.research_id,
        title="Attendance and course success from 9th grade to graduation",
        purpose="Which early signs of chronic absence and course failure predict students falling off track, "
                "so that the partnership's supports reach them sooner.",
        approval_reference="MERC IRB 2026-014",
        variables=["school", "grade", "gender", "ethnicity", "low_income", "english_learner", "disability",
                   "birth_year", "attendance_rate", "chronic_absence", "course_failures", "core_failure",
                   "ninth_grade_on_track", "credits_on_track", "tier"],
        school_years=years, school_ids=[], starts_on=date(d.year, 9, 1), ends_on=date(d.year + 2, 8, 31),
        destroy_by=date(d.year + 3, 8, 31), created_by_id=admin_id, created_at=start_of(date(d.year, 8, 25)))
    db.session.add(project)
    db.session.flush()
    db.session.add(ResearchProjectMember(project_id=project.id, user_id=d.demo["researcher"].id,
                                         added_by_id=admin_id, added_at=start_of(date(d.year, 8, 26))))
    recorded = start_of(date(d.year, 8, 25))
    db.session.add(ResearchProjectDistrict(project_id=project.id, district_id=d.district_id, invited_at=recorded,
                                           approved_by_id=admin_id, approved_at=recorded))
    db.session.flush()
    return project.id


def join_research_project(project_id: int, d: MockDistrict, admin_id: int) -> None:
    """Another district of the partnership invited to the study, approved by its admin
    (issue 16 item 3): its students are in the study's extracts, linked by state ID."""
    from casemgr.models import ResearchProjectDistrict

    db.session.add(ResearchProjectDistrict(
        project_id=project_id, district_id=d.district_id, invited_at=start_of(date(d.year, 8, 25)),
        approved_by_id=admin_id, approved_at=start_of(date(d.year, 9, 2))))
    db.session.flush()


def _link_service_schools(d: MockDistrict, agreements: list[ServiceAgreement]) -> None:
    from casemgr.models import service_agreement_schools

    rows = [
        {"agreement_id": agreement.id, "school_id": school.id}
        for agreement, partner in zip(agreements, d.partners, strict=True)
        for school in partner.schools
    ]
    if rows:
        db.session.execute(service_agreement_schools.insert(), rows)


def create_thresholds(d: MockDistrict, admin_id: int) -> None:
    db.session.add(ThresholdSettings(
        district_id=d.district_id, version=1, created_by_id=admin_id, created_at=start_of(date(d.year, 7, 15)),
    ))
