"""Throttling of the forms that take a secret: a password, a second-factor code, a
claim code, a reset or invitation link (issue 11 item 7, SPEC §8).

A view opts in with one line under its route:

    @bp.route("/login", methods=["GET", "POST"])
    @throttled(account=posted_email)

Its POSTs are then counted twice with Flask-Limiter: per account (the value `account`
reads from the request: the email posted, or the token or code) and per network address
(shared by every throttled form, so guessing cannot be spread over them). Only FAILED
attempts count, that is answers 400-499 other than 429: a person who gets it right is
never counted. Once a limit is reached the view does not run at all (no password is
checked, nothing is written) and the answer is a 429 page saying when to try again
(casemgr/views/errors.py).

The limits are settings (THROTTLE_PER_ACCOUNT, THROTTLE_PER_ADDRESS), read on each
request. Counters live in the worker's memory, or in Redis when RATELIMIT_STORAGE_URI
(CASEMGR_RATELIMIT_STORAGE) names one, as more than one worker needs. When Redis does
not answer, each worker counts in its own memory until it does: sign-in stays up and
throttled. Each app gets its own Limiter, so the counters of two apps in one process
(the tests make several) never mix.
"""
from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from collections.abc import Callable
from functools import partial

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter

from casemgr.config import ratelimit_storage

EXTENSION = "casemgr_throttle"
ACCOUNT_SCOPE = "account"
ADDRESS_SCOPE = "attempts-from-address"  # one count per address over every throttled form
REDIS_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 2}

AccountReader = Callable[[], "str | None"]


def failed(response: Response) -> bool:
    """The attempt failed: a wrong password or code, a used link, a form refused."""
    return 400 <= response.status_code < 500 and response.status_code != 429


def throttled(account: AccountReader, failed: Callable[[Response], bool] = failed):
    """Marks a view whose POSTs are throttled per account (what `account` reads from the
    request) and per network address; init_app applies the limits. `failed` tells a
    failed attempt by its response, for a view that answers a wrong code otherwise than
    with 4xx."""

    def mark(view):
        view.throttle_account = account
        view.throttle_failed = failed
        return view

    return mark


def every_attempt(response: Response) -> bool:
    """For a form that sends mail whatever is asked (a reset link, a fresh invitation):
    every answer counts, so nobody's inbox can be flooded."""
    return response.status_code != 429


def posted_email() -> str:
    """The account a sign-in or reset form names: the email posted, as it is stored."""
    return request.form.get("email", "").strip().lower()


def posted(field: str) -> AccountReader:
    """The account a code form names: the code posted, without spaces or dashes, in
    capitals (as a person may retype a printed code)."""
    return lambda: "".join(ch for ch in request.form.get(field, "") if ch not in " -").upper()


def from_url(argument: str) -> AccountReader:
    """The account a link names: its token, from the URL."""
    return lambda: str((request.view_args or {}).get(argument) or "")


def network_address() -> str:
    """The client's address (ProxyFix has put the forwarded one there behind declared
    proxies); an IPv6 address counts by its /64, which one household or device holds."""
    address = request.remote_addr or "unknown"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def account_key(account: AccountReader) -> str:
    """A digest of the account, so neither emails nor tokens are kept in the counters'
    storage; an empty value has its own count."""
    value = account() or ""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _per_account() -> str:
    return current_app.config["THROTTLE_PER_ACCOUNT"]


def _per_address() -> str:
    return current_app.config["THROTTLE_PER_ADDRESS"]


def _new_limiter(app: Flask) -> Limiter:
    uri = ratelimit_storage(app.config.get("RATELIMIT_STORAGE_URI") or "memory://")
    prefix = app.config.get("RATELIMIT_KEY_PREFIX") or "casemgr"
    options = {} if uri.startswith("memory") else {"key_prefix": prefix, **REDIS_OPTIONS}
    return Limiter(
        network_address,
        storage_uri=uri,
        storage_options=options,
        strategy="moving-window",  # the count is of the last minute (hour), not of the clock's minute
        fail_on_first_breach=False,  # every breached limit is known, so the wait told is the longest
        in_memory_fallback_enabled=True,
        swallow_errors=True,
    )


def init_app(app: Flask) -> None:
    """Give the app its limiter and apply the limits to every view marked throttled;
    call after the blueprints are registered (again after registering more)."""
    limiter = app.extensions.get(EXTENSION)
    if limiter is None:
        limiter = _new_limiter(app)
        limiter.init_app(app)
        app.extensions[EXTENSION] = limiter
        in_memory = str(app.config.get("RATELIMIT_STORAGE_URI") or "memory://").startswith("memory")
        if in_memory and app.config.get("ENV_NAME") == "production":
            app.logger.warning("casemgr: failed sign-ins are counted in each worker's memory; with more than "
                               "one worker, set CASEMGR_RATELIMIT_STORAGE=redis://...")
    for endpoint, view in list(app.view_functions.items()):
        account = getattr(view, "throttle_account", None)
        if account is None or getattr(view, "throttle_applied", False):
            continue
        counted = getattr(view, "throttle_failed", failed)
        per_account = limiter.limit(
            _per_account, key_func=partial(account_key, account), scope=ACCOUNT_SCOPE,
            methods=["POST"], deduct_when=counted,
        )
        per_address = limiter.shared_limit(
            _per_address, scope=ADDRESS_SCOPE, key_func=network_address, methods=["POST"], deduct_when=counted,
        )
        wrapped = per_address(per_account(view))
        wrapped.throttle_applied = True
        app.view_functions[endpoint] = wrapped


def limiter_of(app: Flask) -> Limiter:
    return app.extensions[EXTENSION]


def seconds_to_wait() -> int:
    """After a throttled request: seconds until every limit it reached allows another
    attempt (at least 1)."""
    now = time.time()
    try:
        breached = [limit for limit in limiter_of(current_app).current_limits if limit.breached]
        # the window's own end: RequestLimit.reset_at rounds it up a second, a minute's
        # wait would then read "2 minutes"
        until = max((limit.window[0] for limit in breached), default=now + 60)
    except Exception:  # the storage stopped answering in between: a safe guess
        until = now + 60
    return max(1, math.ceil(until - now))


def reset(app: Flask) -> None:
    """Forget every count (the tests start each test with none)."""
    limiter_of(app).reset()
