"""A OneRoster bundle's classes and enrollments in casemgr's terms: sections (their
school year and term from academicSessions.csv, their course from courses.csv, their
teacher of record from enrollments.csv) and students' section enrollments, read row by
row; a delta file's classes and students may be those of earlier bundles."""
from __future__ import annotations

from collections import Counter
from datetime import date

from casemgr.importers.base import RowError
from casemgr.importers.oneroster_bundle import Bundle, deleted
from casemgr.importers.oneroster_sheets import Lookups, Roster, clamped, day_of, listed, skipped_warning

SUBJECTS = (("english", "english"), ("language arts", "english"), ("ela", "english"), ("reading", "english"),
            ("math", "math"), ("algebra", "math"), ("geometry", "math"), ("science", "science"),
            ("biology", "science"), ("chemistry", "science"), ("physics", "science"), ("social", "social_studies"),
            ("history", "social_studies"), ("government", "social_studies"))

def school_year_of_day(day: str) -> str:
    parsed = date.fromisoformat(day)
    return str(parsed.year if parsed.month >= 8 else parsed.year - 1)


def year_of(session: dict[str, str], years: dict[int, tuple[date, date]]) -> str:
    """The casemgr school year of an academic session: the year holding its start, else
    its end (a school year session may start in July, before casemgr's year), else the
    year that starts on the 1 August before its start."""
    for day in (day_of(session.get("startDate", "")), day_of(session.get("endDate", ""))):
        if day:
            parsed = date.fromisoformat(day)
            held = next((year for year, (first, last) in years.items() if first <= parsed <= last), None)
            if held is not None:
                return str(held)
    return school_year_of_day(day_of(session.get("startDate", "")))


def _subject(text: str) -> str:
    lowered = text.lower()
    return next((subject for word, subject in SUBJECTS if word in lowered), "other")


def section_term(class_terms: list[str], sessions: dict[str, dict[str, str]]) -> str:
    """The casemgr term (year, S1, S2, Q1…Q4) of a class's academic sessions. A school
    year, several sessions or one casemgr cannot place is the year; a semester or term
    is S1 or S2 by its place among the sessions of its type in its school year when
    there are two (a lone one by its start: August to December is S1), a grading
    period, or a term of four, Q1…Q4."""
    if len(class_terms) != 1 or class_terms[0] not in sessions:
        return "year"
    session = sessions[class_terms[0]]
    kind = session.get("type", "").lower()
    if kind not in ("semester", "term", "gradingperiod"):
        return "year"
    year = session_year(session)
    siblings = sorted((s.get("startDate", ""), sid) for sid, s in sessions.items()
                      if s.get("type", "").lower() == kind and session_year(s) == year)
    place = [sid for _, sid in siblings].index(class_terms[0])
    if len(siblings) == 2 and kind != "gradingperiod":
        return ("S1", "S2")[place]
    if len(siblings) == 1 and kind == "semester":
        return "S1" if session.get("startDate", "")[5:7] >= "08" else "S2"
    if len(siblings) == 4 or (kind == "gradingperiod" and len(siblings) <= 4):
        return f"Q{place + 1}"
    return "year"


def session_year(session: dict[str, str]) -> str:
    try:
        return school_year_of_day(day_of(session.get("startDate", "")))
    except ValueError:
        return ""


def _teachers_of_classes(bundle: Bundle, roster: Roster, people_by_id: dict) -> dict[str, str]:
    """Each class's teacher of record (a primary teacher first), from a first pass over
    enrollments.csv that keeps only the teachers' rows."""
    teacher_of: dict[str, str] = {}
    for _, e in bundle.rows("enrollments.csv"):
        if e["role"].lower() == "teacher" and not deleted(e) and people_by_id.get(e["userSourcedId"], ("",))[0] == "teacher":
            if e["classSourcedId"] not in teacher_of or e.get("primary", "").lower() == "true":
                teacher_of[e["classSourcedId"]] = e["userSourcedId"]
    return teacher_of


def translate_classes(bundle: Bundle, roster: Roster, lookups: Lookups, sessions: dict, courses: dict, people_by_id: dict,
              today: date) -> None:
    teacher_of = _teachers_of_classes(bundle, roster, people_by_id)
    klasses: dict[str, tuple[str, int | None, str]] = {  # sourcedId -> (school code, year, first term's start)
        sid: (known[0], known[1], "") for sid, known in lookups.classes.items()}
    for n, c in bundle.rows("classes.csv"):
        roster.read["classes.csv"] += 1
        if deleted(c):
            roster.deletions.add("classes.csv", n, "class", c["sourcedId"], day_of(c.get("dateLastModified", "")))
            continue
        terms = listed(c["termSourcedIds"])
        term = sessions.get(terms[0] if terms else "", {})
        known = lookups.classes.get(c["sourcedId"])
        if known and not any(t in sessions for t in terms):
            # a delta classes.csv without its sessions: the stored class's year and term stay
            year, term_code = str(known[1]), known[2]
        else:
            try:
                year = year_of(term, lookups.years)
            except ValueError:
                year = ""
            term_code = section_term(terms, sessions)
        school = lookups.schools.get(c["schoolSourcedId"], "")
        if not school and c["schoolSourcedId"] in lookups.unmapped:
            roster.unmapped[c["schoolSourcedId"]] += 1
            roster.left_out.add(c["sourcedId"])
            continue
        klasses[c["sourcedId"]] = (school or c["schoolSourcedId"], int(year) if year else None,
                                   day_of(term.get("startDate", "")))
        course = courses.get(c.get("courseSourcedId", ""), {})
        if known and not bundle.has("courses.csv"):  # a delta classes.csv without courses: the stored course stays
            course = {"courseCode": known[3], "title": known[4]}
        teacher = teacher_of.get(c["sourcedId"], "")
        # without a bulk enrollments.csv the bundle may say nothing of a class's teacher: the stored one stays
        stored = lookups.class_teachers.get(c["sourcedId"], "") if bundle.mode("enrollments.csv") != "bulk" else ""
        if not teacher and not stored:
            roster.warnings.append(RowError(n, "classes.csv", (
                f"{c['sourcedId']} has no teacher of record (no enrollment with role teacher): imported without one")))
        elif teacher and not people_by_id[teacher][1]:
            roster.warnings.append(RowError(n, "classes.csv", (
                f"{c['sourcedId']} is imported without a teacher of record: its teacher {teacher} has no email")))
        roster.sections.add(
            n, school_code=school or c["schoolSourcedId"], school_year=year, section_id=c["sourcedId"],
            course_code=course.get("courseCode") or c.get("classCode", ""), course_title=course.get("title") or c["title"],
            term=term_code,
            subject=_subject(c.get("subjects", "") + " " + course.get("subjects", "") + " " + c["title"]),
            teacher_email=people_by_id.get(teacher, ("", ""))[1] if teacher else stored)
        roster.sources.add("class", c["sourcedId"], school or c["schoolSourcedId"], year, c["sourcedId"])
    _enrollments(bundle, roster, lookups, klasses, people_by_id)


def _enrollments(bundle: Bundle, roster: Roster, lookups: Lookups, klasses: dict, people_by_id: dict) -> None:
    skipped: Counter = Counter()
    for n, e in bundle.rows("enrollments.csv"):
        roster.read["enrollments.csv"] += 1
        role = e["role"].lower()
        if deleted(e):
            roster.deletions.add("enrollments.csv", n, "enrollment", e.get("sourcedId", ""),
                                 day_of(e.get("endDate", "")) or day_of(e.get("dateLastModified", "")))
            continue
        if role == "teacher":
            continue  # the teacher of record of its class (see _teachers_of_classes)
        if role != "student":
            skipped[role or "(no role)"] += 1
            continue
        if e["classSourcedId"] in roster.left_out or e["userSourcedId"] in roster.left_out:
            continue  # the bundle is refused for the org of its class or student
        if e["classSourcedId"] not in klasses:
            roster.error(RowError(n, "enrollments.csv (classSourcedId)", (
                f"class {e['classSourcedId']} is in neither classes.csv nor an earlier bundle")))
            continue
        student = people_by_id.get(e["userSourcedId"], ("", ""))
        if student[0] != "student":
            roster.error(RowError(n, "enrollments.csv (userSourcedId)", (
                f"{e['userSourcedId']} is a student in neither users.csv nor an earlier bundle")))
            continue
        school, year, term_start = klasses[e["classSourcedId"]]
        roster.enrollments.add(
            n, school_code=school, school_year=str(year or ""), section_id=e["classSourcedId"],
            state_id=student[1],
            entry_date=clamped(day_of(e.get("beginDate", "")) or term_start, year, lookups.years),
            exit_date=clamped(day_of(e.get("endDate", "")), year, lookups.years))
        if e.get("sourcedId"):
            roster.sources.add("enrollment", e["sourcedId"], e["classSourcedId"], e["userSourcedId"], "")
    if skipped:
        roster.skipped["enrollments.csv"] += sum(skipped.values())
        roster.warnings.append(skipped_warning("enrollments.csv", "enrollment", skipped, "students and teachers"))
