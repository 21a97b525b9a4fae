"""What operators rely on: the health check and the request log."""
from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from casemgr import operations
from tests.factories import create_school, create_student, create_user
from tests.helpers import login


def test_healthz_says_the_database_and_migrations_are_current(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "migrations": "current"}
    assert "Set-Cookie" not in response.headers


def test_healthz_is_503_when_the_schema_is_behind_the_code(app, client, db):
    with app.app_context():
        head = operations.migrations_head()
    db.session.execute(sa.text("UPDATE alembic_version SET version_num = '0001_data_model'"))
    db.session.commit()
    try:
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.get_json()["migrations"] == (
            f"at 0001_data_model, the code needs {head}: run casemgr db upgrade")
    finally:
        db.session.execute(sa.text("UPDATE alembic_version SET version_num = :head"),
                           {"head": head})
        db.session.commit()
    assert client.get("/healthz").status_code == 200


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture()
def request_log():
    handler = Lines()
    operations.log.addHandler(handler)
    yield handler.lines
    operations.log.removeHandler(handler)


def test_one_line_per_request_with_the_route_not_the_path(client, request_log):
    school = create_school()
    student = create_student(school, last_name="Quintanilla")
    counselor = create_user("counselor", school)
    login(client, counselor)
    request_log.clear()
    client.get(f"/students/{student.uuid}")
    client.get(f"/caseload?q={student.last_name}")
    client.get("/static/css/casemgr.css")
    assert len(request_log) == 2, request_log
    page, search = request_log
    assert page.startswith("request method=GET route=/students/<uuid:student_id> status=200 ms=")
    assert search.startswith("request method=GET route=/caseload status=200 ms=")
    for line in request_log:
        fields = dict(part.split("=", 1) for part in line.split()[1:])
        assert int(fields["queries"]) > 0 and float(fields["ms"]) > 0 and fields["user"] == str(counselor.id)
        assert str(student.uuid) not in line and student.last_name not in line and student.state_id not in line


def test_a_request_answered_before_sign_in_is_logged_without_a_user(client, request_log):
    client.get("/caseload")
    assert len(request_log) == 1 and request_log[0].startswith("request method=GET route=/caseload status=302")
    assert request_log[0].endswith("user=-")


def test_the_favicon_is_served_to_every_browser_that_asks(client):
    """Browsers ask for /favicon.ico on their first page: it leads to the icon, and
    every page names the icon, so no page load answers 404."""
    response = client.get("/favicon.ico")
    assert response.status_code in (200, 301, 302, 308)
    if response.status_code != 200:
        response = client.get(response.headers["Location"])
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.get_data(as_text=True).lstrip().startswith("<svg")
    login_page = client.get("/login").get_data(as_text=True)
    assert '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">' in login_page
