"""Writing case notes (SPEC §4 rules 4 and 6).

Notes are never edited or deleted (the database refuses it too): a correction is an
amendment, a note of its own that points at the original. An amendment keeps its
original's audience and topic, so both are always read by the same people: narrowing
the audience could not take back the original, which stays as it was. Every note
written is appended to the disclosure log.

Each use-case checks everything itself against the policy (the forms check too) and
raises `NoteError` with a sentence for the person, so a forged form changes nothing.
"""
from __future__ import annotations

from casemgr import policy
from casemgr.extensions import db
from casemgr.models import Note
from casemgr.models.casework import NOTE_MAX_LENGTH
from casemgr.models.enums import Category, DisclosureAction, NoteAudience, NoteTopic
from casemgr.services import disclosure
from casemgr.text import plain_text


class NoteError(ValueError):
    """A note that cannot be written; the message says why, for the person."""


def length_problem(text: str | None) -> str | None:
    """What is wrong with the note's length, in words, or None."""
    cleaned = plain_text(text)
    if not cleaned:
        return "Write the note."
    if len(cleaned) > NOTE_MAX_LENGTH:
        return (f"Keep the note to {NOTE_MAX_LENGTH:,} characters or fewer; "
                f"this one has {len(cleaned):,}. Nothing was posted.")
    return None


def _body(text: str | None) -> str:
    problem = length_problem(text)
    if problem:
        raise NoteError(problem)
    return plain_text(text)


def _log_written(access: policy.StudentAccess) -> None:
    disclosure.log_view(
        access.user, access.student, {Category.NOTES: access.visible[Category.NOTES]}, DisclosureAction.NOTE_WRITTEN
    )


def post_note(access: policy.StudentAccess, audience: str, topic: str, body: str) -> Note:
    if not policy.may_write_note(access):
        raise NoteError("You cannot write notes about this student.")
    if audience not in policy.note_audiences(access):
        raise NoteError("Choose who can read the note.")
    try:
        chosen_topic = NoteTopic(topic)
    except ValueError:
        raise NoteError("Choose the topic of the note.") from None
    note = Note(
        student_id=access.student.id,
        author_id=access.user.id,
        organization_id=access.user.organization_id,
        audience=str(NoteAudience(audience)),
        topic=str(chosen_topic),
        body=_body(body),
    )
    db.session.add(note)
    db.session.flush()
    _log_written(access)
    return note


def amend_note(access: policy.StudentAccess, original: Note, body: str) -> Note:
    """An amendment by the original's author, with the original's audience and topic."""
    if not policy.may_amend_note(access, original):
        raise NoteError("Only the author of a note can amend it.")
    amendment = Note(
        student_id=original.student_id,
        author_id=access.user.id,
        organization_id=original.organization_id,
        audience=original.audience,
        topic=original.topic,
        body=_body(body),
        amends_id=original.id,
    )
    db.session.add(amendment)
    db.session.flush()
    _log_written(access)
    return amendment
