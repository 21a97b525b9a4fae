"""Kind `service_contacts`: a partner organization's attendance, exported from its own
system (issue 17): one row per student, day and service, with the minutes given and,
optionally, the mode (`individual`, the default, or `group`).

Unlike the district's kinds, the file belongs to a partner organization: the runner's
"district" is here the importing partner, and `%(district)s` in the checks is its id.
A row is accepted only for a student on the organization's roster on that day, and a
service that one of the organization's service agreements with the student's district
offers on that day. A state ID of no student on the roster is refused with the same
words whether or not the district has such a student, so that the import cannot be used
to learn who the district's students are (partners add students by state ID and birth
date only, SPEC §6).

Rows are stored as `source = 'import'` contacts, attended, without a group, and merged
by their natural key (organization, student, day, service): importing the same file
again changes nothing; a row whose minutes (or mode) changed is updated."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import sqlalchemy as sa

from casemgr.extensions import db
from casemgr.importers.base import Column, Context, Kind
from casemgr.importers.lookups import in_future
from casemgr.importers.runner import ImportSetupError
from casemgr.models import Organization
from casemgr.models.enums import ContactMode, ContactSource, OrgKind, Service
from casemgr.models.services import SESSION_MINUTES_MAX
from casemgr.policy import PARTNER_IMPORT_KINDS

NAME = "service_contacts"
COLUMNS = [
    Column("state_id", max_length=32),
    Column("date", "date"),
    Column("service", "enum", values=tuple(Service)),
    Column("minutes", "int", low=1, high=SESSION_MINUTES_MAX),
    Column("mode", "enum", required=False, values=tuple(ContactMode)),
]
KEY = ["state_id", "date", "service"]

# who imports: the runner's Context does not carry the user, so import_file names them here
_imported_by: ContextVar[int | None] = ContextVar("service_contacts_imported_by", default=None)


@contextmanager
def imported_by(user_id: int | None) -> Iterator[None]:
    """The user an import runs for, recorded as the contacts' `recorded_by`."""
    token = _imported_by.set(user_id)
    try:
        yield
    finally:
        _imported_by.reset(token)


# every student of the file's state IDs ever on the organization's roster, per row, and
# whether on it on the row's day (a state ID may name students of two districts)
CANDIDATES = """
CREATE TEMP TABLE import_contact_candidates AS
SELECT t.row_no, s.id AS student_id, s.district_id,
       coalesce(bool_or(r.added_on <= t.date AND (r.removed_on IS NULL OR r.removed_on > t.date)), false) AS on_roster,
       string_agg(CASE WHEN r.removed_on IS NULL THEN format('since %%s', r.added_on)
                       ELSE format('from %%s, removed on %%s', r.added_on, r.removed_on) END,
                  '; ' ORDER BY r.added_on) AS stays
FROM import_typed t
JOIN students s ON s.state_id = t.state_id
JOIN roster_entries r ON r.student_id = s.id AND r.organization_id = %(organization)s
GROUP BY t.row_no, s.id, s.district_id"""
# the one student each row names: on the roster on its day
RESOLVED = """
CREATE TEMP TABLE import_contact_students AS
SELECT row_no, min(student_id) AS student_id, min(district_id) AS district_id
FROM import_contact_candidates WHERE on_roster GROUP BY row_no HAVING count(*) = 1"""

ORGANIZATION = "JOIN organizations o ON o.id = %(district)s"
NOT_ON_ROSTER = f"""SELECT t.row_no, 'state_id',
        format('no student on the roster of %%s has the state ID %%s', o.name, quote_literal(t.state_id))
    FROM import_typed t {ORGANIZATION}
    WHERE t.state_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM import_contact_candidates c WHERE c.row_no = t.row_no)"""
NOT_ON_ROSTER_THAT_DAY = f"""SELECT t.row_no, 'date',
        format('the student with state ID %%s was not on the roster of %%s on %%s (on it %%s)',
               quote_literal(t.state_id), o.name, t.date, string_agg(c.stays, '; '))
    FROM import_typed t {ORGANIZATION} JOIN import_contact_candidates c ON c.row_no = t.row_no
    WHERE t.date <= %(today)s
    GROUP BY t.row_no, t.state_id, t.date, o.name HAVING NOT bool_or(c.on_roster)"""
AMBIGUOUS = f"""SELECT t.row_no, 'state_id',
        format('the state ID %%s names %%s students on the roster of %%s on %%s (of different districts): '
               'ask the districts to correct it', quote_literal(t.state_id), count(*), o.name, t.date)
    FROM import_typed t {ORGANIZATION} JOIN import_contact_candidates c ON c.row_no = t.row_no AND c.on_roster
    GROUP BY t.row_no, t.state_id, t.date, o.name HAVING count(*) > 1"""
NO_AGREEMENT = f"""SELECT t.row_no, 'service',
        format('%%s has no service agreement with %%s for %%s at %%s in force on %%s', o.name, d.name, t.service,
               k.name, t.date)
    FROM import_typed t {ORGANIZATION}
    JOIN import_contact_students c ON c.row_no = t.row_no
    JOIN organizations d ON d.id = c.district_id
    JOIN students s ON s.id = c.student_id
    JOIN organizations k ON k.id = s.school_id
    WHERE t.service IS NOT NULL AND t.date <= %(today)s AND NOT EXISTS (
        SELECT 1 FROM service_agreements a
        WHERE a.organization_id = o.id AND a.district_id = c.district_id AND t.service = ANY(a.services)
          AND a.starts_on <= t.date AND a.ends_on >= t.date AND (a.ended_on IS NULL OR a.ended_on > t.date)
          AND (NOT EXISTS (SELECT 1 FROM service_agreement_schools x WHERE x.agreement_id = a.id)
               OR s.school_id IN (SELECT x.school_id FROM service_agreement_schools x WHERE x.agreement_id = a.id)))"""

MERGE = f"""WITH merged AS (
    INSERT INTO service_contacts (student_id, organization_id, service, contact_on, minutes, mode, attended, source,
                                  recorded_by_id)
    SELECT c.student_id, %(organization)s, t.service, t.date, t.minutes, coalesce(t.mode, '{ContactMode.INDIVIDUAL}'),
           true, '{ContactSource.IMPORT}', %(user)s
    FROM import_typed t JOIN import_contact_students c ON c.row_no = t.row_no
    ORDER BY t.row_no
    ON CONFLICT (organization_id, student_id, contact_on, service) WHERE source = '{ContactSource.IMPORT}'
    DO UPDATE SET minutes = EXCLUDED.minutes, mode = EXCLUDED.mode, updated_at = now(),
                  recorded_by_id = coalesce(EXCLUDED.recorded_by_id, service_contacts.recorded_by_id)
    WHERE (service_contacts.minutes, service_contacts.mode) IS DISTINCT FROM (EXCLUDED.minutes, EXCLUDED.mode)
    RETURNING (xmax = 0) AS inserted)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM merged"""


def checks(ctx: Context) -> list[str]:
    """Resolves each row's student first (two temporary tables), then the rules that
    need it; the type, range, duplicate and header checks are the runner's."""
    cur, organization = ctx.cur, {"organization": ctx.district_id}
    cur.execute(CANDIDATES, organization)
    cur.execute(RESOLVED)
    cur.execute("ANALYZE import_contact_candidates")
    cur.execute("ANALYZE import_contact_students")
    return [NOT_ON_ROSTER, in_future("date"), NOT_ON_ROSTER_THAT_DAY, AMBIGUOUS, NO_AGREEMENT]


def merge(ctx: Context) -> None:
    inserted, updated = ctx.cur.execute(
        MERGE, {"organization": ctx.district_id, "user": _imported_by.get()}).fetchone()
    ctx.counts.add(inserted, updated)


SERVICE_CONTACTS = Kind(
    NAME, "Service contacts (the organization's own attendance)", COLUMNS, KEY, checks, merge,
    feeds_indicators=False,
    description=("A partner organization's attendance from its own system: state_id, date, service and minutes of "
                 "each contact, and optionally mode (individual, the default, or group). Each student must be on "
                 "the organization's roster that day, and each service in its service agreement with the "
                 "student's district."),
)
PARTNER_KINDS = PARTNER_IMPORT_KINDS


def resolve_partner(code: str | None) -> Organization:
    """The partner organization whose file is imported on the command line."""
    if not code:
        raise ImportSetupError(f"name the partner organization of a {NAME} file with --organization CODE")
    organization = db.session.scalar(
        sa.select(Organization).where(Organization.code == code, Organization.kind == OrgKind.PARTNER))
    if organization is None:
        raise ImportSetupError(f"no partner organization has the code {code!r}")
    return organization
