"""Services delivered in the mock partnership (issue 17): each partner's program groups
and a school year of service contacts up to as_of, and a program that works.

Every partner with a service agreement runs, for each service it offers, one to three
groups at each school it serves (a homework club, a mentoring circle) of 8 to 20 students
from its active roster (fewer only where the roster holds fewer), those who need the
service most first; its first service (what the partner is known for) reaches most of
its roster, the others fewer, and a school's few are met one to one. A group meets on its
weekdays on the school's instructional days, and its leader takes attendance for every
member from the day they joined; some roster students also meet a worker one to one every
week or two. Contacts stop when a student leaves the roster or the district ends the
partner's agreement (its groups are archived that day).

`EFFECTIVE_PROGRAM` really helps: after a student's first contact with it, about half of
their absences (fewer for a student who came for less than `FULL_EFFECT_HOURS`) become
days present, and some of their later failing marks passing ones, so the outcomes by
program find it. `NO_EFFECT_PROGRAM` serves as many students, as needy (none of the
effective program's), and changes nothing. Both are in the demo district.
"""
from __future__ import annotations

import random
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from psycopg import Cursor

from casemgr.models.enums import ContactMode, ContactSource, Service
from casemgr.seed.bulk import constraints_deferred, copy_lines, copy_rows, next_id, sync_sequence
from casemgr.seed.rosters import RosterSpot
from casemgr.seed.staff import is_compliant
from casemgr.seed.world import MockDistrict, Partner, School, StaffMember, Student, rng_for

# (partner code, service): the program whose students' attendance improves after they
# start, and the one that changes nothing
EFFECTIVE_PROGRAM = ("NSY", "mentoring")
NO_EFFECT_PROGRAM = ("FRC", "family_support")
IMPROVED_SHARE = 0.5  # of the absences after the first contact that become days present
FULL_EFFECT_HOURS = 10  # a student who came for fewer hours improves in proportion
PASSED_SHARE = 0.4  # of the failing marks recorded four weeks or more after it that become passing ones

FIRST_SERVICE_SHARE, OTHER_SERVICE_SHARE = 0.85, 0.3  # of a partner's active roster in the service's groups
GROUP_MIN, GROUP_MAX, GROUPS_PER_SCHOOL = 8, 20, 3
INDIVIDUAL_SHARE = 0.3  # of a partner's roster students who also meet a worker one to one
GROUP_NAMES = {
    Service.ATTENDANCE_SUPPORT: ("Attendance Champions", "On-Time Crew", "Check & Connect Circle"),
    Service.TUTORING: ("Homework Club", "Math Lab", "Reading Buddies"),
    Service.MENTORING: ("Mentoring Circle", "Peer Mentoring Crew", "Leadership Circle"),
    Service.FAMILY_SUPPORT: ("Family Night", "Parent Café", "Family Workshop"),
    Service.COLLEGE_APPLICATION: ("College Essay Workshop", "Application Lab", "College Visit Club"),
    Service.FAFSA_HELP: ("FAFSA Night", "Financial Aid Lab", "Scholarship Circle"),
    Service.OTHER: ("Art Studio", "Makers Club", "Drama Club"),
}
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
MEETING_DAYS = (((1,), (2,), (3,)), ((0, 2), (1, 3), (2, 4)), ((0, 2, 4),))  # one, two or three days a week
FIRST_SERVICE_DAYS, OTHER_SERVICE_DAYS = (0.0, 0.6, 0.4), (0.35, 0.5, 0.15)  # the weights of one, two, three
MEETING_TIMES, EVENING = (time(15, 0), time(15, 30), time(16, 0)), time(18, 0)  # after school; family evenings
ONE_TO_ONE = (Service.MENTORING, Service.FAMILY_SUPPORT)  # what a worker does one to one, where offered


@dataclass(slots=True, eq=False)
class Group:
    id: int
    partner: Partner
    service: str
    school: School
    name: str
    weekdays: tuple[int, ...]
    starts_at: time
    minutes: int
    leader: StaffMember
    first_day: date
    last_day: date
    archived_on: date | None
    members: list[tuple[RosterSpot, date, float]] = field(default_factory=list)  # (spot, joined on, presence)


def write_services(cur: Cursor, d: MockDistrict, spots: list[RosterSpot]) -> None:
    """The district's program groups, their members and a school year of contacts, and
    the effective program's effect on its students' records."""
    rng = rng_for(d.seed, "services")
    ended = dict(cur.execute(
        "SELECT organization_id, min(ended_on) FROM data_sharing_agreements"
        " WHERE district_id = %s AND ended_on IS NOT NULL GROUP BY organization_id", (d.district_id,)).fetchall())
    roster: dict[int, list[RosterSpot]] = {}
    for spot in spots:
        roster.setdefault(spot.partner.id, []).append(spot)
    group_id = next_id(cur, "program_groups")
    groups: list[Group] = []
    one_to_one: list[tuple[RosterSpot, str, StaffMember]] = []
    effective: set[int] = set()  # the effective program's students, planned first
    for partner in sorted(d.partners, key=lambda p: p.code != EFFECTIVE_PROGRAM[0]):
        planned = Planner(rng, d, partner, workers_of(d, partner), effective)
        planned.plan(roster.get(partner.id, []), ended.get(partner.id), group_id)
        groups += planned.groups
        one_to_one += planned.one_to_one
        group_id += len(planned.groups)
    write_groups(cur, d, groups)
    with constraints_deferred(cur, ("service_contacts",)):
        d.counts["service_contacts"] = copy_lines(cur, "service_contacts", CONTACT_COLUMNS,
                                                  contact_lines(rng, d, groups, one_to_one, ended))
    sync_sequence(cur, "program_groups")
    program = next((p for p in d.partners if p.code == EFFECTIVE_PROGRAM[0]), None)
    if program is not None:
        improve(cur, d, program.id, EFFECTIVE_PROGRAM[1])


def workers_of(d: MockDistrict, partner: Partner) -> list[StaffMember]:
    """Who leads groups and meets students: the partner's youth workers who may (SPEC §2)."""
    return [w for w in partner.workers if is_compliant(w, d.as_of)] or partner.workers or [partner.admin]


@dataclass
class Planner:
    """One partner's groups (with their members) and its one-to-one students, each with a
    service and a worker. The effective program's students are in no other program of its
    partner (whose outcomes would show its effect as their own), nor in the no-effect one."""

    rng: random.Random
    d: MockDistrict
    partner: Partner
    workers: list[StaffMember]
    effective: set[int]
    groups: list[Group] = field(default_factory=list)
    one_to_one: list[tuple[RosterSpot, str, StaffMember]] = field(default_factory=list)

    def allowed(self, student: Student, service: str) -> bool:
        program = (self.partner.code, service)
        if student.id not in self.effective:
            return True
        return program == EFFECTIVE_PROGRAM or (program[0] != EFFECTIVE_PROGRAM[0] and program != NO_EFFECT_PROGRAM)

    def serve(self, spot: RosterSpot, service: str) -> None:
        if (self.partner.code, service) == EFFECTIVE_PROGRAM:
            self.effective.add(spot.student.id)

    def plan(self, spots: list[RosterSpot], ended_on: date | None, first_id: int) -> None:
        rng, partner = self.rng, self.partner
        last_day = min(self.d.as_of, ended_on - timedelta(days=1)) if ended_on else self.d.as_of
        active = [s for s in spots if s.removed_on is None]
        ordered = sorted(enumerate(partner.services), key=lambda item: (partner.code, item[1]) != EFFECTIVE_PROGRAM)
        for index, service in ordered:
            share = FIRST_SERVICE_SHARE if index == 0 else OTHER_SERVICE_SHARE
            ranked = sorted((s for s in active if self.allowed(s.student, service)),
                            key=lambda s: rng.random() * (0.35 if needs(s.student, service) else 1))
            by_school: dict[int, list[RosterSpot]] = {}
            for spot in ranked[: round(share * len(ranked))]:
                by_school.setdefault(spot.student.school.id, []).append(spot)
            for school_spots in by_school.values():
                if len(school_spots) < GROUP_MIN and len(by_school) > 1:  # too few for a group: one to one
                    for spot in school_spots:
                        self.one_to_one.append((spot, service, rng.choice(self.workers)))
                        self.serve(spot, service)
                    continue
                self.plan_groups(school_spots, service, index == 0, first_id, last_day, ended_on)
        # some roster students also meet a worker one to one, in a service they are not yet given so
        personal = [v for v in partner.services if v in ONE_TO_ONE] or partner.services
        given = {(spot.student.id, service) for spot, service, _ in self.one_to_one}
        for spot in spots:
            if rng.random() >= INDIVIDUAL_SHARE:
                continue
            options = [v for v in personal if self.allowed(spot.student, v) and (spot.student.id, v) not in given
                       and ((partner.code, v) != EFFECTIVE_PROGRAM or spot.student.id in self.effective)]
            worker = rng.choice(self.workers)
            if options:
                self.one_to_one.append((spot, rng.choice(options), worker))

    def plan_groups(self, spots: list[RosterSpot], service: str, first: bool, first_id: int, last_day: date,
                    ended_on: date | None) -> None:
        """One to three groups of the service at the school of `spots`, of up to 20 each."""
        rng, calendar = self.rng, self.d.calendar
        count = min(GROUPS_PER_SCHOOL, -(-len(spots) // GROUP_MAX))
        spots = spots[: count * GROUP_MAX]
        for number in range(count):
            group = new_group(rng, self.d, self.partner, service, spots[0].student.school, number,
                              self.workers[len(self.groups) % len(self.workers)], first_id + len(self.groups),
                              last_day, ended_on, first)
            for spot in spots[number::count]:
                joined = max(group.first_day, spot.added_on, calendar.instructional[spot.student.entry])
                joined += timedelta(days=rng.randint(0, 3))
                if joined > self.d.as_of:  # added to the roster too lately to have joined yet
                    continue
                low, high = (0.70, 0.82) if needs(spot.student, Service.ATTENDANCE_SUPPORT) else (0.78, 0.90)
                group.members.append((spot, joined, rng.uniform(low, high)))
                self.serve(spot, service)
            self.groups.append(group)


def needs(student: Student, service: str) -> bool:
    """Whether a program would put the student first: the students most at risk."""
    if service == Service.TUTORING:
        return student.struggling
    if service in (Service.COLLEGE_APPLICATION, Service.FAFSA_HELP):
        return student.grade == 12
    if service == Service.FAMILY_SUPPORT:
        return student.low_income or student.absence_rate >= 0.1
    return student.absence_rate >= 0.1 or student.struggling


def new_group(rng: random.Random, d: MockDistrict, partner: Partner, service: str, school: School, number: int,
              leader: StaffMember, group_id: int, last_day: date, ended_on: date | None, first: bool) -> Group:
    """A group of the partner's `first` service (what it is known for) meets more often."""
    weekdays = rng.choice(rng.choices(MEETING_DAYS, FIRST_SERVICE_DAYS if first else OTHER_SERVICE_DAYS)[0])
    stem = GROUP_NAMES[Service(service)][number]
    day = f"{WEEKDAY_NAMES[weekdays[0]]} " if len(weekdays) == 1 else ""
    place = school.name.removesuffix(" School")
    evening = service in (Service.FAMILY_SUPPORT, Service.FAFSA_HELP)
    starts_at = EVENING if evening else rng.choice(MEETING_TIMES)
    first_day = d.calendar.starts_on + timedelta(days=rng.randint(5, 10))
    return Group(group_id, partner, service, school, f"{day}{stem} at {place}"[:80], weekdays, starts_at,
                 rng.choice((60, 75, 90, 90, 105, 120)), leader, first_day, last_day, ended_on)


GROUP_COLUMNS = ("id", "organization_id", "name", "service", "weekdays", "starts_at", "session_minutes", "leader_id",
                 "created_by_id", "archived_on", "created_at")
CONTACT_COLUMNS = ("student_id", "organization_id", "service", "contact_on", "minutes", "mode", "attended",
                   "group_id", "source", "recorded_by_id", "created_at")


def write_groups(cur: Cursor, d: MockDistrict, groups: list[Group]) -> None:
    created = min(d.calendar.starts_on - timedelta(days=10), d.as_of)
    d.counts["program_groups"] = copy_rows(cur, "program_groups", GROUP_COLUMNS, (
        (g.id, g.partner.id, g.name, str(g.service), [str(day) for day in g.weekdays], g.starts_at, g.minutes,
         g.leader.id, g.partner.admin.id, g.archived_on, at_noon(created))
        for g in groups
    ))
    copy_rows(cur, "program_group_members", ("group_id", "student_id", "added_by_id", "created_at"), (
        (g.id, spot.student.id, g.leader.id, at_noon(joined))
        for g in groups for spot, joined, _ in g.members
    ))


def at_noon(day: date) -> datetime:
    return at(day, time(12))


def at(day: date, moment: time) -> datetime:
    return datetime.combine(day, moment, tzinfo=timezone.utc)


def contact_lines(rng: random.Random, d: MockDistrict, groups: list[Group],
                  one_to_one: list[tuple[RosterSpot, str, StaffMember]], ended: dict[int, date]):
    """COPY lines of every group session (a row per member, present or absent) and every
    one-to-one meeting, up to as_of."""
    elapsed = d.calendar.elapsed
    app, group_mode, individual = str(ContactSource.APP), str(ContactMode.GROUP), str(ContactMode.INDIVIDUAL)
    for g in groups:
        sessions = [day for day in elapsed if g.first_day <= day <= g.last_day and day.weekday() in g.weekdays]
        # each session's fields after the student's, the sheet saved as the session ends
        fields = [f"\t{g.partner.id}\t{g.service}\t{day}\t{g.minutes}\t{group_mode}\t%s\t{g.id}\t{app}\t{g.leader.id}\t"
                  f"{(at(day, g.starts_at) + timedelta(minutes=g.minutes)).isoformat()}\n" for day in sessions]
        for spot, joined, presence in g.members:
            student = str(spot.student.id)
            for line in fields[bisect_left(sessions, joined):]:
                yield student + line % ("t" if rng.random() < presence else "f")
    for spot, service, worker in one_to_one:
        partner = spot.partner
        ended_on = ended.get(partner.id)
        last = min([d.as_of] + [day - timedelta(days=1) for day in (spot.removed_on, ended_on) if day])
        start = max(spot.added_on, d.calendar.instructional[spot.student.entry])
        cadence = rng.choice((7, 7, 14))
        start += timedelta(days=rng.randint(0, cadence - 1))
        fixed = f"\t{partner.id}\t{service}\t"
        seen: set[date] = set()
        while start <= last:
            position = bisect_left(elapsed, start)
            start += timedelta(days=cadence)
            if position == len(elapsed) or elapsed[position] > last or elapsed[position] in seen:
                continue
            day = elapsed[position]
            seen.add(day)
            minutes = rng.randrange(20, 61, 5)
            saved = at(day, MEETING_TIMES[0]) + timedelta(minutes=minutes + rng.randrange(0, 120, 5))
            yield (f"{spot.student.id}{fixed}{day}\t{minutes}\t{individual}\tt\t\\N\t{app}\t{worker.id}\t"
                   f"{saved.isoformat()}\n")


def improve(cur: Cursor, d: MockDistrict, organization_id: int, service: str) -> None:
    """The effect of the program that works, set-based: from each student's first
    attended contact, a share of their absences become days present (in proportion to
    their hours, up to `FULL_EFFECT_HOURS`) and some failing marks passing ones. The
    days and marks are drawn by a hash of the seed, the student and the day."""
    cur.execute("""
        CREATE TEMP TABLE program_served ON COMMIT DROP AS
        SELECT student_id, min(contact_on) AS first_on,
               %(share)s * least(1.0, sum(minutes) / (60.0 * %(hours)s)) AS share
        FROM service_contacts
        WHERE organization_id = %(organization)s AND service = %(service)s AND attended
        GROUP BY student_id""",
                {"organization": organization_id, "service": service, "share": IMPROVED_SHARE,
                 "hours": FULL_EFFECT_HOURS})
    cur.execute("ANALYZE program_served")  # a few hundred rows: the planner then reads attendance by its key
    draw = "('x' || substr(md5(%(salt)s || '/' || {student} || '/' || {day}), 1, 8))::bit(32)::bigint / 4294967296.0"
    salt = f"casemgr-seed/{d.seed}/program-effect"
    calendar = d.calendar
    cur.execute(f"""
        UPDATE attendance_years a
        SET present = a.present | (m.bits & (a.excused | a.unexcused)),
            excused = a.excused & ~m.bits, unexcused = a.unexcused & ~m.bits
        FROM (SELECT s.student_id,
                     string_agg(CASE WHEN p.position >= s.first_on - %(first_day)s::date
                                      AND {draw.format(student="s.student_id", day="p.position")} < s.share
                                THEN '1' ELSE '0' END, '' ORDER BY p.position)::varbit AS bits
              FROM program_served s CROSS JOIN generate_series(0, %(days)s - 1) AS p(position)
              GROUP BY s.student_id) m
        WHERE a.student_id = m.student_id AND a.school_year_id = %(year)s""",
                {"salt": salt, "year": d.school_year_id, "first_day": calendar.starts_on,
                 "days": (calendar.ends_on - calendar.starts_on).days + 1})
    cur.execute(f"""
        UPDATE course_marks m SET mark = 'D', failing = false, credits_earned = m.credits_attempted
        FROM program_served s
        WHERE m.student_id = s.student_id AND m.school_year = %(year)s AND m.failing
          AND m.recorded_on >= s.first_on + 28
          AND {draw.format(student="m.student_id", day="m.section_id || m.term")} < %(passed)s * s.share / %(share)s""",
                {"salt": salt, "year": d.year, "passed": PASSED_SHARE, "share": IMPROVED_SHARE})
    cur.execute("DROP TABLE program_served")
