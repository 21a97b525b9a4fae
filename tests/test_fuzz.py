"""No input gives a 500 (SPEC §8, issue 13 item 4).

Every route of the URL map is walked as a role that may use it, in the authorization
test's world (a public page as a visitor): its query string, and every field of every
form on its page, get hostile values — NUL and other control characters, 100,000
characters, huge and negative integers, malformed UUIDs and dates, unknown choices,
invalid UTF-8 percent-encodings. Every answer is a 2xx, 3xx or 4xx with a message, and
a refused write leaves the main tables as they were.

To keep the walk quick, each parameter gets a NUL byte and one of the other hostile
values in turn (every value is used across the walk), not all of them.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
import sqlalchemy as sa
from flask import url_for

from casemgr.clock import today
from casemgr.extensions import db as _db
from casemgr.models.enums import Role
from tests.factories import create_user
from tests.helpers import login
from tests.test_authorization import _global_requests, _student_requests, build_world_with_another_district

# each already percent-encoded, as it goes on the wire
HOSTILE = {
    "nul": quote("ana\x00ruiz"),
    "controls": quote("\x01\x02\x07\x1b[31m\x7f\x0b"),
    "long": "x" * 100_000,
    "huge": "99999999999999999999999",
    "negative": "-99999999999999999999",
    "uuid": quote("00000000-0000-zzzz-0000-00000000000"),
    "date": quote("2027-02-30"),
    "enum": "no_such_choice",
    "utf8": "%C3%28%FF%FE",
}
VALUES_PER_PARAMETER = 2

# the main tables: a refused write changes none of them (the disclosure log records
# refusals, the account events refused sign-ins, the import batches rejected files)
TABLES = ("students", "guardians", "guardian_links", "users", "organizations", "consents", "consent_revocations",
          "data_sharing_agreements", "notes", "flags", "support_plans", "support_plan_check_ins", "referrals",
          "referral_events", "roster_entries", "amendment_requests", "amendment_request_events", "claim_codes")
# forms that end the walker's own session: sent their hostile values last
SESSION_ENDERS = {"auth.logout", "account.sign_out_everywhere"}


@dataclass
class Form:
    method: str
    action: str
    fields: list[tuple[str, str]] = field(default_factory=list)  # baseline (name, value), as a browser sends


class Forms(HTMLParser):
    """The forms of a page, each with the values a browser would send untouched, and
    a plausible value in each empty field so that the baseline form can pass."""

    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text = ""
        self._radios: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = Form((a.get("method") or "get").upper(), a.get("action") or "")
            self.forms.append(self._form)
            self._radios = set()
        if self._form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("file", "reset", "image"):
                return
            if kind == "radio":
                if name in self._radios:
                    return
                self._radios.add(name)
            if kind == "submit" and any(n == name for n, _ in self._form.fields):
                return
            self._form.fields.append((name, a.get("value") or self._plausible(kind, name)))
        elif tag == "button" and name and a.get("value") and not any(n == name for n, _ in self._form.fields):
            self._form.fields.append((name, a["value"]))
        elif tag == "select" and name:
            self._select, self._options = name, []
        elif tag == "option" and self._select:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_data(self, data):
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select and self._form is not None:
            chosen = [v for v, selected in self._options if selected] or [v for v, _ in self._options if v] or [""]
            self._form.fields.append((self._select, chosen[0]))
            self._select = None
        elif tag == "textarea" and self._textarea and self._form is not None:
            self._form.fields.append((self._textarea, self._text.strip() or "A note written by the fuzz walk."))
            self._textarea = None

    @staticmethod
    def _plausible(kind: str, name: str) -> str:
        if kind == "email" or "email" in name:
            return "fuzz@example.test"
        if kind == "date" or name.endswith("_on") or name in ("start", "end", "from", "to"):
            return today().isoformat()
        if kind == "number":
            return "1"
        if kind == "checkbox":
            return "y"
        return "fuzz"


def forms_of(html: str) -> list[Form]:
    parser = Forms()
    parser.feed(html)
    return parser.forms


def counts(db) -> tuple[int, ...]:
    return db.session.execute(sa.text("SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in TABLES))).one()


class Walk:
    def __init__(self, app, client, db):
        self.app, self.client, self.db = app, client, db
        self.adapter = app.url_map.bind("localhost")
        self.others = itertools.cycle([v for k, v in HOSTILE.items() if k != "nul"])
        self.walked: set[str] = set()  # pages and forms fuzzed
        self.reached: set[str] = set()  # endpoints sent hostile values
        self.failures: list[str] = []

    def endpoint(self, method: str, url: str) -> str | None:
        try:
            return self.adapter.match(urlsplit(url).path, method=method)[0]
        except Exception:  # noqa: BLE001  (a form to another site, or a method the route lacks)
            return None

    def sample(self) -> list[str]:
        """A NUL byte (the failure seen most), then the other values in turn."""
        return [HOSTILE["nul"], *(next(self.others) for _ in range(VALUES_PER_PARAMETER - 1))]

    def check(self, what: str, send, before: tuple[int, ...] | None) -> None:
        """Send the request (the app under test lets an unexpected error through,
        which a server would answer with a 500) and check the answer."""
        try:
            response = send()
        except Exception as error:  # noqa: BLE001
            _db.session.rollback()
            self.failures.append(f"500 ({type(error).__name__}: {str(error).splitlines()[0][:120]}) {what}")
            return
        status = response.status_code
        body = response.get_data(as_text=True)
        if status >= 500:
            self.failures.append(f"{status} {what}")
        elif status >= 400 and not body.strip():
            self.failures.append(f"{status} without a message: {what}")
        elif before is not None and status >= 400 and counts(self.db) != before:
            self.failures.append(f"{status} but the tables changed: {what}")

    def get(self, url: str, query: list[tuple[str, str]], hostile: tuple[str, str]):
        """GET `url` with its own query, `query`, and one hostile (name, encoded value)."""
        split = urlsplit(url)
        pairs = [*parse_qsl(split.query), *query]
        encoded = "&".join(filter(None, [urlencode([p for p in pairs if p[0] != hostile[0]]), f"{hostile[0]}={hostile[1]}"]))
        return self.client.get(f"{split.path}?{encoded}")

    def post(self, url: str, fields: list[tuple[str, str]], hostile: tuple[str, str]):
        body = "&".join(filter(None, [urlencode([p for p in fields if p[0] != hostile[0]]), f"{hostile[0]}={hostile[1]}"]))
        return self.client.post(url, data=body.encode(), content_type="application/x-www-form-urlencoded")

    def page(self, url: str) -> None:
        """Fuzz the page's query string and every form on it."""
        endpoint = self.endpoint("GET", url)
        if endpoint is None or endpoint in self.walked:
            return
        response = self.client.get(url)
        if response.status_code != 200:
            return
        self.walked.add(endpoint)
        self.reached.add(endpoint)
        if response.mimetype != "text/html":  # a file (a PDF, a workbook): no forms to fuzz
            return
        html = response.get_data(as_text=True)
        forms = forms_of(html)
        names = {"page"} | {name for form in forms if form.method == "GET" for name, _ in form.fields}
        for name in sorted(names):
            for value in self.sample():
                self.check(f"GET {url} ?{name}={value[:40]}", lambda: self.get(url, [], (name, value)), None)
        for form in forms:
            if form.method == "POST":
                self.form(form.action or url, form.fields)

    def form(self, action: str, fields: list[tuple[str, str]]) -> None:
        endpoint = self.endpoint("POST", action)
        key = f"POST {endpoint} {sorted(n for n, _ in fields)}"
        if endpoint is None or endpoint in SESSION_ENDERS or key in self.walked:
            return
        self.walked.add(key)
        self.walked.add(endpoint)
        self.reached.add(endpoint)
        for name, _ in fields:
            if name == "csrf_token":
                continue
            for value in self.sample():
                before = counts(self.db)
                self.check(f"POST {action} {name}={value[:40]}", lambda: self.post(action, fields, (name, value)), before)

    def unreached(self, method: str, url: str, token: str, last: bool = False) -> None:
        """A route no page of which was fuzzed (a POST without a form on a page, a
        forged link): hostile values in its query string, and in a field of its own."""
        endpoint = self.endpoint(method, url)
        if endpoint is None or endpoint in self.reached or (endpoint in SESSION_ENDERS and not last):
            return
        self.reached.add(endpoint)
        for value in self.sample():
            if method == "GET":
                self.check(f"GET {url} ?q={value[:40]}", lambda: self.get(url, [], ("q", value)), None)
            else:
                before = counts(self.db)
                self.check(f"POST {url} reason={value[:40]}",
                           lambda: self.post(f"{url}?page={value}", [("csrf_token", token)], ("reason", value)), before)


def _csrf(client) -> str | None:
    from tests.helpers import _CSRF

    match = _CSRF.search(client.get("/").get_data(as_text=True))
    return (match.group(1) or match.group(2)) if match else None


# in this order: a role's successful writes (a colleague deactivated, a second factor
# required of the district's staff) would stop the roles walked after it
ROLES_AND_STUDENTS = {
    "teacher": ("own",),
    "youth_worker": ("own",),
    "parent": ("own",),
    "student": ("eligible",),
    "counselor": ("own", "eligible"),
    "partner_admin": ("own", "no_consent"),
    "district_admin": ("own", "other_school"),
}


def _requests(app, world, who):
    """The requests of the authorization walk for `who`, pages first."""
    found = [(m, url) for m, url, _status in _global_requests(app, world, who)]
    for name in ROLES_AND_STUDENTS[who]:
        found += [(m, url) for m, url, _d, _status in _student_requests(app, world, who, name)]
    return sorted(found, key=lambda r: r[0] != "GET")


@pytest.fixture()
def fuzz_world(app, client, db):
    world = build_world_with_another_district(db)
    # an unexpected error is answered with the 500 page, as a server would, not raised into the test
    propagate = app.config.get("PROPAGATE_EXCEPTIONS")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    yield world
    app.config["PROPAGATE_EXCEPTIONS"] = propagate


def test_no_input_gives_a_500(app, client, db, fuzz_world):
    walk = Walk(app, client, db)
    for who in ROLES_AND_STUDENTS:
        login(client, fuzz_world.users[who])
        requests = _requests(app, fuzz_world, who)
        for method, url in requests:
            if method == "GET":
                walk.page(url)
        token = _csrf(client) or ""
        for method, url in requests:
            walk.unreached(method, url, token)
        with app.test_request_context():
            enders = [("POST", url_for(endpoint)) for endpoint in sorted(SESSION_ENDERS)]
        for method, url in enders:  # last, as they may end the session
            walk.unreached(method, url, token, last=True)
        client.post("/logout", data={"csrf_token": token})
    client.delete_cookie("session")
    public = f"/public/annual-reports/{fuzz_world.annual_report.public_token}"
    for url in ("/login", "/claim", "/forgot-password", "/login/two-factor", public, f"{public}.pdf"):
        walk.page(url)
    unreached = {rule.endpoint for rule in app.url_map.iter_rules()} - walk.reached - set(UNREACHED)
    assert not walk.failures, "\n".join(walk.failures)
    assert not unreached, f"the fuzz walk reaches no page of {sorted(unreached)}"


# routes the walk reaches no page of in this world, and why that is safe to leave
UNREACHED = {
    "static": "files, no parameters read",
}


@pytest.mark.parametrize("page", ["99999999999999999999999", "-99999999999999999999", "0", "x", "%00", "%C3%28"])
def test_a_page_number_out_of_range_shows_a_page(client, db, page):
    """The disclosure log, the import list and the family log, where such numbers gave a
    500: the nearest page instead (an unreadable one is the first)."""
    from tests.factories import create_district, create_guardian, create_school, create_student

    district = create_district()
    student = create_student(create_school(district))
    admin = create_user(Role.DISTRICT_ADMIN, district)
    parent = create_user(Role.PARENT, district)
    create_guardian(student, user=parent)
    login(client, admin)
    for path in ("/admin/disclosures", "/admin/imports/"):
        assert client.get(f"{path}?page={page}").status_code == 200, path
    client.post("/logout", data={"csrf_token": _csrf(client)})
    login(client, parent)
    response = client.get(f"/family/children/{student.uuid}/log?page={page}")
    assert response.status_code == 200
