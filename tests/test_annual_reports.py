"""The annual partnership report (issue 15, item 5): a district admin previews a year
against a baseline and publishes it; it is frozen; the partnership's people read it, in
English and Spanish, as a page and a PDF; a public link opens it without signing in when
the district chooses; only protected figures are ever in it; publishing is logged."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from casemgr.extensions import db as _db
from casemgr.models import PublishedReport, ReportLogEntry, StudentIndicator
from casemgr.models.enums import Role
from casemgr.reads import annual_report, report_cube
from tests.factories import create_agreement, create_district, create_partner, create_user
from tests.helpers import csrf_token, login, logout
from tests.test_report_cube import YEARS, population


@pytest.fixture()
def district(db):
    return population(db)


def _publish(client, year=YEARS[1], baseline=YEARS[0], public=False):
    data = {"year": str(year), "baseline": str(baseline), "csrf_token": csrf_token(client, "/annual-reports")}
    if public:
        data["public"] = "y"
    return client.post("/annual-reports/publish", data=data)


def test_directions_follow_what_the_partnership_wants():
    lower = report_cube.MEASURES["chronic_absence"]
    higher = report_cube.MEASURES["fafsa_complete"]
    f = lambda k, n: {"n": n, "k": k, "coded": None, "bound": None}  # noqa: E731
    assert annual_report.direction(lower, f(20, 100), f(30, 100)) == (-10.0, "better")
    assert annual_report.direction(higher, f(20, 100), f(30, 100)) == (-10.0, "worse")
    assert annual_report.direction(lower, f(31, 100), f(30, 100)) == (1.0, "same")
    assert annual_report.direction(lower, {"n": None, "k": None, "coded": None, "bound": None}, f(3, 10)) == (None, None)
    assert annual_report.direction(lower, {"n": 12, "k": None, "coded": "at_most", "bound": 10}, f(3, 10)) == (None, None)


def test_the_content_holds_only_protected_figures(db, district):
    content = annual_report.content(district.id, district.name, YEARS[1], YEARS[0], minimum=10)
    cells = report_cube.cubes(db.session.execute(report_cube.cells_statement(district.id, YEARS[1])).all())
    for section in content["sections"]:
        raw = cells[section["measure"]]
        overall = section["overall"]["now"]
        assert overall["n"] is None or overall["n"] == raw[()].n
        for group in section["groups"]:
            for line in group["lines"]:
                key = ((group["dim"], line["label"]["value"]),)
                shown = line["now"]
                if key in raw and 0 < raw[key].n < 10:
                    assert shown["n"] is None  # a small group is never in the report
                if shown["n"] is not None and not shown["coded"]:
                    assert (shown["n"], shown["k"]) == (raw[key].n, raw[key].k)


def test_publishing_freezes_the_figures_and_logs_it(client, db, district):
    admin = create_user(Role.DISTRICT_ADMIN, district)
    login(client, admin)
    draft = client.get(f"/annual-reports/draft?year={YEARS[1]}&baseline={YEARS[0]}")
    assert draft.status_code == 200 and "A draft: nothing is published yet" in draft.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PublishedReport)) == 0
    response = _publish(client)
    assert response.status_code == 302
    report = db.session.scalar(sa.select(PublishedReport))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    chronic = re.search(r'<h2 id="measure-chronic_absence">.*?<strong>All students:</strong> ([^(]*)\(', page, re.S)
    # the indicators change afterwards: the published report does not
    db.session.execute(sa.update(StudentIndicator).where(StudentIndicator.school_year == YEARS[1])
                       .values(chronic_absence=True))
    again = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r'<h2 id="measure-chronic_absence">.*?<strong>All students:</strong> ([^(]*)\(', again,
                     re.S).group(1) == chronic.group(1)
    entry = db.session.scalar(sa.select(ReportLogEntry).where(ReportLogEntry.action == "publish"))
    assert entry.user_id == admin.id and entry.district_id == district.id and len(entry.file_sha256) == 64
    assert report.public_token is None


@pytest.mark.parametrize("query", ["year=1999&baseline=2024", "year=2024&baseline=2025", "year=x&baseline=y", ""])
def test_a_bad_choice_publishes_nothing(client, db, district, query):
    login(client, create_user(Role.DISTRICT_ADMIN, district))
    response = client.get(f"/annual-reports/draft?{query}", follow_redirects=True)
    assert "Choose a school year and an earlier baseline year" in response.get_data(as_text=True)
    year, baseline = (re.findall(r"=([^&]*)", query) + ["", ""])[:2]
    data = {"year": year, "baseline": baseline, "csrf_token": csrf_token(client, "/annual-reports")}
    assert client.post("/annual-reports/publish", data=data).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PublishedReport)) == 0


def test_the_partnership_reads_it_in_both_languages_and_as_pdf(client, db, district):
    login(client, create_user(Role.DISTRICT_ADMIN, district))
    location = _publish(client).headers["Location"]
    logout(client)
    partner = create_partner("Northside Youth")
    create_agreement(partner, district, categories=["attendance"])
    for reader in (create_user(Role.YOUTH_WORKER, partner), create_user(Role.PARENT, district)):
        login(client, reader)
        english = client.get(location).get_data(as_text=True)
        assert "Annual partnership report" in english and "Chronic absence" in english
        spanish = client.get(f"{location}?lang=es").get_data(as_text=True)
        assert 'lang="es"' in spanish and "Informe anual de la alianza" in spanish and "Ausentismo crónico" in spanish
        pdf = client.get(f"{location}.pdf?lang=es")
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
        assert "Informe anual de la alianza" in text and "Ausentismo crónico" in text
        logout(client)
    outsider = create_user(Role.DISTRICT_ADMIN, create_district("Elsewhere"))
    login(client, outsider)
    assert client.get(location).status_code == 404
    assert client.get(f"{location}.pdf").status_code == 404


def test_a_public_link_opens_without_signing_in_until_it_is_taken_away(client, db, district):
    login(client, create_user(Role.DISTRICT_ADMIN, district))
    location = _publish(client, public=True).headers["Location"]
    report = db.session.scalar(sa.select(PublishedReport))
    public = f"/public/annual-reports/{report.public_token}"
    logout(client)
    assert client.get(location).status_code == 302  # signed out: to the sign-in page
    page = client.get(public)
    assert page.status_code == 200 and "Annual partnership report" in page.get_data(as_text=True)
    assert client.get(f"{public}.pdf").data.startswith(b"%PDF")
    assert client.get("/public/annual-reports/" + "x" * 32).status_code == 404
    login(client, create_user(Role.DISTRICT_ADMIN, district))
    client.post(f"{location}/public", data={"csrf_token": csrf_token(client, location)})
    logout(client)
    assert client.get(public).status_code == 404


def test_only_the_district_admin_prepares_and_publishes(client, db, district):
    login(client, create_user(Role.PRINCIPAL, district))
    assert client.get(f"/annual-reports/draft?year={YEARS[1]}&baseline={YEARS[0]}").status_code == 403
    assert _publish(client).status_code == 403
    assert client.get("/annual-reports").status_code == 200
