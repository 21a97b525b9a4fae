"""THE access policy (SPEC §4): who may see which category of which student, and why.

Every rule is written once, as a list of `Grant`s for a user: a set of categories, a
SQL condition on the `students` row, and the legal basis. The two faces are built
from those grants, so they cannot drift apart:

* per record, `categories_visible(user, student)` evaluates every grant's condition
  and basis for one student in one query;
* per list, `visible_students(user, category)` ORs the same conditions into a WHERE
  clause, used by every list, search, count and export; `list_bases(user)` reads, with a
  list's rows, the basis of each category of each row, for the log.

Deny by default: a role with no rule sees nothing; a category no grant names is hidden.
"""
from __future__ import annotations

from collections.abc import Callable
from calendar import isleap
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property, lru_cache

import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.elements import ColumnElement

from casemgr.clock import today as default_today
from casemgr.extensions import db
from casemgr.models import (
    Consent,
    Note,
    ConsentRevocation,
    DataSharingAgreement,
    Guardian,
    GuardianLink,
    Organization,
    Referral,
    ReferralEvent,
    RosterEntry,
    Section,
    SectionEnrollment,
    ServiceAgreement,
    Student,
    User,
    service_agreement_schools,
)
from casemgr.models.enums import FAMILY, PARTNER_STAFF, Category, NoteAudience, OrgKind, ReferralStatus, Role, Service

ALL_CATEGORIES = frozenset(Category)
TEACHER_CATEGORIES = frozenset(
    {Category.IDENTITY, Category.ATTENDANCE, Category.GRADES, Category.ASSESSMENTS, Category.NOTES}
)
FERPA_TRAINING_VALID_DAYS = 365

SCHOOL_OFFICIAL = "school_official"
TEACHER_OF_RECORD = "teacher_of_record"
GUARDIAN = "guardian"
SELF = "self"
CONSENT_PREFIX = "consent:"


@dataclass(frozen=True)
class Grant:
    """`categories` of every student for whom `scope` and `condition` hold, on `basis`.

    `scope` is the part a rule's grants share (a partner's roster, say): the list face
    puts it once in front of their ORed conditions, where PostgreSQL can join on it.
    """

    categories: frozenset[Category]
    condition: ColumnElement[bool]
    basis: ColumnElement[str]
    scope: ColumnElement[bool] | None = None
    # what `condition` and `basis` say, when the grant is a consent's: (organization,
    # district, day) for a grant of one category that holds for a student of the district
    # with a consent naming the organization for the category, active on the day, on the
    # basis of the newest such consent. `list_bases` reads all of them in one subquery.
    via_consent: tuple[int, int, date] | None = None

    @property
    def full_condition(self) -> ColumnElement[bool]:
        return self.condition if self.scope is None else sa.and_(self.scope, self.condition)


def latest_birth_date_of_age(today: date, years: int) -> date:
    """The latest birth date of someone who is `years` old on `today`. A 29 February
    birthday falls on 28 February in other years."""
    year = today.year - years
    if (today.month, today.day) == (2, 28) and not isleap(today.year) and isleap(year):
        return date(year, 2, 29)
    try:
        return today.replace(year=year)
    except ValueError:  # today is 29 February
        return date(year, 2, 28)


def eligible_student(today: date) -> ColumnElement[bool]:
    """FERPA rights have passed to the student: 18 or older, or in postsecondary."""
    return sa.or_(Student.postsecondary.is_(True), Student.birth_date <= latest_birth_date_of_age(today, 18))


def is_compliant(user: User, today: date) -> bool:
    """Partner staff see nothing until they have signed the confidentiality agreement
    and completed FERPA training within the last 12 months (SPEC §2)."""
    return (
        user.confidentiality_signed_on is not None
        and user.confidentiality_signed_on <= today
        and user.ferpa_trained_on is not None
        and user.ferpa_trained_on <= today
        and (today - user.ferpa_trained_on).days < FERPA_TRAINING_VALID_DAYS
    )


def compliance_missing(today: date) -> ColumnElement[str | None]:
    """A column on `User`, the list face of `is_compliant`: what a staff member lacks
    ("confidentiality", "ferpa_training", "ferpa_expired"), NULL when compliant."""
    return sa.case(
        (sa.or_(User.confidentiality_signed_on.is_(None), User.confidentiality_signed_on > today), "confidentiality"),
        (sa.or_(User.ferpa_trained_on.is_(None), User.ferpa_trained_on > today), "ferpa_training"),
        (User.ferpa_trained_on <= today - timedelta(days=FERPA_TRAINING_VALID_DAYS), "ferpa_expired"),
        else_=sa.null(),
    )


@lru_cache(maxsize=2048)  # SQL expressions are immutable: built once, shared by every request
def active_consent(organization_id: int, today: date, category: Category | None = None) -> sa.Select:
    """Consents naming the organization for the outer student, active on `today`.

    Correlated EXISTS throughout the rules: one index probe per student on a record,
    and PostgreSQL hashes or joins them for lists."""
    query = sa.select(Consent.id).where(
        Consent.student_id == Student.id,
        Consent.organization_id == organization_id,
        Consent.signed_on <= today,
        Consent.expires_on >= today,
        # uncorrelated, so PostgreSQL hashes the (few) revocations once per query
        Consent.id.not_in(sa.select(ConsentRevocation.consent_id)),
    )
    if category is not None:
        query = query.where(Consent.categories.contains([str(category)]))
    return query


def consent_in_force(consent, today: date) -> ColumnElement[bool]:
    """`consent` (the model or an alias) is signed, not expired and not revoked on `today`."""
    return sa.and_(
        consent.signed_on <= today,
        consent.expires_on >= today,
        ~sa.exists().where(ConsentRevocation.consent_id == consent.id),
    )


@lru_cache(maxsize=512)
def on_roster(organization_id: int, today: date) -> ColumnElement[bool]:
    return sa.exists().where(
        RosterEntry.student_id == Student.id,
        RosterEntry.organization_id == organization_id,
        RosterEntry.added_on <= today,
        sa.or_(RosterEntry.removed_on.is_(None), RosterEntry.removed_on > today),
    )


def active_agreements(organization_id: int, today: date) -> list[DataSharingAgreement]:
    """The organization's agreements in force on `today`, read once per request."""
    key = ("active_agreements", organization_id, today)
    cache = g.setdefault("policy_cache", {}) if has_request_context() else {}
    if key not in cache:
        cache[key] = _load_active_agreements(organization_id, today)
    return cache[key]


def agreement_in_force(today: date) -> ColumnElement[bool]:
    """A data-sharing agreement that applies on `today` (one ended today does not)."""
    return sa.and_(
        DataSharingAgreement.starts_on <= today,
        DataSharingAgreement.ends_on >= today,
        sa.or_(DataSharingAgreement.ended_on.is_(None), DataSharingAgreement.ended_on > today),
    )


def _load_active_agreements(organization_id: int, today: date) -> list[DataSharingAgreement]:
    return list(
        db.session.scalars(
            sa.select(DataSharingAgreement).where(
                DataSharingAgreement.organization_id == organization_id, agreement_in_force(today)
            )
        )
    )


def _literal(basis: str) -> ColumnElement[str]:
    return sa.literal(basis, sa.Text)


# --- the rules of SPEC §2, one function per role -------------------------------------


def district_admin_grants(user: User, today: date) -> list[Grant]:
    return [Grant(ALL_CATEGORIES, Student.district_id == user.organization_id, _literal(SCHOOL_OFFICIAL))]


def school_official_grants(user: User, today: date) -> list[Grant]:
    return [Grant(ALL_CATEGORIES, Student.school_id == user.organization_id, _literal(SCHOOL_OFFICIAL))]


def teacher_grants(user: User, today: date) -> list[Grant]:
    in_my_section = sa.exists().where(
        SectionEnrollment.student_id == Student.id,
        SectionEnrollment.section_id == Section.id,
        Section.teacher_id == user.id,
        SectionEnrollment.entry_date <= today,
        sa.or_(SectionEnrollment.exit_date.is_(None), SectionEnrollment.exit_date >= today),
    )
    return [Grant(TEACHER_CATEGORIES, in_my_section, _literal(TEACHER_OF_RECORD))]


def partner_grants(user: User, today: date) -> list[Grant]:
    """(agreement categories) ∩ (categories of active consents naming the organization),
    for students on the organization's roster, while the staff member is compliant."""
    if not is_compliant(user, today):
        return []
    return list(organization_grants(user.organization_id, today))


def organization_grants(organization_id: int, today: date) -> tuple[Grant, ...]:
    """An organization's grants on `today`: one per category of its agreements in force,
    each needing an active consent naming it and scoped to its roster."""
    agreements = tuple(
        (agreement.district_id, tuple(sorted(agreement.categories)))
        for agreement in active_agreements(organization_id, today)
    )
    return _organization_grants(organization_id, agreements, today)


@lru_cache(maxsize=512)
def _organization_grants(
    organization_id: int, agreements: tuple[tuple[int, tuple[str, ...]], ...], today: date
) -> tuple[Grant, ...]:
    """The grants of an organization's staff: the same for all its compliant staff on a
    day, so built once (SQL expressions are immutable and shared safely)."""
    grants = []
    rostered = on_roster(organization_id, today)  # one object: the shared scope
    for district_id, categories in agreements:
        for category in (Category(c) for c in categories):
            consent = active_consent(organization_id, today, category)
            newest_consent = (
                consent.with_only_columns(sa.cast(Consent.uuid, sa.Text))
                .order_by(Consent.signed_on.desc(), Consent.id.desc())
                .limit(1)
                .scalar_subquery()
            )
            grants.append(
                Grant(
                    frozenset({category}),
                    sa.and_(Student.district_id == district_id, consent.exists()),
                    sa.literal(CONSENT_PREFIX, sa.Text) + newest_consent,
                    scope=rostered,
                    via_consent=(organization_id, district_id, today),
                )
            )
    return tuple(grants)


def parent_grants(user: User, today: date) -> list[Grant]:
    """Parents with educational rights, until the rights pass to the student."""
    my_child = sa.exists().where(
        GuardianLink.student_id == Student.id,
        GuardianLink.educational_rights.is_(True),
        GuardianLink.guardian_id == Guardian.id,
        Guardian.user_id == user.id,
    )
    return [Grant(ALL_CATEGORIES, sa.and_(my_child, ~eligible_student(today)), _literal(GUARDIAN))]


def student_grants(user: User, today: date) -> list[Grant]:
    if user.student_id is None:
        return []
    return [Grant(ALL_CATEGORIES, Student.id == user.student_id, _literal(SELF))]


def no_grants(user: User, today: date) -> list[Grant]:
    return []


RULES: dict[Role, Callable[[User, date], list[Grant]]] = {
    Role.DISTRICT_ADMIN: district_admin_grants,
    Role.PRINCIPAL: school_official_grants,
    Role.COUNSELOR: school_official_grants,
    Role.TEACHER: teacher_grants,
    Role.PARTNER_ADMIN: partner_grants,
    Role.YOUTH_WORKER: partner_grants,
    Role.PARENT: parent_grants,
    Role.STUDENT: student_grants,
    Role.RESEARCHER: no_grants,  # aggregate reports only, never a named record
}


def grants_for(user: User, today: date | None = None) -> list[Grant]:
    """The user's grants, built once per request for the same user, day and everything
    of the user the rules read (a change to them within the request builds anew)."""
    if not user.is_active:
        return []
    today = today or default_today()
    if not has_request_context():
        return RULES[user.role_enum](user, today)
    key = ("grants", user.id, user.role, user.organization_id, user.student_id,
           user.confidentiality_signed_on, user.ferpa_trained_on, today)
    cache = g.setdefault("policy_cache", {})
    if key not in cache:
        cache[key] = RULES[user.role_enum](user, today)
    return list(cache[key])


# --- face 1: one record ---------------------------------------------------------------


def categories_visible(user: User, student: Student, today: date | None = None) -> dict[Category, str]:
    """{category: basis} for what `user` may see of `student`; empty when nothing."""
    grants = grants_for(user, today)
    return _evaluate(grants, [grant.full_condition for grant in grants], student)


def _evaluate(grants, conditions: list[ColumnElement[bool]], student: Student) -> dict[Category, str]:
    """{category: basis} of the grants whose condition holds for `student`, in one query."""
    if not grants:
        return {}
    columns = []
    for grant, condition in zip(grants, conditions, strict=True):
        columns.append(condition)
        columns.append(grant.basis)
    row = db.session.execute(sa.select(*columns).where(Student.id == student.id)).one_or_none()
    if row is None:
        return {}
    return _visible_in_row(grants, row, 0)


def _visible_in_row(grants, row, start: int) -> dict[Category, str]:
    """{category: basis} from the (condition, basis) columns of `grants` in `row`, the
    first of them at `start`."""
    visible: dict[Category, str] = {}
    for index, grant in enumerate(grants):
        if row[start + 2 * index]:
            for category in grant.categories:
                visible.setdefault(category, row[start + 2 * index + 1])
    return {category: visible[category] for category in Category if category in visible}


# --- face 2: lists ----------------------------------------------------------------------


def visible_students(user: User, category: Category | None = None, today: date | None = None) -> ColumnElement[bool]:
    """A WHERE clause on `Student`: exactly the students `user` may see (in `category`,
    or in any category). Use it in every list, search, count and export."""
    by_scope: dict[int, tuple[ColumnElement[bool] | None, list[ColumnElement[bool]]]] = {}
    for grant in grants_for(user, today):
        if category is None or category in grant.categories:
            by_scope.setdefault(id(grant.scope), (grant.scope, []))[1].append(grant.condition)
    alternatives = [
        sa.or_(*conditions) if scope is None else sa.and_(scope, sa.or_(*conditions))
        for scope, conditions in by_scope.values()
    ]
    return sa.or_(sa.false(), *alternatives)


def visible_student_ids(user: User, category: Category | None = None, today: date | None = None) -> sa.Select:
    return sa.select(Student.id).where(visible_students(user, category, today))


def basis_column(user: User, category: Category, today: date | None = None) -> ColumnElement[str | None]:
    """A column on `Student`: the basis on which `user` sees `category` of each listed
    student, NULL where they do not. Lists use it to log each row on its own basis."""
    whens = [(grant.full_condition, grant.basis) for grant in grants_for(user, today) if category in grant.categories]
    if not whens:
        return sa.cast(sa.null(), sa.Text)
    return sa.case(*whens, else_=sa.cast(sa.null(), sa.Text))


@dataclass(frozen=True)
class ListBases:
    """The basis of each category a user sees of each listed student, read with the list:
    `columns` (on `Student`) go into the list's select, `read(row)` turns them into
    {category: basis} as `categories_visible` would say it. It reads what `basis_column`
    reads for every category at once: each scope once, and a consent's grants from one
    subquery per organization (the newest active consent for each category)."""

    grants: tuple[Grant, ...]
    columns: tuple[sa.Label, ...]
    categories: frozenset[Category]

    def read(self, row) -> dict[Category, str]:
        values = row._mapping
        visible: dict[Category, str] = {}
        for index, grant in enumerate(self.grants):
            if grant.scope is not None and not values[f"lb_scope_{id(grant.scope)}"]:
                continue
            if grant.via_consent is not None:
                organization_id, district_id, _ = grant.via_consent
                consented = str(next(iter(grant.categories)))
                newest = next((uuid for uuid, named in values[f"lb_consents_{organization_id}"] or ()
                               if consented in named), None)
                if values["lb_district"] != district_id or newest is None:
                    continue
                basis = CONSENT_PREFIX + newest
            elif values[f"lb_holds_{index}"]:
                basis = values[f"lb_basis_{index}"]
            else:
                continue
            for category in grant.categories & self.categories:
                visible.setdefault(category, basis)
        return {category: visible[category] for category in Category if category in visible}


def list_bases(user: User, today: date | None = None, categories: frozenset[Category] = ALL_CATEGORIES) -> ListBases:
    grants = tuple(grant for grant in grants_for(user, today) if grant.categories & categories)
    columns: dict[str, ColumnElement] = {}
    for index, grant in enumerate(grants):
        if grant.scope is not None:
            columns.setdefault(f"lb_scope_{id(grant.scope)}", grant.scope)
        if grant.via_consent is not None:
            organization_id, _, day = grant.via_consent
            columns.setdefault("lb_district", Student.district_id)
            if f"lb_consents_{organization_id}" not in columns:
                columns[f"lb_consents_{organization_id}"] = newest_consents(organization_id, day)
        else:
            columns[f"lb_holds_{index}"] = grant.condition
            columns[f"lb_basis_{index}"] = grant.basis
    return ListBases(grants, tuple(column.label(name) for name, column in columns.items()), categories)


@lru_cache(maxsize=512)
def newest_consents(organization_id: int, today: date) -> sa.ScalarSelect:
    """A column on `Student`: the consents naming the organization active on `today`,
    newest first, as JSON [[uuid, [category, ...]], ...]: a consent grant's basis names
    the first that covers its category."""
    return (
        active_consent(organization_id, today)
        .with_only_columns(sa.func.jsonb_agg(
            aggregate_order_by(sa.func.jsonb_build_array(sa.cast(Consent.uuid, sa.Text), Consent.categories),
                               Consent.signed_on.desc(), Consent.id.desc())))
        .scalar_subquery()
    )


# --- access to one student's page, and why a category is hidden ------------------------

CATEGORY_LABELS = {
    Category.IDENTITY: "identity",
    Category.ATTENDANCE: "attendance",
    Category.GRADES: "grades",
    Category.ASSESSMENTS: "assessments",
    Category.BEHAVIOR: "behavior",
    Category.COLLEGE: "college",
    Category.NOTES: "notes",
    Category.SERVICES: "services",
    Category.POSTSECONDARY: "postsecondary",
}


@dataclass(frozen=True)
class StudentAccess:
    """What one user may see of one student on one day."""

    user: User
    student: Student
    visible: dict[Category, str]
    roster_only: bool  # partner staff: the name on their own roster, nothing else
    today: date

    def can_see(self, category: Category) -> bool:
        return category in self.visible

    @property
    def hidden(self) -> list[Category]:
        return [c for c in Category if c not in self.visible]

    @cached_property
    def own_consents(self) -> list[Consent]:
        """The student's consents naming the user's organization, newest first."""
        return list(
            db.session.scalars(
                sa.select(Consent)
                .where(Consent.student_id == self.student.id, Consent.organization_id == self.user.organization_id)
                .order_by(Consent.signed_on.desc(), Consent.id.desc())
            )
        )


def student_access(user: User, student: Student, today: date | None = None) -> StudentAccess | None:
    """None when the user may not see this student at all (answer 404)."""
    today = today or default_today()
    return _access_of(user, student, categories_visible(user, student, today), today)


def load_student_access(user: User, where: ColumnElement[bool],
                        today: date | None = None) -> tuple[Student | None, StudentAccess | None]:
    """The student for whom `where` holds (None when there is none) and `student_access`
    to them, read in one query: the student's row with every grant's condition."""
    today = today or default_today()
    grants = grants_for(user, today)
    columns = [column for grant in grants for column in (grant.full_condition, grant.basis)]
    row = db.session.execute(sa.select(Student, *columns).where(where)).one_or_none()
    if row is None:
        return None, None
    student = row[0]
    return student, _access_of(user, student, _visible_in_row(grants, row, 1), today)


def _access_of(user: User, student: Student, visible: dict[Category, str], today: date) -> StudentAccess | None:
    roster_only = False
    if not visible and user.role_enum in (Role.PARTNER_ADMIN, Role.YOUTH_WORKER) and is_compliant(user, today):
        roster_only = bool(
            db.session.scalar(sa.select(on_roster(user.organization_id, today)).where(Student.id == student.id))
        )
    if not visible and not roster_only:
        return None
    return StudentAccess(user, student, visible, roster_only, today)


def why_hidden(access: StudentAccess, category: Category) -> str:
    """SPEC §4 rule 5: say why, without any of the data."""
    user, student, today = access.user, access.student, access.today
    label = CATEGORY_LABELS[category]
    role = user.role_enum
    if role is Role.TEACHER:
        return f"Teachers see attendance, grades, assessments and notes of students in their own sections, not {label}."
    if role in (Role.PARENT,) and not access.visible:
        return "Your child now holds the rights to their own record."
    if role not in (Role.PARTNER_ADMIN, Role.YOUTH_WORKER):
        return f"Your role does not give access to {label}."
    org = user.organization.name
    agreements = active_agreements(user.organization_id, today)
    covering = [a for a in agreements if a.district_id == student.district_id]
    if not covering:
        return f"{org} has no active data-sharing agreement with {student.district.name}."
    if not any(str(category) in a.categories for a in covering):
        return f"{org}'s data-sharing agreement does not include {label}."
    consents = access.own_consents
    signer = "the student" if student.is_eligible_on(today) else "a parent"
    covering_consents = [c for c in consents if str(category) in c.categories]
    if not covering_consents:
        return f"No active consent from {signer} for {org} covering {label}."
    latest = covering_consents[0]
    if latest.revocation is not None:
        return f"The consent for {org} covering {label} was revoked on {latest.revocation.revoked_at:%-d %B %Y}."
    if latest.expires_on < today:
        return f"The consent for {org} covering {label} expired on {latest.expires_on:%-d %B %Y}."
    if latest.signed_on > today:
        return f"The consent for {org} covering {label} starts on {latest.signed_on:%-d %B %Y}."
    return f"No active consent from {signer} for {org} covering {label}."


def partner_block_reason(user: User, today: date | None = None, reader: User | None = None) -> str | None:
    """Why a partner staff member sees no student data at all, or None; said to them
    ("You have not...") unless `reader` is someone else, to whom it names them."""
    today = today or default_today()
    if user.role_enum not in (Role.PARTNER_ADMIN, Role.YOUTH_WORKER) or is_compliant(user, today):
        return None
    own = reader is None or reader.id == user.id
    who, whose = ("You have", "Your") if own else (f"{user.full_name} has", f"{user.full_name}'s")
    if user.confidentiality_signed_on is None or user.confidentiality_signed_on > today:
        return f"{who} not signed the confidentiality agreement."
    if user.ferpa_trained_on is None or user.ferpa_trained_on > today:
        return f"{who} not completed FERPA training."
    return f"{whose} FERPA training is more than 12 months old."


# --- notes: the audience of each note (SPEC §4 rule 4) --------------------------------

RESTRICTED_READERS = frozenset({Role.PRINCIPAL, Role.COUNSELOR, Role.DISTRICT_ADMIN})


@dataclass(frozen=True)
class NoteReading:
    """The note-reading rule for one user, written once for the SQL face (the timeline)
    and the Python face (the note form's audience preview). It applies only to students
    whose `notes` category the user can see."""

    audiences: frozenset[NoteAudience]  # read whoever wrote them
    own_organization: bool  # also the `organization` notes of their own organization
    restricted_exists: bool  # told that a restricted note exists, when not reading it


def note_reading(user: User) -> NoteReading:
    if user.role_enum in FAMILY:
        return NoteReading(frozenset({NoteAudience.FAMILY}), own_organization=False, restricted_exists=False)
    audiences = {NoteAudience.SHARED, NoteAudience.FAMILY}
    if user.role_enum in RESTRICTED_READERS:
        audiences.add(NoteAudience.RESTRICTED)
    return NoteReading(frozenset(audiences), own_organization=True, restricted_exists=True)


@dataclass(frozen=True)
class NoteViewer:
    """All that the SQL note rules read of a user: their rule and organization. It is
    hashable, so a statement built for one viewer serves every user with the same rule
    and organization (the timeline keeps its statements this way)."""

    reading: NoteReading
    organization_id: int | None


def note_viewer(user: User) -> NoteViewer:
    return NoteViewer(note_reading(user), user.organization_id)


def _viewer(user: User | NoteViewer) -> NoteViewer:
    return user if isinstance(user, NoteViewer) else note_viewer(user)


def note_text_readable(user: User | NoteViewer) -> ColumnElement[bool]:
    """Notes whose text `user` may read, among the notes of a student whose `notes`
    category they can see."""
    viewer = _viewer(user)
    readable = [Note.audience.in_(sorted(str(a) for a in viewer.reading.audiences))]
    if viewer.reading.own_organization:
        readable.append(
            sa.and_(Note.audience == str(NoteAudience.ORGANIZATION), Note.organization_id == viewer.organization_id)
        )
    return sa.or_(*readable)


def note_listed(user: User | NoteViewer) -> ColumnElement[bool]:
    """Notes that appear in the list: the readable ones, plus (for staff) the fact that a
    restricted note exists, never its text."""
    viewer = _viewer(user)
    if not viewer.reading.restricted_exists:
        return note_text_readable(viewer)
    return sa.or_(note_text_readable(viewer), Note.audience == str(NoteAudience.RESTRICTED))


def reads_note(user: User, audience: str, organization_id: int) -> bool:
    """`note_text_readable`, in Python, for a note's audience and organization."""
    rule = note_reading(user)
    return audience in rule.audiences or (
        rule.own_organization and audience == NoteAudience.ORGANIZATION and organization_id == user.organization_id
    )


def lists_note(user: User, audience: str, organization_id: int) -> bool:
    """`note_listed`, in Python: the note appears, as text or as a restricted note
    that exists."""
    if reads_note(user, audience, organization_id):
        return True
    return note_reading(user).restricted_exists and audience == NoteAudience.RESTRICTED


# Both sides write notes (SPEC §1, §6): the student's school team, the teachers of
# record, and partner staff whose family's consent covers notes. District admins read
# notes but, as with flags and plans, do not write them; families read the notes meant
# for them and write none.
NOTE_WRITERS = frozenset({Role.PRINCIPAL, Role.COUNSELOR, Role.TEACHER, Role.PARTNER_ADMIN, Role.YOUTH_WORKER})


def may_write_note(access: StudentAccess) -> bool:
    return access.user.role_enum in NOTE_WRITERS and access.can_see(Category.NOTES)


def note_audiences(access: StudentAccess) -> list[NoteAudience]:
    """The audiences the user may give a new note: any of them for the principal and
    counselors; never `restricted` for others, who could not read such a note back."""
    if not may_write_note(access):
        return []
    audiences = [NoteAudience.SHARED, NoteAudience.ORGANIZATION, NoteAudience.FAMILY]
    if access.user.role_enum in RESTRICTED_READERS:
        audiences.append(NoteAudience.RESTRICTED)
    return audiences


def may_amend_note(access: StudentAccess, note: Note) -> bool:
    """Only a note's author amends it, while they may still write notes on the student
    with that audience, from the organization the note was written for. An amendment
    corrects an original note; a second correction amends the original again."""
    user = access.user
    return (
        note.student_id == access.student.id
        and note.author_id == user.id
        and note.amends_id is None
        and note.organization_id == user.organization_id
        and note.audience in note_audiences(access)
    )


def note_readers(
    student: Student, audience: str, organization_id: int, today: date | None = None
) -> tuple[list[Viewer], list[Viewer]]:
    """Who will read a note of `audience` written for `organization_id`, and who will
    see only that it exists: among the people of `who_can_see` who see the student's
    notes, through the very rules of the timeline's SQL."""
    readers, told = [], []
    for viewer in who_can_see(student, today):
        if Category.NOTES not in viewer.visible:
            continue
        if reads_note(viewer.user, audience, organization_id):
            readers.append(viewer)
        elif lists_note(viewer.user, audience, organization_id):
            told.append(viewer)
    return readers, told


# --- who manages consents -----------------------------------------------------------

CONSENT_MANAGERS = frozenset({Role.DISTRICT_ADMIN, Role.PRINCIPAL, Role.COUNSELOR})


def may_manage_consents(access: StudentAccess) -> bool:
    """School officials of the student record paper consents and revoke them."""
    return access.user.role_enum in CONSENT_MANAGERS and access.visible.get(Category.IDENTITY) == SCHOOL_OFFICIAL


def consent_organizations_visible(access: StudentAccess) -> int | None | bool:
    """Whose consents the user may list: None for every organization's, an
    organization id for only their own, False for none."""
    if may_manage_consents(access):
        return None
    if access.user.role_enum in (Role.PARTNER_ADMIN, Role.YOUTH_WORKER):
        return access.user.organization_id
    return False


# --- face 3: who can see this student, which categories, and why ------------------------


@dataclass(frozen=True)
class Viewer:
    user: User
    visible: dict[Category, str]


def candidate_viewers(student: Student, today: date) -> list[User]:
    """Everyone whom some rule could let in: the district's admins, the school's staff,
    the teachers of the student's sections, staff of organizations with the student on
    their roster, guardians with accounts, and the student. The rules then decide."""
    teacher_ids = sa.select(Section.teacher_id).join(
        SectionEnrollment, SectionEnrollment.section_id == Section.id
    ).where(SectionEnrollment.student_id == student.id)
    roster_orgs = sa.select(RosterEntry.organization_id).where(RosterEntry.student_id == student.id)
    guardian_users = (
        sa.select(Guardian.user_id)
        .join(GuardianLink, GuardianLink.guardian_id == Guardian.id)
        .where(GuardianLink.student_id == student.id)
    )
    return list(
        db.session.scalars(
            sa.select(User)
            .where(
                User.active.is_(True),
                sa.or_(
                    sa.and_(User.role == str(Role.DISTRICT_ADMIN), User.organization_id == student.district_id),
                    sa.and_(
                        User.role.in_([str(Role.PRINCIPAL), str(Role.COUNSELOR)]),
                        User.organization_id == student.school_id,
                    ),
                    sa.and_(User.role == str(Role.TEACHER), User.id.in_(teacher_ids)),
                    sa.and_(
                        User.role.in_([str(Role.PARTNER_ADMIN), str(Role.YOUTH_WORKER)]),
                        User.organization_id.in_(roster_orgs),
                    ),
                    sa.and_(User.role == str(Role.PARENT), User.id.in_(guardian_users)),
                    User.student_id == student.id,
                ),
            )
            .order_by(User.organization_id, User.role, User.full_name)
        )
    )


def who_can_see(student: Student, today: date | None = None) -> list[Viewer]:
    """Each person who can see some of the student's record today, through the very
    rules of `categories_visible`."""
    today = today or default_today()
    users = candidate_viewers(student, today)
    grants_of = [grants_for(user, today) for user in users]
    # each distinct set of grants is evaluated once, all of them in one query per
    # chunk of columns (PostgreSQL takes at most 1664): an organization's staff share
    # one, and so do the school officials of one school
    start_of: dict[tuple, int] = {}
    columns: list[ColumnElement] = []
    for user, grants in zip(users, grants_of, strict=True):
        key = _shared_grants_key(user, grants)
        if grants and key not in start_of:
            start_of[key] = len(columns)
            for grant in grants:
                columns += [grant.full_condition, grant.basis]
    values: list = []
    for first in range(0, len(columns), WHO_CAN_SEE_COLUMNS):
        row = db.session.execute(
            sa.select(*columns[first:first + WHO_CAN_SEE_COLUMNS]).where(Student.id == student.id)
        ).one_or_none()
        if row is None:
            return []
        values.extend(row)
    viewers = []
    for user, grants in zip(users, grants_of, strict=True):
        visible = _visible_in_row(grants, values, start_of[_shared_grants_key(user, grants)]) if grants else {}
        if visible:
            viewers.append(Viewer(user, visible))
    return viewers


WHO_CAN_SEE_COLUMNS = 1000  # an even number: a grant's condition and basis stay together

# rules whose grants depend on the user's role and organization only
_ORGANIZATION_RULES = (district_admin_grants, school_official_grants)


def _shared_grants_key(user: User, grants: list[Grant]) -> tuple:
    """Equal for users whose grants are the same: of one organization under a rule that
    depends on it alone, or the very same grant objects (an organization's staff)."""
    rule = RULES[user.role_enum]
    if rule in _ORGANIZATION_RULES:
        return (rule.__name__, user.organization_id)
    return ("grants", *map(id, grants))


# --- who writes casework: flags and support plans (SPEC §6) ---------------------------

CASEWORK_WRITERS = frozenset({Role.PRINCIPAL, Role.COUNSELOR})


def may_write_casework(access: StudentAccess) -> bool:
    """Counselors and the principal of the student's own school flag needs and run
    support plans. District admins read casework but do not write it: they are the
    data stewards, not the student's school team."""
    return access.user.role_enum in CASEWORK_WRITERS and access.visible.get(Category.SERVICES) == SCHOOL_OFFICIAL


def casework_staff(student: Student) -> sa.Select:
    """The people who may own a student's support plan: exactly those for whom
    `may_write_casework` holds (active counselors and principals of the student's
    school). Teachers are left out because they cannot see `services` at all."""
    return (
        sa.select(User)
        .where(
            User.active.is_(True),
            User.role.in_([str(r) for r in CASEWORK_WRITERS]),
            User.organization_id == student.school_id,
        )
        .order_by(User.full_name)
    )


# --- referrals: what a referral shares with the receiving organization (SPEC §6) -------


def may_refer(access: StudentAccess) -> bool:
    """Those who write the student's casework send and withdraw referrals."""
    return may_write_casework(access)


def organization_categories(organization_id: int, student: Student, today: date | None = None) -> dict[Category, str]:
    """{category: basis} an organization may receive about `student` through a referral:
    (categories of its agreements in force) ∩ (categories of the student's active consents
    naming it). The very grants of its staff (rule 3), without their roster scope: a
    referred student is not on the roster yet, and the consent alone decides."""
    today = today or default_today()
    grants = organization_grants(organization_id, today)
    return _evaluate(grants, [grant.condition for grant in grants], student)


def organization_basis_column(organization_id: int, category: Category, today: date | None = None) -> ColumnElement[str | None]:
    """`organization_categories` as a column on `Student`, for lists: the basis on which
    the organization may receive `category` of each row's student, or NULL."""
    today = today or default_today()
    whens = [(grant.condition, grant.basis) for grant in organization_grants(organization_id, today)
             if category in grant.categories]
    if not whens:
        return sa.cast(sa.null(), sa.Text)
    return sa.case(*whens, else_=sa.cast(sa.null(), sa.Text))


REFERRAL_ANSWERERS = frozenset({Role.PARTNER_ADMIN})


def answers_referrals(user: User, today: date | None = None) -> bool:
    """A partner administrator answers their organization's referral inbox, once
    compliant: before that they see nothing about any student (SPEC §2)."""
    return user.role_enum in REFERRAL_ANSWERERS and is_compliant(user, today or default_today())


def referral_inbox(user: User, today: date | None = None) -> ColumnElement[bool]:
    """A WHERE clause on `Referral`: the referrals in the user's inbox (none for others)."""
    if not answers_referrals(user, today):
        return sa.false()
    return Referral.organization_id == user.organization_id


def in_referral_inbox(user: User, referral: Referral, today: date | None = None) -> bool:
    """`referral_inbox` for one referral."""
    return answers_referrals(user, today) and referral.organization_id == user.organization_id


def referral_was_sent() -> ColumnElement[bool]:
    """The outer referral reached the organization: it was sent at some point. One that
    waited for consent and was withdrawn never did."""
    return sa.exists().where(ReferralEvent.referral_id == Referral.id, ReferralEvent.status == str(ReferralStatus.SENT))


def referral_disclosure(referral: Referral, student: Student, today: date | None = None) -> dict[Category, str]:
    """What the receiving organization sees of the student through a referral now: what
    `organization_categories` allows, once the referral was sent. Before that (awaiting
    family consent) the organization learns only that a referral for a service at a
    school is waiting, never who it is for."""
    if not referral_reached(referral):
        return {}
    return organization_categories(referral.organization_id, student, today)


def referral_reached(referral: Referral) -> bool:
    """The referral reached its organization: it was sent (not only awaiting consent)."""
    if referral.status == ReferralStatus.AWAITING_CONSENT:
        return False
    return bool(db.session.scalar(sa.select(referral_was_sent()).where(Referral.id == referral.id)))


def referral_shared(user: User, referral: Referral, student: Student, today: date | None = None) -> dict[Category, str]:
    """What `user` may see of a referral's student: `referral_disclosure`, for compliant
    staff of the receiving organization; nothing for anyone else."""
    today = today or default_today()
    if (
        user.role_enum not in PARTNER_STAFF
        or user.organization_id != referral.organization_id
        or not is_compliant(user, today)
    ):
        return {}
    return referral_disclosure(referral, student, today)


def referral_basis_column(user: User, category: Category, today: date | None = None) -> ColumnElement[str | None]:
    """`referral_shared` as a column for inbox lists (on `Referral` joined to `Student`)."""
    today = today or default_today()
    if user.role_enum not in PARTNER_STAFF or not is_compliant(user, today):
        return sa.cast(sa.null(), sa.Text)
    return sa.case(
        (sa.or_(Referral.status == str(ReferralStatus.AWAITING_CONSENT), ~referral_was_sent()),
         sa.cast(sa.null(), sa.Text)),
        else_=organization_basis_column(user.organization_id, category, today),
    )


# --- the partner roster (SPEC §6) ------------------------------------------------------

ROSTER_MANAGERS = frozenset({Role.PARTNER_ADMIN})


def manages_roster(user: User, today: date | None = None) -> bool:
    """Partner administrators add and remove students on their organization's roster,
    once compliant (adding shows the student's name)."""
    return user.role_enum in ROSTER_MANAGERS and is_compliant(user, today or default_today())


def may_join_roster(organization_id: int, student: Student, today: date | None = None) -> bool:
    """A student can join an organization's roster only while a data-sharing agreement
    between the organization and the student's district is in force."""
    today = today or default_today()
    return any(a.district_id == student.district_id for a in active_agreements(organization_id, today))


def roster_scope(user: User, today: date | None = None) -> ColumnElement[bool]:
    """A WHERE clause on `Student`: the students on the user's own organization's roster
    today, whose names the user may see (SPEC §4 rule 3), or none."""
    today = today or default_today()
    if user.role_enum not in PARTNER_STAFF or not is_compliant(user, today):
        return sa.false()
    return on_roster(user.organization_id, today)


# --- services delivered (issue 17) -------------------------------------------------------
# A partner's staff record the services they give the students on their roster: recording
# a contact discloses nothing of the student's records, so it needs the roster and a
# compliant worker, not a consent; reading contacts back is the `services` category.

GROUP_MANAGERS = frozenset({Role.PARTNER_ADMIN})


def records_contacts(user: User, today: date | None = None) -> bool:
    """A compliant partner staff member records contacts and takes group attendance."""
    return user.role_enum in PARTNER_STAFF and is_compliant(user, today or default_today())


def contact_scope(user: User, today: date | None = None) -> ColumnElement[bool]:
    """A WHERE clause on `Student`: the students the user may record a contact for (their
    organization's roster today)."""
    return roster_scope(user, today)


def manages_groups(user: User, today: date | None = None) -> bool:
    """Partner administrators define their organization's program groups."""
    return user.role_enum in GROUP_MANAGERS and is_compliant(user, today or default_today())


def service_agreement_in_force(day: date) -> ColumnElement[bool]:
    return sa.and_(ServiceAgreement.starts_on <= day, ServiceAgreement.ends_on >= day,
                   sa.or_(ServiceAgreement.ended_on.is_(None), ServiceAgreement.ended_on > day))


def _at_school(school_id: ColumnElement[int] | int) -> ColumnElement[bool]:
    """The agreement covers the school: it names it, or names no school (all of them)."""
    named = sa.select(service_agreement_schools.c.school_id).where(
        service_agreement_schools.c.agreement_id == ServiceAgreement.id)
    return sa.or_(~sa.exists(named), sa.literal(school_id).in_(named) if isinstance(school_id, int)
                  else school_id.in_(named))


def service_covered(organization_id: ColumnElement[int], service: ColumnElement[str],
                    district_id: ColumnElement[int], school_id: ColumnElement[int], day: date) -> ColumnElement[bool]:
    """EXISTS a service agreement of the organization with the student's district, in
    force on `day`, that offers the service at the student's school: what a contact needs."""
    return sa.exists().where(
        ServiceAgreement.organization_id == organization_id, ServiceAgreement.district_id == district_id,
        service == sa.any_(ServiceAgreement.services), service_agreement_in_force(day), _at_school(school_id))


def services_offered(organization_id: int, day: date, district_id: int | None = None,
                     school_id: int | None = None) -> list[str]:
    """The services the organization's service agreements in force on `day` offer (with
    one district, at one school, when given), in the order of the vocabulary: a contact is
    of one of them."""
    where = [ServiceAgreement.organization_id == organization_id, service_agreement_in_force(day)]
    if district_id is not None:
        where.append(ServiceAgreement.district_id == district_id)
    if school_id is not None:
        where.append(_at_school(school_id))
    offered = set(db.session.scalars(sa.select(sa.func.unnest(ServiceAgreement.services)).where(*where)))
    return [str(s) for s in Service if str(s) in offered]


CONTACT_IMPORTERS = frozenset({Role.PARTNER_ADMIN})
PARTNER_IMPORT_KINDS = frozenset({"service_contacts"})  # the import kinds of a partner's own records


def imports_contacts(user: User, today: date | None = None) -> bool:
    """A partner administrator imports their own organization's service contacts from
    its attendance system, once compliant: before that they see nothing about any
    student (SPEC §2), and the import's errors name students by state ID."""
    return user.role_enum in CONTACT_IMPORTERS and is_compliant(user, today or default_today())


def may_import(user: User, kind: str, today: date | None = None) -> bool:
    """Whether `user` may import a file of `kind` for their own organization: a district
    admin the district's kinds, a compliant partner administrator the partners' kinds;
    neither the other's."""
    if kind in PARTNER_IMPORT_KINDS:
        return imports_contacts(user, today)
    return user.role_enum is Role.DISTRICT_ADMIN


# --- outcomes by program (issue 17) -----------------------------------------------------
# Aggregates only, protected by casemgr.outcomes: a district admin reads every program of
# the district, each school's rows too; a principal their school's rows; a partner
# administrator their own organization's programs, all schools together, in each district
# whose data-sharing agreement with them is in force (its served students are all on its
# roster; its comparison groups appear only as protected aggregates).

OUTCOME_READERS = frozenset({Role.DISTRICT_ADMIN, Role.PRINCIPAL, Role.PARTNER_ADMIN})


@dataclass(frozen=True)
class OutcomeScope:
    district_id: int
    organization_id: int | None = None  # a partner administrator's own programs only
    school_id: int | None = None  # a principal's school
    by_school: bool = False  # may read each school's rows


def outcome_scopes(user: User, today: date | None = None) -> list[OutcomeScope]:
    """The outcome figures the user may read, one scope per district; none for others."""
    today = today or default_today()
    org = user.organization
    role = user.role_enum
    if org is None or role not in OUTCOME_READERS:
        return []
    if role is Role.DISTRICT_ADMIN:
        return [OutcomeScope(org.id, by_school=True)]
    if role is Role.PRINCIPAL:
        return [OutcomeScope(org.district_id, school_id=org.id)] if org.district_id else []
    if not is_compliant(user, today):
        return []
    districts = sorted({a.district_id for a in active_agreements(org.id, today)})
    return [OutcomeScope(d, organization_id=org.id) for d in districts]


# --- asking the school to request a family's consent (issue 14) -------------------------

CONSENT_ASK_READERS = frozenset({Role.PRINCIPAL, Role.COUNSELOR})


def consent_askable(access: StudentAccess) -> list[Category]:
    """The categories a partner's staff do not see of a student on their roster and that
    an agreement in force with the student's district would let a consent open: what a
    request for consent asks for. Empty for anyone else."""
    user = access.user
    if user.role_enum not in PARTNER_STAFF or not is_compliant(user, access.today):
        return []
    covered = {c for a in active_agreements(user.organization_id, access.today)
               if a.district_id == access.student.district_id for c in a.categories}
    return [c for c in access.hidden if str(c) in covered]


def may_ask_for_consent(access: StudentAccess) -> bool:
    """Partner staff ask the school to request a consent for a student on their own
    roster, when a consent could show them something they do not see today."""
    return bool(consent_askable(access)) and bool(
        db.session.scalar(sa.select(on_roster(access.user.organization_id, access.today))
                          .where(Student.id == access.student.id))
    )


def consent_ask_scope(user: User) -> ColumnElement[bool]:
    """A WHERE clause on `Student`: the students whose requests for consent the user
    reads and answers, those of their own school for its counselors and principal."""
    if user.role_enum not in CONSENT_ASK_READERS or not user.is_active:
        return sa.false()
    return Student.school_id == user.organization_id


# --- the family portal (issue 6) ---------------------------------------------------------


def family_children(user: User, today: date | None = None) -> ColumnElement[bool]:
    """A WHERE clause on `Student`: the children a parent holds educational rights over
    (until the child is eligible), or the student themself; none for staff, who have
    the staff record pages instead."""
    if user.role_enum not in FAMILY:
        return sa.false()
    return visible_students(user, None, today)


def family_access(user: User, student: Student, today: date | None = None) -> StudentAccess | None:
    """`student_access` for the family pages (a child's plain-language record and its
    disclosure log): None (answer 404) for staff and for anyone else's child."""
    if user.role_enum not in FAMILY:
        return None
    return student_access(user, student, today)


# --- who signs the family's consents (SPEC §2, §4 rule 1; FERPA 34 CFR 99.5) ------------


def rights_link(user: User, student: Student) -> GuardianLink | None:
    """The link through which a parent's account holds educational rights over
    `student`, whatever the student's age; None for anyone else."""
    if user.role_enum is not Role.PARENT or not user.is_active:
        return None
    return db.session.scalar(
        sa.select(GuardianLink)
        .join(Guardian, Guardian.id == GuardianLink.guardian_id)
        .where(
            Guardian.user_id == user.id,
            GuardianLink.student_id == student.id,
            GuardianLink.educational_rights.is_(True),
        )
    )


def may_sign_consents(user: User, student: Student, today: date | None = None) -> bool:
    """A parent with educational rights signs and revokes consents until the student is
    eligible (18 or in postsecondary); from that day only the student does."""
    today = today or default_today()
    if not user.is_active:
        return False
    eligible = student.is_eligible_on(today)
    if user.role_enum is Role.STUDENT:
        return eligible and user.student_id == student.id
    if user.role_enum is Role.PARENT:
        return not eligible and rights_link(user, student) is not None
    return False


@dataclass(frozen=True)
class ConsentStanding:
    """Where a family member stands on one student's consents today."""

    user: User
    student: Student
    today: date
    link: GuardianLink | None  # the parent's link with educational rights

    @property
    def eligible(self) -> bool:
        return self.student.is_eligible_on(self.today)

    @property
    def may_sign(self) -> bool:
        return may_sign_consents(self.user, self.student, self.today)

    @property
    def sees_consents(self) -> bool:
        """A parent of an eligible student is told the right has passed, and no more:
        the consents are the student's own business from that day."""
        return self.user.role_enum is Role.STUDENT or not self.eligible


def consent_standing(user: User, student: Student, today: date | None = None) -> ConsentStanding | None:
    """The family consent pages: a parent with educational rights (also once the child is
    eligible, to be told that the right has passed) and the student themself; None
    (answer 404) for staff and for anyone else's child."""
    today = today or default_today()
    if not user.is_active:
        return None
    if user.role_enum is Role.STUDENT and user.student_id == student.id:
        return ConsentStanding(user, student, today, None)
    link = rights_link(user, student)
    if link is None:
        return None
    return ConsentStanding(user, student, today, link)


def consent_children(user: User) -> ColumnElement[bool]:
    """A WHERE clause on `Student`: those `consent_standing` answers for."""
    if not user.is_active:
        return sa.false()
    if user.role_enum is Role.STUDENT:
        return Student.id == user.student_id
    if user.role_enum is Role.PARENT:
        return sa.exists().where(
            GuardianLink.student_id == Student.id,
            GuardianLink.educational_rights.is_(True),
            GuardianLink.guardian_id == Guardian.id,
            Guardian.user_id == user.id,
        )
    return sa.false()


# --- paper release forms and amendment requests (issue 6 items 5 and 7) ------------------


def holds_consent_rights(access: StudentAccess) -> bool:
    """The family member who signs a release for the student: whoever signs the
    student's consents today (`may_sign_consents`)."""
    return may_sign_consents(access.user, access.student, access.today)


def may_print_release_form(access: StudentAccess) -> bool:
    """A printable release for paper signing: for the staff who record paper consents,
    and for the family member who would sign it."""
    return may_manage_consents(access) or holds_consent_rights(access)


def may_request_amendment(access: StudentAccess) -> bool:
    """FERPA 34 CFR 99.20: a parent with educational rights (until the student is
    eligible), or the student about themself, asks the school to amend the record."""
    return access.user.role_enum in FAMILY and access.visible.get(Category.IDENTITY) in (GUARDIAN, SELF)


AMENDMENT_ANSWERERS = frozenset({Role.PRINCIPAL, Role.COUNSELOR})
AMENDMENT_READERS = AMENDMENT_ANSWERERS | {Role.DISTRICT_ADMIN}


def reads_amendments(access: StudentAccess) -> bool:
    """The student's school (principal, counselors) and the district's admins read the
    family's requests to amend the record."""
    return access.user.role_enum in AMENDMENT_READERS and access.visible.get(Category.IDENTITY) == SCHOOL_OFFICIAL


def answers_amendments(access: StudentAccess) -> bool:
    """The student's own school decides on a request; district admins only read."""
    return access.user.role_enum in AMENDMENT_ANSWERERS and access.visible.get(Category.IDENTITY) == SCHOOL_OFFICIAL


def lists_amendments(user: User) -> bool:
    return user.is_active and user.role_enum in AMENDMENT_READERS


def amendment_students(user: User, today: date | None = None) -> ColumnElement[bool]:
    """A WHERE clause on `Student`: the students whose amendment requests the user reads
    (`reads_amendments` for lists), or none."""
    if not lists_amendments(user):
        return sa.false()
    return visible_students(user, Category.IDENTITY, today)


# --- the rights that pass to the student (issue 6 item 8; FERPA 34 CFR 99.5) ------------


def reviews_parent_consents(user: User, student: Student, today: date | None = None) -> bool:
    """The eligible student themself confirms or revokes, one by one, the consents a
    parent signed while the rights were the parent's."""
    return user.role_enum is Role.STUDENT and may_sign_consents(user, student, today)


def children_now_deciding(user: User, today: date | None = None) -> ColumnElement[bool]:
    """A WHERE clause on `Student`: a parent's children over whom the parent held
    educational rights and who are now eligible. The parent is told, by name only, that
    the child now decides; the record itself is no longer the parent's to see
    (`parent_grants`)."""
    if user.role_enum is not Role.PARENT:
        return sa.false()
    return sa.and_(consent_children(user), eligible_student(today or default_today()))


# --- family accounts by printed invitation letter (issue 11 item 3) ----------------------

LETTER_ISSUERS = frozenset({Role.PRINCIPAL, Role.COUNSELOR})


def may_issue_letters(access: StudentAccess) -> bool:
    """The principal and counselors of the student's own school hand out invitation
    letters, as they hand out everything else to the family. District admins, the data
    stewards, do not: the school knows the family and gives the letter in person."""
    return access.user.role_enum in LETTER_ISSUERS and access.visible.get(Category.IDENTITY) == SCHOOL_OFFICIAL


def letter_guardians(student: Student, today: date | None = None) -> sa.Select:
    """The guardians who may claim an account for `student`: those linked with
    educational rights, until the rights pass to the student (SPEC §2)."""
    if student.is_eligible_on(today or default_today()):
        return sa.select(Guardian).where(sa.false())
    return (
        sa.select(Guardian)
        .join(GuardianLink, GuardianLink.guardian_id == Guardian.id)
        .where(
            GuardianLink.student_id == student.id,
            GuardianLink.educational_rights.is_(True),
            Guardian.district_id == student.district_id,
        )
        .order_by(Guardian.last_name, Guardian.first_name, Guardian.id)
    )


def may_claim_account(student: Student, guardian: Guardian | None, today: date | None = None) -> bool:
    """Whether a letter for `student` may name `guardian` (a guardian with educational
    rights, before the student is eligible) or, when `guardian` is None, the student
    themself (once eligible: 18 or in postsecondary)."""
    today = today or default_today()
    if guardian is None:
        return student.is_eligible_on(today)
    return db.session.scalar(
        letter_guardians(student, today).where(Guardian.id == guardian.id).with_only_columns(Guardian.id)
    ) is not None


# --- caseloads ----------------------------------------------------------------------------

CASELOAD_ASSIGNERS = frozenset({Role.PRINCIPAL, Role.DISTRICT_ADMIN})


def assigns_caseloads(user: User, school: Organization | None) -> bool:
    """A school's principal splits its students between its counselors; a district
    admin may do it for any school of the district."""
    if school is None or school.kind != str(OrgKind.SCHOOL):
        return False
    if user.role_enum is Role.PRINCIPAL:
        return user.organization_id == school.id
    return user.role_enum is Role.DISTRICT_ADMIN and school.district_id == user.organization_id
