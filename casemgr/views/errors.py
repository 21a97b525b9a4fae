"""Error pages that say what happened and reveal nothing else."""
from __future__ import annotations

from flask import Flask, g
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

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


def _page(status: int, title: str | None = None, message: str | None = None):
    default_title, default_message = MESSAGES.get(status, MESSAGES[500])
    return render(
        "errors/error.html",
        "errors/_error.html",
        status=status,
        code=status,
        title=title or default_title,
        message=message or default_message,
    )


def handle_http_error(error: HTTPException):
    return _page(error.code or 500)


def handle_csrf_error(error: CSRFError):
    return _page(400, _l("This form has expired"), _l("Please reload the page and submit the form again."))


def handle_unexpected_error(error: Exception):
    db.session.rollback()
    g.notices_unavailable = True  # the page asks the database nothing more
    if isinstance(error, HTTPException):
        return handle_http_error(error)
    return _page(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_unexpected_error)
