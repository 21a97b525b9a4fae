"""Partner program rosters and the consents behind them, in every state relative to as_of.

States: active, expiring (active, ends within 30 days), expired, revoked, none (on the
roster without any consent). The lead partner's roster (Northside Youth's, in the demo
district) always holds each of them, plus the key family's children and the senior.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from psycopg import Cursor

from casemgr.models.enums import Category, ConsentMethod, SignerRelationship
from casemgr.seed.bulk import copy_rows, next_id, sync_sequence
from casemgr.seed.world import MockDistrict, Partner, Student, day_between, moment, rng_for

ACTIVE, EXPIRING, EXPIRED, REVOKED, NONE = "active", "expiring", "expired", "revoked", "none"
CONSENT_STATES = (ACTIVE, EXPIRING, EXPIRED, REVOKED, NONE)
STATE_WEIGHTS = (0.55, 0.10, 0.10, 0.05, 0.20)
REVOCATION_REASONS = (
    "Family no longer wants information shared.",
    "Student left the program.",
    "Parent asked to stop sharing after a change of program staff.",
)
SIGNER_ADDRESS = "198.51.100.23"  # a documentation address (RFC 5737)


@dataclass(slots=True)
class RosterSpot:
    partner: Partner
    student: Student
    added_on: date
    state: str
    removed_on: date | None = None
    signed_on: date | None = None


def build_rosters(d: MockDistrict) -> list[RosterSpot]:
    """Each partner's roster from the students at the schools it serves, at-risk
    students first, and its service capacity; decides each entry's consent state."""
    rng = rng_for(d.seed, "rosters")
    spots: list[RosterSpot] = []
    for partner in d.partners:
        served = {school.id for school in partner.schools}
        candidates = [s for s in d.students if s.school.id in served and s.grade in partner.grades and s.exit is None]
        partner.capacity = max(25, round(len(candidates) * 0.05))
        size = min(len(candidates), max(15, round(partner.capacity * 0.8)))
        ranked = sorted(candidates, key=lambda s: rng.random() * (0.35 if s.absence_rate >= 0.1 or s.struggling else 1))
        lead = partner is d.lead_partner
        pinned = _pinned_states(d) if lead else {}
        chosen = [s for s in pinned] + [s for s in ranked if s not in pinned][: max(0, size - len(pinned))]
        cycle = list(CONSENT_STATES) * 2 if lead else []
        for student in chosen:
            guaranteed = student in pinned or bool(cycle)
            if student in pinned:
                state = pinned[student]
            elif cycle:
                state = cycle.pop(0)
            else:
                state = rng.choices(CONSENT_STATES, STATE_WEIGHTS)[0]
            added_on = min(day_between(rng, d.calendar.starts_on, d.as_of), d.as_of)
            spot = RosterSpot(partner, student, added_on, state)
            if not guaranteed and rng.random() < 0.03:
                spot.removed_on = day_between(rng, added_on, d.as_of)
            spots.append(spot)
            d.consent_states[(student.id, partner.id)] = state
    return spots


def _pinned_states(d: MockDistrict) -> dict[Student, str]:
    """The demo parent's older child has a consent ending within 30 days (the family
    home reminds the parent to renew it), the younger one none."""
    high_school_child, younger_child = d.demo["parent_children"]
    return {high_school_child: EXPIRING, younger_child: NONE, d.demo["student"]: ACTIVE}


ROSTER_COLUMNS = ("organization_id", "student_id", "program", "added_on", "added_by_id", "removed_on",
                  "removed_by_id", "created_at")
CONSENT_COLUMNS = (
    "id", "student_id", "organization_id", "categories", "purpose", "signer_name", "signer_relationship",
    "signer_guardian_id", "signer_user_id", "signed_on", "expires_on", "method", "recorded_by_id",
    "statement_text", "signed_at", "signer_address", "locale", "created_at",
)


def write_rosters(cur: Cursor, d: MockDistrict, spots: list[RosterSpot]) -> None:
    rng = rng_for(d.seed, "roster-rows")
    rows = (
        (s.partner.id, s.student.id, s.partner.program, s.added_on, s.partner.admin.id, s.removed_on,
         s.partner.admin.id if s.removed_on else None, moment(s.added_on, rng))
        for s in spots
    )
    d.counts["roster_entries"] = copy_rows(cur, "roster_entries", ROSTER_COLUMNS, rows)


def write_consents(cur: Cursor, d: MockDistrict, spots: list[RosterSpot]) -> None:
    rng = rng_for(d.seed, "consents")
    consents, revocations = [], []
    consent_id = next_id(cur, "consents")
    for spot in spots:
        if spot.state == NONE:
            continue
        signed_on, expires_on, revoked_on = consent_dates(rng, d, spot.state)
        if spot.student is d.demo["student"]:
            # a parent signed before the demo senior turned 18: the senior is asked to
            # confirm or revoke it (the rights are theirs now)
            signed_on = min(signed_on, eighteenth_birthday(spot.student) - timedelta(days=20))
        spot.signed_on = signed_on
        consents.append(consent_row(rng, d, consent_id, spot, signed_on, expires_on))
        if revoked_on:
            revoked_at = moment(revoked_on, rng)
            revocations.append((consent_id, revoked_at, None, rng.choice(REVOCATION_REASONS), revoked_at))
        consent_id += 1
    d.counts["consents"] = copy_rows(cur, "consents", CONSENT_COLUMNS, consents)
    copy_rows(cur, "consent_revocations", ("consent_id", "revoked_at", "revoked_by_id", "reason", "created_at"),
              revocations)
    sync_sequence(cur, "consents")


def consent_dates(rng: random.Random, d: MockDistrict, state: str) -> tuple[date, date, date | None]:
    """(signed on, expires on, revoked on) that put a consent in `state` on as_of."""
    as_of, starts_on, ends_on = d.as_of, d.calendar.starts_on, d.calendar.ends_on
    if state == EXPIRING:
        expires_on = as_of + timedelta(days=rng.randint(3, 28))
        return min(as_of - timedelta(days=1), expires_on - timedelta(days=rng.randint(150, 365))), expires_on, None
    if state == EXPIRED:
        expires_on = as_of - timedelta(days=rng.randint(3, 90))
        return expires_on - timedelta(days=rng.randint(120, 365)), expires_on, None
    earliest = min(starts_on - timedelta(days=14), as_of - timedelta(days=30))
    signed_on = day_between(rng, earliest, as_of - timedelta(days=8 if state == REVOKED else 1))
    # the default expiry is the end of the school year; late in the year, twelve months
    if (ends_on - as_of).days > 30:
        expires_on = ends_on
    else:
        expires_on = max(signed_on + timedelta(days=365), as_of + timedelta(days=60))
    if state != REVOKED:
        return signed_on, expires_on, None
    return signed_on, expires_on, day_between(rng, signed_on + timedelta(days=1), as_of - timedelta(days=1))


def eighteenth_birthday(student: Student) -> date:
    born = student.birth_date
    return date(born.year + 18, born.month, 28 if (born.month, born.day) == (2, 29) else born.day)


def consent_row(rng: random.Random, d: MockDistrict, consent_id: int, spot: RosterSpot,
                signed_on: date, expires_on: date) -> tuple:
    student, partner = spot.student, spot.partner
    categories = list(partner.categories)
    if len(categories) > 2 and rng.random() < 0.3:
        categories.remove(rng.choice([c for c in categories if c != Category.IDENTITY]))
    if student.age_on(signed_on) >= 18:
        name, relationship, guardian_id, language = student.full_name, SignerRelationship.ELIGIBLE_STUDENT, None, "en"
        user = d.demo["student_user"] if student is d.demo["student"] else None
    else:
        signers = student.signers()
        link = next((link for link in signers if link.guardian.user_id), None) or rng.choice(signers)
        guardian = link.guardian
        relationship = (SignerRelationship.PARENT if link.relation in ("mother", "father", "parent")
                        else SignerRelationship.GUARDIAN)
        name, guardian_id, language = guardian.full_name, guardian.id, guardian.language
        user = d.demo["parent"] if guardian.user_id == d.demo["parent"].id else None
    signed_at = moment(signed_on, rng, 7, 21)
    electronic = user is not None
    statement = (
        f"I, {name}, allow {d.district_name} to share {student.full_name}'s records ({', '.join(categories)}) "
        f"with {partner.name} for: {partner.purpose}. This consent ends on {expires_on.isoformat()} "
        "unless I revoke it sooner."
    ) if electronic else None
    recorder = None if electronic else rng.choice([partner.admin, *partner.workers]).id
    return (
        consent_id, student.id, partner.id, categories, partner.purpose, name, str(relationship), guardian_id,
        user.id if user else None, signed_on, expires_on,
        str(ConsentMethod.ELECTRONIC if electronic else ConsentMethod.PAPER), recorder, statement,
        signed_at if electronic else None, SIGNER_ADDRESS if electronic else None, language, signed_at,
    )
