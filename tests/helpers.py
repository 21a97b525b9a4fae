"""Small helpers shared by the tests."""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pyotp
import sqlalchemy as sa

from casemgr import two_factor
from casemgr.extensions import db
from casemgr.models import User
from tests.factories import PASSWORD

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
SECOND_STEP = "/login/two-factor"


def csrf_token(client, path: str = "/login") -> str:
    html = client.get(path, follow_redirects=True).get_data(as_text=True)
    match = _CSRF.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def login(client, user, password: str = PASSWORD, next: str | None = None):
    """Sign in as `user`; when the account has a second factor, complete that step too
    with a code from its authenticator key (the response of the last step)."""
    path = "/login" + (f"?next={next}" if next else "")
    token = csrf_token(client)
    response = client.post(path, data={"email": user.email, "password": password, "csrf_token": token})
    location = response.headers.get("Location", "")
    if response.status_code == 302 and location.startswith(SECOND_STEP):
        response = client.post(location, data={"code": totp_code(user), "csrf_token": csrf_token(client, location)})
    return response


def totp_code(user) -> str:
    """A code of `user`'s authenticator for a time step the app accepts and that is
    later than the last one used: now, else the next step. Signing one person in more
    than twice within 30 seconds would run out of such steps: the helper then forgets
    the last step used, as if half a minute had passed."""
    secret, last = db.session.execute(
        sa.select(User.totp_secret, User.totp_last_counter).where(User.id == user.id)
    ).one()
    now = two_factor.current_step()
    if last is None or last < now:
        step = now
    elif last == now:
        step = now + 1
    else:
        db.session.execute(sa.update(User).where(User.id == user.id).values(totp_last_counter=None))
        step = now
    return pyotp.TOTP(secret).generate_otp(step)


def logout(client):
    token = csrf_token(client, "/")
    return client.post("/logout", data={"csrf_token": token})


def import_result(client, response, *, timeout: float = 300):
    """An upload's answer is the way to its batch page (303); the page of the batch once
    its import has ended, its status fragment polled as the page's htmx does (the
    timeout only guards against a hang)."""
    import time
    from urllib.parse import urlsplit

    assert response.status_code == 303, response.get_data(as_text=True)
    page = urlsplit(response.headers["Location"]).path
    deadline = time.monotonic() + timeout
    while 'hx-trigger="load delay:1s"' in client.get(f"{page}/status", headers={"HX-Request": "true"}).get_data(
            as_text=True):
        assert time.monotonic() < deadline, f"the import at {page} did not end"
        time.sleep(0.2)
    return client.get(page)


def students_logged(*where) -> list[int]:
    """The students named by the disclosure log's rows that match `where`, each as often
    as a row names them: a view's student, and every student of a list view."""
    from casemgr.models import DisclosureEntry

    rows = db.session.execute(sa.select(DisclosureEntry.student_id, DisclosureEntry.student_ids).where(*where)).all()
    return [i for r in rows for i in ([r.student_id] if r.student_id is not None else r.student_ids or [])]


@contextmanager
def statements_counted() -> Iterator[list[int]]:
    """The number of statements sent to the database inside the block, in `counted[0]`."""
    counted = [0]

    def count(*args, **kwargs):
        counted[0] += 1

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield counted
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
