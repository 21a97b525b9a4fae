"""The edge of every request: what people send is cleaned and bounded in one place
before any view reads it (issue 13 item 4), instead of route by route.

* The query string is read without control characters (a NUL byte, say): a search or
  a filter never means one, and PostgreSQL cannot take a NUL.
* A value longer than any field of casemgr takes, in the query string or a form, is
  refused with a 400 that says so, before a search or a form spends time on it.
* A page number is read by `page_number`, bounded to what PostgreSQL can offset.
* A form value that PostgreSQL cannot take and that a form let through (a NUL byte, a
  number beyond its column, a date out of range) is answered with a 400 that says so,
  and the request's transaction is rolled back: nothing is changed (`refuse_data_error`).
  Forms keep their own, more precise answers (a field's message, or control characters
  left out of a note), which come first.

Invalid UTF-8 in a percent-encoding stays percent-encoded text (Werkzeug), which the
forms' own checks then see.
"""
from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl

import sqlalchemy as sa
from flask import Flask, Request, request
from flask_babel import lazy_gettext as _l
from werkzeug.utils import cached_property

from casemgr.extensions import db
from casemgr.text import CONTROL

QUERY_VALUE_MAX = 20_000  # a search, a filter, an id: never near this
FORM_VALUE_MAX = 20_000  # the longest field (a note) takes 5,000 characters
MAX_PAGE = 1_000_000


class CleanRequest(Request):
    """A request whose query string is read without control characters."""

    @cached_property
    def args(self):
        pairs = parse_qsl(self.query_string.decode(errors="replace"), keep_blank_values=True,
                          errors="werkzeug.url_quote")
        return self.parameter_storage_class((CONTROL.sub("", k), CONTROL.sub("", v)) for k, v in pairs)


def page_number(name: str = "page") -> int:
    """The page asked for in the query string, from 1 to MAX_PAGE: a number outside
    them is the nearest of them, anything else the first page."""
    try:
        number = int(request.args.get(name, "").strip())
    except ValueError:
        return 1
    return min(max(number, 1), MAX_PAGE)


def _values() -> Iterable[tuple[str, str, int]]:
    for key, value in request.args.items(multi=True):
        yield key, value, QUERY_VALUE_MAX
    if request.method in ("POST", "PUT", "PATCH"):
        for key, value in request.form.items(multi=True):
            yield key, value, FORM_VALUE_MAX


def refuse_overlong_input():
    for key, value, limit in _values():
        if len(key) > limit or len(value) > limit:
            return _refused(_l("A value sent is longer than casemgr accepts (at most %(limit)s characters). Please "
                               "shorten it and try again.", limit=f"{limit:,}"))
    return None


def refuse_data_error(error: sa.exc.DataError):
    db.session.rollback()
    return _refused(_l("A value sent cannot be stored: it contains a character that cannot be typed (such as a NUL "
                       "byte), or a number or date out of range. Nothing was changed. Please correct it and try "
                       "again."))


def _refused(message):
    from casemgr.views.errors import error_page  # the error pages are views themselves

    return error_page(400, _l("This request cannot be used"), message)


def init_app(app: Flask) -> None:
    app.request_class = CleanRequest
    # first of all the checks before a view, so that none of them reads such a value
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_overlong_input)
    app.register_error_handler(sa.exc.DataError, refuse_data_error)
