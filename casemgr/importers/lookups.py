"""SQL pieces the kinds share: set-based lookups of schools, students, sections and
school years against the typed staging table `import_typed` (alias t), and the
counting upsert."""
from __future__ import annotations

from casemgr.importers.base import Context

SCHOOL = "o.kind = 'school' AND o.district_id = %(district)s"


def unknown_school(column: str = "school_code") -> str:
    return f"""SELECT t.row_no, '{column}', format('unknown school %%s: no school of this district has that code', quote_literal(t.{column}))
        FROM import_typed t LEFT JOIN organizations o ON o.code = t.{column} AND {SCHOOL}
        WHERE t.{column} IS NOT NULL AND o.id IS NULL"""


def unknown_student(column: str = "state_id") -> str:
    return f"""SELECT t.row_no, '{column}', format('unknown student %%s: no student of this district has that state ID', quote_literal(t.{column}))
        FROM import_typed t LEFT JOIN students s ON s.state_id = t.{column} AND s.district_id = %(district)s
        WHERE t.{column} IS NOT NULL AND s.id IS NULL"""


def unknown_section(section: str = "section_id", school: str = "school_code", year: str = "school_year") -> str:
    return f"""SELECT t.row_no, '{section}', format('unknown section %%s at school %%s in %%s', quote_literal(t.{section}), t.{school}, t.{year})
        FROM import_typed t
        JOIN organizations o ON o.code = t.{school} AND {SCHOOL}
        LEFT JOIN sections c ON c.school_id = o.id AND c.school_year = t.{year} AND c.local_id = t.{section}
        WHERE t.{section} IS NOT NULL AND t.{year} IS NOT NULL AND c.id IS NULL"""


def outside_school_year(column: str) -> str:
    return f"""SELECT t.row_no, '{column}', format('%%s is outside every school year of the district', t.{column})
        FROM import_typed t
        WHERE t.{column} IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM school_years y WHERE y.district_id = %(district)s AND t.{column} BETWEEN y.starts_on AND y.ends_on)"""


def unknown_school_year(column: str = "school_year") -> str:
    return f"""SELECT t.row_no, '{column}', format('the district has no school year %%s', t.{column})
        FROM import_typed t
        WHERE t.{column} IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM school_years y WHERE y.district_id = %(district)s AND y.year = t.{column})"""


def in_future(column: str) -> str:
    return f"""SELECT t.row_no, '{column}', format('%%s is in the future', t.{column})
        FROM import_typed t WHERE t.{column} > %(today)s"""


def between(column: str, low: str, high: str, message: str) -> str:
    return f"""SELECT t.row_no, '{column}', format('%%s {message}', t.{column})
        FROM import_typed t WHERE t.{column} NOT BETWEEN {low} AND {high}"""


def upsert(ctx: Context, table: str, columns: list[str], select: str, conflict: list[str], params: dict | None = None) -> None:
    """INSERT … SELECT … ON CONFLICT DO UPDATE only where a value differs; adds the
    inserted and updated rows to ctx.counts (unchanged rows count as neither)."""
    updated = [c for c in columns if c not in conflict]
    cols = ", ".join(columns)
    if updated:
        sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in updated)
        old = ", ".join(f"{table}.{c}" for c in updated)
        new = ", ".join(f"EXCLUDED.{c}" for c in updated)
        action = f"DO UPDATE SET {sets} WHERE ({old}, NULL) IS DISTINCT FROM ({new}, NULL)"
    else:
        action = "DO NOTHING"
    statement = f"""WITH merged AS (
        INSERT INTO {table} ({cols}) {select}
        ON CONFLICT ({", ".join(conflict)}) {action}
        RETURNING (xmax = 0) AS inserted)
        SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM merged"""
    inserted, updated_rows = ctx.cur.execute(statement, {"district": ctx.district_id, "today": ctx.today, **(params or {})}).fetchone()
    ctx.counts.add(inserted, updated_rows)


def school_year_of(expression: str) -> str:
    """The school year (the calendar year it starts in) of the district's year holding a day."""
    return f"(SELECT y.year FROM school_years y WHERE y.district_id = %(district)s AND {expression} BETWEEN y.starts_on AND y.ends_on ORDER BY y.starts_on DESC LIMIT 1)"
