"""Families: students, their guardians and who holds educational rights.

The first two families are the district's key family (the demo logins', in the demo
district): a parent with a child at the first high school and one at the first middle
school, and an 18-year-old senior at that high school.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from datetime import date, timedelta
from itertools import accumulate

from psycopg import Cursor

from casemgr.seed import names
from casemgr.seed.bulk import copy_rows
from casemgr.seed.district import GRADE_WEIGHTS, start_of
from casemgr.seed.world import Guardian, GuardianLink, MockDistrict, Student, rng_for

AREA_CODES = ("206", "253", "360", "425", "509")
GENDERS = ("female", "male", "nonbinary")
GENDER_CUM_WEIGHTS = (0.49, 0.98, 1.0)
SIBLINGS_CUM_WEIGHTS = (0.55, 0.85, 0.97, 1.0)
EL_RATE_BY_LEVEL = {"elementary": 0.6, "middle": 0.4, "high": 0.3}
DISABILITY_RATE = {"female": 0.10, "male": 0.16, "nonbinary": 0.13}
GRADES = list(GRADE_WEIGHTS)
GRADE_CUM_WEIGHTS = list(accumulate(GRADE_WEIGHTS.values()))
LEVEL_OF_GRADE = {g: ("elementary" if g < 6 else "middle" if g < 9 else "high") for g in GRADES}

DEMO_PARENT_GRADES = (10, 7)
DEMO_STUDENT_GRADE = 12


STATE_IDS = range(1_000_000_000, 10_000_000_000)
FIRST_LOCAL_ID = 200_001  # a district's past graduates' local IDs start at 100,001


def fresh_state_id(rng: random.Random, taken: set[str]) -> str:
    """A state ID no one in `taken` holds (added to it)."""
    state_id = str(rng.choice(STATE_IDS))
    while state_id in taken:
        state_id = str(rng.choice(STATE_IDS))
    taken.add(state_id)
    return state_id


class PopulationBuilder:
    def __init__(self, d: MockDistrict, total: int, first_student_id: int, first_guardian_id: int,
                 taken: AbstractSet[str] = frozenset()) -> None:
        """`taken`: the state IDs of the partnership's other districts' students, which
        no student here may hold (drawn again when they would)."""
        self.d = d
        self.total = total
        self.first_student_id, self.first_guardian_id = first_student_id, first_guardian_id
        self.rng = rng_for(d.seed, "population")
        self.state_ids = [str(n) for n in self.rng.sample(STATE_IDS, total)]
        if taken:
            held = set(taken) | set(self.state_ids)
            self.state_ids = [fresh_state_id(self.rng, held) if n in taken else n for n in self.state_ids]
        self.first_local_id = FIRST_LOCAL_ID + d.profile.local_ids_from
        self.levels = {level: d.schools_of(level) for level in ("elementary", "middle", "high")}

    def build(self) -> None:
        family = 0
        while len(self.d.students) < self.total:
            self.add_family(family)
            family += 1

    def add_family(self, index: int) -> None:
        rng = self.rng
        ethnicity, heritage, given = names.pick_heritage(rng)
        if index == 0:
            ethnicity, heritage, given = "Hispanic or Latino", names.HISPANIC, names.HISPANIC
        surname = rng.choice(heritage.surnames)
        language = names.home_language(rng, heritage)
        speaks_spanish = language == "Spanish" or (heritage is names.HISPANIC and rng.random() < 0.15)
        if index == 0:
            language, speaks_spanish = "Spanish", True
        guardians = self.guardians_for(heritage, surname, "es" if speaks_spanish else "en", two_parents=index == 0)
        neighborhood = 0.0 if index < 2 else rng.random()
        low_income = rng.random() < 0.48
        for grade in self.child_grades(index):
            if len(self.d.students) >= self.total:
                break
            student = self.new_student(grade, neighborhood, surname, given, ethnicity, language, low_income)
            student.guardians = guardians
            if index == 1:
                student.birth_date = self.adult_birth_date()
        if index == 0:
            self.d.demo["parent_guardian"] = guardians[0].guardian
            self.d.demo["parent_children"] = self.d.students[:2]
        elif index == 1:
            self.d.demo["student"] = self.d.students[2]

    def child_grades(self, index: int) -> list[int]:
        if index == 0:
            return list(DEMO_PARENT_GRADES)
        if index == 1:
            return [DEMO_STUDENT_GRADE]
        rng = self.rng
        grades: list[int] = []
        for _ in range(1 + rng.choices((0, 1, 2, 3), cum_weights=SIBLINGS_CUM_WEIGHTS)[0]):
            grade = rng.choices(GRADES, cum_weights=GRADE_CUM_WEIGHTS)[0]
            if grade in grades:  # twins are rare: draw once more
                grade = rng.choices(GRADES, cum_weights=GRADE_CUM_WEIGHTS)[0]
            grades.append(grade)
        return grades

    def new_student(
        self, grade: int, neighborhood: float, surname: str, given: names.Heritage,
        ethnicity: str, language: str, low_income: bool,
    ) -> Student:
        rng = self.rng
        number = len(self.d.students) + 1
        level = LEVEL_OF_GRADE[grade]
        schools = self.levels[level]
        gender = rng.choices(GENDERS, cum_weights=GENDER_CUM_WEIGHTS)[0]
        first = names.first_name(rng, given, gender)
        middle = names.first_name(rng, given, gender) if rng.random() < 0.6 else None
        nickname = names.NICKNAMES.get(first) if rng.random() < 0.3 else None
        el_rate = EL_RATE_BY_LEVEL[level] if language != "English" else 0.005
        student = Student(
            id=self.first_student_id + number - 1,
            state_id=self.state_ids[number - 1],
            local_id=str(self.first_local_id + number - 1),
            first_name=first,
            middle_name=middle if middle != first else None,
            last_name=surname,
            preferred_name=nickname,
            birth_date=self.birth_date(grade),
            grade=grade,
            school=schools[min(int(neighborhood * len(schools)), len(schools) - 1)],
            gender=gender,
            ethnicity=ethnicity,
            low_income=low_income,
            english_learner=rng.random() < el_rate,
            disability=rng.random() < DISABILITY_RATE[gender],
            home_language=language,
        )
        self.d.students.append(student)
        return student

    def birth_date(self, grade: int) -> date:
        """Born in the twelve months to 1 September that put them in `grade`; a few
        were held back a year."""
        held_back = self.rng.random() < 0.04
        first = date(self.d.year - grade - 6 - held_back, 9, 2)
        return first + timedelta(days=self.rng.randrange(365))

    def adult_birth_date(self) -> date:
        as_of = self.d.as_of
        eighteenth = date(as_of.year - 18, as_of.month, min(as_of.day, 28))
        return eighteenth - timedelta(days=self.rng.randint(30, 200))

    def guardians_for(
        self, heritage: names.Heritage, surname: str, language: str, two_parents: bool
    ) -> list[GuardianLink]:
        """Mostly two parents or one; some grandparents and legal guardians; a few
        adults in the household without educational rights."""
        rng = self.rng
        roll = 0.0 if two_parents else rng.random()
        if roll < 0.60:
            pair = ("parent", "parent") if rng.random() < 0.05 else ("mother", "father")
            links = [self.link(pair[0], heritage, surname, language, True)]
            other_surname = rng.choice(heritage.surnames) if rng.random() < 0.25 else surname
            links.append(self.link(pair[1], heritage, other_surname, language, two_parents or rng.random() > 0.05))
            return links
        relation = next(r for cut, r in ((0.83, "mother"), (0.90, "father"), (0.96, "grandparent"), (1.0, "guardian"))
                        if roll < cut)
        links = [self.link(relation, heritage, surname, language, True)]
        if rng.random() < 0.03:
            links.append(self.link("other", heritage, rng.choice(heritage.surnames), language, False))
        return links

    def link(self, relation: str, heritage: names.Heritage, surname: str, language: str, rights: bool) -> GuardianLink:
        rng = self.rng
        gender = {"mother": "female", "father": "male", "grandparent": "female"}.get(relation) or rng.choice(
            ("female", "male")
        )
        first = names.first_name(rng, heritage, gender)
        number = len(self.d.guardians) + 1
        guardian = Guardian(
            id=self.first_guardian_id + number - 1,
            local_id=f"G{number:07d}",
            first_name=first,
            last_name=surname,
            language=language,
            email=f"{names.email_local_part(first, surname)}{rng.randint(1, 99)}@example.net"
            if rng.random() < 0.7 else None,
            phone=f"({rng.choice(AREA_CODES)}) 555-01{rng.randint(0, 99):02d}" if rng.random() < 0.9 else None,
        )
        self.d.guardians.append(guardian)
        return GuardianLink(guardian, relation, rights)


def build_population(d: MockDistrict, total: int, first_student_id: int, first_guardian_id: int,
                     taken: AbstractSet[str] = frozenset()) -> None:
    PopulationBuilder(d, total, first_student_id, first_guardian_id, taken).build()
    assign_traits(d)


CHRONIC_RATE = {"elementary": 0.12, "middle": 0.15, "high": 0.20}
SEVERE_SHARE_OF_CHRONIC = {"elementary": 0.17, "middle": 0.20, "high": 0.24}


def assign_traits(d: MockDistrict, chronic_factor: Callable[[Student], float] | None = None) -> None:
    """What later shapes each student's indicators: enrollment dates, absence rate,
    ability, failing courses and suspensions, correlated as they are in real schools
    (`chronic_factor`: how much likelier than usual a student is chronically absent)."""
    rng = rng_for(d.seed, "traits")
    elapsed = len(d.calendar.elapsed)
    protected = d.key_students
    for student in d.students:
        level = student.school.level
        chronic_rate = CHRONIC_RATE[level] * (1.3 if student.low_income else 0.72)
        if chronic_factor is not None:
            chronic_rate *= chronic_factor(student)
        chronic = rng.random() < chronic_rate
        severe = chronic and rng.random() < SEVERE_SHARE_OF_CHRONIC[level]
        student.absence_rate = _absence_rate(rng, chronic, severe)
        student.ability = rng.gauss(0, 1) - 4 * (student.absence_rate - 0.05)
        if level != "elementary":
            student.struggling = rng.random() < 0.05 + 0.22 * chronic + 0.05 * (student.ability < -1)
        if student.id not in protected:
            _assign_enrollment(rng, student, elapsed)
        oss_rate = 0.003 if level == "elementary" else 0.02 + 0.05 * chronic
        if rng.random() < oss_rate:
            _assign_suspension(rng, student, elapsed)


def _absence_rate(rng: random.Random, chronic: bool, severe: bool) -> float:
    if severe:
        return rng.uniform(0.21, 0.38)
    if chronic:
        return rng.uniform(0.11, 0.18)
    return rng.uniform(0.0, 0.035) if rng.random() < 0.55 else rng.uniform(0.035, 0.085)


def _assign_enrollment(rng: random.Random, student: Student, elapsed: int) -> None:
    roll = rng.random()
    if roll < 0.04 and elapsed >= 15:
        student.entry = rng.randint(3, elapsed - 10)
    elif roll < 0.055 and elapsed >= 15:
        student.exit = rng.randint(10, elapsed - 2)


def _assign_suspension(rng: random.Random, student: Student, elapsed: int) -> None:
    last = min(elapsed, student.exit + 1 if student.exit is not None else elapsed) - 1
    if last < student.entry:
        return
    student.suspension = (rng.randint(student.entry, last), rng.choice((1, 1, 2, 2, 3, 3, 3, 5, 5, 10)))



STUDENT_COLUMNS = (
    "id", "district_id", "school_id", "state_id", "local_id", "first_name", "middle_name", "last_name",
    "preferred_name", "birth_date", "grade", "postsecondary", "gender", "ethnicity", "low_income",
    "english_learner", "disability", "home_language", "created_at", "left_on",
)


def write_students(cur: Cursor, d: MockDistrict, students: list[Student] | None = None,
                   counted_as: str = "students") -> None:
    """The district's students (or `students`, created in the district's first year)."""
    created = start_of(date(d.year, 7, 1))
    rows = (
        (s.id, d.district_id, s.school.id, s.state_id, s.local_id, s.first_name, s.middle_name, s.last_name,
         s.preferred_name, s.birth_date, s.grade, False, s.gender, s.ethnicity, s.low_income,
         s.english_learner, s.disability, s.home_language, created, s.left_on)
        for s in (d.students if students is None else students)
    )
    d.counts[counted_as] = copy_rows(cur, "students", STUDENT_COLUMNS, rows)


def write_guardians(cur: Cursor, d: MockDistrict) -> None:
    created = start_of(date(d.year, 7, 1))
    rows = (
        (g.id, d.district_id, g.local_id, g.first_name, g.last_name, g.email, g.phone, g.language, g.user_id, created)
        for g in d.guardians
    )
    columns = ("id", "district_id", "local_id", "first_name", "last_name", "email", "phone", "preferred_language",
               "user_id", "created_at")
    d.counts["guardians"] = copy_rows(cur, "guardians", columns, rows)
    links = (
        (link.guardian.id, student.id, link.relation, link.educational_rights)
        for student in d.students
        for link in student.guardians
    )
    d.counts["guardian_links"] = copy_rows(
        cur, "guardian_links", ("guardian_id", "student_id", "relation", "educational_rights"), links
    )
