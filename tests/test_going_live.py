"""Going live (issue 11, "Done when"): a district is brought up from an empty production
database to working accounts for every role, without the seed.

The operator migrates an empty database and creates the first district administrator
from the command line, as in production; everything after that happens through the
web pages, as people would do it: invitations by email, two-step sign-in for the
district administrator, organizations, an import of students and guardians, emailed
family invitations and printed letters claimed with their code and the birth date.
Nothing is mocked: a real PostgreSQL database, a real SMTP server, real forms with
their CSRF tokens.
"""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import uuid
from datetime import date, timedelta
from urllib.parse import urlsplit

import pyotp
import pytest
import sqlalchemy as sa

from casemgr.clock import today
from casemgr.extensions import db as _db
from casemgr.models import User
from tests.conftest import RequestIsolatedClient, create_database, drop_database, first_link, make_app, message_text
from tests.helpers import csrf_token, import_result, totp_code

SECRET_ON_PAGE = re.compile(r'<code class="totp-secret" id="totp-secret" translate="no">([A-Z2-7 ]+)</code>')
LETTER_CODE = re.compile(r'class="claim-letter__code" translate="no">([A-Z0-9-]+)<')
CLAIMANT_KEY = re.compile(r'name="claimant" value="([^"]+)"')

DISTRICT_CODE, DISTRICT_NAME = "RSD", "Riverside School District"
TODAY = today()
CHILD_BIRTH = date(TODAY.year - 15, 3, 4)
SISTER_BIRTH = date(TODAY.year - 13, 10, 21)
ADULT_BIRTH = TODAY.replace(day=1) - timedelta(days=18 * 366 + 40)  # 18 years and two or three months old

# each person's own passphrase (12+ characters, hard to guess)
PASSWORDS = {
    "admin": "copper heron waltzes past nine quarries",
    "principal": "velvet anchor drifts over sleepy dunes",
    "counselor": "amber fjord whistles beneath tall cedars",
    "teacher": "crimson ladder hums above quiet marshes",
    "researcher": "silver orchard tumbles toward distant comets",
    "partner_admin": "lantern basil juggles seven rusty kettles",
    "youth_worker": "glacier pepper naps inside hollow drums",
    "parent_email": "meadow cobalt sails across frozen violins",
    "parent_letter": "thistle marble sings under purple bridges",
    "student": "harbor walnut dances beside silent rockets",
}
EMAILS = {
    "admin": "maria.lopez@riverside-sd.test",
    "principal": "james.okafor@riverside-sd.test",
    "counselor": "ana.silva@riverside-sd.test",
    "teacher": "tom.becker@riverside-sd.test",
    "researcher": "priya.raman@stateu-research.test",
    "partner_admin": "dee.walker@boysgirlsclub.test",
    "youth_worker": "sam.ortiz@boysgirlsclub.test",
    "parent_email": "rosa.ortega@familymail.test",
    "parent_letter": "marcus.watkins@familymail.test",
    "student": "mei.chen@studentmail.test",
}
# as each person's pages show it: the two parents read casemgr in Spanish
ROLE_LABELS = {
    "admin": "District administrator", "principal": "Principal", "counselor": "Counselor", "teacher": "Teacher",
    "researcher": "Researcher", "partner_admin": "Partner administrator", "youth_worker": "Youth worker",
    "parent_email": "Padre, madre o tutor", "parent_letter": "Padre, madre o tutor", "student": "Student",
}

STUDENTS_CSV = f"""state_id,local_id,school_code,first_name,last_name,birth_date,grade
RS00000001,R-1001,RHS,Camila,Ortega,{CHILD_BIRTH.isoformat()},10
RS00000002,R-1002,RHS,Darnell,Watkins,{SISTER_BIRTH.isoformat()},8
RS00000003,R-1003,RHS,Mei,Chen,{ADULT_BIRTH.isoformat()},12
"""
GUARDIANS_CSV = f"""guardian_id,first_name,last_name,email,phone,preferred_language,state_id,relation,educational_rights
RG-1,Rosa,Ortega,{EMAILS["parent_email"].upper()},555-0101,es,RS00000001,mother,true
RG-2,Marcus,Watkins,,555-0102,es,RS00000002,father,true
"""


# --- the command line, as an operator runs it in production --------------------------------


def casemgr_command(*args: str, url: sa.URL, mail_url: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, CASEMGR_ENV="production", DATABASE_URL=url.render_as_string(hide_password=False),
               SECRET_KEY="k" * 16 + uuid.uuid4().hex, MAIL_URL=mail_url, CASEMGR_BASE_URL="http://localhost")
    env.pop("CASEMGR_RATELIMIT_STORAGE", None)
    return subprocess.run([sys.executable, "-c", "from casemgr.cli import main; main()", *args],
                          capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture()
def empty_database(pg_server_url):
    name = f"casemgr_golive_{uuid.uuid4().hex[:8]}"
    url = create_database(pg_server_url, name)
    yield url
    drop_database(pg_server_url, name)


@pytest.fixture()
def live(empty_database, smtp_server):
    """The app people reach, on the database the command line set up."""
    app = make_app(empty_database, MAIL_URL=smtp_server.url)
    app.test_client_class = RequestIsolatedClient
    yield app
    with app.app_context():
        _db.engine.dispose()


# --- what people do in their browsers ------------------------------------------------------


def post_form(client, path: str, data: dict, page: str | None = None, **kwargs):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page or path)}, **kwargs)


def link_path(message) -> str:
    url = urlsplit(first_link(message))
    assert url.scheme == "http" and url.netloc == "localhost", url
    return url.path


def accept_invitation(client, message, password: str):
    """Open the emailed link and choose a password: the answer sends the person home."""
    path = link_path(message)
    assert path.startswith("/invitations/")
    assert client.get(path).status_code == 200
    response = post_form(client, path, {"password": password, "confirm": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert urlsplit(response.headers["Location"]).path == "/"
    return response


def home_page(client, who: str) -> str:
    response = client.get("/")
    assert response.status_code == 200, (who, response.status_code, response.headers.get("Location"))
    html = response.get_data(as_text=True)
    assert f'class="site-user__role">{ROLE_LABELS[who]},' in html, who
    return html


def sign_out(client) -> None:
    assert post_form(client, "/logout", {}, page="/").status_code == 302
    assert client.get("/").status_code == 302


def sign_in(client, who: str):
    response = post_form(client, "/login", {"email": EMAILS[who], "password": PASSWORDS[who]})
    assert response.status_code == 302, (who, response.get_data(as_text=True))
    return response


HREF = re.compile(r'href="(/[^"#]*)"')


def walk(client, who: str, start: str = "/", limit: int = 120) -> list[str]:
    """Every page reachable from the person's home by following links three steps deep
    (GET only) answers without a server error: a brand-new district, with hardly any
    data yet, must not break a page."""
    seen, frontier, broken = {start}, [start], []
    for _depth in range(3):
        following = []
        for path in frontier:
            response = client.get(path)
            if response.status_code >= 500:
                broken.append(f"{who}: {path} -> {response.status_code}")
                continue
            if response.status_code != 200 or not response.content_type.startswith("text/html"):
                continue
            for href in HREF.findall(response.get_data(as_text=True)):
                href = href.replace("&amp;", "&")
                if href.startswith(("/static/", "/logout")) or href in seen or len(seen) >= limit:
                    continue
                seen.add(href)
                following.append(href)
        frontier = following
    for path in frontier:
        response = client.get(path)
        if response.status_code >= 500:
            broken.append(f"{who}: {path} -> {response.status_code}")
    return broken


def option_value(html: str, label: str) -> str:
    match = re.search(r'<option[^>]*value="([^"]+)"[^>]*>' + re.escape(label) + "</option>", html)
    assert match, f"no option {label!r}"
    return match.group(1)


def claimant_key(html: str, name: str) -> str:
    for block in html.split('<li class="claimant">')[1:]:
        if name in block.split("</h2>", 1)[0]:
            return CLAIMANT_KEY.search(block).group(1)
    raise AssertionError(f"{name} is not listed on the family accounts page")


def student_path(client, last_name: str) -> str:
    """The student's record, found as a counselor finds it: on the caseload."""
    html = client.get("/caseload").get_data(as_text=True)
    match = re.search(r'<a href="(/students/[0-9a-f-]{36})">' + re.escape(last_name) + ",", html)
    assert match, f"{last_name} is not on the caseload"
    return match.group(1)


def claim_letter(client, code: str, birth: date, who: str):
    step_one = post_form(client, "/claim", {"code": code, "birth_date": birth.isoformat()})
    assert step_one.status_code == 302 and step_one.headers["Location"].endswith("/claim/account"), \
        step_one.get_data(as_text=True)
    step_two = post_form(client, "/claim/account",
                         {"email": EMAILS[who], "password": PASSWORDS[who], "confirm": PASSWORDS[who]})
    assert step_two.status_code == 302, step_two.get_data(as_text=True)
    assert urlsplit(step_two.headers["Location"]).path == "/"


def count_rows(url: sa.URL, table: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
    finally:
        engine.dispose()


# --- the test ------------------------------------------------------------------------------


def test_a_district_goes_live_from_an_empty_database(empty_database, smtp_server, mailbox, live, tmp_path):
    # 1. the operator: the schema, then the first district administrator, invited by email
    upgraded = casemgr_command("db", "upgrade", url=empty_database, mail_url=smtp_server.url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert count_rows(empty_database, "organizations") == count_rows(empty_database, "users") == 0
    created = casemgr_command("users", "create-admin", EMAILS["admin"], "--name", "María López",
                              "--district", DISTRICT_CODE, "--district-name", DISTRICT_NAME,
                              url=empty_database, mail_url=smtp_server.url)
    assert created.returncode == 0, created.stdout + created.stderr
    assert f"is a district admin of {DISTRICT_NAME} ({DISTRICT_CODE})" in created.stdout
    invitation = mailbox.last(EMAILS["admin"])
    assert DISTRICT_NAME in message_text(invitation)

    # 2. the district administrator accepts, is held at two-step set-up, enrols
    admin = live.test_client()
    accept_invitation(admin, invitation, PASSWORDS["admin"])
    for held in ("/", "/admin/organizations", "/admin/users/new", "/admin/imports/"):
        response = admin.get(held)
        assert response.status_code == 302, held
        assert urlsplit(response.headers["Location"]).path == "/account/two-factor", held
    early = post_form(admin, "/admin/organizations", {"kind": "school", "code": "EARLY", "name": "Too Early",
                                                      "level": "high"}, page="/account/two-factor")
    assert early.status_code == 302 and count_rows(empty_database, "organizations") == 1
    page = admin.get("/account/two-factor").get_data(as_text=True)
    secret = SECRET_ON_PAGE.search(page).group(1).replace(" ", "")
    enrolled = post_form(admin, "/account/two-factor", {"code": pyotp.TOTP(secret).now()})
    assert enrolled.status_code == 200 and "recovery" in enrolled.get_data(as_text=True).lower()
    assert DISTRICT_NAME in home_page(admin, "admin")

    # 3. the district's school and the partnership's organizations
    for kind, code, name, level in [("school", "RHS", "Riverside High School", "high"),
                                    ("partner", "BGC", "Boys & Girls Club of Riverside", ""),
                                    ("research", "SU-RES", "State University Research", "")]:
        added = post_form(admin, "/admin/organizations", {"kind": kind, "code": code, "name": name, "level": level})
        assert added.status_code == 302, added.get_data(as_text=True)
    listed = admin.get("/admin/organizations").get_data(as_text=True)
    assert "Riverside High School" in listed and "State University Research" in listed

    # 4. the district's staff and the youth organization's administrator, by invitation
    invite_page = admin.get("/admin/users/new").get_data(as_text=True)
    school = option_value(invite_page, "Riverside High School")
    club = option_value(invite_page, "Boys &amp; Girls Club of Riverside")
    research = option_value(invite_page, "State University Research")
    staff = [("principal", "James Okafor", "principal", school), ("counselor", "Ana Silva", "counselor", school),
             ("teacher", "Tom Becker", "teacher", school), ("researcher", "Priya Raman", "researcher", research),
             ("partner_admin", "Dee Walker", "partner_admin", club)]
    for who, name, role, organization in staff:
        sent = post_form(admin, "/admin/users/new", {"full_name": name, "email": EMAILS[who], "role": role,
                                                     "organization": organization, "job_title": "", "language": "en"})
        assert sent.status_code == 302, sent.get_data(as_text=True)
    clients = {"admin": admin}
    for who, *_ in staff:
        person = clients[who] = live.test_client()
        accept_invitation(person, mailbox.last(EMAILS[who]), PASSWORDS[who])
        home_page(person, who)
        sign_out(person)
        assert urlsplit(sign_in(person, who).headers["Location"]).path == "/"
        home_page(person, who)

    # 5. the partner administrator invites a youth worker
    partner_admin = clients["partner_admin"]
    page = partner_admin.get("/partner/staff/new").get_data(as_text=True)
    sent = post_form(partner_admin, "/partner/staff/new", {
        "full_name": "Sam Ortiz", "email": EMAILS["youth_worker"], "role": "youth_worker",
        "organization": option_value(page, "Boys &amp; Girls Club of Riverside"), "job_title": "Mentor",
        "language": "en"})
    assert sent.status_code == 302, sent.get_data(as_text=True)
    worker = clients["youth_worker"] = live.test_client()
    accept_invitation(worker, mailbox.last(EMAILS["youth_worker"]), PASSWORDS["youth_worker"])
    home_page(worker, "youth_worker")

    # 6. students, imported by the district administrator on the imports page; their
    # guardians, by the operator from the command line
    token = csrf_token(admin, "/admin/imports/")
    imported = import_result(admin, admin.post("/admin/imports/", data={
        "csrf_token": token, "kind": "students", "file": (io.BytesIO(STUDENTS_CSV.encode()), "students.csv")},
        content_type="multipart/form-data"))
    assert imported.status_code == 200 and "Imported." in imported.get_data(as_text=True), \
        imported.get_data(as_text=True)
    guardians_file = tmp_path / "guardians.csv"
    guardians_file.write_text(GUARDIANS_CSV, encoding="utf-8")
    imported = casemgr_command("import", "guardians", str(guardians_file), "--district", DISTRICT_CODE,
                               url=empty_database, mail_url=smtp_server.url)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "guardians.csv: 2 rows read" in imported.stdout
    assert count_rows(empty_database, "students") == 3 and count_rows(empty_database, "guardians") == 2

    # 7. families: an emailed invitation, a letter to a guardian, a letter to the adult student
    counselor = clients["counselor"]
    camila = student_path(counselor, "Ortega") + "/family-accounts"
    page = counselor.get(camila).get_data(as_text=True)
    assert "Email an invitation to" in page
    emailed = post_form(counselor, camila + "/invitations", {"claimant": claimant_key(page, "Rosa Ortega")},
                        page=camila)
    assert emailed.status_code == 302, emailed.get_data(as_text=True)
    rosa = clients["parent_email"] = live.test_client()
    family_invitation = mailbox.last(EMAILS["parent_email"])
    assert "Hola" in message_text(family_invitation)  # the family's language, from the import
    accept_invitation(rosa, family_invitation, PASSWORDS["parent_email"])
    assert "Camila" in home_page(rosa, "parent_email")

    letters = {}
    for who, last_name, claimant in [("parent_letter", "Watkins", "Marcus Watkins"), ("student", "Chen", "Mei Chen")]:
        path = student_path(counselor, last_name) + "/family-accounts"
        page = counselor.get(path).get_data(as_text=True)
        assert "Email an invitation to" not in page  # no address on record
        key = claimant_key(page, claimant)
        if who == "student":  # 18: the rights to the record are hers, and so is the letter
            assert key == "student" and "The student is 18 or older" in page
        language = "es" if who == "parent_letter" else "en"  # the family's language, or the student's choice
        issued = post_form(counselor, path + "/letters", {"claimant": key, "language": language}, page=path)
        assert issued.status_code == 200, issued.get_data(as_text=True)
        letters[who] = LETTER_CODE.search(issued.get_data(as_text=True)).group(1)
    for who, birth in [("parent_letter", SISTER_BIRTH), ("student", ADULT_BIRTH)]:
        family = clients[who] = live.test_client()
        claim_letter(family, letters[who], birth, who)
        assert {"parent_letter": "Darnell", "student": "Mei"}[who] in home_page(family, who)

    # 8. everyone signs in afresh and reaches their home, and every page linked from there
    broken, signed_in = [], {}
    for who in PASSWORDS:
        sign_out(clients[who])
        person = signed_in[who] = live.test_client()
        response = sign_in(person, who)
        location = urlsplit(response.headers["Location"]).path
        if who == "admin":
            assert location == "/login/two-factor"
            with live.app_context():
                code = totp_code(_db.session.scalar(sa.select(User).where(User.email == EMAILS["admin"])))
            second = post_form(person, "/login/two-factor", {"code": code}, page="/login/two-factor")
            assert second.status_code == 302, second.get_data(as_text=True)
            location = urlsplit(second.headers["Location"]).path
        assert location == "/", who
        home_page(person, who)
        broken += walk(person, who)
    assert broken == []

    # 9. the district administrator reads how the accounts came to be; the partner
    # administrator, their own organization's
    admin = signed_in["admin"]
    issued = admin.get("/admin/account-events?action=letter_issued").get_data(as_text=True)
    assert "2 events." in issued and issued.count("Ana Silva") == 2
    claimed = admin.get("/admin/account-events?action=account_claimed").get_data(as_text=True)
    assert "2 events." in claimed and EMAILS["parent_letter"] in claimed and EMAILS["student"] in claimed
    accepted = admin.get("/admin/account-events?action=invitation_accepted").get_data(as_text=True)
    for who in ("admin", "principal", "counselor", "teacher", "researcher", "partner_admin", "parent_email"):
        assert EMAILS[who] in accepted, who
    club_events = signed_in["partner_admin"].get("/partner/account-events?action=invited").get_data(as_text=True)
    assert EMAILS["youth_worker"] in club_events and EMAILS["teacher"] not in club_events

    # 10. the database holds these people and nothing of the seed; the account events tell how
    engine = sa.create_engine(empty_database)
    try:
        with engine.connect() as conn:
            users = dict(conn.execute(sa.text("SELECT email, role FROM users")).all())
            assert set(users) == set(EMAILS.values())
            assert len(set(users.values())) == 9
            assert conn.execute(sa.text(
                "SELECT count(*) FROM users WHERE email LIKE '%@example.org' OR demo_login")).scalar_one() == 0
            assert conn.execute(sa.text("SELECT count(*) FROM organizations")).scalar_one() == 4
            events = conn.execute(sa.text(
                "SELECT e.action, u.email FROM account_events e LEFT JOIN users u ON u.id = e.user_id")).all()
    finally:
        engine.dispose()

    def who_had(action: str) -> set:
        return {email for found, email in events if found == action}

    invited = {EMAILS[w] for w in ("admin", "principal", "counselor", "teacher", "researcher", "partner_admin",
                                   "youth_worker", "parent_email")}
    assert who_had("created") == {EMAILS["admin"]}
    assert who_had("invited") == invited
    assert who_had("invitation_accepted") == invited
    assert who_had("two_factor_enabled") == {EMAILS["admin"]}
    assert sum(1 for found, _ in events if found == "letter_issued") == 2
    assert who_had("account_claimed") == {EMAILS["parent_letter"], EMAILS["student"]}
    assert who_had("signed_in") >= set(EMAILS.values())
