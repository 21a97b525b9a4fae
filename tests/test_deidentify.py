"""De-identification for research extracts (issue 16, item 2): pseudonyms, and the
k-anonymity step against random populations (a property test), with its teeth."""
from __future__ import annotations

import random
from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casemgr import deidentify
from casemgr.deidentify import HIDDEN, LADDERS, OTHER, anonymize, pseudonym

QUASI = ["school", "grade", "gender", "ethnicity", "low_income", "english_learner", "disability", "birth_year"]
YEAR = ("school_year",)  # an outsider knows the year they look in


def population(seed: int, students: int, schools: int) -> list[dict]:
    """A row per student and school year (one to three years), subgroups skewed so that
    some combinations are rare."""
    rng = random.Random(seed)
    rows = []
    for n in range(students):
        who = pseudonym(b"test-secret", f"S{seed}-{n}")
        birth = rng.choice((2007, 2008, 2008, 2009, 2009, 2009, 2010))
        fixed = {"gender": rng.choices(("female", "male", None), (10, 10, 1))[0],
                 "ethnicity": rng.choices(("Hispanic or Latino", "White", "Asian", "Black", "Native"), (8, 6, 2, 3, 1))[0],
                 "low_income": rng.random() < 0.5, "english_learner": rng.random() < 0.15,
                 "disability": rng.random() < 0.1, "birth_year": birth}
        school = f"School {rng.choices(range(schools), [1 + s for s in range(schools)])[0]}"
        for year in range(rng.randint(1, 3)):
            rows.append({"pseudonym": who, "school_year": 2023 + year, "school": school,
                         "grade": min(9 + year + (2009 - birth), 12), **fixed,
                         "attendance_rate": round(rng.random(), 3)})
    return rows


def records(rows: list[dict], quasi) -> dict[tuple, set]:
    """The students of each whole record: a student's rows, read together under their
    pseudonym (an outsider who knows where a student was in two years)."""
    of = defaultdict(list)
    for row in rows:
        of[row["pseudonym"]].append((row["school_year"], *(repr(row[q]) for q in quasi)))
    found = defaultdict(set)
    for who, record in of.items():
        found[tuple(sorted(record))].add(who)
    return found


def classes(rows: list[dict], quasi) -> dict[tuple, set]:
    """The students of each combination of the quasi-identifiers in each school year."""
    found = defaultdict(set)
    for row in rows:
        found[(row["school_year"], *(row[q] for q in quasi))].add(row["pseudonym"])
    return found


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.integers(5, 250), st.integers(1, 6), st.sampled_from([3, 5, 10]))
def test_every_combination_of_the_quasi_identifiers_covers_k_students(seed, students, schools, k):
    rows = population(seed, students, schools)
    result = anonymize(rows, QUASI, k, within=YEAR)
    assert all(len(who) >= k for who in classes(result.rows, QUASI).values())
    assert all(len(who) >= k for who in records(result.rows, QUASI).values())
    assert result.rows_left_out == len(rows) - len(result.rows)
    if any(level < len(LADDERS[q]) for q, level in result.levels.items()):
        assert result.rows_left_out <= max(k, len(rows) // 50)  # generalizing stopped within the budget
    originals = {(row["pseudonym"], row["school_year"]): row for row in rows}
    for row in result.rows:  # every value a generalization of the student's own; the rest untouched
        original = originals[(row["pseudonym"], row["school_year"])]
        assert row["attendance_rate"] == original["attendance_rate"]
        for q in QUASI:
            level = result.levels[q]
            expected = LADDERS[q][level - 1](original[q]) if level else original[q]
            assert row[q] == expected or (level == 0 and row[q] == OTHER and original[q] in result.merged[q])


def test_a_district_of_many_students_keeps_most_detail():
    rows = population(7, 2000, 4)
    result = anonymize(rows, QUASI, 10, within=YEAR)
    assert result.rows_left_out <= len(rows) // 50
    assert result.levels["school"] == 0 and result.levels["grade"] == 0  # schools and grades stay
    assert all(len(who) >= 10 for who in classes(result.rows, QUASI).values())


def test_too_few_students_leave_nothing_out_that_could_be_told_apart():
    rows = population(3, 6, 2)
    result = anonymize(rows, QUASI, 10, within=YEAR)
    assert result.rows == []  # six students can never make a group of ten
    assert result.rows_left_out == len(rows)


def test_the_property_has_teeth_without_leaving_rows_out(monkeypatch):
    rows = population(11, 120, 3)
    monkeypatch.setattr(deidentify, "_rows_in_small_classes", lambda *args: set())
    result = anonymize(rows, QUASI, 10, within=YEAR)
    assert any(len(who) < 10 for who in classes(result.rows, QUASI).values())


def test_the_property_has_teeth_when_rows_are_counted_one_by_one(monkeypatch):
    """Each row's combination counted on its own: some students' records, their years
    read together, are shared by fewer than k."""
    def by_row(keys, k, students):
        found, members = defaultdict(set), defaultdict(list)
        for index, (key, who) in enumerate(zip(keys, students, strict=True)):
            found[key].add(who)
            members[key].append(index)
        return {index for key, who in found.items() if len(who) < k for index in members[key]}

    monkeypatch.setattr(deidentify, "_rows_in_small_classes", by_row)
    caught = False
    for seed in range(30):
        result = anonymize(population(seed, 150, 3), QUASI, 5, within=YEAR)
        assert all(len(who) >= 5 for who in classes(result.rows, QUASI).values())
        caught = caught or any(len(who) < 5 for who in records(result.rows, QUASI).values())
    assert caught


def test_pseudonyms_are_stable_within_a_project_and_unrelated_across_projects():
    first, second = b"secret of project one", b"secret of project two"
    assert pseudonym(first, "NY123456") == pseudonym(first, " ny123456 ")
    assert pseudonym(first, "NY123456") != pseudonym(second, "NY123456")
    assert pseudonym(first, "NY123456") != pseudonym(first, "NY123457")
    assert len(pseudonym(first, "NY123456")) == 20 and "NY123456" not in pseudonym(first, "NY123456")


def test_small_schools_merge_into_other_before_any_is_hidden():
    rows = population(5, 400, 2)
    rows += [{**row, "school": "Tiny Academy"} for row in population(6, 3, 1)]
    result = anonymize(rows, ["school", "grade"], 5, within=YEAR)
    assert result.merged["school"] == ["Tiny Academy"]
    assert "Tiny Academy" not in {row["school"] for row in result.rows}
    assert HIDDEN not in {row["school"] for row in result.rows}
