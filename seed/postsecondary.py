"""Where the earlier years' graduates went after high school (issue 16 item 4), as the
Clearinghouse's StudentTracker would report it on the as-of date: most enrolled in the
fall after graduating (fewer of those from low-income families), a few only in January
or after a gap year, most of those enrolled in a fall came back the next one, and some
two-year students earned a certificate or an associate degree. One "not found" record
for every graduate the Clearinghouse found nowhere."""
from __future__ import annotations

import random
from datetime import date, timedelta

from psycopg import Cursor

from casemgr.seed.bulk import copy_rows
from casemgr.seed.world import MockDistrict, Student, rng_for

# (college code and branch, name, state, level, public)
COLLEGES = (
    ("003956-00", "LAKEVIEW STATE UNIVERSITY", "OH", "4", True),
    ("002468-00", "GREAT LAKES UNIVERSITY", "MI", "4", True),
    ("001234-00", "ST. BRENDAN COLLEGE", "PA", "4", False),
    ("012345-00", "LAKEVIEW COMMUNITY COLLEGE", "OH", "2", True),
    ("067890-00", "TRI-COUNTY TECHNICAL COLLEGE", "OH", "2", True),
)
FOUR_YEAR, TWO_YEAR = COLLEGES[:3], COLLEGES[3:]
COLUMNS = ("district_id", "student_id", "row_no", "found", "searched_on", "reported_on", "college_code",
           "college_name", "college_state", "college_level", "public", "begins_on", "ends_on", "enrollment_status",
           "graduated", "graduated_on", "degree_title", "major")


def write_postsecondary(cur: Cursor, d: MockDistrict, graduates: list[Student]) -> None:
    rng = rng_for(d.seed, "postsecondary")
    rows: list[tuple] = []
    for student in graduates:
        if student.left_on is not None and student.left_on < d.as_of:
            rows += _records(rng, d, student, len(rows) + 2)
    d.counts["postsecondary_records"] = copy_rows(cur, "postsecondary_records", COLUMNS, rows)


def _records(rng: random.Random, d: MockDistrict, student: Student, first_row: int) -> list[tuple]:
    graduated = student.left_on
    fall = graduated.year if graduated < date(graduated.year, 8, 15) else graduated.year + 1
    start = rng.random()
    chance = 0.66 - 0.16 * student.low_income
    terms: list[tuple[date, date]] = []
    if start < chance:  # the fall after graduating, most of them back the next year
        years = 1 if rng.random() < 0.25 else 2 if rng.random() < 0.15 else 3
        terms = [term for year in range(fall, fall + years) for term in _year_terms(year)]
    elif start < chance + 0.06:  # January
        terms = [(date(fall + 1, 1, 13), date(fall + 1, 5, 9))]
    elif start < chance + 0.10:  # after a gap year
        terms = _year_terms(fall + 1)
    terms = [(begin, end) for begin, end in terms if begin <= d.as_of]
    base = (d.district_id, student.id)
    if not terms:
        return [(*base, first_row, False, graduated, d.as_of, *(None,) * 8, False, None, None, None)]
    college = rng.choice(FOUR_YEAR if rng.random() < 0.6 - 0.15 * student.low_income else TWO_YEAR)
    # a two-year student two years through: some earn a certificate or an associate degree
    # at the end of that second year, and stop there
    finished = [end for _, end in terms if end <= d.as_of]
    degree = college[3] == "2" and len(finished) >= 4 and rng.random() < 0.35
    if degree:
        terms = terms[:4]
    status = rng.choice("FFFFQH")
    major = rng.choice(("BIOLOGY", "NURSING", "BUSINESS", "UNDECLARED", "ENGINEERING", "WELDING TECHNOLOGY"))
    rows = [(*base, first_row + n, True, graduated, d.as_of, *college, begin, end, status, False, None, None, major)
            for n, (begin, end) in enumerate(terms)]
    if degree:
        title = rng.choice(("ASSOCIATE OF APPLIED SCIENCE", "CERTIFICATE IN WELDING TECHNOLOGY"))
        rows.append((*base, first_row + len(rows), True, graduated, d.as_of, *college, None, None, None, True,
                     terms[-1][1] + timedelta(days=7), title, major))
    return rows


def _year_terms(year: int) -> list[tuple[date, date]]:
    return [(date(year, 8, 26), date(year, 12, 13)), (date(year + 1, 1, 13), date(year + 1, 5, 9))]
