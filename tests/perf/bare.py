"""A bare page to measure casemgr against: Flask, psycopg and Jinja, nothing of
casemgr, reading the 50 rows of a school's default caseload (by tier, then name: the
same rows, columns and open-flag counts as `/caseload` for a counselor of that school)
in one query and rendering them as a table.

Served beside casemgr by the same gunicorn (tests/perf/serve.py mounts it under
/bare), it is the floor for a page of 50 students: what is left once sessions,
identity, the access policy, the disclosure log and the layout are taken away.

BARE_DATABASE_URL is a psycopg (libpq) URL; the school is the `school` query argument
(its numeric id) and the school year `year`.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import psycopg
from flask import Flask, abort, render_template, request

ROWS = """
SELECT s.uuid, s.state_id, s.last_name, s.first_name, s.preferred_name, s.grade,
       i.tier, i.attendance_rate, i.attendance_band, i.course_failures, i.core_failure,
       i.credits_earned, i.credits_expected, i.credits_on_track, i.fafsa_status, i.fafsa_off_track,
       o.name AS school_name,
       (SELECT count(*) FROM flags f WHERE f.student_id = s.id AND f.status = 'open') AS open_flags
  FROM students s
  JOIN organizations o ON o.id = s.school_id
  LEFT JOIN student_indicators i ON i.student_id = s.id AND i.school_year = %(year)s
 WHERE s.school_id = %(school)s
 ORDER BY i.tier DESC NULLS LAST, s.last_name, s.first_name, s.id
 LIMIT 50
"""

app = Flask(__name__, template_folder=str(Path(__file__).with_name("templates")))
_local = threading.local()


def connection() -> psycopg.Connection:
    """One connection per thread, kept open (as a pool would)."""
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        url = os.environ["BARE_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        conn = _local.conn = psycopg.connect(url, autocommit=True, row_factory=psycopg.rows.namedtuple_row)
    return conn


@app.get("/caseload")
def caseload():
    school, year = request.args.get("school", type=int), request.args.get("year", type=int)
    if school is None or year is None:
        abort(400)
    rows = connection().execute(ROWS, {"school": school, "year": year}).fetchall()
    return render_template("bare_caseload.html", rows=rows)
