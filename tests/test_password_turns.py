"""Password checks take turns (casemgr/passwords.py): the limit gunicorn's worker
processes share is used when given, each check gives its turn back, and a turn never
given (a process killed during its turn) does not stop sign-ins."""
from __future__ import annotations

import multiprocessing
import threading

import pytest

from casemgr import passwords
from casemgr.gunicorn_conf import password_checks, post_fork

SECRET = "lantern orchard cobalt meadow"


@pytest.fixture
def shared_limit(monkeypatch):
    limit = multiprocessing.BoundedSemaphore(1)
    monkeypatch.setattr(passwords, "_hashing", passwords._hashing)  # restored after the test
    passwords.share_hashing_limit(limit)
    return limit


def test_a_check_takes_the_shared_turn_and_gives_it_back(shared_limit):
    stored = passwords.hash_password(SECRET)
    assert passwords.verify_password(stored, SECRET)
    assert not passwords.verify_password(stored, "another password entirely")
    # every turn was given back: the only one is free
    assert shared_limit.acquire(block=False)
    shared_limit.release()


def test_a_turn_never_given_back_does_not_stop_sign_ins(shared_limit, monkeypatch):
    stored = passwords.hash_password(SECRET)
    monkeypatch.setattr(passwords, "TURN_WAIT_SECONDS", 0.05)
    assert shared_limit.acquire(block=False)  # held for good, as by a killed process
    assert passwords.verify_password(stored, SECRET)
    assert not passwords.verify_password(stored, "another password entirely")
    shared_limit.release()  # the check did not give back a turn it never had
    with pytest.raises(ValueError):
        shared_limit.release()


def test_only_one_check_at_a_time_with_one_turn(shared_limit, monkeypatch):
    stored = passwords.hash_password(SECRET)
    monkeypatch.setattr(passwords, "TURN_WAIT_SECONDS", 60.0)
    shared_limit.acquire()
    finished = threading.Event()
    checker = threading.Thread(target=lambda: passwords.verify_password(stored, SECRET) and finished.set())
    checker.start()
    assert not finished.wait(0.5)  # waiting for its turn
    shared_limit.release()
    checker.join(passwords.TURN_WAIT_SECONDS + 10)
    assert finished.is_set()


def test_gunicorns_workers_use_the_limit_made_before_they_fork(monkeypatch):
    monkeypatch.setattr(passwords, "_hashing", passwords._hashing)
    post_fork(server=None, worker=None)
    assert passwords._hashing is password_checks
