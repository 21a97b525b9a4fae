"""Class sections with a teacher of record, who sits in them, and the marks they earn."""
from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import date, timedelta

from psycopg import Cursor

from casemgr.models.enums import Role
from casemgr.seed.bulk import copy_lines, copy_rows
from casemgr.seed.staff import StaffFactory, domain_of
from casemgr.seed.world import MockDistrict, School, Section, Student, rng_for

SECONDARY_CLASS_SIZE = 28
ELEMENTARY_CLASS_SIZE = 24
SECTIONS_PER_TEACHER = 5
SUBJECTS = ("english", "math", "science", "social_studies", "other")
SUBJECT_TEACHER = {
    "english": "English teacher", "math": "Math teacher", "science": "Science teacher",
    "social_studies": "Social studies teacher", "other": "Elective teacher",
}
# grade -> subject -> [(course code, title)]; 'other' lists the electives sections rotate through
COURSES: dict[int, dict[str, list[tuple[str, str]]]] = {
    6: {"english": [("ELA6", "English Language Arts 6")], "math": [("MATH6", "Math 6")],
        "science": [("SCI6", "Science 6")], "social_studies": [("SS6", "Ancient Civilizations")],
        "other": [("ART6", "Art"), ("MUS6", "Music"), ("PE6", "Physical Education")]},
    7: {"english": [("ELA7", "English Language Arts 7")], "math": [("MATH7", "Math 7")],
        "science": [("SCI7", "Life Science")], "social_studies": [("SS7", "World Geography")],
        "other": [("SPAN7", "Exploring Spanish"), ("TECH7", "Technology"), ("PE7", "Physical Education")]},
    8: {"english": [("ELA8", "English Language Arts 8")], "math": [("PALG", "Pre-Algebra")],
        "science": [("SCI8", "Physical Science")], "social_studies": [("SS8", "U.S. History to 1877")],
        "other": [("BAND8", "Band"), ("ART8", "Art"), ("PE8", "Physical Education")]},
    9: {"english": [("ENG9", "English 9")], "math": [("ALG1", "Algebra I")], "science": [("BIO", "Biology")],
        "social_studies": [("WHIST", "World History")],
        "other": [("SPAN1", "Spanish I"), ("ART1", "Art I"), ("PE9", "Physical Education")]},
    10: {"english": [("ENG10", "English 10")], "math": [("GEOM", "Geometry")], "science": [("CHEM", "Chemistry")],
         "social_studies": [("MWH", "Modern World History")],
         "other": [("SPAN2", "Spanish II"), ("CS1", "Computer Science Principles"), ("HLTH", "Health")]},
    11: {"english": [("ENG11", "American Literature")], "math": [("ALG2", "Algebra II")],
         "science": [("PHYS", "Physics")], "social_studies": [("USHIST", "U.S. History")],
         "other": [("SPAN3", "Spanish III"), ("PHOTO", "Photography"), ("BUS", "Business Foundations")]},
    12: {"english": [("ENG12", "English 12")], "math": [("PRECALC", "Precalculus"), ("STATS", "Statistics")],
         "science": [("ENVSCI", "Environmental Science")], "social_studies": [("GOVECON", "Government and Economics")],
         "other": [("ARTST", "Studio Art"), ("PSYCH", "Psychology"), ("CAREER", "Career Pathways")]},
}
GRADE_LABEL = {0: "Kindergarten"} | {g: f"Grade {g}" for g in range(1, 13)}
MARK_CUTS = ((3.85, "A"), (3.5, "A-"), (3.15, "B+"), (2.85, "B"), (2.5, "B-"), (2.15, "C+"), (1.85, "C"),
             (1.5, "C-"), (1.15, "D+"))
FAILING_SUBJECT_WEIGHTS = {"math": 0.35, "english": 0.25, "science": 0.2, "social_studies": 0.15, "other": 0.05}


class SectionPlanner:
    def __init__(self, d: MockDistrict, staff: StaffFactory, first_id: int) -> None:
        self.d, self.staff = d, staff
        self.rng = rng_for(d.seed, "sections")
        self.next_id = first_id
        self.domain = domain_of(d.district_code)

    def plan(self) -> None:
        by_school_grade: dict[tuple[int, int], list[Student]] = defaultdict(list)
        for student in self.d.students:
            by_school_grade[(student.school.id, student.grade)].append(student)
        for school in self.d.schools:
            if school.level == "elementary":
                self.plan_homerooms(school, by_school_grade)
            else:
                self.plan_courses(school, by_school_grade)

    def new_section(self, school: School, grade: int, number: int, code: str, title: str, subject: str) -> Section:
        section = Section(
            id=self.next_id, school=school, local_id=f"{grade:02d}-{code}-{number + 1:02d}", course_code=code,
            course_title=title, subject=subject, credits="1.00" if school.level == "high" else "0.00", teacher=None,
        )
        self.next_id += 1
        self.d.sections.append(section)
        return section

    def plan_homerooms(self, school: School, groups: dict[tuple[int, int], list[Student]]) -> None:
        for grade in school.grades:
            students = groups.get((school.id, grade), [])
            count = max(1, math.ceil(len(students) / ELEMENTARY_CLASS_SIZE)) if students else 0
            for number in range(count):
                title = f"{GRADE_LABEL[grade]} Homeroom"
                section = self.new_section(school, grade, number, f"HR{grade}", title, "other")
                section.students = students[number::count]
                job = "Kindergarten teacher" if grade == 0 else f"Grade {grade} teacher"
                section.teacher = self.staff.add(Role.TEACHER, school.id, self.domain, job)

    def plan_courses(self, school: School, groups: dict[tuple[int, int], list[Student]]) -> None:
        by_subject: dict[str, list[Section]] = defaultdict(list)
        for grade in school.grades:
            students = groups.get((school.id, grade), [])
            if not students:
                continue
            count = math.ceil(len(students) / SECONDARY_CLASS_SIZE)
            for subject in SUBJECTS:
                mixed = students[:]
                self.rng.shuffle(mixed)
                options = COURSES[grade][subject]
                for number in range(count):
                    code, title = options[number % len(options)]
                    section = self.new_section(school, grade, number, code, title, subject)
                    section.students = mixed[number::count]
                    by_subject[subject].append(section)
        for subject in SUBJECTS:
            self.assign_teachers(school, subject, by_subject[subject])

    def assign_teachers(self, school: School, subject: str, sections: list[Section]) -> None:
        demo_teacher = self.d.demo["teacher"]
        for start in range(0, len(sections), SECTIONS_PER_TEACHER):
            if start == 0 and subject == "english" and school.id == demo_teacher.organization_id:
                teacher = demo_teacher
            else:
                teacher = self.staff.add(Role.TEACHER, school.id, self.domain, SUBJECT_TEACHER[subject])
            for section in sections[start:start + SECTIONS_PER_TEACHER]:
                section.teacher = teacher


def plan_sections(d: MockDistrict, staff: StaffFactory, first_id: int) -> None:
    SectionPlanner(d, staff, first_id).plan()


SECTION_COLUMNS = ("id", "school_id", "school_year", "local_id", "course_code", "course_title", "subject", "term",
                   "credits", "teacher_id")


def write_sections(cur: Cursor, d: MockDistrict, closed_on: date | None = None) -> None:
    """The sections and who sits in them; a seat still taken at the end of the school
    year ends on `closed_on` (none: open)."""
    rows = (
        (s.id, s.school.id, d.year, s.local_id, s.course_code, s.course_title, s.subject, "year", s.credits,
         s.teacher.id if s.teacher else None)
        for s in d.sections
    )
    d.counts["sections"] = copy_rows(cur, "sections", SECTION_COLUMNS, rows)
    instructional = d.calendar.instructional
    still_open = closed_on.isoformat() if closed_on else "\\N"

    def lines():
        for section in d.sections:
            for student in section.students:
                exit_date = instructional[student.exit].isoformat() if student.exit is not None else still_open
                yield f"{section.id}\t{student.id}\t{instructional[student.entry]}\t{exit_date}\n"

    d.counts["section_enrollments"] = copy_lines(
        cur, "section_enrollments", ("section_id", "student_id", "entry_date", "exit_date"), lines()
    )


def terms_issued(d: MockDistrict, level: str) -> list[tuple[str, date]]:
    """The marking periods that have ended by `as_of`, with their last day."""
    q1, q2, q3, q4 = d.calendar.quarter_ends
    terms = [("Q1", q1), ("Q2", q2), ("S1", q2), ("Q3", q3), ("Q4", q4), ("S2", q4), ("FINAL", q4)]
    if level != "high":
        terms = [t for t in terms if t[0] not in ("S1", "S2")]
    return [(term, end) for term, end in terms if end < d.as_of]


def write_course_marks(cur: Cursor, d: MockDistrict) -> None:
    rng = rng_for(d.seed, "marks")
    failing = _failing_subjects(d, rng)
    instructional = d.calendar.instructional
    terms = {level: terms_issued(d, level) for level in ("middle", "high")}

    def lines():
        for section in d.sections:
            if section.school.level == "elementary":
                continue
            for student in section.students:
                entered = instructional[student.entry]
                left = instructional[student.exit] if student.exit is not None else d.calendar.ends_on
                fails = section.subject in failing.get(student.id, ())
                first_mark = True
                for term, end in terms[section.school.level]:
                    if not entered <= end <= left:
                        continue
                    mark = "F" if fails and (first_mark or rng.random() < 0.7) else _passing_mark(rng, student)
                    first_mark = False
                    attempted = section.credits if term == "FINAL" else "0"
                    earned = attempted if mark != "F" else "0"
                    recorded = min(end + timedelta(days=3), d.as_of)
                    yield (f"{student.id}\t{section.id}\t{term}\t{d.year}\t{mark}\t{'t' if mark == 'F' else 'f'}\t"
                           f"{attempted}\t{earned}\t{recorded}\n")

    columns = ("student_id", "section_id", "term", "school_year", "mark", "failing", "credits_attempted",
               "credits_earned", "recorded_on")
    d.counts["course_marks"] = copy_lines(cur, "course_marks", columns, lines())


def _failing_subjects(d: MockDistrict, rng: random.Random) -> dict[int, tuple[str, ...]]:
    subjects, weights = list(FAILING_SUBJECT_WEIGHTS), list(FAILING_SUBJECT_WEIGHTS.values())
    failing: dict[int, tuple[str, ...]] = {}
    for student in d.students:
        if student.struggling:
            picked = rng.choices(subjects, weights, k=1 if rng.random() < 0.7 else 2)
            failing[student.id] = tuple(dict.fromkeys(picked))
    return failing


def _passing_mark(rng: random.Random, student: Student) -> str:
    points = 2.7 + 0.8 * student.ability + rng.gauss(0, 0.45)
    return next((mark for cut, mark in MARK_CUTS if points >= cut), "D")
