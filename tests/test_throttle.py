"""Throttling of the forms that take a secret (issue 11 item 7): per account and per
network address, failed attempts only, a 429 page that says when to try again.

Every throttled form is one entry of THROTTLED_FORMS; the tests run for each. A new
throttled endpoint (second factor, claim code, reset request, invitation acceptance)
adds an entry: how to make the account it names and how to post a wrong and a right
attempt for it.
"""
from __future__ import annotations

import re
import time
import uuid
from datetime import date, timedelta
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from casemgr import throttle
from casemgr.config import Config, ConfigError
from casemgr.extensions import db
from casemgr.models import AccountEvent, User
from casemgr.models.enums import Role
from casemgr.models.enums import TokenPurpose
from casemgr.services import account_links, family_accounts
from casemgr.throttle import every_attempt
from tests.conftest import RequestIsolatedClient, make_app
from tests.factories import PASSWORD, create_guardian, create_school, create_student, create_user
from tests.helpers import csrf_token, totp_code

WRONG_PASSWORD = "not the password at all"


@dataclass(frozen=True)
class ThrottledForm:
    endpoint: str
    make_account: Callable[[], str]  # creates what the form names; returns the value posted for it
    post_wrong: Callable[[FlaskClient, str, str], TestResponse]  # (client, account, csrf token)
    post_right: Callable[[FlaskClient, str, str], TestResponse]
    right_status: int  # what a right attempt answers when not throttled
    spent_by_five_failures: bool = False  # the thing named is void after five failures (a letter)
    counted: Callable[[TestResponse], bool] = throttle.failed  # which answers count (mail-sending forms: all)


def _new_staff_email() -> str:
    return create_user(Role.COUNSELOR, email=f"throttle-{uuid.uuid4().hex[:12]}@example.test").email


def _sign_in(password: str):
    def post(client, email, token):
        return client.post("/login", data={"email": email, "password": password, "csrf_token": token})

    return post


def _new_admin_email() -> str:
    """A district admin, who has a second factor (tests.factories)."""
    return create_user(Role.DISTRICT_ADMIN, email=f"throttle-{uuid.uuid4().hex[:12]}@example.test").email


def _second_factor(right: bool):
    """The password (right, so not counted), then a code: the admin's current one, or a
    six-digit code that is not."""
    def post(client, email, token):
        # each step begins a fresh session, with a CSRF token of its own
        password_step = _sign_in(PASSWORD)(client, email, csrf_token(client))
        if password_step.status_code == 429:  # the address is paused on every throttled form
            return password_step
        assert password_step.headers["Location"].startswith("/login/two-factor")
        user = db.session.scalar(sa.select(User).where(User.email == email))
        code = totp_code(user)
        if not right:
            code = f"{(int(code) + 500_000) % 1_000_000:06d}"
        return client.post("/login/two-factor", data={"code": code, "csrf_token": csrf_token(client, "/login/two-factor")})

    return post


BIRTH = date(2011, 5, 4)


def _new_letter_code() -> str:
    """A printed letter for a guardian of a new student; the code on it."""
    school = create_school()
    child = create_student(school, birth_date=BIRTH)
    create_guardian(child)
    [claimant] = family_accounts.claimants(child)
    _, code = family_accounts.issue_letter(claimant, "en", create_user(Role.COUNSELOR, school))
    return code


def _claim(birth_date: date):
    def post(client, code, token):
        return client.post("/claim", data={"code": code, "birth_date": birth_date.isoformat(), "csrf_token": token})

    return post


def _emailed_link(purpose: TokenPurpose, lifetime: timedelta):
    """An account with a link of `purpose` (an invitation: not yet accepted); the token."""
    def make() -> str:
        fields = {"password_hash": None} if purpose is TokenPurpose.INVITATION else {}
        user = create_user(Role.TEACHER, email=f"throttle-{uuid.uuid4().hex[:12]}@example.test", **fields)
        return account_links.issue(user, purpose, lifetime, None)

    return make


def _choose_password(path: str, password: str):
    def post(client, token, csrf):
        return client.post(path.format(token=token), data={"password": password, "confirm": password, "csrf_token": csrf})

    return post


def _forgot(client, email, token):
    return client.post("/password/forgot", data={"email": email, "csrf_token": token})


def _renew(client, token, csrf):
    return client.post(f"/invitations/{token}/renew", data={"csrf_token": csrf})


STRONG = "quartz lantern meadow violin"

THROTTLED_FORMS = [
    ThrottledForm("auth.login", _new_staff_email, _sign_in(WRONG_PASSWORD), _sign_in(PASSWORD), 302),
    ThrottledForm("two_factor.sign_in", _new_admin_email, _second_factor(False), _second_factor(True), 302),
    ThrottledForm("claim.start", _new_letter_code, _claim(BIRTH.replace(day=5)), _claim(BIRTH), 302,
                  spent_by_five_failures=True),
    ThrottledForm("accounts.invitation", _emailed_link(TokenPurpose.INVITATION, timedelta(days=7)),
                  _choose_password("/invitations/{token}", "short"), _choose_password("/invitations/{token}", STRONG),
                  302),
    ThrottledForm("accounts.reset_password", _emailed_link(TokenPurpose.PASSWORD_RESET, timedelta(minutes=30)),
                  _choose_password("/password/reset/{token}", "short"),
                  _choose_password("/password/reset/{token}", STRONG), 302),
    # every request for a reset link or a fresh invitation counts: each sends mail
    ThrottledForm("accounts.forgot_password", _new_staff_email, _forgot, _forgot, 200, counted=every_attempt),
    ThrottledForm("accounts.renew_invitation", _emailed_link(TokenPurpose.INVITATION, timedelta(seconds=-1)),
                  _renew, _renew, 200, counted=every_attempt),
]


@pytest.fixture(params=THROTTLED_FORMS, ids=lambda form: form.endpoint)
def form(request):
    return request.param


def _events(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AccountEvent))


def _fail(client, form, account, token, times: int) -> None:
    for attempt in range(times):
        response = form.post_wrong(client, account, token)
        assert form.counted(response), f"attempt {attempt + 1}: {response.status_code}"


def test_a_right_attempt_is_answered_when_nothing_failed(client, db, form):
    account = form.make_account()
    response = form.post_right(client, account, csrf_token(client))
    assert response.status_code == form.right_status


def test_the_sixth_failure_in_a_minute_is_refused_and_changes_nothing(client, db, form):
    account = form.make_account()
    token = csrf_token(client)
    _fail(client, form, account, token, 5)
    events = _events(db)

    throttled = form.post_wrong(client, account, token)
    assert throttled.status_code == 429
    # even the right answer is not looked at now: no check runs, nothing is written
    right = form.post_right(client, account, token)
    assert right.status_code == 429
    assert _events(db) == events
    assert client.get("/").status_code == 302  # still signed out


def test_the_page_says_when_to_try_again(client, db, form):
    account = form.make_account()
    token = csrf_token(client)
    _fail(client, form, account, token, 5)
    response = form.post_wrong(client, account, token)
    assert response.status_code == 429
    assert 50 <= int(response.headers["Retry-After"]) <= 60
    html = response.get_data(as_text=True)
    assert "Too many attempts" in html
    assert re.search(r"Please try again in 1 minute, at \d{1,2}:\d{2}\s?[AP]M\.", html), html
    assert "<html" in html


def test_the_page_is_in_spanish_for_a_spanish_browser(client, db, form):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    account = form.make_account()
    token = csrf_token(client)
    _fail(client, form, account, token, 5)
    response = form.post_wrong(client, account, token)
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert "Demasiados intentos" in html
    assert re.search(r"Vuelva a intentarlo en 1 minuto, a las \d{1,2}:\d{2}", html), html


def test_htmx_gets_the_fragment(client, db, form):
    account = form.make_account()
    token = csrf_token(client)
    _fail(client, form, account, token, 5)
    client.environ_base["HTTP_HX_REQUEST"] = "true"
    response = form.post_wrong(client, account, token)
    assert response.status_code == 429
    assert response.headers["Retry-After"]
    html = response.get_data(as_text=True)
    assert "<html" not in html and "Please try again in" in html


def test_one_throttled_account_leaves_the_others_alone(client, db, form):
    account, other = form.make_account(), form.make_account()
    token = csrf_token(client)
    _fail(client, form, account, token, 5)
    assert form.post_wrong(client, account, token).status_code == 429
    assert form.counted(form.post_wrong(client, other, token))
    assert form.post_right(client, other, token).status_code == form.right_status


def test_one_address_is_throttled_over_many_accounts(app, db, form):
    """30 failures a minute from one address, whichever accounts they name; a school
    behind one address keeps working until then, and other addresses are not touched."""
    app.test_client_class = RequestIsolatedClient
    school = app.test_client()
    school.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    token = csrf_token(school)
    for _ in range(6):
        _fail(school, form, form.make_account(), token, 5)
    fresh = form.make_account()
    assert form.post_wrong(school, fresh, token).status_code == 429

    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "203.0.113.50"
    assert form.post_right(elsewhere, fresh, csrf_token(elsewhere)).status_code == form.right_status


def test_ipv6_addresses_count_by_their_64_block(app, db, form):
    app.test_client_class = RequestIsolatedClient
    first, second = app.test_client(), app.test_client()
    first.environ_base["REMOTE_ADDR"] = "2001:db8:1:2::10"
    second.environ_base["REMOTE_ADDR"] = "2001:db8:1:2:ffff::99"
    token_first, token_second = csrf_token(first), csrf_token(second)
    for n in range(6):
        client, token = (first, token_first) if n % 2 else (second, token_second)
        _fail(client, form, form.make_account(), token, 5)
    assert form.post_wrong(first, form.make_account(), token_first).status_code == 429


def test_the_wait_told_is_for_the_longest_limit_reached(app, client, db, form, monkeypatch):
    """A short window lets the test see a count expire; the hourly limit then still holds,
    and the page gives its wait, not the short one's."""
    monkeypatch.setitem(app.config, "THROTTLE_PER_ACCOUNT", "2 per 2 seconds; 3 per hour")
    account = form.make_account()
    token = csrf_token(client)
    _fail(client, form, account, token, 2)
    response = form.post_wrong(client, account, token)
    assert response.status_code == 429
    wait = int(response.headers["Retry-After"])
    assert 1 <= wait <= 3
    time.sleep(wait)
    _fail(client, form, account, token, 1)  # the short window has passed
    response = form.post_wrong(client, account, token)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 3500
    assert "Please try again in 60 minutes" in response.get_data(as_text=True)


def test_the_limits_are_settings(app, client, db, form, monkeypatch):
    monkeypatch.setitem(app.config, "THROTTLE_PER_ACCOUNT", "2 per minute")
    account = form.make_account()
    token = csrf_token(client)
    _fail(client, form, account, token, 2)
    assert form.post_wrong(client, account, token).status_code == 429


def test_a_get_is_never_counted(client, db):
    for _ in range(40):
        assert client.get("/login").status_code == 200


def test_right_sign_ins_are_never_counted(client, db):
    user = create_user(Role.COUNSELOR)
    for _ in range(8):
        token = csrf_token(client)
        response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    token = csrf_token(client)
    _fail(client, THROTTLED_FORMS[0], user.email, token, 5)  # all five failures still allowed


def test_the_account_is_the_email_as_stored(client, db):
    email = _new_staff_email()
    token = csrf_token(client)
    for spelling in (email, email.upper(), f"  {email} ", email.title(), email):
        assert client.post("/login", data={"email": spelling, "password": WRONG_PASSWORD, "csrf_token": token}).status_code == 401
    assert _sign_in(PASSWORD)(client, email, token).status_code == 429


@pytest.mark.parametrize("email", ["", "x" * 10_000, "nul\x00@example.test"])
def test_odd_emails_are_counted_without_error(client, db, email):
    token = csrf_token(client)
    for _ in range(5):
        response = client.post("/login", data={"email": email, "password": WRONG_PASSWORD, "csrf_token": token})
        assert response.status_code in (400, 401)
    assert client.post("/login", data={"email": email, "password": WRONG_PASSWORD, "csrf_token": token}).status_code == 429


def test_counters_keep_no_email(app, client, db):
    email = _new_staff_email()
    _fail(client, THROTTLED_FORMS[0], email, csrf_token(client), 1)
    storage = throttle.limiter_of(app).storage
    assert not any(email in key for key in storage.events), list(storage.events)


# --- where the counters live ------------------------------------------------------------


@pytest.mark.parametrize("given", ["memcached://cache:11211", "http://redis:6379", "redis-host:6379", "mongodb://x"])
def test_a_wrong_storage_url_is_one_clear_line(given):
    with pytest.raises(ConfigError, match="CASEMGR_RATELIMIT_STORAGE must be a redis://") as raised:
        Config.from_environ({"CASEMGR_RATELIMIT_STORAGE": given})
    assert "\n" not in str(raised.value)


def test_a_wrong_storage_url_in_the_settings_stops_the_app(database_url):
    with pytest.raises(ConfigError, match="CASEMGR_RATELIMIT_STORAGE"):
        make_app(database_url, RATELIMIT_STORAGE_URI="memcached://cache:11211")


@pytest.mark.parametrize("given", ["redis://cache:6379/0", "rediss://u:p@cache:6380/1", "redis+unix:///run/redis.sock"])
def test_redis_urls_are_taken(given):
    assert Config.from_environ({"CASEMGR_RATELIMIT_STORAGE": given})["RATELIMIT_STORAGE_URI"] == given


def test_limits_come_from_the_environment():
    settings = Config.from_environ({"CASEMGR_THROTTLE_PER_ACCOUNT": "3 per minute; 10 per hour",
                                    "CASEMGR_THROTTLE_PER_ADDRESS": "100/minute"})
    assert settings["THROTTLE_PER_ACCOUNT"] == "3 per minute; 10 per hour"
    assert settings["THROTTLE_PER_ADDRESS"] == "100/minute"
    with pytest.raises(ConfigError, match="CASEMGR_THROTTLE_PER_ACCOUNT must read like"):
        Config.from_environ({"CASEMGR_THROTTLE_PER_ACCOUNT": "five a minute"})


def _worker(database_url, storage: str, prefix: str):
    app = make_app(database_url, RATELIMIT_STORAGE_URI=storage, RATELIMIT_KEY_PREFIX=prefix)
    app.test_client_class = RequestIsolatedClient
    return app


@pytest.fixture()
def redis_workers(database_url, redis_url, db):
    """Two workers (apps) counting in one real Redis, under a prefix of their own."""
    prefix = f"casemgr-test-{uuid.uuid4().hex[:10]}"
    workers = [_worker(database_url, redis_url, prefix) for _ in range(2)]
    yield workers
    throttle.reset(workers[0])


def test_workers_count_together_in_redis(redis_workers, redis_url, form):
    import redis

    first, second = (worker.test_client() for worker in redis_workers)
    account = form.make_account()
    _fail(first, form, account, csrf_token(first), 3)
    _fail(second, form, account, csrf_token(second), 2)
    # five failures over two workers: both refuse the sixth
    assert form.post_wrong(first, account, csrf_token(first)).status_code == 429
    response = form.post_right(second, account, csrf_token(second))
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 50

    prefix = redis_workers[0].config["RATELIMIT_KEY_PREFIX"]
    keys = [key.decode() for key in redis.Redis.from_url(redis_url).keys(f"{prefix}:*")]
    assert keys and not any(account in key for key in keys)
    throttle.reset(redis_workers[0])
    assert not redis.Redis.from_url(redis_url).keys(f"{prefix}:*")
    if form.spent_by_five_failures:  # counts forgotten, but five wrong birth dates voided the letter
        account = form.make_account()
    assert form.post_right(first, account, csrf_token(first)).status_code == form.right_status


def test_without_redis_each_worker_still_throttles(database_url, db, form):
    """Redis down: sign-in keeps working, counted in the worker's memory, never a 500."""
    worker = _worker(database_url, "redis://127.0.0.1:1/0", f"casemgr-test-{uuid.uuid4().hex[:10]}")
    client = worker.test_client()
    account = form.make_account()
    token = csrf_token(client)
    _fail(client, form, account, token, 5)
    assert form.post_wrong(client, account, token).status_code == 429
    other = form.make_account()
    assert form.post_right(client, other, token).status_code == form.right_status


def test_behind_a_declared_proxy_each_forwarded_address_counts_alone(database_url, db, form):
    """With CASEMGR_PROXIES set, the address counted is the client's, not the proxy's:
    one busy school does not pause everybody else behind the same proxy."""
    app = make_app(database_url, PROXIES=1)
    app.test_client_class = RequestIsolatedClient
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    school, home = app.test_client(), app.test_client()
    school.environ_base.update(proxy, HTTP_X_FORWARDED_FOR="198.51.100.20")
    home.environ_base.update(proxy, HTTP_X_FORWARDED_FOR="203.0.113.77")
    token = csrf_token(school)
    for _ in range(6):
        _fail(school, form, form.make_account(), token, 5)
    assert form.post_wrong(school, form.make_account(), token).status_code == 429
    fresh = form.make_account()
    assert form.post_right(home, fresh, csrf_token(home)).status_code == form.right_status


def test_the_operator_sees_one_line_for_a_wrong_storage_url():
    from tests.test_config import run_cli

    result = run_cli("db", "upgrade", CASEMGR_RATELIMIT_STORAGE="memcached://cache:11211",
                     DATABASE_URL="postgresql://casemgr@127.0.0.1:1/casemgr")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "CASEMGR_RATELIMIT_STORAGE must be a redis://" in lines[0]


# --- what counts as the account and the address -----------------------------------------


@pytest.mark.parametrize("remote, counted", [
    ("198.51.100.7", "198.51.100.7"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("::ffff:198.51.100.7", "198.51.100.7"),
    (None, "unknown"),
])
def test_the_address_counted(app, remote, counted):
    environ = {"REMOTE_ADDR": remote} if remote else {}
    with app.test_request_context("/login", environ_base=environ):
        if remote is None:
            from flask import request

            request.environ.pop("REMOTE_ADDR", None)
        assert throttle.network_address() == counted


def test_a_code_is_counted_however_it_is_typed(app):
    reader = throttle.posted("code")
    keys = set()
    for typed in ("ab12-cd34", "AB12 CD34", "ab12cd34"):
        with app.test_request_context("/x", method="POST", data={"code": typed}):
            keys.add(throttle.account_key(reader))
    assert len(keys) == 1


def test_a_link_is_counted_by_its_token(database_url):
    reader = throttle.from_url("token")
    app = make_app(database_url)
    app.add_url_rule("/_probe/<token>", "probe_token", lambda token: token)
    keys = set()
    for token in ("abc", "abd", "abc"):
        with app.test_request_context(f"/_probe/{token}"):
            keys.add(throttle.account_key(reader))
    assert len(keys) == 2


def test_a_view_may_say_what_a_failure_is(database_url, db):
    """A form that answers a wrong code with 200 (the form again) counts it when told."""
    from flask import Blueprint, request

    bp = Blueprint("probe", __name__)

    @bp.post("/_probe/code")
    @throttle.throttled(account=throttle.posted("code"), failed=lambda response: b"wrong" in response.data)
    def check_code():
        return "right" if request.form.get("code") == "OPEN" else "wrong"

    app = make_app(database_url, WTF_CSRF_ENABLED=False)
    app.register_blueprint(bp)  # after create_app: the limits are applied to it as create_app does
    throttle.init_app(app)
    assert app.view_functions["auth.login"].throttle_applied  # the sign-in keeps its one set of limits
    client = app.test_client()
    for _ in range(5):
        assert client.post("/_probe/code", data={"code": "guess"}).status_code == 200
    assert client.post("/_probe/code", data={"code": "guess"}).status_code == 429
    assert client.post("/_probe/code", data={"code": "open"}).status_code == 200  # another account


def test_production_in_memory_says_what_more_workers_need(caplog):
    from flask import Flask

    def bare_app(**config) -> Flask:
        app = Flask(__name__)
        app.config.update(config)
        throttle.init_app(app)
        return app

    bare_app(ENV_NAME="production")
    assert "CASEMGR_RATELIMIT_STORAGE=redis://" in caplog.text
    caplog.clear()
    bare_app(ENV_NAME="production", RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0")
    bare_app(ENV_NAME="development")
    assert "CASEMGR_RATELIMIT_STORAGE" not in caplog.text
