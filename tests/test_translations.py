"""Every string a parent or student sees is in Spanish when Spanish is chosen (issue 6
item 9): the catalog is complete and compiled, and each family page, rendered in both
languages with real data, shows no English text in Spanish beyond names and data.

Data (names, organizations, note text, course titles, marks) is marked `translate="no"`
in the templates, and dates are in `<time>`: those are skipped. Every other visible text
and every text attribute a reader meets (aria-label, title, placeholder, alt, button
values) must differ between the two renderings, so a string left out of `_()` — or
wrapped but left untranslated — fails here.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from casemgr.models.enums import Role
from tests.factories import create_user
from tests.helpers import csrf_token, login
from tests.test_family import family, logged  # noqa: F401  (fixtures)
from tests.test_indicators import school  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "casemgr" / "translations" / "es" / "LC_MESSAGES"
# the same in both languages on purpose
SAME_IN_BOTH = {"casemgr", "English", "Español", "FAFSA"}
TEXT_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
SKIPPED = {"script", "style", "time"}


class VisibleText(HTMLParser):
    """The texts a reader meets, outside `translate="no"`, `<time>`, scripts and styles."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.texts: list[str] = []

    @property
    def skipping(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        skip = self.skipping or tag in SKIPPED or attrs.get("translate") == "no"
        if not skip:
            self.texts += [attrs[a] for a in TEXT_ATTRIBUTES if attrs.get(a)]
            if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
                self.texts.append(attrs["value"])
        if tag not in VOID:
            self.stack.append((tag, skip))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        text = " ".join(data.split())
        if text and not self.skipping:
            self.texts.append(text)


def visible_texts(html: str) -> set[str]:
    parser = VisibleText()
    parser.feed(html)
    return {t for t in parser.texts if re.search(r"[^\W\d_]", t) and t not in SAME_IN_BOTH}


def untranslated(client, path: str) -> set[str]:
    english = client.get(path, headers={"Accept-Language": "en"})
    spanish = client.get(path, headers={"Accept-Language": "es"})
    assert english.status_code == spanish.status_code, path
    assert '<html lang="es">' in spanish.get_data(as_text=True)
    return visible_texts(spanish.get_data(as_text=True)) & visible_texts(english.get_data(as_text=True))


def family_pages(family, logged):  # noqa: F811
    child = family["child"]
    return ["/", f"/family/children/{child.uuid}", f"/family/children/{child.uuid}/log",
            f"/family/children/{child.uuid}/log?from=2030-01-01", f"/family/children/{child.uuid}/log?from=nonsense",
            f"/family/children/{family['stranger'].uuid}",  # a 404 page
            "/account"]


def test_every_family_page_is_in_spanish(client, db, family, logged):  # noqa: F811
    login(client, family["parent"])
    for path in family_pages(family, logged):
        assert not untranslated(client, path), path


def test_the_student_home_is_in_spanish(client, db, family):  # noqa: F811
    login(client, create_user(Role.STUDENT, student=family["child"]))
    assert not untranslated(client, "/")


def test_a_home_without_children_is_in_spanish(client, db):
    login(client, create_user(Role.PARENT))
    assert not untranslated(client, "/")


def test_the_sign_in_page_is_in_spanish(client, db):
    assert not untranslated(client, "/login")
    english = client.post("/login", data={"email": "x@example.org", "password": "wrong"},
                          headers={"Accept-Language": "en"})
    spanish = client.post("/login", data={"email": "x@example.org", "password": "wrong"},
                          headers={"Accept-Language": "es"})
    assert not visible_texts(spanish.get_data(as_text=True)) & visible_texts(english.get_data(as_text=True))


def test_the_checker_has_teeth():
    english = '<p>Attendance</p><p translate="no">Lucia</p><time>March 3</time><button aria-label="Close">x</button>'
    spanish = '<p>Asistencia</p><p translate="no">Lucia</p><time>3 de marzo</time><button aria-label="Close">x</button>'
    assert visible_texts(spanish) & visible_texts(english) == {"Close", "x"}


# --- the catalog ---------------------------------------------------------------------


def _catalog():
    with open(CATALOG / "messages.po", "rb") as po:
        return read_po(po)


def test_every_message_is_translated_and_none_is_fuzzy():
    catalog = _catalog()
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"untranslated: {message.id!r}"
        assert not message.fuzzy, f"fuzzy: {message.id!r}"


def test_every_string_in_the_sources_is_in_the_catalog():
    """A string newly wrapped in _() but not yet extracted and translated fails here."""
    method_map = [("casemgr/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "N_": None}
    found = {msg if isinstance(msg, str) else msg[0]
             for _, _, msg, _, _ in extract_from_dir(str(ROOT), method_map, keywords=keywords)}
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalog() if m.id}
    assert not found - known, f"run pybabel extract/update and translate: {sorted(found - known)}"


def test_the_compiled_catalog_matches_the_sources():
    def pairs(catalog):
        return {tuple(m.id) if not isinstance(m.id, str) else m.id:
                tuple(m.string) if not isinstance(m.string, str) else m.string for m in catalog if m.id}

    with open(CATALOG / "messages.mo", "rb") as mo:
        compiled = pairs(read_mo(mo))
    expected = pairs(_catalog())
    assert compiled == expected, "run: pybabel compile -d casemgr/translations"


@pytest.mark.parametrize("path", ["/login"])
def test_a_signed_out_visitor_with_a_spanish_browser_reads_spanish(client, db, path):
    html = client.get(path, headers={"Accept-Language": "es-ES"}).get_data(as_text=True)
    assert "Iniciar sesión" in html and "Ir al contenido principal" in html


def test_amendment_requests_and_the_release_form_are_in_spanish(client, db, family, logged):  # noqa: F811
    from casemgr.models import AmendmentRequest, AmendmentRequestEvent

    child, counselor = family["child"], family["counselor"]
    for part, decision in (("attendance", None), ("course_mark", "accepted"), ("discipline", "denied")):
        request = AmendmentRequest(student_id=child.id, requested_by_id=family["parent"].id, part=part,
                                   item="3 March", message="It is wrong.")
        db.session.add(request)
        db.session.flush()
        if decision:
            db.session.add(AmendmentRequestEvent(request_id=request.id, decision=decision, answer="Checked.",
                                                 decided_by_id=counselor.id))
    db.session.flush()
    login(client, family["parent"])
    release = f"/release-forms/{child.uuid}/{logged['northside'].uuid}"
    for path in (f"/family/children/{child.uuid}", f"/family/children/{child.uuid}/amendments/new", release):
        assert not untranslated(client, path), path
    refused = {"part": "nonsense", "message": "", "csrf_token": csrf_token(client, "/")}
    english = client.post(f"/family/children/{child.uuid}/amendments/new", headers={"Accept-Language": "en"},
                          data=refused)
    spanish = client.post(f"/family/children/{child.uuid}/amendments/new", headers={"Accept-Language": "es"},
                          data=refused)
    assert "Choose which part of the record is wrong." in english.get_data(as_text=True)
    assert not visible_texts(spanish.get_data(as_text=True)) & visible_texts(english.get_data(as_text=True))
