"""argon2id password hashes."""
from __future__ import annotations

import fcntl
import logging
import os
import random
import time
from contextlib import contextmanager
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

# argon2id at OWASP's recommended level (Password Storage Cheat Sheet: 19 MiB of memory,
# 2 iterations, 1 lane), not the library's default (64 MiB, 3 iterations, 4 lanes): about
# 25 ms of one core per check instead of about 190, so that a morning's burst of
# sign-ins cannot starve the pages, while an offline guess stays as costly as OWASP asks.
# A hash made with other parameters is remade at its owner's next sign-in (needs_rehash).
ARGON2 = {"time_cost": 2, "memory_cost": 19 * 1024, "parallelism": 1}
_hasher = PasswordHasher(**ARGON2, type=Type.ID)

# A hash to verify against when the email is unknown, so both paths take as long.
_DUMMY_HASH = _hasher.hash("casemgr-no-such-account")

log = logging.getLogger(__name__)

# At most this many argon2 computations at once, across every process that uses the same
# slot folder. argon2 releases the GIL, so under threaded workers (casemgr/gunicorn_conf.py)
# a burst of sign-ins would otherwise take every core from the page requests; the
# sign-ins wait their turn here instead, and pages keep a share of the CPU. gunicorn's
# configuration raises the limit for its workers (set_hashing_limit).
#
# A turn is an exclusive flock on one of CONCURRENT_HASHES slot files. The kernel releases
# a lock when the file is closed or its process ends, however it ends, so a worker killed
# during a check (SIGKILL, the out-of-memory killer) gives its turn back; a counting
# semaphore shared by the workers stayed one turn short for good. flock has no timeout,
# so a waiting check tries the slots again every few milliseconds; a turn not given
# within TURN_WAIT_SECONDS is taken anyway, so that nothing can stop every sign-in.
CONCURRENT_HASHES = 1
TURN_WAIT_SECONDS = 5.0
_RETRY_SECONDS = (0.002, 0.01)
_slot_folder: Path | None = None


def set_hashing_limit(count: int, folder: Path | None = None) -> None:
    """Allow `count` checks at once among the processes sharing `folder` (default: the
    data folder's password-checks/). Every process of one installation must use the same
    count, or each keeps to its own."""
    global CONCURRENT_HASHES, _slot_folder
    CONCURRENT_HASHES = max(1, count)
    _slot_folder = folder


def slot_folder() -> Path:
    if _slot_folder is not None:
        return _slot_folder
    from casemgr.config import data_dir

    return data_dir() / "password-checks"


def _take_free_slot(folder: Path) -> tuple[int, int] | None:
    """(slot number, open file holding its lock), or None when every slot is taken."""
    for slot in range(CONCURRENT_HASHES):
        descriptor = os.open(folder / f"slot-{slot}", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            continue
        return slot, descriptor
    return None


@contextmanager
def _turn():
    """Wait for a free slot and hold it; yields its number, or None when the wait ran out
    or the slot folder cannot be used (the check runs anyway)."""
    taken = None
    try:
        folder = slot_folder()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        deadline = time.monotonic() + TURN_WAIT_SECONDS
        while (taken := _take_free_slot(folder)) is None and time.monotonic() < deadline:
            time.sleep(random.uniform(*_RETRY_SECONDS))
    except OSError as error:
        log.warning("password checks run without a turn: %s", error)
    try:
        yield taken[0] if taken else None
    finally:
        if taken:
            os.close(taken[1])


def hash_password(password: str) -> str:
    with _turn():
        return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        with _turn():
            return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


MIN_LENGTH = 12
MAX_LENGTH = 1024
# zxcvbn scores 0 (guessable in a few tries) to 4; 3 resists an offline attack on a slow hash
MIN_SCORE = 3


def password_problem(password: str, *personal: str | None) -> str | None:
    """Why `password` will not do, in words for the person choosing it (translated), or
    None. `personal` lists what the person's own details make guessable (name, email)."""
    from flask_babel import gettext
    from zxcvbn import zxcvbn

    if len(password) < MIN_LENGTH:
        return gettext("Use at least %(count)d characters: a few unrelated words make a strong password.",
                       count=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return gettext("Use at most %(count)d characters.", count=MAX_LENGTH)
    if any(ord(character) < 32 or ord(character) == 127 for character in password):
        return gettext("Use only letters, numbers, spaces and punctuation: no tabs or control characters.")
    words = [part for value in personal if value for part in value.replace("@", " ").replace(".", " ").split()]
    squashed = "".join(password.lower().split())
    if any(len(word) >= 3 and word.lower() in squashed for word in words):
        return gettext("This password would be easy to guess: it contains your name or email address. "
                       "Add more words that are not about you.")
    verdict = zxcvbn(password[:100], user_inputs=words)
    if verdict["score"] >= MIN_SCORE:
        return None
    warning = verdict["feedback"].get("warning") or ""
    reason = _ZXCVBN_WARNINGS.get(warning)
    if reason is None:
        return gettext("This password would be easy to guess. Add more words that are not about you.")
    return gettext("This password would be easy to guess: %(reason)s Add more words that are not about you.",
                   reason=gettext(reason))


def N_(message: str) -> str:
    return message


# zxcvbn's warnings, worded for casemgr and in the catalog
_ZXCVBN_WARNINGS = {
    "This is a top-10 common password.": N_("it is one of the most common passwords."),
    "This is a top-100 common password.": N_("it is one of the most common passwords."),
    "This is a very common password.": N_("it is a very common password."),
    "This is similar to a commonly used password.": N_("it is close to a common password."),
    "A word by itself is easy to guess.": N_("a single word is easy to guess."),
    "Names and surnames by themselves are easy to guess.": N_("names on their own are easy to guess."),
    "Common names and surnames are easy to guess.": N_("common names are easy to guess."),
    "Straight rows of keys are easy to guess.": N_("rows of keys on the keyboard are easy to guess."),
    "Short keyboard patterns are easy to guess.": N_("keyboard patterns are easy to guess."),
    'Repeats like "aaa" are easy to guess.': N_("repeated characters are easy to guess."),
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': N_("repeated words are easy to guess."),
    "Sequences like abc or 6543 are easy to guess.": N_("sequences like abc or 6543 are easy to guess."),
    "Recent years are easy to guess.": N_("years are easy to guess."),
    "Dates are often easy to guess.": N_("dates are easy to guess."),
}
