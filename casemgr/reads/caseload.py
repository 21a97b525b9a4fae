"""The caseload: visible students with their indicators, filtered, searched,
sorted and paged in SQL, in two queries whatever the page, sort or filter: the count,
then the page's rows.

How the page is found depends on how many students match (SPEC §8: a district of 50,000
pages as fast as a school):

* in the order of a student column (name, grade) or of the school's name, students are
  read in that order from an index and the reading stops after the page;
* in the order of an indicator measure, up to `SORT_WHOLE_SET_UP_TO` students (a
  school's caseload, most searches) are read whole and sorted; more (a district) are
  read from the measure's index on `student_indicators`, which also holds the student's
  name for ties, then come the students without a value, by name.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from casemgr import policy
from casemgr.clock import today as default_today
from casemgr.extensions import db
from casemgr.indicators import school_year_for
from casemgr.models import Flag, Organization, Student, StudentIndicator, User
from casemgr.models.enums import CaseStatus, Role
from casemgr.reads.caseload_assignments import has_caseload, in_caseload_of
from casemgr.reads.changes import attendance_rates_on, tier_on
from casemgr.reads.services_delivered import served_column

PAGE_SIZE = 50
SORT_WHOLE_SET_UP_TO = 2_000

Conditions = list[sa.ColumnElement[bool]]
IndicatorCondition = Callable[[type[StudentIndicator]], sa.ColumnElement[bool]]

INDICATOR_FILTERS: dict[str, tuple[str, IndicatorCondition]] = {
    "chronic": ("Chronically absent", lambda i: i.chronic_absence.is_(True)),
    "severe": ("Severely chronically absent", lambda i: i.severe_absence.is_(True)),
    "failures": ("Failing a course", lambda i: i.course_failures > 0),
    "core": ("Failing English or math", lambda i: i.core_failure.is_(True)),
    "ninth": ("9th grade off track", lambda i: i.ninth_grade_on_track.is_(False)),
    "credits": ("Behind on credits", lambda i: i.credits_on_track.is_(False)),
    "suspended": ("Suspended this year", lambda i: i.suspensions > 0),
    "fafsa": ("FAFSA off track", lambda i: i.fafsa_off_track.is_(True)),
}

# sorts by student columns (never null), then by the indicator measures of
# casemgr.models.indicators.SORTED_MEASURES (null without indicators: last either way)
STUDENT_SORTS = {
    "name": (Student.last_name, Student.first_name),
    "grade": (Student.grade,),
    "school": (Organization.name,),
}
MEASURE_SORTS: dict[str, Callable[[type[StudentIndicator]], sa.ColumnElement]] = {
    "tier": lambda i: i.tier,
    "attendance": lambda i: i.attendance_rate,
    "failures": lambda i: i.course_failures,
    "credits": lambda i: i.credits_earned - i.credits_expected,
}
SORTS = STUDENT_SORTS.keys() | MEASURE_SORTS.keys()
DEFAULT_DIRECTION = {"name": "asc", "grade": "asc", "tier": "desc", "attendance": "asc", "failures": "desc",
                     "credits": "asc", "school": "asc"}
BY_NAME = (Student.last_name.asc(), Student.first_name.asc(), Student.id.asc())
# what the page shows (templates/caseload/partials/_results.html); nothing else is read.
# The rows are read as plain values, not as ORM objects: a page is 50 students and
# their indicators, and building, tracking and expiring 100 objects cost more than the
# query that reads them.
SHOWN_STUDENT = (Student.id, Student.uuid, Student.state_id, Student.last_name, Student.first_name,
                 Student.preferred_name, Student.grade)
SHOWN_INDICATOR = (
    StudentIndicator.tier, StudentIndicator.attendance_rate, StudentIndicator.attendance_band,
    StudentIndicator.course_failures, StudentIndicator.core_failure, StudentIndicator.credits_earned,
    StudentIndicator.credits_expected, StudentIndicator.credits_on_track, StudentIndicator.fafsa_status,
    StudentIndicator.fafsa_off_track, StudentIndicator.chronic_absence, StudentIndicator.severe_absence,
    StudentIndicator.days_absent, StudentIndicator.days_enrolled, StudentIndicator.ninth_grade_on_track,
    StudentIndicator.suspensions,
)
SCOPES = ("mine", "school")
CHANGE_DAYS = 30  # the change column's default: against 30 days ago


@dataclass(frozen=True, slots=True)
class ListedStudent:
    """A student as the caseload lists them."""

    id: int
    uuid: uuid.UUID
    state_id: str
    last_name: str
    first_name: str
    preferred_name: str | None
    grade: int

    grade_label = Student.grade_label


@dataclass(frozen=True, slots=True)
class ListedIndicators:
    """A student's indicators as the caseload shows them."""

    tier: int
    attendance_rate: Decimal | None
    attendance_band: str | None
    course_failures: int
    core_failure: bool
    credits_earned: Decimal | None
    credits_expected: Decimal | None
    credits_on_track: bool | None
    fafsa_status: str | None
    fafsa_off_track: bool | None
    chronic_absence: bool
    severe_absence: bool
    days_absent: int
    days_enrolled: int
    ninth_grade_on_track: bool | None
    suspensions: int

    @property
    def reasons(self) -> list[str]:
        """What the tier rests on, in short words ("22% absent", "2 F's", "suspension"):
        the indicators off track (casemgr.indicators), none for tier 1."""
        if self.tier == 1:
            return []
        reasons = []
        if (self.chronic_absence or self.severe_absence) and self.days_enrolled:
            reasons.append(f"{round(100 * self.days_absent / self.days_enrolled)}% absent")
        if self.course_failures:
            reasons.append("1 F" if self.course_failures == 1 else f"{self.course_failures} F's")
        if self.ninth_grade_on_track is False:
            reasons.append("9th grade off track")
        if self.credits_on_track is False:
            reasons.append("behind on credits")
        if self.suspensions:
            reasons.append("suspension" if self.suspensions == 1 else f"{self.suspensions} suspensions")
        if self.fafsa_off_track:
            reasons.append("no FAFSA")
        return reasons


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
    scope: str | None = None  # counselors: "mine" or "school" (default: theirs if they have a caseload)
    since: date | None = None  # the change column's day (default: CHANGE_DAYS ago)
    default_since: date | None = None
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args, today: date | None = None) -> CaseloadQuery:
        query = cls()
        today = today or default_today()
        query.since = query.default_since = today - timedelta(days=CHANGE_DAYS)
        if args.get("since"):
            try:
                since = date.fromisoformat(args["since"])
            except ValueError:
                query.errors.append("Ignored a change date that is not a date (YYYY-MM-DD).")
            else:
                if today - timedelta(days=730) <= since < today:
                    query.since = since
                else:
                    query.errors.append("Compare with a day in the last two years, before today.")
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
        scope = args.get("scope") or None
        query.scope = scope if scope in SCOPES else None
        return query

    def args(self, **changes) -> dict:
        values = {
            "tier": self.tier, "grade": self.grade, "indicator": self.indicator,
            "school": str(self.school) if self.school else None,
            "q": self.q or None, "sort": self.sort, "dir": self.direction, "page": self.page, "scope": self.scope,
            "since": self.since.isoformat() if self.since and self.since != self.default_since else None,
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
    student: ListedStudent
    indicator: ListedIndicators | None
    school_name: str
    open_flags: int
    tier_then: int | None = None
    rate_then: Decimal | None = None
    served: list = field(default_factory=list)  # [organization, service, minutes] of the partners' programs this year

    @property
    def change(self) -> list[str]:
        """The tier and attendance rate against the query's day, in short words ("↑ from
        tier 2", "−6 pts"); nothing where nothing changed or nothing was known then."""
        i, changes = self.indicator, []
        if i is None:
            return changes
        if self.tier_then is not None and self.tier_then != i.tier:
            changes.append(f"{'↑' if i.tier > self.tier_then else '↓'} from tier {self.tier_then}")
        if self.rate_then is not None and i.attendance_rate is not None:
            points = round((i.attendance_rate - self.rate_then) * 100)
            if points:
                changes.append(f"{'+' if points > 0 else '−'}{abs(points)} pts")
        return changes


@dataclass
class CaseloadPage:
    rows: list[CaseloadRow]
    total: int
    page: int
    pages: int
    school_year: int | None
    scope_notice: str | None = None  # why a counselor sees the whole school


def district_of(user: User) -> int:
    org = user.organization
    return org.district_id if org.district_id is not None else org.id


NO_CASELOAD = "No students are assigned to you yet, so this is the whole school. Your principal assigns caseloads."


def load_caseload(user: User, query: CaseloadQuery, today: date, size: int | None = None) -> CaseloadPage:
    """Two queries whatever the filters: how many match, then the page's rows (`size`
    of them, a page by default)."""
    size = size or PAGE_SIZE
    query.since = query.since or today - timedelta(days=CHANGE_DAYS)
    admin = user.role_enum is Role.DISTRICT_ADMIN
    counselor = user.role_enum is Role.COUNSELOR
    # a counselor's list is their own students unless they ask for the whole school;
    # other roles have no scope
    query.scope = (query.scope or "mine") if counselor else None
    if query.sort == "school" and not admin:  # school staff see one school: no such column
        query.sort, query.direction = "tier", DEFAULT_DIRECTION["tier"]
    year = school_year_for(district_of(user), today)
    year_number = year.year if year else None
    students = _student_conditions(user, query, today, admin)
    indicators = _indicator_conditions(query)
    counted = sa.select(sa.func.count(), has_caseload(user) if counselor else sa.null()).select_from(Student).where(
        *students)
    if indicators:
        counted = counted.join(StudentIndicator, _indicator_join(StudentIndicator, year_number)).where(
            *(condition(StudentIndicator) for condition in indicators)
        )
    total, assigned = db.session.execute(counted).one()
    notice = None
    if counselor and not assigned:
        query.scope, notice = None, NO_CASELOAD
    pages = max((total + size - 1) // size, 1)
    page = min(query.page, pages)
    offset = (page - 1) * size
    descending = query.direction == "desc"
    if query.sort in MEASURE_SORTS and total > SORT_WHOLE_SET_UP_TO:
        listed, order = _by_measure_in_index_order(students, indicators, query.sort, descending, year_number, offset,
                                                   size)
    else:
        listed, order = _in_order(students, indicators, query.sort, descending, year_number, offset, size)
    open_flags = (
        sa.select(sa.func.count())
        .where(Flag.student_id == Student.id, Flag.status == str(CaseStatus.OPEN))
        .correlate(Student)
        .scalar_subquery()
    )
    loaded = db.session.execute(
        sa.select(*SHOWN_STUDENT, StudentIndicator.student_id, *SHOWN_INDICATOR, Organization.name,
                  open_flags.label("open_flags"), tier_on(Student.id, query.since).label("tier_then"),
                  (served_column(Student.id, year.starts_on, min(year.ends_on, today)) if year else sa.null())
                  .label("served"))
        .select_from(listed)
        .join(Student, Student.id == listed.c.id)
        .join(Organization, Organization.id == Student.school_id)
        .outerjoin(StudentIndicator, _indicator_join(StudentIndicator, year_number))
        .order_by(*order)
    ).all()
    students, indicators = len(SHOWN_STUDENT), len(SHOWN_INDICATOR)
    rates = attendance_rates_on(district_of(user), [row[0] for row in loaded], query.since)
    return CaseloadPage(
        rows=[
            CaseloadRow(
                ListedStudent(*row[:students]),
                ListedIndicators(*row[students + 1:students + 1 + indicators]) if row[students] is not None else None,
                row[-4], row[-3], row[-2], rates.get(row[0]), row[-1] or [],
            )
            for row in loaded
        ],
        total=total, page=page, pages=pages, school_year=year_number, scope_notice=notice,
    )


def _student_conditions(user: User, query: CaseloadQuery, today: date, admin: bool) -> Conditions:
    conditions = [policy.visible_students(user, today=today)]
    # the list is of current students; a student who left is still found by a search
    if not query.q:
        conditions.append(Student.current_on(today))
    if query.scope == "mine":  # the whole school while none is assigned to them
        conditions.append(sa.or_(~has_caseload(user), in_caseload_of(user.id)))
    if query.grade is not None:
        conditions.append(Student.grade == query.grade)
    if query.q:
        conditions.append(_search(query.q))
    if admin and query.school:
        conditions.append(
            Student.school_id == sa.select(Organization.id).where(Organization.uuid == query.school).scalar_subquery()
        )
    return conditions


def _indicator_conditions(query: CaseloadQuery) -> list[IndicatorCondition]:
    conditions = []
    if query.tier is not None:
        conditions.append(lambda i: i.tier == query.tier)
    if query.indicator:
        conditions.append(INDICATOR_FILTERS[query.indicator][1])
    return conditions


def _indicator_join(indicator: type[StudentIndicator], year: int | None) -> sa.ColumnElement[bool]:
    return sa.and_(indicator.student_id == Student.id, indicator.school_year == year)


def _students_with(year: int | None, indicators: list[IndicatorCondition],
                   sort: str) -> tuple[sa.Select, sa.ColumnElement | None]:
    """Student ids, with the indicator filters applied, and the sort's measure for the
    year if it is one (null without indicators). Without a filter each student's measure
    is looked up by key (a lateral subquery): one probe per student read, whatever plan
    PostgreSQL would otherwise pick for a join."""
    measure = MEASURE_SORTS.get(sort)
    if indicators:
        listed = (
            sa.select(Student.id)
            .join_from(Student, StudentIndicator, _indicator_join(StudentIndicator, year), isouter=True)
            .where(*(condition(StudentIndicator) for condition in indicators))
        )
        return listed, measure(StudentIndicator) if measure else None
    if measure is None:  # nothing is read from the indicators
        return sa.select(Student.id), None
    probe = (
        sa.select(measure(StudentIndicator).label("measure"))
        .where(_indicator_join(StudentIndicator, year))
        .limit(1)
        .lateral("indicator")
    )
    return sa.select(Student.id).join_from(Student, probe, sa.true(), isouter=True), probe.c.measure


def _ordered(column: sa.ColumnElement, descending: bool, nulls_last: bool = False) -> sa.UnaryExpression:
    ordered = column.desc() if descending else column.asc()
    return ordered.nulls_last() if nulls_last else ordered


def _in_order(students: Conditions, indicators: list[IndicatorCondition], sort: str, descending: bool,
              year: int | None, offset: int, size: int) -> tuple[sa.Subquery, list]:
    """The page of the students in `sort` order, driven by the students: by name, grade
    or school read in index order, stopped after the page; by a measure (at most
    SORT_WHOLE_SET_UP_TO students) read whole, then sorted. The page carries its sort
    keys out, for the rows query to order by."""
    listed, measure = _students_with(year, indicators, sort)
    if sort == "school":
        listed = listed.join_from(Student, Organization, Organization.id == Student.school_id)
    if sort in STUDENT_SORTS:
        keys = [(column, descending, False) for column in STUDENT_SORTS[sort]]
    else:
        keys = [(measure, descending, True)]
    keys += [(column, False, False) for column in (Student.last_name, Student.first_name, Student.id)]
    listed = listed.add_columns(*(column.label(f"key{n}") for n, (column, _, _) in enumerate(keys))).where(*students)
    if sort in MEASURE_SORTS:
        # OFFSET 0: find the few matching students the cheapest way, rather than walk a
        # measure's index in order (which pays for a district, not for a few of its students)
        matching = listed.offset(0).subquery("matching")
        listed = sa.select(matching.c.id, *(matching.c[f"key{n}"] for n in range(len(keys))))
        keys = [(matching.c[f"key{n}"], *rest) for n, (_, *rest) in enumerate(keys)]
    page = listed.order_by(*(_ordered(*key) for key in keys)).limit(size).offset(offset).subquery("page")
    return page, [_ordered(page.c[f"key{n}"], *rest) for n, (_, *rest) in enumerate(keys)]


def _by_measure_in_index_order(students: Conditions, indicators: list[IndicatorCondition], sort: str,
                               descending: bool, year: int | None, offset: int, size: int) -> tuple[sa.Subquery, list]:
    """The page of many students by an indicator measure, in one statement that reads
    no further than the page: first the students with a value, from the measure's index
    (measure, then name: `student_indicators` keeps the name for this), then those without
    one (no indicators yet, or no credits below grade 9), by name.

    The second part is only read when the page reaches it, and the count of the first
    part only when the page starts past it."""
    measure = MEASURE_SORTS[sort](StudentIndicator)
    with_value = (
        sa.select(Student.id)
        .select_from(StudentIndicator)
        .join(Student, Student.id == StudentIndicator.student_id)
        .where(StudentIndicator.school_year == year, measure.is_not(None), *students,
               *(condition(StudentIndicator) for condition in indicators))
    )
    first = (
        with_value.with_only_columns(
            sa.literal(1).label("part"), measure.label("measure"), StudentIndicator.sort_last_name.label("last_name"),
            StudentIndicator.sort_first_name.label("first_name"), StudentIndicator.student_id.label("id"),
        )
        .order_by(_ordered(measure, descending, True), StudentIndicator.sort_last_name,
                  StudentIndicator.sort_first_name, StudentIndicator.student_id)
        .limit(size)
        .offset(offset)
        .cte("with_value")
    )
    shown = sa.select(sa.func.count()).select_from(first).scalar_subquery()
    before = sa.select(sa.func.count()).select_from(with_value.subquery()).scalar_subquery()
    without_value, no_value = _students_with(year, indicators, sort)
    rest = (
        without_value.with_only_columns(
            sa.literal(2).label("part"), no_value.label("measure"), Student.last_name, Student.first_name, Student.id,
        )
        .where(no_value.is_(None), *students)
        .order_by(*BY_NAME)
        .limit(size - shown)
        .offset(sa.case((shown > 0, 0), else_=offset - before))
        .subquery("without_value")
    )
    page = sa.union_all(sa.select(*first.c), sa.select(*rest.c)).subquery("page")
    return page, [page.c.part, _ordered(page.c.measure, descending, True), page.c.last_name, page.c.first_name,
                  page.c.id]


def _search(text: str) -> sa.ColumnElement[bool]:
    """Name (any word, prefix, case-insensitive) or exact state/local ID. Names are
    matched as lower(name) LIKE 'prefix%', which the name prefix indexes serve."""
    conditions = [Student.state_id == text, Student.local_id == text]
    words = [w for w in text.replace(",", " ").split() if w]
    if words:
        escaped = [w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for w in words]
        conditions.append(
            sa.and_(*[
                sa.or_(*(
                    sa.func.lower(column).like(sa.func.lower(f"{w}%"), escape="\\")
                    for column in (Student.last_name, Student.first_name, Student.preferred_name)
                ))
                for w in escaped
            ])
        )
    return sa.or_(*conditions)
