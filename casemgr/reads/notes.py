"""Reading case notes (SPEC §4 rule 4): their events on the student timeline, and the
note form's preview of who will be able to read a note. Nothing here decides access;
the policy's note rules are applied in SQL (timeline) or through `note_readers`.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload

from casemgr.clock import local_day
from casemgr.extensions import db
from casemgr.models import Note, Organization, Student, User
from casemgr.models.enums import FAMILY, NoteAudience, NoteTopic, Role
from casemgr.policy import NoteViewer, note_listed, note_readers, note_text_readable

AUDIENCE_LABELS = {
    NoteAudience.SHARED: "Shared",
    NoteAudience.ORGANIZATION: "Organization only",
    NoteAudience.FAMILY: "Shared with the family",
    NoteAudience.RESTRICTED: "Restricted",
}
TOPIC_LABELS = {
    NoteTopic.ATTENDANCE: "Attendance",
    NoteTopic.ACADEMIC: "Academic",
    NoteTopic.COLLEGE: "College",
    NoteTopic.SOCIAL_EMOTIONAL: "Social-emotional",
    NoteTopic.FAMILY: "Family",
    NoteTopic.OTHER: "Other",
}


def audience_label(audience: str, organization_name: str | None = None) -> str:
    """The audience as the note's readers see it: "Only Northside Youth" rather than
    "organization"."""
    if audience == NoteAudience.ORGANIZATION and organization_name:
        return f"Only {organization_name}"
    return AUDIENCE_LABELS[NoteAudience(audience)]


def audience_description(audience: str, organization_name: str) -> str:
    """What an audience means, in the note form's words."""
    return {
        NoteAudience.SHARED: "Everyone who can see this student's notes, at the school and at partner organizations.",
        NoteAudience.ORGANIZATION: f"Only people at {organization_name} who can see this student's notes.",
        NoteAudience.FAMILY: "Everyone who can see this student's notes, and also the student and their parents.",
        NoteAudience.RESTRICTED: "Health, safety or immigration matters: only the principal, counselors and district "
        "administrators. Others who see the notes are told that a restricted note exists, never its text.",
    }[NoteAudience(audience)]


def topic_label(topic: str) -> str:
    return TOPIC_LABELS[NoteTopic(topic)]


# --- the timeline's note events -----------------------------------------------------------


@dataclass
class NoteEntry:
    """A note the user may read, with what is shown beside it: its amendments (for an
    original) or the note it amends (for an amendment)."""

    note: Note
    amendments: list[Note] = field(default_factory=list)
    original: Note | None = None


@dataclass(frozen=True)
class RestrictedNoteEntry:
    """A restricted note the user may not read: that it exists, by whom (a role) and
    when. Its text is never loaded."""

    created_at: datetime
    author_role: Role
    is_amendment: bool


def readable_notes(student_id, viewer: NoteViewer, zone: str) -> sa.Select:
    """Timeline rows (day, at, ref_id, actor_id) of the notes whose text the user reads."""
    return sa.select(local_day(Note.created_at, zone), Note.created_at, Note.id, Note.author_id).where(
        Note.student_id == student_id, note_text_readable(viewer)
    )


def restricted_notes(student_id, viewer: NoteViewer, zone: str) -> sa.Select:
    """Timeline rows of the notes the user sees only as existing; no actor, so the
    timeline names nobody."""
    return sa.select(
        local_day(Note.created_at, zone), Note.created_at, Note.id, sa.cast(sa.null(), sa.Integer)
    ).where(Note.student_id == student_id, note_listed(viewer), ~note_text_readable(viewer))


def load_notes(ids: list[int]) -> dict[int, NoteEntry]:
    """The notes, with their amendments and originals. A related note is shown only
    when it has the same audience and organization as the note it is shown with: the
    policy's reading rule depends on nothing else, so it is then exactly as readable
    (the service always writes amendments that way; this holds even for rows that
    were not)."""
    with_people = (joinedload(Note.author), joinedload(Note.organization))
    entries = {n.id: NoteEntry(n) for n in db.session.scalars(sa.select(Note).options(*with_people).where(Note.id.in_(ids)))}
    if not entries:
        return entries
    shown = aliased(Note)
    related = db.session.scalars(
        sa.select(Note)
        .options(*with_people)
        .join(shown, sa.or_(Note.amends_id == shown.id, Note.id == shown.amends_id))
        .where(
            shown.id.in_(list(entries)),
            Note.audience == shown.audience,
            Note.organization_id == shown.organization_id,
        )
        .order_by(Note.created_at, Note.id)
    ).unique()
    for note in related:
        if note.amends_id is not None and note.amends_id in entries:
            entries[note.amends_id].amendments.append(note)
        for entry in entries.values():
            if entry.note.amends_id == note.id:
                entry.original = note
    return entries


def load_restricted_notes(ids: list[int]) -> dict[int, RestrictedNoteEntry]:
    rows = db.session.execute(
        sa.select(Note.id, Note.created_at, Note.amends_id, User.role)
        .join(User, User.id == Note.author_id)
        .where(Note.id.in_(ids))
    )
    return {row.id: RestrictedNoteEntry(row.created_at, Role(row.role), row.amends_id is not None) for row in rows}


# --- who will be able to read a note ----------------------------------------------------


@dataclass(frozen=True)
class ReaderGroup:
    """The readers of one organization (or the family), counted by role in words:
    "1 principal", "3 counselors", "the student"."""

    name: str
    roles: list[str]


@dataclass(frozen=True)
class AudiencePreview:
    audience: NoteAudience
    description: str
    groups: list[ReaderGroup]
    total: int
    includes_author: bool
    told_it_exists: int  # restricted: people who will see only that the note exists


def _count_of(role: Role, count: int) -> str:
    if role is Role.STUDENT:
        return "the student"
    label = "parent or guardian" if role is Role.PARENT else role.label.lower()
    if count != 1:
        label = "parents or guardians" if role is Role.PARENT else f"{label}s"
    return f"{count} {label}"


def audience_preview(student: Student, author: User, audience: NoteAudience, today=None) -> AudiencePreview:
    """Who will be able to read a note `author` writes with `audience`, grouped by
    organization and role, from the policy's `note_readers`."""
    organization = db.session.get(Organization, author.organization_id)
    readers, told = note_readers(student, audience, author.organization_id, today)
    counts: dict[str, Counter] = {}
    for viewer in readers:
        user = viewer.user
        group = "The family" if user.role_enum in FAMILY else user.organization.name
        counts.setdefault(group, Counter())[user.role_enum] += 1
    role_order = list(Role)
    groups = [
        ReaderGroup(name, [_count_of(role, n) for role, n in sorted(roles.items(), key=lambda r: role_order.index(r[0]))])
        for name, roles in sorted(counts.items(), key=lambda g: (g[0] == "The family", g[0] != organization.name, g[0]))
    ]
    return AudiencePreview(
        audience=audience,
        description=audience_description(audience, organization.name),
        groups=groups,
        total=len(readers),
        includes_author=any(v.user.id == author.id for v in readers),
        told_it_exists=len(told),
    )
