"""Every page that names a student writes its disclosure-log row (SPEC §4 rule 6, §8).

The walk reuses the authorization test's world and its requests: every route of the
URL map (the authorization test proves its requests cover them all), for every role,
against every case of the access policy. For each request (with the redirect it leads
to, where a flash message may name the student acted on), every seeded student whose
name or state ID appears in what came back must have a log row written by that very
request. Only the pages that read the log itself are exempt, each for the reason given
at its route.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from markupsafe import escape

from casemgr.models import DisclosureEntry, Student
from casemgr.models.enums import Category
from casemgr.models.enums import Role
from casemgr.views import disclosure_guard
from tests.factories import create_user
from tests.helpers import csrf_token, login, students_logged
from tests.test_authorization import ROLES, _global_requests, _student_requests, build_world_with_another_district

# written out here by hand, so that a route cannot exempt itself unseen
LOG_READERS = {"family.log", "admin.disclosures"}


def test_only_the_log_readers_are_exempt(app):
    assert disclosure_guard.exempt_endpoints(app) == LOG_READERS


def _walk(app, world, who):
    """The authorization walk's requests that answer with a page (a refusal, 403 or
    404, shows no student: the authorization test sees to that)."""
    for method, url, status in _global_requests(app, world, who):
        if status not in (403, 404):
            yield method, url, {}
    for name in world.students:
        for method, url, data, status in _student_requests(app, world, who, name):
            if status not in (403, 404):
                yield method, url, data or {}


def _text(response) -> str:
    """What a response says: its text, or the cells of a workbook."""
    if response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
        from io import BytesIO

        from openpyxl import load_workbook

        book = load_workbook(BytesIO(response.get_data()), read_only=True)
        return "\n".join(str(value) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                         for value in row if value is not None)
    if response.mimetype == "application/pdf":
        from io import BytesIO

        from pypdf import PdfReader

        return "\n".join(page.extract_text() for page in PdfReader(BytesIO(response.get_data())).pages)
    if response.mimetype == "application/zip":  # a research extract: its file (CSV or Parquet) and README
        import zipfile
        from io import BytesIO

        import pyarrow.parquet as pq

        archive = zipfile.ZipFile(BytesIO(response.get_data()))
        return "\n".join(str(pq.read_table(BytesIO(archive.read(name))).to_pylist()) if name.endswith(".parquet")
                         else archive.read(name).decode() for name in archive.namelist())
    return response.get_data(as_text=True)


def _last_log_id(db) -> int:
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(DisclosureEntry.id), 0)))


@pytest.mark.parametrize("who", ROLES)
def test_every_response_naming_a_student_is_logged(app, client, db, who):
    world = build_world_with_another_district(db)
    login(client, world.users[who])
    token = csrf_token(client, "/")
    names = {student.id: (str(escape(student.display_name)), student.state_id) for student in world.students.values()}
    adapter = app.url_map.bind("localhost")
    unlogged = []
    for method, url, data in _walk(app, world, who):
        endpoint = adapter.match(url.split("?")[0], method=method)[0]
        if endpoint in LOG_READERS:
            continue
        before = _last_log_id(db)
        if method == "POST":
            response = client.post(url, data={**data, "csrf_token": token}, follow_redirects=True)
        else:
            response = client.get(url, follow_redirects=True)
        html = _text(response)
        named = {sid for sid, tokens in names.items() if any(t in html for t in tokens)}
        if not named:
            continue
        logged = set(students_logged(DisclosureEntry.id > before))
        if named - logged:
            unlogged.append(f"{method} {endpoint} {url} -> {response.status_code}")
    assert not unlogged, f"{who}: pages naming a student without a log row:\n" + "\n".join(unlogged)


@pytest.fixture()
def forgetful_app(database_url):
    """The app with two routes added as a careless new page would be: one names a
    student and logs nothing, one logs the view and then rolls it back."""
    import uuid

    from flask import Blueprint, render_template_string
    from flask_login import login_required

    from casemgr.extensions import db as _db
    from casemgr.services import disclosure
    from tests.conftest import RequestIsolatedClient, make_app

    app = make_app(database_url)
    app.test_client_class = RequestIsolatedClient
    bp = Blueprint("forgetful", __name__)

    def _student(student_id):
        return _db.session.scalar(sa.select(Student).where(Student.uuid == student_id))

    @bp.get("/forgetful/<uuid:student_id>")
    @login_required
    def forgets(student_id: uuid.UUID):
        return render_template_string("<p>{{ student.display_name }}</p>", student=_student(student_id))

    @bp.get("/forgetful/<uuid:student_id>/rolled-back")
    @login_required
    def rolls_back(student_id: uuid.UUID):
        student = _student(student_id)
        disclosure.log_view(current_user, student, {Category.IDENTITY: "school_official"})
        _db.session.rollback()
        return render_template_string("<p>{{ name }}</p>", name=f"{student.first_name} {student.last_name}"), 400

    from flask_login import current_user

    app.register_blueprint(bp)
    return app


def test_a_new_route_that_forgets_to_log_is_logged_at_the_edge(forgetful_app, db):
    from tests.factories import create_school, create_student

    school = create_school()
    counselor = create_user(Role.COUNSELOR, school)
    student = create_student(school, first_name="Zoë", last_name="O'Neill")
    client = forgetful_app.test_client()
    login(client, counselor)
    for path in (f"/forgetful/{student.uuid}", f"/forgetful/{student.uuid}/rolled-back"):
        before = _last_log_id(db)
        response = client.get(path)
        assert "Zo" in response.get_data(as_text=True), path
        rows = db.session.scalars(sa.select(DisclosureEntry).where(DisclosureEntry.id > before)).all()
        assert [(r.student_id, r.user_id, r.categories, r.basis, r.allowed) for r in rows] == [
            (student.id, counselor.id, ["identity"], {"identity": "school_official"}, True)], path
        assert rows[0].request_path == path


def test_a_name_without_any_category_is_logged_as_the_name_only(client, db):
    """A partner's roster shows the name of a student with no consent: the entry says so,
    and the family's log reads it in plain words."""
    from datetime import timedelta

    from casemgr.clock import today
    from casemgr.services.disclosure import NAME_ONLY
    from tests.factories import add_to_roster, create_agreement, create_district, create_guardian, create_partner
    from tests.factories import create_school, create_student

    district = create_district()
    school = create_school(district)
    partner = create_partner("Northside Youth")
    long_ago = today() - timedelta(days=100)
    create_agreement(partner, district, categories=["identity"], starts_on=long_ago, ends_on=today() + timedelta(days=100))
    student = create_student(school, first_name="Rosa", last_name="Quintero")
    add_to_roster(student, partner, added_on=long_ago)
    worker = create_user(Role.YOUTH_WORKER, partner, confidentiality_signed_on=long_ago, ferpa_trained_on=long_ago)
    parent = create_user(Role.PARENT, district)
    create_guardian(student, user=parent)
    login(client, worker)
    before = _last_log_id(db)
    assert "Rosa Quintero" in client.get("/").get_data(as_text=True)
    rows = db.session.scalars(sa.select(DisclosureEntry).where(DisclosureEntry.id > before)).all()
    assert [(r.student_id, r.categories, r.basis, r.reason) for r in rows] == [(student.id, [], {}, NAME_ONLY)]
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, parent)
    log = client.get(f"/family/children/{student.uuid}/log").get_data(as_text=True)
    # the worker opened their home twice (the second time for the sign-out form): one line
    assert "saw the student&#39;s name 2 times on" in log and "and nothing else of the record" in log
