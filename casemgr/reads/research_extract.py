"""A research project's de-identified extract (issue 16, item 2): one row per student and
school year of the project, with its approved variables only, each student under the
project's pseudonym, the quasi-identifiers generalized until every student's record is
shared by at least k students (the district's minimum n), in a ZIP with a README that
says what was generalized and how many rows were left out.

The rows are read in one statement (each student's school and grade are those of their
last stay of the year, as the reports count them); the pseudonyms and the k-anonymity
step (`casemgr.deidentify`) run on them in memory, as that step must see every row."""
from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from casemgr.deidentify import LADDERS, Anonymized, anonymize, pseudonym
from casemgr.extensions import db
from casemgr.models import Organization, ResearchProject, Student, StudentIndicator
from casemgr.reads.report_cube import last_stay
from casemgr.research import VARIABLES

FORMATS = ("csv", "parquet")
QUASI = [key for key, v in VARIABLES.items() if v.quasi_identifier]


@dataclass
class Extract:
    columns: list[str]
    result: Anonymized
    students: int
    k: int


# columns given only in some grades (FAFSA for seniors, on-track for 9th graders and up):
# whether they are empty tells the grade apart, so that pattern is known to an outsider too
GRADE_SIGNS = ("fafsa_status", "ninth_grade_on_track", "credits_on_track")
SIGNS = "_grade_signs"


def build(project: ResearchProject, k: int) -> Extract:
    """The extract; the project's generalization is kept on it (never loosened by a later
    extract: two extracts read together show no more than the later one)."""
    rows = [dict(row._mapping) for row in db.session.execute(_statement(project))]
    signs = [c for c in GRADE_SIGNS if c in project.variables]
    for row in rows:
        row["pseudonym"] = pseudonym(project.pseudonym_secret, row.pop("state_id"))
        row[SIGNS] = tuple(row[c] is None for c in signs)
    columns = ["pseudonym", "school_year", *(key for key in VARIABLES if key in project.variables)]
    kept = project.extract_generalization or {}
    result = anonymize(rows, [q for q in QUASI if q in project.variables], k, within=("school_year", SIGNS),
                       at_least=Anonymized([], kept.get("levels", {}), 0, kept.get("merged", {})))
    project.extract_generalization = {"levels": result.levels, "merged": result.merged}
    result.rows = sorted(({column: row[column] for column in columns} for row in result.rows),
                         key=lambda row: (row["school_year"], row["pseudonym"]))  # no trace of the database's order
    return Extract(columns, result, len({row["pseudonym"] for row in result.rows}), k)


def _statement(project: ResearchProject) -> sa.Select:
    last = last_stay(StudentIndicator.student_id, StudentIndicator.school_year)
    school_id = sa.func.coalesce(last.c.school_id, Student.school_id)
    school = sa.select(Organization.name).where(Organization.id == school_id).scalar_subquery()
    query = (
        sa.select(
            Student.state_id, StudentIndicator.school_year, school.label("school"),
            sa.func.coalesce(last.c.grade, Student.grade).label("grade"), Student.gender, Student.ethnicity,
            Student.low_income, Student.english_learner, Student.disability,
            sa.cast(sa.extract("year", Student.birth_date), sa.Integer).label("birth_year"),
            *(getattr(StudentIndicator, key) for key in VARIABLES
              if key not in QUASI and hasattr(StudentIndicator, key)),
        )
        .join(Student, Student.id == StudentIndicator.student_id)
        .outerjoin(last, sa.true())
        .where(Student.district_id == project.district_id, StudentIndicator.school_year.in_(project.school_years))
    )
    if project.school_ids:
        query = query.where(school_id.in_(project.school_ids))
    return query


def zip_file(project: ResearchProject, extract: Extract, fmt: str, day: date) -> bytes:
    """The ZIP: the extract (CSV or Parquet) and its README."""
    data = _csv(extract) if fmt == "csv" else _parquet(extract)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"extract.{fmt}", data)
        archive.writestr("README.txt", readme(project, extract, day))
    return out.getvalue()


def _csv(extract: Extract) -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=extract.columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(extract.result.rows)
    return text.getvalue().encode()


def _parquet(extract: Extract) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({column: [_plain(row[column]) for row in extract.result.rows] for column in extract.columns})
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


def _plain(value):
    """A value Parquet holds in one column type: generalized values are text."""
    return float(value) if isinstance(value, Decimal) else value


def readme(project: ResearchProject, extract: Extract, day: date) -> str:
    result = extract.result
    generalized = [f"- {VARIABLES[q].label}: " + ("exact" if level == 0 else "hidden (*)" if level == len(LADDERS[q])
                                                 else f"generalized, step {level} of {len(LADDERS[q])}")
                   for q, level in result.levels.items()]
    merged = [f"- {VARIABLES[name].label}: {len(values)} value(s) held by fewer than {extract.k} students shown as "
              "\"Other\"" for name, values in result.merged.items()]
    return "\n".join([
        f"De-identified extract: {project.title}",
        f"Research organization: {project.organization.name}",
        f"Approval: {project.approval_reference}",
        f"Made on {day.isoformat()}; the data must be destroyed by {project.destroy_by.isoformat()}.",
        "",
        "One row per student and school year. No name, address or identifier: each student",
        "appears under a pseudonym that is the same in every extract of this project and",
        "unrelated to those of any other project.",
        "",
        f"Rows: {len(result.rows)} (students: {extract.students}).",
        f"Every student's record, all their rows read together, is shared by at least k = {extract.k} students",
        "on the quasi-identifiers below. To reach that, the quasi-identifiers were generalized:",
        *(generalized or ["- none in this file"]),
        *merged,
        f"Rows left out, their students still too rare after generalizing: {result.rows_left_out}.",
        "",
        "Columns: " + ", ".join(extract.columns),
        "",
    ])
