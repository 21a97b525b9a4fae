"""Family accounts by printed invitation letter (issue 11 item 3).

The school issues a letter to a guardian with educational rights, or to the eligible
student themself; it carries a one-time claim code. Whoever holds the letter claims an
account with the code and the student's birth date, then chooses an email and a
password. Only a SHA-256 of the code is stored: the letter shows it once, and a lost
letter is reissued (which voids the earlier one).
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext

from casemgr import policy
from casemgr.clock import today as default_today
from casemgr.extensions import db
from casemgr.models import ClaimCode, Guardian, Student, User
from casemgr.models.enums import AccountAction, Role
from casemgr.passwords import hash_password, password_problem
from casemgr.services import account_events

# no 0/O, 1/I/L, U/V: nothing a parent could misread from paper
ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
CODE_LENGTH = 12
GROUP = 4
# wrong birth dates given with one code before its letter is void
MAX_WRONG_BIRTH_DATES = 5
LANGUAGES = ("en", "es")
EMAIL_MAX = 254


class ClaimError(Exception):
    """Why an account cannot be claimed; the message is for the family, translated."""


def N_(message: str) -> str:
    return message


# one answer for a wrong code, a used, revoked or expired code and a wrong birth date
NO_MATCH = N_("That code and birth date do not match a current invitation letter. Check both and try again; "
              "if the letter is more than 30 days old or was already used, ask the school for a new one.")
NO_LONGER_VALID = N_("This letter can no longer be used. Please ask the school for a new one.")


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalized(code: str) -> str:
    """The code as typed, upper case, without spaces, dashes or anything else."""
    return "".join(ch for ch in (code or "").upper() if ch.isascii() and ch.isalnum())


def code_hash(code: str) -> str:
    return hashlib.sha256(normalized(code).encode()).hexdigest()


def grouped(code: str) -> str:
    """`K7QM-4XPD-9TWC`: easier to read out and to type."""
    code = normalized(code)
    return "-".join(code[i:i + GROUP] for i in range(0, len(code), GROUP))


def now() -> datetime:
    return datetime.now(UTC)


def is_live(claim: ClaimCode, at: datetime | None = None) -> bool:
    """Not used, not revoked, not expired."""
    return claim.used_at is None and claim.revoked_at is None and claim.expires_at > (at or now())


# --- who may claim an account for a student, and where each stands -----------------------


@dataclass(frozen=True)
class Claimant:
    """Someone who may claim an account for a student: a guardian, or (guardian None)
    the eligible student; their account if they have one, else their live letter."""

    student: Student
    guardian: Guardian | None
    account: User | None
    letter: ClaimCode | None

    @property
    def key(self) -> str:
        """How the issue form names the claimant: the guardian's public id, or "student"."""
        return str(self.guardian.uuid) if self.guardian is not None else "student"

    @property
    def name(self) -> str:
        if self.guardian is not None:
            return self.guardian.full_name
        return f"{self.student.first_name} {self.student.last_name}"

    @property
    def language(self) -> str:
        """The family's language for the letter: the guardian's preferred language; for
        the student, English (the school may choose otherwise)."""
        if self.guardian is not None and self.guardian.preferred_language in LANGUAGES:
            return self.guardian.preferred_language
        return "en"


def student_account(student: Student) -> User | None:
    return db.session.scalar(sa.select(User).where(User.student_id == student.id))


def _live_letters(student: Student) -> dict[int | None, ClaimCode]:
    """The student's live letters by guardian id (None for the student's own)."""
    letters = db.session.scalars(
        sa.select(ClaimCode)
        .where(ClaimCode.student_id == student.id, ClaimCode.used_at.is_(None), ClaimCode.revoked_at.is_(None),
               ClaimCode.expires_at > now())
        .order_by(ClaimCode.created_at)
    )
    return {letter.guardian_id: letter for letter in letters}


def claimants(student: Student, today: date | None = None) -> list[Claimant]:
    """Everyone who may claim an account for `student` today, with where they stand."""
    today = today or default_today()
    letters = _live_letters(student)
    people = [
        Claimant(student, guardian, guardian.user, letters.get(guardian.id))
        for guardian in db.session.scalars(policy.letter_guardians(student, today))
    ]
    if policy.may_claim_account(student, None, today):
        people.append(Claimant(student, None, student_account(student), letters.get(None)))
    return people


def find_claimant(student: Student, key: str, today: date | None = None) -> Claimant | None:
    return next((person for person in claimants(student, today) if person.key == key), None)


# --- issuing a letter -----------------------------------------------------------------


def _revoke_letters_of(student: Student, guardian: Guardian | None, at: datetime) -> None:
    """Void the unused letters of one person: a guardian's (for any of their children,
    since one account serves them all) or the student's own."""
    earlier = sa.update(ClaimCode).where(ClaimCode.used_at.is_(None), ClaimCode.revoked_at.is_(None))
    if guardian is not None:
        earlier = earlier.where(ClaimCode.guardian_id == guardian.id)
    else:
        earlier = earlier.where(ClaimCode.student_id == student.id, ClaimCode.guardian_id.is_(None))
    db.session.execute(earlier.values(revoked_at=at))


def issue_letter(claimant: Claimant, language: str, issued_by: User) -> tuple[ClaimCode, str]:
    """A new letter for `claimant` in `language`: revokes their earlier unused letters and
    logs the issue. Returns the code in clear, to print once (the caller commits)."""
    if claimant.account is not None:
        raise ClaimError(gettext("%(name)s already has an account.", name=claimant.name))
    if language not in LANGUAGES:
        raise ClaimError(gettext("Choose English or Spanish for the letter."))
    student, guardian = claimant.student, claimant.guardian
    issued_at = now()
    _revoke_letters_of(student, guardian, issued_at)
    code = new_code()
    letter = ClaimCode(
        student_id=student.id,
        guardian_id=guardian.id if guardian is not None else None,
        code_hash=code_hash(code),
        language=language,
        issued_by_id=issued_by.id,
        expires_at=issued_at + current_app.config["CLAIM_CODE_LIFETIME"],
    )
    db.session.add(letter)
    db.session.flush()
    event = account_events.record(
        AccountAction.LETTER_ISSUED, None, actor=issued_by, letter=str(letter.uuid), student=str(student.uuid),
        guardian=str(guardian.uuid) if guardian is not None else None, language=language,
    )
    event.organization_id = student.district_id  # the district's admins read it
    return letter, code


# --- inviting by email ---------------------------------------------------------------


def invite_by_email(claimant: Claimant, invited_by: User) -> User:
    """Invite a guardian whose email the district's import gave: an account without a
    password, linked to the guardian record, and an emailed single-use link (the same
    invitation staff get). Again for an invitation not yet accepted: a fresh link. The
    caller commits; a MailError leaves the caller to roll back."""
    from casemgr.services.invitations import send_invitation

    guardian = claimant.guardian
    if guardian is None or not (guardian.email or "").strip():
        raise ClaimError(gettext("There is no email address on record for %(name)s: issue a letter instead.",
                                 name=claimant.name))
    account = claimant.account
    if account is None:
        email = guardian.email.strip().lower()
        if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
            raise ClaimError(gettext("The address %(email)s already belongs to another account: issue a letter "
                                     "instead.", email=email))
        account = User(email=email, full_name=guardian.full_name, role=str(Role.PARENT),
                       organization_id=claimant.student.district_id, password_hash=None,
                       locale=claimant.language)
        db.session.add(account)
        db.session.flush()
        guardian.user_id = account.id
        _revoke_letters_of(claimant.student, guardian, now())  # one way in: the letter no longer
    elif not account.invitation_pending:
        raise ClaimError(gettext("%(name)s already has an account.", name=claimant.name))
    send_invitation(account, invited_by)
    return account


# --- claiming ---------------------------------------------------------------------------


def _locked(condition) -> sa.Select:
    """The letter, its row locked until the transaction ends and read afresh (a copy
    already in the session may be older than the lock)."""
    return sa.select(ClaimCode).where(condition).with_for_update().execution_options(populate_existing=True)


def check_code(code: str, birth_date: date | None) -> ClaimCode | None:
    """The live letter of `code` when `birth_date` is the student's, else None. A wrong
    birth date counts against the letter, which is void after five (the caller
    commits either way)."""
    if len(normalized(code)) != CODE_LENGTH:
        return None
    letter = db.session.scalar(_locked(ClaimCode.code_hash == code_hash(code)))
    if letter is None or not is_live(letter):
        return None
    if birth_date is None or letter.student.birth_date != birth_date:
        letter.failed_attempts += 1
        if letter.failed_attempts >= MAX_WRONG_BIRTH_DATES:
            letter.revoked_at = now()
        return None
    return letter


def letter_still_applies(letter: ClaimCode, today: date | None = None) -> bool:
    """The person named by a live letter may still claim: rights unchanged, no account yet."""
    if not policy.may_claim_account(letter.student, letter.guardian, today):
        return False
    if letter.guardian is not None:
        return letter.guardian.user_id is None
    return student_account(letter.student) is None


def claim_account(letter_id: int, email: str, password: str) -> User:
    """Create the account a letter promises and sign it to the letter's person; the
    letter is used. The letter's row is locked, so two simultaneous claims make one
    account (the caller commits)."""
    letter = db.session.scalar(_locked(ClaimCode.id == letter_id))
    if letter is None or not is_live(letter):
        raise ClaimError(gettext(NO_MATCH))
    if not letter_still_applies(letter):
        raise ClaimError(gettext(NO_LONGER_VALID))
    email = (email or "").strip().lower()
    if not email or len(email) > EMAIL_MAX or "@" not in email:
        raise ClaimError(gettext("Enter your email address."))
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise ClaimError(gettext("That email address already has an account. Use another, or sign in with it."))
    student, guardian = letter.student, letter.guardian
    full_name = guardian.full_name if guardian is not None else f"{student.first_name} {student.last_name}"
    problem = password_problem(password, full_name, email, student.first_name, student.last_name)
    if problem:
        raise ClaimError(problem)
    claimed_at = now()
    user = User(
        email=email,
        full_name=full_name,
        role=str(Role.PARENT if guardian is not None else Role.STUDENT),
        organization_id=student.district_id,
        student_id=None if guardian is not None else student.id,
        locale=letter.language,
        password_hash=hash_password(password),
        password_changed_at=claimed_at,
        last_login_at=claimed_at,  # claiming signs the person in
    )
    db.session.add(user)
    db.session.flush()
    if guardian is not None:
        guardian.user_id = user.id
    letter.used_at = claimed_at
    letter.user_id = user.id
    account_events.record(
        AccountAction.ACCOUNT_CLAIMED, user, actor=user, letter=str(letter.uuid), student=str(student.uuid),
        guardian=str(guardian.uuid) if guardian is not None else None,
    )
    return user
