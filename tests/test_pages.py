"""Error pages reveal nothing; every response carries the security headers."""
from __future__ import annotations

import pytest
from flask import Blueprint

from casemgr.models.enums import Role
from tests.factories import create_user
from tests.helpers import login


def test_security_headers_on_every_page(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_script_and_serve_htmx_locally(client):
    html = client.get("/login").get_data(as_text=True)
    assert "<script>" not in html and "hx-on" not in html
    assert '<script src="/static/vendor/htmx-2.0.11.min.js" defer></script>' in html
    assert client.get("/static/vendor/htmx-2.0.11.min.js").status_code == 200


def test_unknown_page_is_a_plain_404(client, db):
    login(client, create_user(Role.COUNSELOR))
    response = client.get("/students/00000000-0000-0000-0000-000000000000/nothing")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Page not found" in html
    assert "00000000" not in html.split("<main", 1)[1]


@pytest.fixture()
def failing_app(database_url):
    from tests.conftest import make_app

    app = make_app(database_url)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    bp = Blueprint("boom", __name__)

    @bp.route("/boom")
    def boom():
        raise RuntimeError("secret internal detail: password=hunter2")

    app.register_blueprint(bp)
    return app


def test_server_error_page_reveals_nothing(failing_app):
    response = failing_app.test_client().get("/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Something went wrong" in html
    assert "hunter2" not in html and "Traceback" not in html and "RuntimeError" not in html


def test_htmx_error_gets_a_fragment(client, db):
    response = client.get("/no-such-page", headers={"HX-Request": "true"})
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "<html" not in html and "Page not found" in html
    assert "HX-Request" in response.headers["Vary"]
