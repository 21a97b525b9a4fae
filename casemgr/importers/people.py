"""Kinds `students` and `guardians`."""
from __future__ import annotations

from casemgr.importers.base import Column, Context, Kind
from casemgr.importers.lookups import in_future, unknown_school, unknown_student, upsert

RELATIONS = ("mother", "father", "parent", "guardian", "grandparent", "other")

STUDENT_COLUMNS = [
    Column("state_id", max_length=32),
    Column("local_id", max_length=32),
    Column("school_code", max_length=32),
    Column("first_name", max_length=100),
    Column("middle_name", required=False, max_length=100),
    Column("last_name", max_length=100),
    Column("preferred_name", required=False, max_length=100),
    Column("birth_date", "date"),
    Column("grade", "int", low=-1, high=12),
    Column("gender", required=False, max_length=20),
    Column("ethnicity", required=False, max_length=60),
    Column("low_income", "bool", required=False),
    Column("english_learner", "bool", required=False),
    Column("disability", "bool", required=False),
    Column("home_language", required=False, max_length=40),
    Column("ferpa_block", "bool", required=False),
    Column("entry_date", "date", required=False),
    Column("exit_date", "date", required=False),
]


def student_checks(ctx: Context) -> list[str]:
    return [
        unknown_school(),
        in_future("birth_date"),
        """SELECT row_no, 'birth_date', format('%%s is before 1900', birth_date) FROM import_typed WHERE birth_date <= '1900-01-01'""",
        """SELECT t.row_no, 'local_id', format('local ID %%s already belongs to the student with state ID %%s', t.local_id, s.state_id)
           FROM import_typed t JOIN students s ON s.district_id = %(district)s AND s.local_id = t.local_id
           WHERE s.state_id <> t.state_id
             AND NOT EXISTS (SELECT 1 FROM import_typed o WHERE o.state_id = s.state_id AND o.local_id IS DISTINCT FROM s.local_id)""",
        """SELECT row_no, 'local_id', format('local ID %%s is also on row %%s', local_id, first) FROM (
             SELECT row_no, local_id, min(row_no) OVER (PARTITION BY local_id) AS first FROM import_typed WHERE local_id IS NOT NULL) d
           WHERE row_no <> first""",
        """SELECT row_no, 'exit_date', 'the exit date is before the entry date' FROM import_typed WHERE exit_date < entry_date""",
        """SELECT row_no, 'exit_date', 'an exit date needs an entry date' FROM import_typed WHERE exit_date IS NOT NULL AND entry_date IS NULL""",
        """SELECT t.row_no, 'entry_date', format('%%s is outside every school year of the district', t.entry_date)
           FROM import_typed t WHERE t.entry_date IS NOT NULL AND NOT EXISTS (
             SELECT 1 FROM school_years y WHERE y.district_id = %(district)s AND t.entry_date BETWEEN y.starts_on AND y.ends_on)""",
    ]


def merge_students(ctx: Context) -> None:
    """Upsert the district's students by state ID. An optional column the file leaves out
    keeps what is stored (a new student gets its default); a blank birth date or grade,
    which only a OneRoster bundle may give, keeps the stored one too. A student who moved
    in from another district of the partnership gets a record of this district's own,
    with the same state ID (SPEC §2): the other district's record is not touched."""
    given = set(ctx.labels)

    def value(column: str, default: str | None = None) -> str:
        source = f"t.{column}" if column in given else f"s.{column}"
        return f"coalesce({source}, {default})" if default else source

    columns = ["district_id", "school_id", "state_id", "local_id", "first_name", "middle_name", "last_name",
               "preferred_name", "birth_date", "grade", "gender", "ethnicity", "low_income", "english_learner",
               "disability", "home_language", "ferpa_block"]
    upsert(ctx, "students", columns, f"""
        SELECT %(district)s, o.id, t.state_id, t.local_id, t.first_name, {value("middle_name")}, t.last_name,
               {value("preferred_name")}, coalesce(t.birth_date, s.birth_date), coalesce(t.grade, s.grade),
               {value("gender")}, {value("ethnicity")}, {value("low_income", "false")},
               {value("english_learner", "false")}, {value("disability", "false")}, {value("home_language")},
               {value("ferpa_block", "false")}
        FROM import_typed t JOIN organizations o ON o.code = t.school_code AND o.kind = 'school' AND o.district_id = %(district)s
        LEFT JOIN students s ON s.state_id = t.state_id AND s.district_id = %(district)s
        ORDER BY t.row_no""", ["district_id", "state_id"])
    # the stay at the school, when the file gives its entry date (SPEC §5: days enrolled)
    # with the student's grade at import as the stay's grade
    upsert(ctx, "school_enrollments", ["student_id", "school_id", "school_year", "entry_date", "exit_date", "grade"], """
        SELECT s.id, s.school_id, y.year, t.entry_date, t.exit_date, s.grade
        FROM import_typed t JOIN students s ON s.state_id = t.state_id AND s.district_id = %(district)s
        JOIN school_years y ON y.district_id = %(district)s AND t.entry_date BETWEEN y.starts_on AND y.ends_on
        WHERE t.entry_date IS NOT NULL""", ["student_id", "school_id", "entry_date"])


STUDENTS = Kind(
    "students", "Students", STUDENT_COLUMNS, ["state_id"], student_checks, merge_students,
    description="One row per student; upserted by state ID. An entry date also records the stay at the school.",
)

GUARDIAN_COLUMNS = [
    Column("guardian_id", max_length=32),
    Column("first_name", max_length=100),
    Column("last_name", max_length=100),
    Column("email", required=False, max_length=254),
    Column("phone", required=False, max_length=40),
    Column("preferred_language", "enum", required=False, values=("en", "es")),
    Column("state_id", max_length=32),
    Column("relation", "enum", values=RELATIONS),
    Column("educational_rights", "bool", required=False),
]


def guardian_checks(ctx: Context) -> list[str]:
    return [
        unknown_student(),
        """SELECT row_no, 'email', format('%%s is not an email address', quote_literal(email)) FROM import_typed
           WHERE email IS NOT NULL AND email !~ '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$'""",
        """SELECT t.row_no, 'guardian_id', format('guardian %%s has different names, email, phone or language on row %%s', t.guardian_id, f.row_no)
           FROM import_typed t JOIN LATERAL (SELECT o.* FROM import_typed o WHERE o.guardian_id = t.guardian_id ORDER BY o.row_no LIMIT 1) f ON true
           WHERE f.row_no <> t.row_no AND (t.first_name, t.last_name, t.email, t.phone, t.preferred_language)
                 IS DISTINCT FROM (f.first_name, f.last_name, f.email, f.phone, f.preferred_language)""",
    ]


def merge_guardians(ctx: Context) -> None:
    upsert(ctx, "guardians", ["district_id", "local_id", "first_name", "last_name", "email", "phone", "preferred_language"], """
        SELECT DISTINCT ON (guardian_id) %(district)s, guardian_id, first_name, last_name, lower(email), phone,
               coalesce(preferred_language, 'en')
        FROM import_typed ORDER BY guardian_id, row_no""", ["district_id", "local_id"])
    # guardian rows are counted above; links are counted too, so one row may count twice
    upsert(ctx, "guardian_links", ["guardian_id", "student_id", "relation", "educational_rights"], """
        SELECT g.id, s.id, t.relation, coalesce(t.educational_rights, true)
        FROM import_typed t JOIN guardians g ON g.district_id = %(district)s AND g.local_id = t.guardian_id
        JOIN students s ON s.state_id = t.state_id AND s.district_id = %(district)s""", ["guardian_id", "student_id"])


GUARDIANS = Kind(
    "guardians", "Guardians", GUARDIAN_COLUMNS, ["guardian_id", "state_id"], guardian_checks, merge_guardians,
    feeds_indicators=False,
    description="One row per guardian and student; a guardian of two children has two rows with the same details.",
)
