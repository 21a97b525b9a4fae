"""Staff accounts (issue 11 item 1): who manages whom, invitations, edits,
deactivation (which ends sessions at once) and the account events pages."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from casemgr import staff_policy
from casemgr.models import AccountEvent, User
from casemgr.models.enums import Role
from casemgr.services import staff
from tests.conftest import first_link
from tests.factories import create_district, create_partner, create_research_org, create_school, create_user
from tests.helpers import csrf_token, login


def _world(db):
    district, other_district = create_district("Riverside Schools"), create_district("Hill District")
    high, hill_high = create_school(district, name="Riverside High"), create_school(other_district, name="Hill High")
    northside, eastside, research = create_partner("Northside Youth"), create_partner("Eastside Tutoring"), create_research_org()
    u = {
        "admin": create_user(Role.DISTRICT_ADMIN, district, full_name="Ada Admin"),
        "admin2": create_user(Role.DISTRICT_ADMIN, district, full_name="Abe Admin"),
        "hill_admin": create_user(Role.DISTRICT_ADMIN, other_district, full_name="Hal Hill"),
        "principal": create_user(Role.PRINCIPAL, high, full_name="Pat Principal"),
        "counselor": create_user(Role.COUNSELOR, high, full_name="Cora Counselor"),
        "teacher": create_user(Role.TEACHER, high, full_name="Ted Teacher"),
        "hill_counselor": create_user(Role.COUNSELOR, hill_high, full_name="Hank Hill Counselor"),
        "partner_admin": create_user(Role.PARTNER_ADMIN, northside, full_name="Nia Northside"),
        "youth_worker": create_user(Role.YOUTH_WORKER, northside, full_name="Yuri Worker"),
        "east_admin": create_user(Role.PARTNER_ADMIN, eastside, full_name="Eve Eastside"),
        "east_worker": create_user(Role.YOUTH_WORKER, eastside, full_name="Eli Eastside"),
        "researcher": create_user(Role.RESEARCHER, research, full_name="Rae Researcher"),
        "parent": create_user(Role.PARENT, district, full_name="Paula Parent"),
    }
    u["student"] = create_user(Role.STUDENT, full_name="Sam Student")
    db.session.commit()
    return dict(district=district, high=high, hill_high=hill_high, northside=northside, eastside=eastside,
                research=research), u


MANAGES = {
    "admin": {"admin", "admin2", "principal", "counselor", "teacher", "partner_admin", "east_admin", "researcher"},
    "hill_admin": {"hill_admin", "hill_counselor", "partner_admin", "east_admin", "researcher"},
    "partner_admin": {"partner_admin", "youth_worker"},
    "east_admin": {"east_admin", "east_worker"},
}


def test_the_list_and_the_per_account_faces_of_the_policy_agree(db):
    orgs, users = _world(db)
    everyone = db.session.scalars(sa.select(User)).all()
    names = {user.id: name for name, user in users.items()}
    for manager in everyone:
        listed = set(db.session.scalars(sa.select(User.id).where(staff_policy.managed_users(manager))))
        decided = {user.id for user in everyone if staff_policy.may_manage(manager, user)}
        assert listed == decided, manager
        if names.get(manager.id) in MANAGES:
            assert {names[i] for i in listed if i in names} == MANAGES[names[manager.id]], names[manager.id]
        elif names.get(manager.id) in ("principal", "counselor", "teacher", "youth_worker", "parent", "student", "researcher"):
            assert not listed, names[manager.id]
        for organization in db.session.scalars(staff_policy.assignable_organizations(manager)):
            assert any(staff_policy.may_assign(manager, role, organization)
                       for role in staff_policy.assignable_roles(manager))
    users["admin"].active = False
    assert db.session.scalars(sa.select(User.id).where(staff_policy.managed_users(users["admin"]))).all() == []


def test_nobody_changes_their_own_role_or_deactivates_themselves(db):
    orgs, u = _world(db)
    for name in ("admin", "partner_admin"):
        me = u[name]
        with pytest.raises(staff.StaffError):
            staff.update(me, me, full_name=me.full_name, role=Role.DISTRICT_ADMIN if name == "partner_admin" else Role.PRINCIPAL,
                         organization=orgs["district"] if name == "partner_admin" else orgs["high"], job_title=None)
        with pytest.raises(staff.StaffError):
            staff.deactivate(me, me)
    with pytest.raises(staff.StaffError):  # a partner admin cannot make a colleague a district admin
        staff.update(u["partner_admin"], u["youth_worker"], full_name="x", role=Role.DISTRICT_ADMIN,
                     organization=orgs["district"], job_title=None)
    db.session.refresh(u["partner_admin"])
    assert u["partner_admin"].role == "partner_admin" and u["admin"].active


def _form(client, path, **data):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, path)})


def test_a_district_admin_lists_and_searches_their_accounts(client, db):
    orgs, u = _world(db)
    login(client, u["admin"])
    html = client.get("/admin/users").get_data(as_text=True)
    for name in MANAGES["admin"]:
        assert u[name].full_name in html, name
    for name in ("hill_admin", "hill_counselor", "youth_worker", "east_worker", "parent", "student"):
        assert u[name].full_name not in html, name
    found = client.get("/admin/users?q=cora").get_data(as_text=True)
    assert "Cora Counselor" in found and "Ted Teacher" not in found
    by_email = client.get(f"/admin/users?q={u['teacher'].email}").get_data(as_text=True)
    assert "Ted Teacher" in by_email and "Cora Counselor" not in by_email
    roles = client.get("/admin/users?role=partner_admin").get_data(as_text=True)
    assert "Nia Northside" in roles and "Eve Eastside" in roles and "Cora Counselor" not in roles
    for query in ("q=%25", "q=_", "q=" + "z" * 10_000, "q=a%00b", "role=forged", "status=forged", "page=-3", "page=x",
                  "page=99999999999999999999999"):
        assert client.get("/admin/users?" + query).status_code == 200, query
    assert "Cora" not in client.get("/admin/users?q=%25%25").get_data(as_text=True)


def test_a_district_admin_invites_a_counselor(client, db, mailbox):
    orgs, u = _world(db)
    login(client, u["admin"])
    assert client.get("/admin/users/new").status_code == 200
    response = _form(client, "/admin/users/new", full_name="Nora Newcomer", email="Nora.Newcomer@Example.test",
                     role="counselor", organization=str(orgs["high"].uuid), job_title="Grade 9 counselor")
    assert response.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.email == "nora.newcomer@example.test"))
    assert user.password_hash is None and user.role == "counselor" and user.organization_id == orgs["high"].id
    assert user.job_title == "Grade 9 counselor"
    assert "/invitations/" in first_link(mailbox.last(user.email))
    event = db.session.scalar(sa.select(AccountEvent).where(AccountEvent.user_id == user.id))
    assert (event.action, event.actor_id) == ("invited", u["admin"].id)
    assert "Invited, no password yet" in client.get("/admin/users?status=invited").get_data(as_text=True)
    assert mailbox.last(user.email)["Subject"] == "Your casemgr account: choose a password"


def test_a_partner_admin_invites_a_youth_worker_in_spanish(client, db, mailbox):
    orgs, u = _world(db)
    login(client, u["partner_admin"])
    assert _form(client, "/partner/staff/new", full_name="Tomás Ruiz", email="tomas@example.test", role="youth_worker",
                 organization=str(orgs["northside"].uuid), language="es").status_code == 302
    tomas = db.session.scalar(sa.select(User).where(User.email == "tomas@example.test"))
    assert tomas.locale == "es"
    assert mailbox.last(tomas.email)["Subject"] == "Su cuenta de casemgr: elija una contraseña"
    assert _form(client, "/partner/staff/new", full_name="X", email="x@example.test", role="youth_worker",
                 organization=str(orgs["northside"].uuid), language="fr").status_code == 400


@pytest.mark.parametrize("fields, message", [
    (dict(role="counselor", organization="district"), "belongs to a school organization"),
    (dict(role="youth_worker", organization="northside"), "Not a valid choice"),
    (dict(role="counselor", organization="hill_high"), "Not a valid choice"),
    (dict(email="taken"), "already belongs to an account"),
    (dict(full_name="x" * 10_000), "at most 200"),
    (dict(full_name="Nul\x00Name"), "control characters"),
    (dict(email="not-an-email"), "email address like"),
    (dict(job_title="y" * 10_000), "at most 120"),
])
def test_a_refused_invitation_says_why_and_creates_nothing(client, db, mailbox, fields, message):
    orgs, u = _world(db)
    login(client, u["admin"])
    data = dict(full_name="Nora Newcomer", email="nora@example.test", role="counselor", organization="high", job_title="")
    data.update(fields)
    if data["organization"] in orgs:
        data["organization"] = str(orgs[data["organization"]].uuid)
    if data["email"] == "taken":
        data["email"] = u["youth_worker"].email.upper()
    before = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    response = _form(client, "/admin/users/new", **data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == before
    assert len(mailbox) == 0


def test_editing_records_what_changed_and_nobody_raises_their_own_role(client, db):
    orgs, u = _world(db)
    login(client, u["admin"])
    counselor = u["counselor"]
    path = f"/admin/users/{counselor.uuid}"
    assert client.get(path).status_code == 200
    response = _form(client, path, full_name="Cora Counselor-Ruiz", role="principal", organization=str(orgs["high"].uuid),
                     job_title="Acting principal")
    assert response.status_code == 302
    db.session.refresh(counselor)
    assert (counselor.full_name, counselor.role, counselor.job_title) == ("Cora Counselor-Ruiz", "principal", "Acting principal")
    event = db.session.scalar(sa.select(AccountEvent).where(AccountEvent.user_id == counselor.id, AccountEvent.action == "updated"))
    assert event.details["changes"]["role"] == ["counselor", "principal"]
    assert event.actor_id == u["admin"].id

    # a partner admin made a researcher of a research org: role and organization must fit
    bad = _form(client, f"/admin/users/{u['partner_admin'].uuid}", full_name="Nia Northside", role="researcher",
                organization=str(orgs["northside"].uuid), job_title="")
    assert bad.status_code == 400 and "belongs to a research organization" in bad.get_data(as_text=True)

    # the admin's own page offers no role, and a forged one changes nothing
    own = f"/admin/users/{u['admin'].uuid}"
    assert 'name="role"' not in client.get(own).get_data(as_text=True)
    _form(client, own, full_name="Ada Admin", role="researcher", organization=str(orgs["research"].uuid), job_title="")
    db.session.refresh(u["admin"])
    assert (u["admin"].role, u["admin"].organization_id) == ("district_admin", orgs["district"].id)


def test_deactivating_ends_the_persons_sessions_at_once(app, client, db):
    orgs, u = _world(db)
    teacher = u["teacher"]
    theirs = app.test_client()
    login(theirs, teacher)
    assert theirs.get("/").status_code == 200
    login(client, u["admin"])
    token = csrf_token(client, f"/admin/users/{teacher.uuid}")
    assert client.post(f"/admin/users/{teacher.uuid}/deactivate", data={"csrf_token": token}).status_code == 302
    assert theirs.get("/").status_code == 302
    assert login(app.test_client(), teacher).status_code == 401
    db.session.refresh(teacher)
    assert not teacher.active
    assert "Deactivated" in client.get("/admin/users?status=deactivated").get_data(as_text=True)

    refused = client.post(f"/admin/users/{u['admin'].uuid}/deactivate", data={"csrf_token": token})
    assert refused.status_code == 400 and "your own account" in refused.get_data(as_text=True)
    assert client.post(f"/admin/users/{teacher.uuid}/deactivate").status_code == 400  # no CSRF

    assert client.post(f"/admin/users/{teacher.uuid}/reactivate", data={"csrf_token": token}).status_code == 302
    assert login(app.test_client(), teacher).status_code == 302
    actions = db.session.scalars(sa.select(AccountEvent.action).where(
        AccountEvent.user_id == teacher.id, AccountEvent.actor_id == u["admin"].id).order_by(AccountEvent.id)).all()
    assert actions == ["deactivated", "reactivated"]


def test_resending_an_invitation(client, db, mailbox):
    orgs, u = _world(db)
    login(client, u["admin"])
    _form(client, "/admin/users/new", full_name="Ivy Invitee", email="ivy@example.test", role="teacher",
          organization=str(orgs["high"].uuid), job_title="")
    ivy = db.session.scalar(sa.select(User).where(User.email == "ivy@example.test"))
    first = urlsplit(first_link(mailbox.last(ivy.email))).path
    token = csrf_token(client, f"/admin/users/{ivy.uuid}")
    assert client.post(f"/admin/users/{ivy.uuid}/resend-invitation", data={"csrf_token": token}).status_code == 302
    second = urlsplit(first_link(mailbox.last(ivy.email))).path
    assert first != second and client.get(first).status_code == 400
    refused = client.post(f"/admin/users/{u['teacher'].uuid}/resend-invitation", data={"csrf_token": token})
    assert refused.status_code == 400 and "already accepted" in refused.get_data(as_text=True)


def test_a_partner_admin_manages_only_their_own_organizations_staff(client, db, mailbox):
    orgs, u = _world(db)
    login(client, u["partner_admin"])
    html = client.get("/partner/staff").get_data(as_text=True)
    assert "Yuri Worker" in html and "Eli Eastside" not in html
    token = csrf_token(client, "/partner/staff")
    for name in ("east_worker", "east_admin", "counselor", "admin", "parent"):
        other = u[name]
        assert client.get(f"/partner/staff/{other.uuid}/account").status_code == 404, name
        for action in ("deactivate", "reactivate", "resend-invitation"):
            assert client.post(f"/partner/staff/{other.uuid}/{action}", data={"csrf_token": token}).status_code == 404
        assert client.post(f"/partner/staff/{other.uuid}/account", data={
            "csrf_token": token, "full_name": "Forged", "role": "youth_worker",
            "organization": str(orgs["northside"].uuid)}).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
        sa.or_(User.full_name == "Forged", User.active.is_(False)))) == 0

    # invite a youth worker to their own organization; nothing else is offered
    page = client.get("/partner/staff/new").get_data(as_text=True)
    assert "Riverside High" not in page and "Eastside" not in page and 'value="counselor"' not in page
    assert _form(client, "/partner/staff/new", full_name="Wes Worker", email="wes@example.test", role="youth_worker",
                 organization=str(orgs["northside"].uuid)).status_code == 302
    for role, org in (("youth_worker", "eastside"), ("counselor", "high"), ("district_admin", "northside")):
        assert _form(client, "/partner/staff/new", full_name="Forged", email=f"{role}@example.test", role=role,
                     organization=str(orgs[org].uuid)).status_code == 400
    assert db.session.scalar(sa.select(User).where(User.email == "wes@example.test")).organization_id == orgs["northside"].id
    # a partner admin cannot raise their own role
    own = f"/partner/staff/{u['partner_admin'].uuid}/account"
    _form(client, own, full_name="Nia Northside", role="district_admin", organization=str(orgs["district"].uuid))
    db.session.refresh(u["partner_admin"])
    assert u["partner_admin"].role == "partner_admin"
    # and deactivates a colleague, not themselves
    worker = u["youth_worker"]
    assert client.post(f"/partner/staff/{worker.uuid}/deactivate", data={"csrf_token": token}).status_code == 302
    assert client.post(f"/partner/staff/{u['partner_admin'].uuid}/deactivate", data={"csrf_token": token}).status_code == 400


def test_account_events_pages_show_only_the_readers_accounts(client, db, mailbox):
    orgs, u = _world(db)
    login(client, u["admin"])
    _form(client, f"/admin/users/{u['teacher'].uuid}", full_name="Ted Teacher-Long", role="teacher",
          organization=str(orgs["high"].uuid), job_title="")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    for name in ("hill_counselor", "east_worker", "youth_worker"):
        login(client, u[name])
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, u["admin"])
    html = client.get("/admin/account-events").get_data(as_text=True)
    assert "Ted Teacher-Long" in html and "Updated" in html and "Ada Admin" in html
    assert "Hank Hill Counselor" not in html and "Eli Eastside" not in html and "Yuri Worker" not in html
    assert "Ted Teacher-Long" not in client.get("/admin/account-events?action=signed_in").get_data(as_text=True)
    assert "Ted Teacher-Long" in client.get("/admin/account-events?q=teacher-long").get_data(as_text=True)
    for query in ("start=2001-01-01&end=2000-01-01", "start=nonsense", "action=forged", "q=a%00b", "q=" + "z" * 10_000,
                  "page=999", "page=99999999999999999999999", "start=0001-01-01&end=9999-12-31"):
        assert client.get("/admin/account-events?" + query).status_code == 200, query
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    login(client, u["partner_admin"])
    html = client.get("/partner/account-events").get_data(as_text=True)
    assert "Yuri Worker" in html and "Eli Eastside" not in html and "Ted Teacher" not in html


def test_counts_are_set_based(client, db):
    orgs, u = _world(db)
    for n in range(55):
        create_user(Role.TEACHER, orgs["high"], full_name=f"Many Teacher {n:02d}")
    db.session.commit()
    login(client, u["admin"])
    first = client.get("/admin/users?role=teacher").get_data(as_text=True)
    assert "56 accounts, page 1 of 2" in first
    # the next page, as a link and as an htmx swap of the results that keeps the address
    assert '<a href="/admin/users?page=2&amp;role=teacher" hx-get="/admin/users?page=2&amp;role=teacher" ' \
           'hx-target="#account-results" hx-push-url="true">Next</a>' in first
    assert ">Previous</a>" not in first
    assert "Many Teacher 54" in client.get("/admin/users?role=teacher&page=2").get_data(as_text=True) or \
        "Ted Teacher" in client.get("/admin/users?role=teacher&page=2").get_data(as_text=True)


def test_an_address_taken_meanwhile_is_refused_not_a_crash(db):
    orgs, u = _world(db)
    duplicate = User(email=u["teacher"].email, full_name="Second", role="teacher", organization_id=orgs["high"].id)
    with pytest.raises(staff.StaffError, match="already belongs to an account"):
        staff._add_account(duplicate)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.email == u["teacher"].email)) == 1
