"""What a OneRoster bundle writes besides its students, sections and enrollments, in
set-based SQL over temporary tables of the translation (oneroster_sources, _guardians,
_agents, _deletions): the sourcedIds kept, guardians and their links, students' stays
at school, and what `tobedeleted` rows end."""
from __future__ import annotations

from collections import Counter

from casemgr.importers.base import Context, RowError
from casemgr.importers.lookups import upsert
from casemgr.importers.oneroster_sheets import Roster, Sheet

SOURCE = "oneroster"
SHOWN = 20  # tobedeleted rows of unknown sourcedIds warned of one by one; the rest in one line
# each entity's casemgr record (and member) for a kept sourcedId; k is oneroster_sources
RECORDS = {
    "student": """SELECT k.sourced_id, st.id, NULL::int FROM oneroster_sources k
        JOIN students st ON st.state_id = k.key AND st.district_id = %(district)s WHERE k.entity = 'student'""",
    "teacher": """SELECT k.sourced_id, u.id, NULL::int FROM oneroster_sources k
        JOIN users u ON u.email = k.key AND u.role = 'teacher' WHERE k.entity = 'teacher'""",
    "class": """SELECT k.sourced_id, c.id, NULL::int FROM oneroster_sources k
        JOIN organizations o ON o.code = k.key AND o.kind = 'school' AND o.district_id = %(district)s
        JOIN sections c ON c.school_id = o.id AND c.school_year = NULLIF(k.key2, '')::int AND c.local_id = k.key3
        WHERE k.entity = 'class'""",
    "enrollment": """SELECT k.sourced_id, c.record_id, st.record_id FROM oneroster_sources k
        JOIN source_ids c ON c.district_id = %(district)s AND c.source = %(source)s AND c.entity = 'class'
             AND c.sourced_id = k.key
        JOIN source_ids st ON st.district_id = %(district)s AND st.source = %(source)s AND st.entity = 'student'
             AND st.sourced_id = k.key2
        JOIN section_enrollments e ON e.section_id = c.record_id AND e.student_id = st.record_id
        WHERE k.entity = 'enrollment'""",
    "guardian": """SELECT g.sourced_id, r.id, NULL::int FROM oneroster_guardians g
        JOIN guardians r ON r.district_id = %(district)s AND r.local_id = g.local_id""",
}


class Tally:
    """The counts of each file of the bundle: rows read, inserted, updated, skipped (the
    rest unchanged), and what else a file's rows did (guardian links, stays at school)."""

    def __init__(self) -> None:
        self.files: dict[str, Counter] = {}

    def add(self, name: str, **counts: int) -> None:
        self.files.setdefault(name, Counter()).update(counts)

    def merged(self, ctx: Context, name: str, run) -> None:
        """Run `run()` and count what it inserted and updated as `name`'s."""
        before = ctx.counts.inserted, ctx.counts.updated
        run()
        self.add(name, inserted=ctx.counts.inserted - before[0], updated=ctx.counts.updated - before[1])

    def close(self, ctx: Context, supplied) -> None:
        """The batch's counts: the bundle's rows, not casemgr's translations of them, for
        the files `supplied`."""
        self.files = {name: counts for name, counts in self.files.items() if name in supplied}
        total = Counter()
        for counts in self.files.values():
            total.update(counts)
        ctx.counts.rows_read, ctx.counts.inserted = total["read"], total["inserted"]
        ctx.counts.updated, ctx.counts.skipped = total["updated"], total["skipped"]
        ctx.counts.files = {name: {k: counts[k] for k in ("read", "inserted", "updated", "skipped")}
                            | {k: v for k, v in counts.items() if k not in ("read", "inserted", "updated", "skipped")}
                            for name, counts in self.files.items()}


def copy_sheet(ctx: Context, sheet: Sheet, table: str) -> None:
    """The sheet as a temporary table of text columns (dropped by _drop_tables)."""
    ctx.cur.execute(f"DROP TABLE IF EXISTS {table}")
    ctx.cur.execute(f"CREATE TEMP TABLE {table} ({', '.join(f'{c} text' for c in sheet.columns)})")
    with open(sheet.path, "rb") as data, ctx.cur.copy(f"COPY {table} FROM STDIN (FORMAT csv)") as copy:
        while piece := data.read(1 << 20):
            copy.write(piece)


def drop_tables(ctx: Context) -> None:
    for table in ("oneroster_sources", "oneroster_guardians", "oneroster_agents", "oneroster_deletions"):
        ctx.cur.execute(f"DROP TABLE IF EXISTS {table}")


def _params(ctx: Context, **more) -> dict:
    return {"district": ctx.district_id, "source": SOURCE, "today": ctx.today, **more}


def keep_sources(ctx: Context, entities: tuple[str, ...]) -> None:
    """Record (or repoint) the sourcedId of each record the bundle gave, per district."""
    for entity in entities:
        ctx.cur.execute(f"""
            INSERT INTO source_ids (district_id, source, entity, sourced_id, record_id, member_id)
            SELECT DISTINCT ON (r.sourced_id) %(district)s, %(source)s, %(entity)s, r.sourced_id, r.record_id, r.member_id
            FROM ({RECORDS[entity]}) AS r (sourced_id, record_id, member_id) ORDER BY r.sourced_id
            ON CONFLICT (district_id, source, entity, sourced_id) DO UPDATE
            SET record_id = EXCLUDED.record_id, member_id = EXCLUDED.member_id
            WHERE (source_ids.record_id, source_ids.member_id) IS DISTINCT FROM (EXCLUDED.record_id, EXCLUDED.member_id)""",
                        _params(ctx, entity=entity))


def guardians(ctx: Context, roster: Roster, tally: Tally) -> None:
    """Parents, guardians and relatives linked to their students by agentSourcedIds (on
    either side), as guardians of the district and guardian links; a guardian row with
    no student casemgr knows is skipped with a warning. A link keeps its educational
    rights as stored; a new one has them unless the user is a relative."""
    if not roster.guardians.rows and not roster.agents.rows:
        return
    copy_sheet(ctx, roster.guardians, "oneroster_guardians")
    copy_sheet(ctx, roster.agents, "oneroster_agents")
    params = _params(ctx)
    ctx.cur.execute("""
        CREATE TEMP TABLE oneroster_links AS
        SELECT DISTINCT a.guardian, st.record_id AS student_id FROM oneroster_agents a
        JOIN source_ids st ON st.district_id = %(district)s AND st.source = %(source)s AND st.entity = 'student'
             AND st.sourced_id = a.student""", params)
    unlinked = ctx.cur.execute("""
        SELECT g.sourced_id, g.row_no::int FROM oneroster_guardians g
        WHERE NOT EXISTS (SELECT 1 FROM oneroster_links l WHERE l.guardian = g.sourced_id) ORDER BY g.row_no::int""",
                               params).fetchall()
    if unlinked:
        tally.add("users.csv", skipped=len(unlinked))
        shown = ", ".join(sid for sid, _ in unlinked[:SHOWN]) + (f" and {len(unlinked) - SHOWN} more"
                                                                 if len(unlinked) > SHOWN else "")
        ctx.warnings.append(RowError(unlinked[0][1], "users.csv (agentSourcedIds)", (
            f"{len(unlinked)} guardian{'' if len(unlinked) == 1 else 's'} skipped ({shown}): "
            "agentSourcedIds links them to no student casemgr knows")))
    tally.merged(ctx, "users.csv", lambda: upsert(
        ctx, "guardians", ["district_id", "local_id", "first_name", "last_name", "email", "phone"], """
        SELECT DISTINCT ON (g.local_id) %(district)s, g.local_id, left(g.given, 100), left(g.family, 100),
               CASE WHEN NOT %(has_email)s THEN old.email
                    WHEN g.email ~ '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$' THEN left(g.email, 254) END,
               CASE WHEN %(has_phone)s THEN left(NULLIF(g.phone, ''), 40) ELSE old.phone END
        FROM (SELECT local_id, first_name AS given, last_name AS family, email, phone, row_no FROM oneroster_guardians
              WHERE sourced_id IN (SELECT guardian FROM oneroster_links)) g
        LEFT JOIN guardians old ON old.district_id = %(district)s AND old.local_id = g.local_id
        ORDER BY g.local_id, g.row_no::int""", ["district_id", "local_id"],
        params | {"has_email": "email" in roster.users_columns,
                  "has_phone": "phone" in roster.users_columns}))
    keep_sources(ctx, ("guardian",))
    before = ctx.counts.inserted, ctx.counts.updated
    upsert(ctx, "guardian_links", ["guardian_id", "student_id", "relation", "educational_rights"], """
        SELECT DISTINCT ON (g.record_id, l.student_id) g.record_id, l.student_id,
               coalesce(og.relation, old.relation, other.relation, 'guardian'),
               coalesce(old.educational_rights, coalesce(og.relation, old.relation, other.relation, 'guardian') <> 'other')
        FROM oneroster_links l
        JOIN source_ids g ON g.district_id = %(district)s AND g.source = %(source)s AND g.entity = 'guardian'
             AND g.sourced_id = l.guardian
        LEFT JOIN oneroster_guardians og ON og.sourced_id = l.guardian
        LEFT JOIN guardian_links old ON old.guardian_id = g.record_id AND old.student_id = l.student_id
        LEFT JOIN LATERAL (SELECT o.relation FROM guardian_links o WHERE o.guardian_id = g.record_id
                           ORDER BY o.student_id LIMIT 1) other ON true
        ORDER BY g.record_id, l.student_id""", ["guardian_id", "student_id"], params)
    links = ctx.counts.inserted - before[0], ctx.counts.updated - before[1]
    ctx.counts.inserted, ctx.counts.updated = before  # a link is not a row of the bundle: counted apart
    tally.add("users.csv", guardian_links_inserted=links[0], guardian_links_updated=links[1])
    ctx.cur.execute("DROP TABLE oneroster_links")


def school_enrollments(ctx: Context, roster: Roster, tally: Tally) -> None:
    """Each student of the bundle at their school for the bundle's school year: a stay
    that starts on their first class's entry date, else on the school year's first day
    (a student seen at school earlier in the year: today), within casemgr's school year;
    a stay still open at another school that year ends."""
    if not roster.students.rows and not roster.undescribed.rows:
        return
    if roster.school_year is None:
        year_row = ctx.cur.execute(
            "SELECT year FROM school_years WHERE district_id = %s AND %s BETWEEN starts_on AND ends_on",
            (ctx.district_id, ctx.today)).fetchone()
        year, start = (year_row[0], ctx.today) if year_row else (None, ctx.today)
    else:
        year, start = roster.school_year
    known = year is not None and ctx.cur.execute(
        "SELECT 1 FROM school_years WHERE district_id = %s AND year = %s", (ctx.district_id, year)).fetchone()
    if not known:
        ctx.warnings.append(RowError(None, "academicSessions.csv", (
            f"students get no stay at school: casemgr has no school year {year}–{year + 1}; import the school "
            "calendar first" if year is not None else
            "students get no stay at school: casemgr has no school year holding today; import the school calendar first")))
        return
    params = _params(ctx, year=year, start=start)
    ctx.cur.execute("""
        CREATE TEMP TABLE oneroster_students AS SELECT DISTINCT st.id, st.school_id, st.grade FROM oneroster_sources k
        JOIN students st ON st.state_id = k.key AND st.district_id = %(district)s WHERE k.entity = 'student'""", params)
    ctx.cur.execute("""
        UPDATE school_enrollments e SET exit_date = greatest(e.entry_date, least(%(today)s::date, y.ends_on))
        FROM oneroster_students b, school_years y
        WHERE e.student_id = b.id AND e.school_id <> b.school_id AND e.exit_date IS NULL
          AND y.district_id = %(district)s AND y.year = %(year)s AND e.school_year = y.year""", params)
    moved = ctx.cur.rowcount
    ctx.cur.execute("""
        INSERT INTO school_enrollments (student_id, school_id, school_year, grade, entry_date)
        SELECT b.id, b.school_id, y.year, b.grade, greatest(y.starts_on, least(y.ends_on, CASE
            WHEN EXISTS (SELECT 1 FROM school_enrollments o WHERE o.student_id = b.id AND o.school_year = y.year)
            THEN %(today)s::date
            ELSE coalesce((SELECT min(se.entry_date) FROM section_enrollments se JOIN sections c ON c.id = se.section_id
                           WHERE se.student_id = b.id AND c.school_id = b.school_id AND c.school_year = y.year),
                          %(start)s::date) END))
        FROM oneroster_students b JOIN school_years y ON y.district_id = %(district)s AND y.year = %(year)s
        WHERE NOT EXISTS (SELECT 1 FROM school_enrollments e WHERE e.student_id = b.id AND e.school_id = b.school_id
                          AND e.school_year = y.year AND e.exit_date IS NULL)
        ON CONFLICT (student_id, school_id, entry_date) DO NOTHING""", params)
    tally.add("users.csv", school_enrollments_started=ctx.cur.rowcount, school_enrollments_ended=moved)
    ctx.cur.execute("DROP TABLE oneroster_students")


# what a tobedeleted row of each entity ends; each statement returns the rows (d.row_no) it changed
ENDS = {
    "student": """UPDATE school_enrollments e SET exit_date = greatest(e.entry_date, d.ends_on)
        FROM oneroster_deleted d WHERE d.entity = 'student' AND e.student_id = d.record_id AND e.exit_date IS NULL
        RETURNING d.file, d.row_no""",
    "class": """UPDATE section_enrollments e SET exit_date = greatest(e.entry_date, d.ends_on)
        FROM oneroster_deleted d WHERE d.entity = 'class' AND e.section_id = d.record_id AND e.exit_date IS NULL
        RETURNING d.file, d.row_no""",
    "enrollment": """UPDATE section_enrollments e SET exit_date = greatest(e.entry_date, d.ends_on)
        FROM oneroster_deleted d WHERE d.entity = 'enrollment' AND e.section_id = d.record_id
          AND e.student_id = d.member_id AND e.exit_date IS NULL
        RETURNING d.file, d.row_no""",
}


def end_deleted(ctx: Context, roster: Roster, tally: Tally) -> None:
    """A tobedeleted row ends what casemgr has of its sourcedId, on the day it gives
    (an enrollment's endDate, else the day of its dateLastModified, else today): a
    student's open stay at school, a class's or an enrollment's open section enrollments,
    a teacher's account (deactivated: signed out, links revoked, the event logged).
    Nothing is deleted. A sourcedId casemgr never saw is skipped with a warning; a
    guardian is kept, with a warning."""
    if not roster.deletions.rows:
        return
    copy_sheet(ctx, roster.deletions, "oneroster_deletions")
    params = _params(ctx)
    ctx.cur.execute("""
        CREATE TEMP TABLE oneroster_deleted AS
        SELECT d.file, d.row_no::int AS row_no, d.entity, d.sourced_id,
               least(coalesce(NULLIF(d.ends_on, '')::date, %(today)s::date), %(today)s::date) AS ends_on,
               s.record_id, s.member_id
        FROM oneroster_deletions d LEFT JOIN source_ids s ON s.district_id = %(district)s AND s.source = %(source)s
             AND s.entity = d.entity AND s.sourced_id = d.sourced_id""", params)
    changed: dict[tuple[str, int], None] = {}
    for statement in ENDS.values():
        changed.update(dict.fromkeys((f, n) for f, n in ctx.cur.execute(statement, params).fetchall()))
    changed.update(dict.fromkeys((f, n) for f, n in ctx.cur.execute("""
        WITH ended AS (
            UPDATE users u SET active = false, session_generation = u.session_generation + 1
            FROM oneroster_deleted d WHERE d.entity = 'teacher' AND u.id = d.record_id AND u.active AND u.role = 'teacher'
            RETURNING u.id, u.organization_id, d.file, d.row_no),
        revoked AS (
            UPDATE account_tokens t SET revoked_at = now() FROM ended
            WHERE t.user_id = ended.id AND t.used_at IS NULL AND t.revoked_at IS NULL),
        logged AS (
            INSERT INTO account_events (user_id, organization_id, action, details)
            SELECT id, organization_id, 'deactivated', '{"by": "OneRoster import: tobedeleted"}'::jsonb FROM ended)
        SELECT file, row_no FROM ended""", params).fetchall()))
    for file, _ in changed:
        tally.add(file, updated=1)
    unknown = ctx.cur.execute("""
        SELECT file, row_no, sourced_id, entity FROM oneroster_deleted WHERE record_id IS NULL ORDER BY file, row_no""",
                              params).fetchall()
    kept = ctx.cur.execute("""
        SELECT file, row_no FROM oneroster_deleted WHERE record_id IS NOT NULL AND entity = 'guardian' ORDER BY row_no""",
                           params).fetchall()
    for file, n, sourced_id, entity in unknown[:SHOWN]:
        ctx.warnings.append(RowError(n, file, (
            f"{sourced_id} is tobedeleted, but casemgr has no {entity} with that sourcedId: skipped")))
    if len(unknown) > SHOWN:
        ctx.warnings.append(RowError(None, None, (
            f"… and {len(unknown) - SHOWN:,} more tobedeleted rows of sourcedIds casemgr never saw, skipped")))
    for file, *_ in unknown:
        tally.add(file, skipped=1)
    if kept:
        tally.add("users.csv", skipped=len(kept))
        ctx.warnings.append(RowError(kept[0][1], "users.csv", (
            f"{len(kept)} guardian{'' if len(kept) == 1 else 's'} marked tobedeleted kept, with their links: "
            "casemgr does not end a guardian's rights from a roster; change them on the student's page")))
    ctx.cur.execute("DROP TABLE oneroster_deleted")
