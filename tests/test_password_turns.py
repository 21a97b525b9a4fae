"""Password checks take turns (casemgr/passwords.py): at most the limit's number of
checks at once across processes, each check gives its turn back, a process killed during
its turn gives it back too (the kernel releases its lock), and a turn not given in time
does not stop sign-ins."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import textwrap

import pytest

from casemgr import passwords
from casemgr.gunicorn_conf import password_checks, post_fork

SECRET = "lantern orchard cobalt meadow"


@pytest.fixture
def limit_of(monkeypatch, tmp_path):
    """Sets the limit for this test, with its own slot folder; restored afterwards."""
    monkeypatch.setattr(passwords, "CONCURRENT_HASHES", passwords.CONCURRENT_HASHES)
    monkeypatch.setattr(passwords, "_slot_folder", passwords._slot_folder)

    def set_limit(count: int):
        passwords.set_hashing_limit(count, tmp_path)
        return tmp_path

    return set_limit


class Holder:
    """Another process that takes a turn and keeps it until it is killed."""

    def __init__(self, folder, count: int):
        code = textwrap.dedent(f"""
            import sys, time
            from pathlib import Path
            from casemgr import passwords
            passwords.set_hashing_limit({count}, Path({str(folder)!r}))
            with passwords._turn() as slot:
                print(slot, flush=True)
                time.sleep(600)
        """)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        self.process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
        self.slot = int(self.process.stdout.readline())

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.process.stdout.close()


@pytest.fixture
def holders():
    started: list[Holder] = []

    def start(folder, count):
        started.append(Holder(folder, count))
        return started[-1]

    yield start
    for holder in started:
        if holder.process.poll() is None:
            holder.kill()


def take_a_turn(taken: list) -> None:
    with passwords._turn() as slot:
        taken.append(slot)


def test_a_check_takes_a_turn_and_gives_it_back(limit_of):
    limit_of(1)
    stored = passwords.hash_password(SECRET)
    assert passwords.verify_password(stored, SECRET)
    assert not passwords.verify_password(stored, "another password entirely")
    with passwords._turn() as slot:  # every turn was given back: the only one is free
        assert slot == 0


def test_a_process_killed_during_its_turn_gives_it_back(limit_of, holders, monkeypatch):
    folder = limit_of(1)
    holder = holders(folder, 1)
    assert holder.slot == 0
    monkeypatch.setattr(passwords, "TURN_WAIT_SECONDS", 0)
    with passwords._turn() as slot:
        assert slot is None  # taken by the other process
    holder.kill()
    with passwords._turn() as slot:
        assert slot == 0


def test_one_more_check_than_the_limit_waits_for_a_turn(limit_of, holders, monkeypatch):
    folder = limit_of(2)
    first, second = holders(folder, 2), holders(folder, 2)
    assert {first.slot, second.slot} == {0, 1}
    monkeypatch.setattr(passwords, "TURN_WAIT_SECONDS", 0)
    with passwords._turn() as slot:
        assert slot is None
    monkeypatch.setattr(passwords, "TURN_WAIT_SECONDS", 600.0)
    taken = []
    waiter = threading.Thread(target=take_a_turn, args=(taken,))
    waiter.start()
    first.kill()  # until now both slots were held: the waiter can only have the freed one
    waiter.join()
    assert taken == [first.slot]


def test_threads_of_one_process_take_turns_too(limit_of, monkeypatch):
    limit_of(1)
    monkeypatch.setattr(passwords, "TURN_WAIT_SECONDS", 0)
    with passwords._turn() as slot:
        assert slot == 0
        taken = []
        thread = threading.Thread(target=take_a_turn, args=(taken,))
        thread.start()
        thread.join()
        assert taken == [None]


def test_a_turn_never_given_does_not_stop_sign_ins(limit_of, holders, monkeypatch):
    folder = limit_of(1)
    holders(folder, 1)
    monkeypatch.setattr(passwords, "TURN_WAIT_SECONDS", 0.05)
    stored = passwords.hash_password(SECRET)  # waits out its turn, then runs
    assert passwords.verify_password(stored, SECRET)
    assert not passwords.verify_password(stored, "another password entirely")


def test_gunicorns_workers_share_the_limit(monkeypatch):
    monkeypatch.setattr(passwords, "CONCURRENT_HASHES", passwords.CONCURRENT_HASHES)
    monkeypatch.setattr(passwords, "_slot_folder", passwords._slot_folder)
    post_fork(server=None, worker=None)
    assert passwords.CONCURRENT_HASHES == password_checks
    assert passwords.slot_folder().name == "password-checks"
