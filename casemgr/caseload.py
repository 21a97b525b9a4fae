"""The counselor's caseload: visible students with their indicators, filtered, searched,
sorted and paged in SQL (two queries whatever the page size or sort)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from casemgr import policy
from casemgr.extensions import db
from casemgr.indicators import school_year_for
from casemgr.models import Flag, Organization, Student, StudentIndicator, User
from casemgr.models.enums import CaseStatus, Role

PAGE_SIZE = 50

INDICATOR_FILTERS = {
    "chronic": ("Chronically absent", StudentIndicator.chronic_absence.is_(True)),
    "severe": ("Severely chronically absent", StudentIndicator.severe_absence.is_(True)),
    "failures": ("Failing a course", StudentIndicator.course_failures > 0),
    "core": ("Failing English or math", StudentIndicator.core_failure.is_(True)),
    "ninth": ("9th grade off track", StudentIndicator.ninth_grade_on_track.is_(False)),
    "credits": ("Behind on credits", StudentIndicator.credits_on_track.is_(False)),
    "suspended": ("Suspended this year", StudentIndicator.suspensions > 0),
    "fafsa": ("FAFSA off track", StudentIndicator.fafsa_off_track.is_(True)),
}

SORTS = {
    "name": (Student.last_name, Student.first_name),
    "grade": (Student.grade,),
    "tier": (StudentIndicator.tier,),
    "attendance": (StudentIndicator.attendance_rate,),
    "failures": (StudentIndicator.course_failures,),
    "credits": (StudentIndicator.credits_earned - StudentIndicator.credits_expected,),
    "school": (Organization.name,),
}
DEFAULT_DIRECTION = {"name": "asc", "grade": "asc", "tier": "desc", "attendance": "asc", "failures": "desc",
                     "credits": "asc", "school": "asc"}


@dataclass
class CaseloadQuery:
    """What the person asked for, already checked against the allowed values."""

    tier: int | None = None
    grade: int | None = None
    indicator: str | None = None
    school: uuid.UUID | None = None  # district admins only
    q: str = ""
    sort: str = "tier"
    direction: str = "desc"
    page: int = 1
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args) -> CaseloadQuery:
        query = cls()
        query.tier = _int_in(args.get("tier"), {1, 2, 3}, "tier", query.errors)
        query.grade = _int_in(args.get("grade"), set(range(-1, 13)), "grade", query.errors)
        indicator = args.get("indicator") or None
        if indicator and indicator not in INDICATOR_FILTERS:
            query.errors.append("Unknown indicator filter: showing every student.")
            indicator = None
        query.indicator = indicator
        try:
            query.school = uuid.UUID(args["school"]) if args.get("school") else None
        except ValueError:
            query.errors.append("Ignored an unknown school.")
        query.q = (args.get("q") or "").strip()[:80]
        sort = args.get("sort") or "tier"
        query.sort = sort if sort in SORTS else "tier"
        direction = args.get("dir") or DEFAULT_DIRECTION[query.sort]
        query.direction = direction if direction in ("asc", "desc") else DEFAULT_DIRECTION[query.sort]
        page = _int_in(args.get("page"), None, "page", query.errors)
        query.page = max(page or 1, 1)
        return query

    def args(self, **changes) -> dict:
        values = {
            "tier": self.tier, "grade": self.grade, "indicator": self.indicator,
            "school": str(self.school) if self.school else None,
            "q": self.q or None, "sort": self.sort, "dir": self.direction, "page": self.page,
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "") and not (k == "page" and v == 1)}


def _int_in(raw, allowed: set[int] | None, name: str, errors: list[str]) -> int | None:
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        errors.append(f"Ignored a {name} that is not a number.")
        return None
    if allowed is not None and value not in allowed:
        errors.append(f"Ignored an unknown {name}.")
        return None
    return value


@dataclass
class CaseloadRow:
    student: Student
    indicator: StudentIndicator | None
    school_name: str
    open_flags: int


@dataclass
class CaseloadPage:
    rows: list[CaseloadRow]
    total: int
    page: int
    pages: int
    school_year: int | None


def district_of(user: User) -> int:
    org = user.organization
    return org.district_id if org.district_id is not None else org.id


def load_caseload(user: User, query: CaseloadQuery, today: date) -> CaseloadPage:
    """Three queries whatever the filters: the count, the page's ids in order (narrow
    rows, so sorting a whole district stays cheap), then those students' rows."""
    admin = user.role_enum is Role.DISTRICT_ADMIN
    if query.sort == "school" and not admin:  # school staff see one school: no such column
        query.sort, query.direction = "tier", DEFAULT_DIRECTION["tier"]
    year = school_year_for(district_of(user), today)
    year_number = year.year if year else None
    indicator_join = sa.and_(StudentIndicator.student_id == Student.id, StudentIndicator.school_year == year_number)
    filtered = (
        sa.select(Student.id)
        .outerjoin(StudentIndicator, indicator_join)
        .where(policy.visible_students(user, today=today))
    )
    if query.tier is not None:
        filtered = filtered.where(StudentIndicator.tier == query.tier)
    if query.grade is not None:
        filtered = filtered.where(Student.grade == query.grade)
    if query.indicator:
        filtered = filtered.where(INDICATOR_FILTERS[query.indicator][1])
    if query.q:
        filtered = filtered.where(_search(query.q))
    if admin and (query.school or query.sort == "school"):
        filtered = filtered.join(Organization, Organization.id == Student.school_id)
        if query.school:
            filtered = filtered.where(Organization.uuid == query.school)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(filtered.subquery()))
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(query.page, pages)
    order = [
        (column.desc() if query.direction == "desc" else column.asc()).nulls_last() for column in SORTS[query.sort]
    ] + [Student.last_name.asc(), Student.first_name.asc(), Student.id.asc()]
    page_ids = list(db.session.scalars(filtered.order_by(*order).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    open_flags = (
        sa.select(sa.func.count())
        .where(Flag.student_id == Student.id, Flag.status == str(CaseStatus.OPEN))
        .correlate(Student)
        .scalar_subquery()
    )
    loaded = db.session.execute(
        sa.select(Student, StudentIndicator, Organization.name, open_flags.label("open_flags"))
        .join(Organization, Organization.id == Student.school_id)
        .outerjoin(StudentIndicator, indicator_join)
        .where(Student.id.in_(page_ids))
    ).all()
    position = {student_id: n for n, student_id in enumerate(page_ids)}
    loaded.sort(key=lambda row: position[row[0].id])
    return CaseloadPage(
        rows=[CaseloadRow(student, indicator, school, flags) for student, indicator, school, flags in loaded],
        total=total, page=page, pages=pages, school_year=year_number,
    )


def _search(text: str) -> sa.ColumnElement[bool]:
    """Name (any word, prefix, case-insensitive) or exact state/local ID."""
    conditions = [Student.state_id == text, Student.local_id == text]
    words = [w for w in text.replace(",", " ").split() if w]
    if words:
        escaped = [w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for w in words]
        conditions.append(
            sa.and_(*[
                sa.or_(
                    Student.last_name.ilike(f"{w}%", escape="\\"),
                    Student.first_name.ilike(f"{w}%", escape="\\"),
                    Student.preferred_name.ilike(f"{w}%", escape="\\"),
                )
                for w in escaped
            ])
        )
    return sa.or_(*conditions)
