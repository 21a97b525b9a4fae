"""What the people who run casemgr need from it: a health check for load balancers
and one structured log line per request.

`/favicon.ico` sends browsers to the icon in static/img, so no first page load
answers 404. `/healthz` answers 200 when the database is reachable and its schema is at the
migrations' head, else 503 saying which; it needs no sign-in and shows no data.

The request log (logger `casemgr.requests`) writes one line per request, in
`key=value` form: the method, the route's rule (`/students/<uuid:student_id>`, never
the path or its query string, which may hold a student's name or ID), the status, the
time and the number of SQL statements, and the signed-in user's numeric id. Static
files are not logged. REQUEST_LOG = False turns it off.
"""
from __future__ import annotations

import logging
import sys
import time

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, current_app, g, has_request_context, jsonify, redirect, request, url_for

bp = Blueprint("operations", __name__)
log = logging.getLogger("casemgr.requests")


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for /favicon.ico before they read a page's icon link: send them to it."""
    return redirect(url_for("static", filename="img/favicon.svg"), 301)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    from casemgr.extensions import db

    try:
        revision = db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa.exc.ProgrammingError:  # no alembic_version table: a database never migrated
        db.session.rollback()
        revision = None
    except sa.exc.DBAPIError as error:
        db.session.rollback()
        reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        return jsonify(status="unavailable", database=f"unreachable: {reason}"), 503
    head = migrations_head()
    if revision != head:
        return jsonify(status="unavailable", database="ok",
                       migrations=f"at {revision or 'none'}, the code needs {head}: run casemgr db upgrade"), 503
    return jsonify(status="ok", database="ok", migrations="current"), 200


def migrations_head() -> str:
    """The head revision of the migrations shipped with this code (read once)."""
    head = current_app.extensions.get("casemgr_migrations_head")
    if head is None:
        from alembic.script import ScriptDirectory

        head = ScriptDirectory(current_app.extensions["migrate"].directory).get_current_head()
        current_app.extensions["casemgr_migrations_head"] = head
    return head


def _start() -> None:
    g.request_started = time.perf_counter()
    g.query_count = 0


def _count_query(*_args, **_kwargs) -> None:
    if has_request_context() and "query_count" in g:
        g.query_count += 1


def _log_request(response: Response) -> Response:
    if request.endpoint == "static" or "request_started" not in g:
        return response
    log.info("request method=%s route=%s status=%s ms=%.1f queries=%s user=%s", request.method,
             request.url_rule.rule if request.url_rule else "-", response.status_code,
             (time.perf_counter() - g.request_started) * 1000, g.query_count, _user_id())
    return response


def _user_id() -> str:
    """The signed-in user's id, as flask-login loaded them for this request, read from
    the identity map's key: after the request's commit the object is expired, and its
    `id` attribute would cost a query. "-" for nobody signed in."""
    from flask_login import AnonymousUserMixin

    user = g.get("_login_user")
    if user is None or isinstance(user, AnonymousUserMixin):
        return "-"
    identity = sa.inspect(user).identity
    return str(identity[0]) if identity else "-"


def init_app(app: Flask) -> None:
    from casemgr.extensions import db

    app.register_blueprint(bp)
    if not app.config.get("REQUEST_LOG", True):
        return
    # first of all, so that a request another hook answers early is timed and logged too
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_log_request)
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", _count_query)
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%dT%H:%M:%S%z"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
