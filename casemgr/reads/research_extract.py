"""A research project's de-identified extract (issue 16, item 2): one row per student and
school year of the project, with its approved variables only, each student under the
project's pseudonym, the quasi-identifiers generalized until every student's record is
shared by at least k students (the district's minimum n), in a ZIP with a README that
says what was generalized and how many rows were left out.

The rows are read in one statement (each student's school and grade are those of their
last stay of the year, as the reports count them); the pseudonyms and the k-anonymity
step (`casemgr.deidentify`) run on them in memory, as that step must see every row.

A project covering several districts (item 3) reads each covered district's own records
of its students; a student who moved between them has a record in each, and both carry
the one pseudonym of their state ID. Students whose family asked to be left out of
research (item 5) are left out by state ID, in every district."""
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
from casemgr.models import (
    Organization,
    PostsecondaryOutcome,
    ResearchOptOut,
    ResearchProject,
    Student,
    StudentIndicator,
)
from casemgr.reads.report_cube import last_stay
from casemgr.reads.report_figures import minimum_n
from casemgr.research import POSTSECONDARY, VARIABLES

FORMATS = ("csv", "parquet")
QUASI = [key for key, v in VARIABLES.items() if v.quasi_identifier]


@dataclass
class Extract:
    columns: list[str]
    result: Anonymized
    students: int
    k: int


# columns given only in some grades (FAFSA for seniors, on-track for 9th graders and up,
# postsecondary outcomes for graduates in the year they graduated):
# whether they are empty tells the grade apart, so that pattern is known to an outsider too
GRADE_SIGNS = ("fafsa_status", "ninth_grade_on_track", "credits_on_track", *POSTSECONDARY)
SIGNS = "_grade_signs"


def k_of(project: ResearchProject) -> int:
    """k: the largest minimum n of the districts the project covers (each district's
    rule holds for its students)."""
    return max((minimum_n(district_id) for district_id in project.covered_district_ids),
               default=minimum_n(project.district_id))


def build(project: ResearchProject, k: int) -> Extract:
    """The extract; the project's generalization is kept on it (never loosened by a later
    extract: two extracts read together show no more than the later one)."""
    rows = _one_per_student_and_year(dict(row._mapping) for row in db.session.execute(_statement(project)))
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


def _one_per_student_and_year(rows) -> list[dict]:
    """A student who moved between districts during a school year has that year in both
    districts' records: the row of the later stay stands for the year."""
    latest: dict[tuple, tuple[date, dict]] = {}
    for row in rows:
        key = (row["state_id"], row["school_year"])
        began = row.pop("stay_began") or date.min
        if key not in latest or began > latest[key][0]:
            latest[key] = (began, row)
    return [row for _, row in latest.values()]


def _statement(project: ResearchProject) -> sa.Select:
    last = last_stay(StudentIndicator.student_id, StudentIndicator.school_year)
    school_id = sa.func.coalesce(last.c.school_id, Student.school_id)
    school = sa.select(Organization.name).where(Organization.id == school_id).scalar_subquery()
    query = (
        sa.select(
            Student.state_id, StudentIndicator.school_year, last.c.entry_date.label("stay_began"), school.label("school"),
            sa.func.coalesce(last.c.grade, Student.grade).label("grade"), Student.gender, Student.ethnicity,
            Student.low_income, Student.english_learner, Student.disability,
            sa.cast(sa.extract("year", Student.birth_date), sa.Integer).label("birth_year"),
            *(getattr(StudentIndicator, key) for key in VARIABLES
              if key not in QUASI and hasattr(StudentIndicator, key)),
            *(getattr(PostsecondaryOutcome, key) for key in POSTSECONDARY),
        )
        .join(Student, Student.id == StudentIndicator.student_id)
        # a graduate's outcomes, on the row of the year they graduated
        .outerjoin(PostsecondaryOutcome, sa.and_(PostsecondaryOutcome.student_id == StudentIndicator.student_id,
                                                 PostsecondaryOutcome.class_year == StudentIndicator.school_year))
        .outerjoin(last, sa.true())
        .where(Student.district_id.in_(project.covered_district_ids),
               StudentIndicator.school_year.in_(project.school_years),
               Student.state_id.not_in(_opted_out()))
    )
    if project.school_ids:
        # schools listed restrict their own district; another district gives every school
        listing = sa.select(Organization.district_id).where(Organization.id.in_(project.school_ids))
        query = query.where(sa.or_(school_id.in_(project.school_ids), Student.district_id.not_in(listing)))
    return query


def _opted_out() -> sa.Select:
    """The state IDs whose family asked that the student be left out of research."""
    student = sa.orm.aliased(Student)
    return (sa.select(student.state_id).join(ResearchOptOut, ResearchOptOut.student_id == student.id)
            .where(ResearchOptOut.withdrawn_at.is_(None)))


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
