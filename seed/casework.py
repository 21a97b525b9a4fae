"""Case notes, flags and referrals: a few of each, in every audience and status."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from psycopg import Cursor

from casemgr.models.enums import NoteAudience as A
from casemgr.models.enums import NoteTopic as T
from casemgr.models.enums import ReferralStatus as R
from casemgr.models.enums import Service
from casemgr.seed.bulk import copy_rows, next_id, sync_sequence
from casemgr.seed.rosters import ACTIVE, EXPIRING, RosterSpot
from casemgr.seed.staff import is_compliant
from casemgr.seed.world import MockDistrict, Partner, StaffMember, Student, day_between, moment, rng_for

NOTE_BODIES = {
    T.ATTENDANCE: (
        "Called home about {first}'s absences this month; {guardian} says mornings are hard. Agreed on a daily check-in.",
        "{first} came to every session this week and was on time each day.",
        "Met with {first} about attendance and set a goal of no unexcused absences for two weeks.",
    ),
    T.ACADEMIC: (
        "{first} is missing several math assignments; set up tutoring on Tuesdays and Thursdays.",
        "Went over the progress report with {first}. English grade is coming up.",
        "{first} asked for help studying for the science test; shared a study plan.",
    ),
    T.COLLEGE: (
        "Worked with {first} on the FAFSA; still needs a parent's tax information.",
        "{first} sent two college applications this week and is waiting to hear back.",
        "Talked about community college and apprenticeship options with {first}.",
    ),
    T.SOCIAL_EMOTIONAL: (
        "{first} seemed withdrawn in group today; checked in privately and will follow up.",
        "{first} led the group activity today and was proud of it.",
    ),
    T.FAMILY: (
        "Connected the family with the food bank and the winter coat drive.",
        "Spoke with {guardian} about the schedule change; the family prefers text messages.",
    ),
    T.OTHER: ("Checked in with {first}; no concerns this week.",),
}
RESTRICTED_BODIES = (
    (T.SOCIAL_EMOTIONAL, "Health matter discussed with the family; details are in the nurse's file. Weekly check-ins."),
    (T.FAMILY, "Safety plan in place: call the counselor before releasing {first} to anyone not on the pickup list."),
    (T.FAMILY, "The family shared an immigration-related worry; referred to legal aid. Not to be discussed further."),
)
NEED_DETAILS = {
    Service.ATTENDANCE_SUPPORT: "Absences are climbing; needs a mentor to help with mornings.",
    Service.TUTORING: "Failing a core class this term; needs tutoring.",
    Service.MENTORING: "Would benefit from a consistent adult mentor.",
    Service.COLLEGE_APPLICATION: "Wants help choosing colleges and writing the application essay.",
    Service.FAFSA_HELP: "FAFSA not started; family asked for help.",
    Service.FAMILY_SUPPORT: "Family is facing housing instability.",
    Service.OTHER: "Interested in an after-school arts program.",
}
DECLINE_REASONS = ("The program is full at this school until January.", "The family chose another program.")
OUTCOMES = ("Completed eight mentoring sessions; attendance went from 82% to 91%.",
            "FAFSA submitted with the family; case closed.", "Tutoring finished; the student passed the quarter.")
EVENT_CHAINS = {
    R.AWAITING_CONSENT: (R.AWAITING_CONSENT,),
    R.SENT: (R.SENT,),
    R.ACCEPTED: (R.SENT, R.ACCEPTED),
    R.DECLINED: (R.SENT, R.DECLINED),
    R.CLOSED: (R.SENT, R.ACCEPTED, R.CLOSED),
}


class Casework:
    def __init__(self, d: MockDistrict, spots: list[RosterSpot]) -> None:
        self.d = d
        self.rng = rng_for(d.seed, "casework")
        self.counselors: dict[int, list[StaffMember]] = defaultdict(list)
        for member in d.staff:
            if member.role == "counselor":
                self.counselors[member.organization_id].append(member)
        self.consented = [
            s for s in spots if s.state in (ACTIVE, EXPIRING) and s.partner.agreement_active and not s.removed_on
        ]
        self.pools: dict[tuple[int, bool], list[Student]] = {}

    def recent_moment(self, days_back: int = 60, since: date | None = None) -> datetime:
        as_of = self.d.as_of
        first = max(self.d.calendar.starts_on, as_of - timedelta(days=days_back), since or date.min)
        return moment(day_between(self.rng, min(first, as_of), as_of), self.rng)

    def worker_of(self, partner: Partner) -> StaffMember:
        """A youth worker of `partner` who may see students (SPEC §2 compliance)."""
        compliant = [w for w in partner.workers if is_compliant(w, self.d.as_of)]
        return self.rng.choice(compliant or partner.workers)

    def counselor_for(self, student: Student) -> StaffMember:
        return self.rng.choice(self.counselors[student.school.id])

    # notes -----------------------------------------------------------------
    def notes(self, first_id: int) -> list[tuple]:
        d, rng = self.d, self.rng
        rows: list[tuple] = []
        child, _ = d.demo["parent_children"]
        senior, counselor, worker = d.demo["student"], d.demo["counselor"], d.demo["worker"]
        lead = d.lead_partner
        self.add_note(rows, first_id, counselor, child, A.FAMILY, T.ATTENDANCE)
        original = self.add_note(rows, first_id, worker, child, A.SHARED, T.ACADEMIC, lead.id)
        self.add_note(rows, first_id, worker, senior, A.FAMILY, T.COLLEGE, lead.id)
        self.add_note(rows, first_id, counselor, senior, A.RESTRICTED, T.SOCIAL_EMOTIONAL)
        self.add_amendment(rows, first_id, original)
        for _ in range(max(12, len(d.students) // 50)):
            if self.consented and rng.random() < 0.4:
                spot = rng.choice(self.consented)
                audience = rng.choices((A.SHARED, A.ORGANIZATION, A.FAMILY), (0.45, 0.35, 0.2))[0]
                self.add_note(rows, first_id, self.worker_of(spot.partner), spot.student, audience,
                              rng.choice(list(NOTE_BODIES)), spot.partner.id, since=spot.signed_on)
            else:
                student = rng.choice(d.students)
                audience = rng.choices((A.SHARED, A.ORGANIZATION, A.FAMILY, A.RESTRICTED), (0.45, 0.15, 0.2, 0.2))[0]
                self.add_note(rows, first_id, self.counselor_for(student), student, audience,
                              rng.choice(list(NOTE_BODIES)))
        for original in rng.sample(rows, 2):
            self.add_amendment(rows, first_id, original)
        return rows

    def add_note(self, rows: list[tuple], first_id: int, author: StaffMember, student: Student, audience: str,
                 topic: str, organization_id: int | None = None, since: date | None = None) -> tuple:
        if audience == A.RESTRICTED:
            topic, template = self.rng.choice(RESTRICTED_BODIES)
        else:
            template = self.rng.choice(NOTE_BODIES[topic])
        guardian = student.guardians[0].guardian.full_name if student.guardians else "the family"
        body = template.format(first=student.preferred_name or student.first_name, guardian=guardian)
        row = (first_id + len(rows), student.id, author.id, organization_id or author.organization_id, str(audience),
               str(topic), body, None, self.recent_moment(since=since))
        rows.append(row)
        return row

    def add_amendment(self, rows: list[tuple], first_id: int, original: tuple) -> None:
        note_id, student_id, author_id, org_id, audience, topic, body, _, written = original
        corrected = min(written + timedelta(days=self.rng.randint(1, 3)), moment(self.d.as_of, self.rng, 17, 18))
        text = "Correction to my earlier note: the check-in is on Wednesdays, not Tuesdays."
        rows.append((first_id + len(rows), student_id, author_id, org_id, audience, topic, text, note_id,
                     max(corrected, written + timedelta(minutes=5))))

    # flags and referrals ----------------------------------------------------
    def need_of(self, student: Student) -> str:
        if student.absence_rate >= 0.1:
            return Service.ATTENDANCE_SUPPORT
        if student.struggling:
            return Service.TUTORING
        if student.grade == 12:
            return self.rng.choice((Service.FAFSA_HELP, Service.COLLEGE_APPLICATION))
        return self.rng.choice((Service.MENTORING, Service.FAMILY_SUPPORT, Service.OTHER))

    def flag(self, flags: list[tuple], first_id: int, student: Student, need: str, by: StaffMember,
             open_: bool = True) -> int:
        raised = self.recent_moment()
        closed = None if open_ else min(raised + timedelta(days=self.rng.randint(5, 30)),
                                        moment(self.d.as_of, self.rng, 17, 18))
        flag_id = first_id + len(flags)
        flags.append((flag_id, student.id, str(need), NEED_DETAILS[need], by.id, "closed" if closed else "open",
                      max(closed, raised) if closed else None, by.id if closed else None, raised))
        return flag_id

    def flags(self, first_id: int) -> list[tuple]:
        flags: list[tuple] = []
        child, _ = self.d.demo["parent_children"]
        self.flag(flags, first_id, child, Service.ATTENDANCE_SUPPORT, self.d.demo["counselor"])
        for _ in range(max(10, len(self.d.students) // 80)):
            student = self.rng.choice(self.d.students)
            self.flag(flags, first_id, student, self.need_of(student), self.counselor_for(student),
                      self.rng.random() < 0.75)
        return flags

    def referrals(self, first_id: int, flags: list[tuple], flag_first_id: int) -> tuple[list[tuple], list[tuple]]:
        d, rng = self.d, self.rng
        partners = [p for p in d.partners if p.agreement_active and p.schools]
        referrals: list[tuple] = []
        events: list[tuple] = []
        plan = [R.AWAITING_CONSENT, R.SENT, R.ACCEPTED, R.DECLINED, R.CLOSED]
        for number in range(max(10, len(d.students) // 120)):
            status = plan[number] if number < len(plan) else rng.choices(plan, (0.25, 0.25, 0.25, 0.1, 0.15))[0]
            partner = d.lead_partner if number < 2 else rng.choice(partners)
            student = self.referral_student(partner, status, d.demo["counselor"] if number < 2 else None)
            if student is None:
                continue
            service = rng.choice(partner.services)
            creator = d.demo["counselor"] if number < 2 else self.counselor_for(student)
            flag_id = self.flag(flags, flag_first_id, student, service, creator) if rng.random() < 0.6 else None
            self.add_referral(referrals, events, first_id, student, flag_id, partner, service, status, creator)
        self.family_consent_request(referrals, events, first_id, flags, flag_first_id)
        return referrals, events

    def add_referral(self, referrals: list[tuple], events: list[tuple], first_id: int, student: Student,
                     flag_id: int | None, partner: Partner, service: str, status: str, creator: StaffMember) -> None:
        referral_id = first_id + len(referrals)
        history = self.referral_history(referral_id, status, creator, partner)
        events += history
        message = f"Referred for {service.replace('_', ' ')}. {NEED_DETAILS[service]}"
        last_comment = history[-1][3]
        referrals.append((
            referral_id, student.id, flag_id, partner.id, str(service), str(status), message,
            last_comment if status == R.DECLINED else None, last_comment if status == R.CLOSED else None,
            creator.id, history[-1][4], history[0][4],
        ))

    def family_consent_request(self, referrals: list[tuple], events: list[tuple], first_id: int,
                               flags: list[tuple], flag_first_id: int) -> None:
        """The demo parent has a consent request to answer: their younger child's school
        referred the child to a partner serving it that has no consent from the family."""
        _, child = self.d.demo["parent_children"]
        partners = [p for p in self.d.partners if p.agreement_active and child.school in p.schools
                    and child.grade in p.grades and self.d.consent_states.get((child.id, p.id)) in (None, "none")]
        if not partners or not self.counselors.get(child.school.id):
            return
        partner = next((p for p in partners if p is self.d.lead_partner), partners[0])
        service = Service.TUTORING if Service.TUTORING in partner.services else partner.services[0]
        counselor = self.counselor_for(child)
        flag_id = self.flag(flags, flag_first_id, child, service, counselor)
        self.add_referral(referrals, events, first_id, child, flag_id, partner, service, R.AWAITING_CONSENT, counselor)

    def referral_history(self, referral_id: int, status: str, creator: StaffMember, partner: Partner) -> list[tuple]:
        """The referral's events up to `status`: sent by the counselor, then answered and
        closed by the partner admin, whose inbox it is, a few days apart."""
        rng, events, at = self.rng, [], self.recent_moment(45)
        for step in EVENT_CHAINS[status]:
            by = partner.admin if step in (R.ACCEPTED, R.DECLINED, R.CLOSED) else creator
            comment = {R.DECLINED: rng.choice(DECLINE_REASONS), R.CLOSED: rng.choice(OUTCOMES)}.get(step)
            events.append((referral_id, str(step), by.id, comment, at))
            at = min(at + timedelta(days=rng.randint(1, 7)), max(at, moment(self.d.as_of, rng, 17, 18)))
        return events

    def referral_student(self, partner: Partner, status: str, counselor: StaffMember | None) -> Student | None:
        """A student the partner serves: one with an active consent for it, except when
        the referral is awaiting consent."""
        key = (partner.id, status == R.AWAITING_CONSENT)
        if key not in self.pools:
            self.pools[key] = self.unconsented(partner) if key[1] else [
                spot.student for spot in self.consented if spot.partner is partner
            ]
        pool = self.pools[key]
        if counselor is not None:
            pool = [s for s in pool if s.school.id == counselor.organization_id] or pool
        return self.rng.choice(pool) if pool else None

    def unconsented(self, partner: Partner) -> list[Student]:
        served = {s.id for s in partner.schools}
        return [s for s in self.d.students if s.school.id in served and s.grade in partner.grades
                and s.exit is None and self.d.consent_states.get((s.id, partner.id)) in (None, "none")]


NOTE_COLUMNS = ("id", "student_id", "author_id", "organization_id", "audience", "topic", "body", "amends_id",
                "created_at")
FLAG_COLUMNS = ("id", "student_id", "need", "details", "raised_by_id", "status", "closed_at", "closed_by_id",
                "created_at")
REFERRAL_COLUMNS = ("id", "student_id", "flag_id", "organization_id", "service", "status", "message",
                    "decline_reason", "outcome", "created_by_id", "updated_at", "created_at")


def write_casework(cur: Cursor, d: MockDistrict, spots: list[RosterSpot]) -> None:
    work = Casework(d, spots)
    notes = work.notes(next_id(cur, "notes"))
    flag_first_id = next_id(cur, "flags")
    flags = work.flags(flag_first_id)
    referrals, events = work.referrals(next_id(cur, "referrals"), flags, flag_first_id)
    d.counts["notes"] = copy_rows(cur, "notes", NOTE_COLUMNS, notes)
    d.counts["flags"] = copy_rows(cur, "flags", FLAG_COLUMNS, flags)
    d.counts["referrals"] = copy_rows(cur, "referrals", REFERRAL_COLUMNS, referrals)
    copy_rows(cur, "referral_events", ("referral_id", "status", "by_user_id", "comment", "created_at"), events)
    for table in ("notes", "flags", "referrals"):
        sync_sequence(cur, table)

