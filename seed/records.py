"""Records from before this school year or from outside the classroom: prior credits,
state test scores and FAFSA status."""
from __future__ import annotations

import random
from datetime import date, timedelta

from psycopg import Cursor

from casemgr.models.enums import FafsaState
from casemgr.seed.bulk import copy_rows
from casemgr.seed.world import MockDistrict, Student, day_between, rng_for

TESTED_GRADES = frozenset({3, 4, 5, 6, 7, 8, 11})
TESTS = (("STATE-ELA", "ela", 0), ("STATE-MATH", "math", 2))  # (code, subject, days after the ELA test)
LEVEL_CUTS = (-0.55, 0.15, 0.85)
TUESDAY = 1


def write_credit_records(cur: Cursor, d: MockDistrict) -> None:
    """One transcript line per completed high-school year for grades 10-12: most earn
    five or more credits a year; some are behind every year."""
    rng = rng_for(d.seed, "credits")
    rows = [row for student in d.students if student.grade >= 10 for row in transcript(rng, student, student.grade, d.year)]
    d.counts["credit_records"] = copy_rows(cur, "credit_records", CREDIT_COLUMNS, rows)


CREDIT_COLUMNS = ("student_id", "school_year", "grade", "credits_attempted", "credits_earned")


def transcript(rng: random.Random, student: Student, next_grade: int, next_year: int) -> list[tuple]:
    """The student's transcript lines for grades 9 up to `next_grade` (not included), the
    grade they are in during school year `next_year`."""
    behind = rng.random() < 0.08 + 0.3 * (student.absence_rate >= 0.1) + 0.1 * (student.ability < -1)
    rows = []
    for grade in range(9, next_grade):
        attempted = rng.choices((6.0, 7.0, 5.5), (0.8, 0.1, 0.1))[0]
        shortfall = rng.choice((1.5, 2.0, 2.5, 3.0)) if behind else rng.choice((0, 0, 0, 0, 0.5))
        rows.append((student.id, next_year - (next_grade - grade), grade, f"{attempted:.2f}",
                     f"{attempted - shortfall:.2f}"))
    return rows


def latest_test_day(d: MockDistrict) -> tuple[date, int, int]:
    """(ELA test day, school year of the test, grades since) of the last spring testing
    window that had finished by as_of."""
    def window(year: int) -> date:
        april = date(year, 4, 20)
        return april + timedelta(days=(TUESDAY - april.weekday()) % 7)

    this_spring = window(d.year + 1)
    if d.as_of >= this_spring + timedelta(days=TESTS[-1][2]):
        return this_spring, d.year, 0
    return window(d.year), d.year - 1, 1


def write_assessments(cur: Cursor, d: MockDistrict) -> None:
    """State ELA and math tests for students who were in a tested grade (3-8, 11) at
    the last spring testing window; a few have no score (new to the state, opted out)."""
    rng = rng_for(d.seed, "assessments")
    test_day, school_year, grades_since = latest_test_day(d)
    rows = []
    for student in d.students:
        tested_grade = student.grade - grades_since
        if tested_grade not in TESTED_GRADES or rng.random() < 0.05:
            continue
        for code, subject, offset in TESTS:
            language_gap = 0.5 if student.english_learner and subject == "ela" else 0.3 * student.english_learner
            z = 0.8 * student.ability + rng.gauss(0, 0.6) - language_gap
            level = 1 + sum(z >= cut for cut in LEVEL_CUTS)
            score = round(2380 + 35 * tested_grade + 85 * z)
            rows.append((student.id, code, test_day + timedelta(days=offset), school_year, subject, score, level))
    columns = ("student_id", "test_code", "administered_on", "school_year", "subject", "scale_score",
               "performance_level")
    d.counts["assessments"] = copy_rows(cur, "assessments", columns, rows)


def write_fafsa(cur: Cursor, d: MockDistrict, lift: float = 0.0) -> None:
    """A FAFSA status for every senior, more of them complete as the year goes on (and,
    by `lift`, more or fewer than this year's seniors); the demo student has submitted,
    and the first seniors cover every other status."""
    rng = rng_for(d.seed, "fafsa")
    opens = date(d.year, 10, 1)
    progress = min(1.0, max(0.0, (d.as_of - opens).days / (date(d.year + 1, 3, 1) - opens).days))
    states = [FafsaState.COMPLETE, FafsaState.SUBMITTED, FafsaState.INCOMPLETE, FafsaState.NOT_STARTED]
    weights = [0.05 + (0.6 + lift) * progress, 0.12 + 0.05 * progress, 0.08]
    weights.append(1 - sum(weights))
    demo = d.demo.get("student")
    forced = [FafsaState.COMPLETE, FafsaState.INCOMPLETE, FafsaState.NOT_STARTED]
    rows = []
    for student in (s for s in d.students if s.grade == 12):
        if student is demo:
            state = FafsaState.SUBMITTED
        elif forced:
            state = forced.pop(0)
        else:
            state = rng.choices(states, weights)[0]
        status_on = d.as_of if state == FafsaState.NOT_STARTED else day_between(rng, min(opens, d.as_of), d.as_of)
        rows.append((student.id, d.year, str(state), status_on))
    columns = ("student_id", "school_year", "status", "status_on")
    d.counts["fafsa_records"] = copy_rows(cur, "fafsa_records", columns, rows)
