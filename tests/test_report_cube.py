"""The reports' figures (issue 15) against a second, deliberately simple computation: the
raw rows read back one by one and counted in Python, for every measure, the total and
the breakdowns by school, grade and subgroup and their crossings with the school, in
two school years with students who moved up a grade, changed school and graduated
(the graduates with their postsecondary outcomes, issue 16)."""
from __future__ import annotations

import random
from collections import Counter
from datetime import date

import sqlalchemy as sa

from casemgr.models import PostsecondaryOutcome, SchoolEnrollment, SchoolYear, Student, StudentIndicator
from casemgr.reads import report_cube
from casemgr.suppression import Cell
from tests.factories import create_district, create_indicator, create_school, create_student

YEARS = (2024, 2025)


def population(db, seed: int = 7):
    """Two schools, ~90 students over two years with random subgroups and indicators;
    some change school between the years, seniors of the first year have left."""
    rng = random.Random(seed)
    later = random.Random(seed + 1)  # what became of the graduates, drawn apart from the rest
    district = create_district()
    schools = [create_school(district, name=f"School {n}") for n in range(2)]
    for year in YEARS:
        db.session.add(SchoolYear(district_id=district.id, year=year, starts_on=date(year, 8, 15),
                                  ends_on=date(year + 1, 6, 15)))
    for n in range(90):
        grade = rng.choice((9, 10, 11, 12, 13))  # 13: a senior of the first year, graduated since
        student = create_student(rng.choice(schools), grade=min(grade, 12), gender=rng.choice(("female", "male", None)),
                                 ethnicity=rng.choice(("Hispanic or Latino", "White", "Black or African American")),
                                 low_income=rng.random() < 0.5, english_learner=rng.random() < 0.2,
                                 disability=rng.random() < 0.15)
        for back, year in enumerate(reversed(YEARS)):
            year_grade = grade - back
            if year_grade < 9 or year_grade > 12 or (back == 0 and rng.random() < 0.1):
                continue  # not yet in high school; or left before this year
            school = student.school_id if back == 0 or rng.random() < 0.8 else rng.choice(schools).id
            db.session.add(SchoolEnrollment(student_id=student.id, school_id=school, school_year=year,
                                            entry_date=date(year, 8, 20), grade=year_grade))
            failures = rng.choice((0, 0, 0, 1, 2))
            create_indicator(
                student, year, tier=rng.choice((1, 1, 1, 2, 3)), days_enrolled=rng.choice((0, 150, 170)),
                chronic_absence=rng.random() < 0.3, severe_absence=rng.random() < 0.1, course_failures=failures,
                core_failure=failures > 0 and rng.random() < 0.5, suspensions=rng.choice((0, 0, 1)),
                ninth_grade_on_track=(rng.random() < 0.7) if year_grade == 9 else None,
                credits_on_track=rng.random() < 0.8,
                fafsa_status=rng.choice(("complete", "submitted", "not_started")) if year_grade == 12 else None)
            if grade == 13 and back == 1 and later.random() < 0.9:  # a graduate the Clearinghouse reported on
                fall = later.random() < 0.6
                db.session.add(PostsecondaryOutcome(
                    student_id=student.id, district_id=district.id, class_year=year, graduated_on=date(year + 1, 6, 10),
                    reported_on=date(year + 2, 1, 5), enrolled_fall=fall,
                    enrolled_within_year=fall or later.random() < 0.3,
                    persisted=later.choice((None, fall and later.random() < 0.8)), completed_degree=later.random() < 0.1))
    db.session.flush()
    return district


def by_hand(db, district, year: int) -> dict[str, dict[tuple, Cell]]:
    """Each student's row read on its own, counted in Python."""
    counts: dict[str, Counter] = {m: Counter() for m in report_cube.MEASURES}
    hits: dict[str, Counter] = {m: Counter() for m in report_cube.MEASURES}
    for indicator in db.session.scalars(sa.select(StudentIndicator).where(StudentIndicator.school_year == year)):
        student = db.session.get(Student, indicator.student_id)
        if student.district_id != district.id:
            continue
        enrollments = db.session.scalars(sa.select(SchoolEnrollment).where(
            SchoolEnrollment.student_id == student.id, SchoolEnrollment.school_year == year)).all()
        last = max(enrollments, key=lambda e: (e.entry_date, e.id)) if enrollments else None
        place = {"school": last.school_id if last else student.school_id, "grade": last.grade if last else student.grade,
                 "gender": student.gender,
                 "ethnicity": student.ethnicity, "low_income": student.low_income,
                 "english_learner": student.english_learner, "disability": student.disability}
        keys = [(), *(((b, place[b]),) for b in report_cube.BREAKDOWNS),
                *((("school", place["school"]), (b, place[b])) for b in report_cube.BREAKDOWNS if b != "school")]
        enrolled = indicator.days_enrolled > 0
        outcome = db.session.get(PostsecondaryOutcome, student.id)
        outcome = outcome if outcome is not None and outcome.class_year == year else None
        searched = outcome is not None
        about = {"enrolled_fall": searched, "enrolled_within_year": searched, "completed_degree": searched,
                 "persisted": searched and outcome.persisted is not None,"enrolled": enrolled, "chronic_absence": enrolled, "severe_absence": enrolled,
                 "course_failure": enrolled, "core_failure": enrolled, "suspended": enrolled, "tier_2": enrolled,
                 "tier_3": enrolled, "ninth_grade_on_track": indicator.ninth_grade_on_track is not None,
                 "credits_on_track": indicator.credits_on_track is not None,
                 "fafsa_complete": indicator.fafsa_status is not None}
        meets = {"chronic_absence": indicator.chronic_absence, "severe_absence": indicator.severe_absence,
                 "course_failure": indicator.course_failures > 0, "core_failure": indicator.core_failure,
                 "suspended": indicator.suspensions > 0, "tier_2": indicator.tier == 2, "tier_3": indicator.tier == 3,
                 "ninth_grade_on_track": bool(indicator.ninth_grade_on_track),
                 "credits_on_track": bool(indicator.credits_on_track),
                 "fafsa_complete": indicator.fafsa_status == "complete",
                 **({"enrolled_fall": outcome.enrolled_fall, "enrolled_within_year": outcome.enrolled_within_year,
                     "persisted": bool(outcome.persisted), "completed_degree": outcome.completed_degree}
                    if searched else {})}
        for measure in report_cube.MEASURES:
            for key in keys:
                counts[measure][key] += 0  # the group exists, even when the measure is about none of it
                if about[measure]:
                    counts[measure][key] += 1
                    hits[measure][key] += bool(meets.get(measure))
    return {m: {key: Cell(counts[m][key], hits[m][key] if report_cube.MEASURES[m].meets else None)
                for key in counts[m]} for m in report_cube.MEASURES}


def test_every_figure_matches_a_count_by_hand_in_two_years(db):
    district = population(db)
    for year in YEARS:
        rows = db.session.execute(report_cube.cells_statement(district.id, year)).all()
        got = report_cube.cubes(rows)
        expected = by_hand(db, district, year)
        for measure in report_cube.MEASURES:
            assert got[measure] == expected[measure], (year, measure)
        assert got["enrolled"][()].n > 20 and len([k for k in got["enrolled"] if k and k[0][0] == "grade"]) >= 3
        if year == YEARS[0]:  # the first year's graduates, with what became of them
            assert got["enrolled_fall"][()].n > 5 and 0 < got["persisted"][()].n < got["enrolled_fall"][()].n


def test_a_year_counts_students_where_they_were_that_year(db):
    """Last year's senior who has left counts in last year's grade 12, not this year's; a
    student who changed school counts at each year's school."""
    district = population(db)
    first, second = (report_cube.cubes(db.session.execute(report_cube.cells_statement(district.id, y)).all())
                     for y in YEARS)
    assert first["fafsa_complete"][(("grade", 12),)].n > 0 and second["fafsa_complete"][(("grade", 12),)].n > 0
    assert first["enrolled"][()] != second["enrolled"][()]
    movers = db.session.execute(
        sa.select(SchoolEnrollment.student_id).group_by(SchoolEnrollment.student_id)
        .having(sa.func.count(sa.distinct(SchoolEnrollment.school_id)) > 1)).scalars().all()
    assert movers  # the population has students who changed school, counted where they were
