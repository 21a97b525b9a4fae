"""Error pages that say what happened and reveal nothing else."""
from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from flask import Flask, g
from flask_babel import format_time, ngettext
from flask_babel import lazy_gettext as _l
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from casemgr import throttle
from casemgr.extensions import db
from casemgr.views.rendering import render

MESSAGES = {
    400: (_l("Something was wrong with that request"), _l("Please go back, check the form and try again.")),
    401: (_l("Please sign in"), _l("You need to sign in to see this page.")),
    403: (_l("Not allowed"), _l("Your account does not have access to this page.")),
    404: (_l("Page not found"), _l("There is no page at this address, or it is not available to you.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way.")),
    413: (_l("Too large"), _l("That upload is larger than casemgr accepts.")),
    429: (_l("Too many attempts"), _l("Please wait a few minutes and try again.")),
    500: (_l("Something went wrong"), _l("casemgr could not finish that request. Nothing was changed. Please try again.")),
}


def error_page(status: int, title: str | None = None, message: str | None = None, **context):
    default_title, default_message = MESSAGES.get(status, MESSAGES[500])
    return render(
        "errors/error.html",
        "errors/_error.html",
        status=status,
        code=status,
        title=title or default_title,
        message=message or default_message,
        **context,
    )


def handle_http_error(error: HTTPException):
    return error_page(error.code or 500)


def handle_csrf_error(error: CSRFError):
    return error_page(400, _l("This form has expired"), _l("Please reload the page and submit the form again."))


def handle_too_many_attempts(error: RateLimitExceeded):
    """A throttled form (casemgr/throttle.py): when to try again, in minutes and as a time
    of day, and the same in a Retry-After header."""
    wait = throttle.seconds_to_wait()
    minutes = math.ceil(wait / 60)
    at = datetime.now(UTC) + timedelta(seconds=wait)
    retry = ngettext(
        "Please try again in %(num)d minute, at %(time)s.",
        "Please try again in %(num)d minutes, at %(time)s.",
        minutes,
        time=format_time(at, "short"),
    )
    response = error_page(
        429,
        message=_l("There have been too many attempts that did not succeed, so this form is paused for a while."),
        retry=retry,
    )
    response.headers["Retry-After"] = str(wait)
    return response


def handle_unexpected_error(error: Exception):
    db.session.rollback()
    g.notices_unavailable = True  # the page asks the database nothing more
    if isinstance(error, HTTPException):
        return handle_http_error(error)
    return error_page(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(RateLimitExceeded, handle_too_many_attempts)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_unexpected_error)
