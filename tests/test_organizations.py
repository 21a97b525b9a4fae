"""The district admin's organizations page: list, add and rename schools, youth and
research organizations; nothing is deleted and bad input changes nothing."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from casemgr.models import Organization
from casemgr.models.enums import Role
from tests.factories import create_district, create_partner, create_research_org, create_school, create_user
from tests.helpers import csrf_token, login

PAGE = "/admin/organizations"


@pytest.fixture()
def admin(client, db):
    user = create_user(Role.DISTRICT_ADMIN)
    login(client, user)
    return user


def _count(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Organization))


def _by_code(db, code: str) -> Organization | None:
    return db.session.scalar(sa.select(Organization).where(Organization.code == code))


def _add(client, **fields):
    data = {"kind": "school", "code": "", "name": "", "level": "", "csrf_token": csrf_token(client, PAGE)}
    data.update(fields)
    return client.post(PAGE, data=data)


def test_the_page_lists_the_districts_schools_and_every_partner(client, db, admin):
    own = create_school(admin.organization, level="middle", name="Riverside Middle")
    other = create_school(create_district(), name="Elsewhere High")
    partner, research = create_partner("Boys and Girls Club"), create_research_org()
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for shown in (own.name, own.code, "Middle", partner.name, partner.code, research.name):
        assert shown in html
    assert other.name not in html  # another district's school
    assert f"/admin/organizations/{own.uuid}/rename" in html


def test_adding_a_school_of_the_district(client, db, admin):
    response = _add(client, kind="school", code="HS-101", name="  Lincoln   High School ", level="high")
    assert response.status_code == 302 and response.headers["Location"] == PAGE
    school = _by_code(db, "HS-101")
    assert (school.kind, school.name, school.level, school.district_id) == ("school", "Lincoln High School", "high",
                                                                            admin.organization_id)
    assert "School Lincoln High School (HS-101) added." in client.get(PAGE).get_data(as_text=True)


@pytest.mark.parametrize("kind", ["partner", "research"])
def test_adding_a_partner_or_research_organization(client, db, admin, kind):
    response = _add(client, kind=kind, code=f"{kind.upper()}-7", name="Northside Youth", level="")
    assert response.status_code == 302
    organization = _by_code(db, f"{kind.upper()}-7")
    assert (organization.kind, organization.district_id, organization.level) == (kind, None, None)


def test_a_level_given_for_a_partner_is_ignored(client, db, admin):
    assert _add(client, kind="partner", code="YMCA", name="YMCA", level="high").status_code == 302
    assert _by_code(db, "YMCA").level is None


def test_a_school_needs_its_level(client, db, admin):
    before = _count(db)
    response = _add(client, kind="school", code="ES-1", name="Oak Elementary", level="")
    assert response.status_code == 400
    assert "Choose the school&#39;s level" in response.get_data(as_text=True)
    assert _count(db) == before


@pytest.mark.parametrize("taken", ["HS-200", "hs-200", " HS-200 "])
def test_a_code_in_use_is_refused_with_a_clear_message(client, db, admin, taken):
    create_partner("First Holder").code = "HS-200"
    db.session.flush()
    before = _count(db)
    response = _add(client, kind="school", code=taken, name="Second", level="high")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "The code HS-200 is already used by First Holder. Choose another code." in html
    assert 'aria-invalid="true"' in html
    assert _count(db) == before


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"kind": "district"}, "Not a valid choice"),
        ({"kind": "school' OR 1=1"}, "Not a valid choice"),
        ({"level": "university"}, "Not a valid choice"),
        ({"code": "x" * 10_000}, "Field cannot be longer than 32 characters"),
        ({"name": "x" * 10_000}, "Field cannot be longer than 200 characters"),
        ({"code": "HS\x00-9"}, "Enter a code of 1 to 32 letters"),
        ({"name": "Lincoln\x00High"}, "Enter a name of at most 200 ordinary characters"),
        ({"code": "has space"}, "Enter a code of 1 to 32 letters"),
        ({"code": ""}, "Enter the organization&#39;s code."),
        ({"name": "   "}, "Enter the organization&#39;s name."),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(client, db, admin, fields, message):
    before = _count(db)
    data = {"kind": "school", "code": "HS-300", "name": "Valid Name", "level": "high", **fields}
    response = _add(client, **data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _count(db) == before


def test_a_form_without_csrf_changes_nothing(client, db, admin):
    before = _count(db)
    response = client.post(PAGE, data={"kind": "school", "code": "HS-400", "name": "No Token", "level": "high"})
    assert response.status_code == 400
    assert _count(db) == before


def test_renaming(client, db, admin):
    school = create_school(admin.organization, name="Old Name")
    path = f"{PAGE}/{school.uuid}/rename"
    page = client.get(path)
    assert page.status_code == 200 and 'value="Old Name"' in page.get_data(as_text=True)
    response = client.post(path, data={"name": "New Name", "csrf_token": csrf_token(client, path)})
    assert response.status_code == 302
    db.session.refresh(school)
    assert (school.name, school.code) == ("New Name", school.code)
    assert "Old Name is now New Name." in client.get(PAGE).get_data(as_text=True)


def test_renaming_a_partner(client, db, admin):
    partner = create_partner("Old Partner")
    path = f"{PAGE}/{partner.uuid}/rename"
    assert client.post(path, data={"name": "New Partner", "csrf_token": csrf_token(client, path)}).status_code == 302
    db.session.refresh(partner)
    assert partner.name == "New Partner"


@pytest.mark.parametrize("name, message", [
    ("x" * 10_000, "Field cannot be longer than 200 characters"),
    ("Bad\x00Name", "ordinary characters"),
    ("", "Enter the organization&#39;s name."),
])
def test_a_bad_new_name_changes_nothing(client, db, admin, name, message):
    school = create_school(admin.organization, name="Kept Name")
    path = f"{PAGE}/{school.uuid}/rename"
    response = client.post(path, data={"name": name, "csrf_token": csrf_token(client, path)})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.refresh(school)
    assert school.name == "Kept Name"


def test_a_rename_without_csrf_changes_nothing(client, db, admin):
    school = create_school(admin.organization, name="Kept Name")
    response = client.post(f"{PAGE}/{school.uuid}/rename", data={"name": "Forged"})
    assert response.status_code == 400
    db.session.refresh(school)
    assert school.name == "Kept Name"


def test_organizations_outside_the_page_answer_404(client, db, admin):
    others = [create_school(create_district(), name="Other District School"), admin.organization, create_district()]
    token = csrf_token(client, PAGE)
    for organization in others:
        path = f"{PAGE}/{organization.uuid}/rename"
        assert client.get(path).status_code == 404
        assert client.post(path, data={"name": "Taken Over", "csrf_token": token}).status_code == 404
    assert client.get(f"{PAGE}/{uuid.uuid4()}/rename").status_code == 404
    assert client.get(f"{PAGE}/not-a-uuid/rename").status_code == 404
    for organization in others:
        db.session.refresh(organization)
        assert organization.name != "Taken Over"


@pytest.mark.parametrize("role", [Role.PRINCIPAL, Role.COUNSELOR, Role.PARTNER_ADMIN, Role.PARENT])
def test_only_district_admins_reach_the_page(client, db, role):
    login(client, create_user(role))
    before = _count(db)
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, data={"kind": "partner", "code": "SNEAK", "name": "Sneak",
                                   "csrf_token": csrf_token(client, "/")}).status_code == 403
    assert _count(db) == before
