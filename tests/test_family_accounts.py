"""Family accounts by printed invitation letter (issue 11 item 3): the student's school
issues a letter to a guardian with educational rights or to the eligible student; the
family claims an account with its one-time code and the student's birth date."""
from __future__ import annotations

import hashlib
import re
import threading
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from casemgr.clock import today
from casemgr.extensions import db as db_extension
from casemgr.models import AccountEvent, ClaimCode, DisclosureEntry, Guardian, GuardianLink, User
from casemgr.models.enums import Role
from casemgr.services import family_accounts
from tests.factories import (
    create_district,
    create_guardian,
    create_partner,
    create_school,
    create_student,
    create_user,
)
from tests.helpers import csrf_token, login, logout

TODAY = today()
BIRTH = date(TODAY.year - 12, 4, 2)
ADULT_BIRTH = date(TODAY.year - 19, 1, 9)
STRONG = "lantern orchard bicycle thunder"
CODE = re.compile(r'class="claim-letter__code" translate="no">([A-Z0-9-]+)<')
NO_MATCH = "That code and birth date do not match a current invitation letter."


@pytest.fixture()
def world(db):
    district = create_district("Riverside Schools")
    high = create_school(district, "high", "Riverside High")
    other_school = create_school(district, "high", "Lakeside High")
    child = create_student(high, first_name="Lucia", last_name="Ortega", birth_date=BIRTH, grade=7)
    adult = create_student(high, first_name="Marco", last_name="Diaz", birth_date=ADULT_BIRTH, grade=12)
    elsewhere = create_student(other_school, first_name="Zed", last_name="Stranger", birth_date=BIRTH)
    mother = create_guardian(child)
    mother.first_name, mother.last_name, mother.preferred_language = "Rosa", "Ortega", "es"
    no_rights = create_guardian(child, educational_rights=False, relation="grandparent")
    no_rights.first_name = "Abuela"
    with_account = create_user(Role.PARENT, district, full_name="Luis Ortega")
    father = create_guardian(child, user=with_account, relation="father")
    father.first_name, father.last_name = "Luis", "Ortega"
    adults_parent = create_guardian(adult)  # the adult student holds the rights now
    stranger_parent = create_guardian(elsewhere)
    partner = create_partner()
    db.session.flush()
    return dict(
        district=district, high=high, child=child, adult=adult, elsewhere=elsewhere, mother=mother,
        no_rights=no_rights, father=father, with_account=with_account, adults_parent=adults_parent,
        stranger_parent=stranger_parent,
        counselor=create_user(Role.COUNSELOR, high), principal=create_user(Role.PRINCIPAL, high),
        other_counselor=create_user(Role.COUNSELOR, other_school), admin=create_user(Role.DISTRICT_ADMIN, district),
        teacher=create_user(Role.TEACHER, high), worker=create_user(Role.YOUTH_WORKER, partner),
        researcher=create_user(Role.RESEARCHER),
    )


def page_url(student):
    return f"/students/{student.uuid}/family-accounts"


def issue(client, student, claimant: str, language: str | None = None):
    data = {"claimant": claimant, "csrf_token": csrf_token(client, page_url(student))}
    if language:
        data["language"] = language
    return client.post(f"{page_url(student)}/letters", data=data)


def issued_code(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)
    return CODE.search(response.get_data(as_text=True)).group(1)


def claim_step_one(client, code: str, birth: date | str, **headers):
    token = csrf_token(client, "/claim")
    birth = birth.isoformat() if isinstance(birth, date) else birth
    return client.post("/claim", data={"code": code, "birth_date": birth, "csrf_token": token}, headers=headers)


def claim_step_two(client, email: str, password: str = STRONG, confirm: str | None = None, **headers):
    token = csrf_token(client, "/claim/account")
    return client.post("/claim/account", data={"email": email, "password": password,
                                               "confirm": password if confirm is None else confirm,
                                               "csrf_token": token}, headers=headers)


def letters(db):
    return db.session.scalars(
        sa.select(ClaimCode).order_by(ClaimCode.id).execution_options(populate_existing=True)).all()


def guardian_user_id(db, guardian):
    return db.session.scalar(sa.select(Guardian.user_id).where(Guardian.id == guardian.id))


def issue_as_counselor(client, world, claimant="mother", student="child", language=None) -> str:
    login(client, world["counselor"])
    key = "student" if claimant == "student" else str(world[claimant].uuid)
    code = issued_code(issue(client, world[student], key, language))
    logout(client)
    return code


# --- the school's page and the letter -------------------------------------------------


def test_the_page_lists_who_may_claim_and_where_each_stands(client, db, world):
    login(client, world["counselor"])
    html = client.get(page_url(world["child"])).get_data(as_text=True)
    assert "Rosa Ortega" in html and "No letter issued." in html
    assert "Luis Ortega" in html and "Already has an account" in html
    assert "Abuela" not in html  # no educational rights
    assert f'value="{world["mother"].uuid}"' in html
    assert f'value="{world["father"].uuid}"' not in html  # no letter for an account that exists
    assert '<option value="es" selected>' in html  # the family's language
    student_page = client.get(f"/students/{world['child'].uuid}").get_data(as_text=True)
    assert page_url(world["child"]) in student_page
    logged = db.session.scalar(sa.select(DisclosureEntry).where(DisclosureEntry.student_id == world["child"].id,
                                                                DisclosureEntry.request_path == page_url(world["child"])))
    assert logged is not None and logged.categories == ["identity"] and logged.allowed


def test_an_eligible_student_claims_for_themself_and_their_parents_no_longer_may(client, db, world):
    login(client, world["principal"])
    html = client.get(page_url(world["adult"])).get_data(as_text=True)
    assert "Marco Diaz" in html and 'value="student"' in html
    assert world["adults_parent"].full_name not in html
    assert issue(client, world["adult"], str(world["adults_parent"].uuid)).status_code == 404
    assert 'value="student"' not in client.get(page_url(world["child"])).get_data(as_text=True)
    assert issue(client, world["child"], "student").status_code == 404
    assert letters(db) == []


def test_a_counselor_issues_a_letter_in_the_familys_language(client, db, world):
    login(client, world["counselor"])
    response = issue(client, world["child"], str(world["mother"].uuid))
    code = issued_code(response)
    html = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert re.fullmatch(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}", code)
    assert "Tu invitación al portal para familias" in html or "Su invitación al portal para familias" in html
    assert 'lang="es"' in html and "Riverside High" in html and "Rosa Ortega" in html and "Lucia Ortega" in html
    assert "http://localhost/claim" in html
    assert 'src="/static/js/print.js"' in html and "<script>" not in html and "style=" not in html
    [letter] = letters(db)
    assert letter.code_hash == hashlib.sha256(code.replace("-", "").encode()).hexdigest()
    assert letter.guardian_id == world["mother"].id and letter.student_id == world["child"].id
    assert letter.language == "es" and letter.issued_by_id == world["counselor"].id
    assert timedelta(days=29, hours=23) < letter.expires_at - datetime.now(UTC) <= timedelta(days=30)
    event = db.session.scalar(sa.select(AccountEvent).where(AccountEvent.action == "letter_issued"))
    assert event.actor_id == world["counselor"].id and event.organization_id == world["district"].id
    assert event.details["student"] == str(world["child"].uuid) and event.details["guardian"] == str(world["mother"].uuid)
    # the code is never stored nor shown again
    assert code not in client.get(page_url(world["child"])).get_data(as_text=True)
    assert "Letter issued on" in client.get(page_url(world["child"])).get_data(as_text=True)


def test_a_principal_issues_an_english_letter_when_asked(client, db, world):
    login(client, world["principal"])
    response = issue(client, world["child"], str(world["mother"].uuid), "en")
    issued_code(response)
    assert "Your invitation to the family portal" in response.get_data(as_text=True)
    assert letters(db)[0].language == "en"


@pytest.mark.parametrize("who, status", [
    ("other_counselor", 404),  # another school's student
    ("admin", 404),  # the data steward reads the record but the school hands out letters
    ("teacher", 404), ("worker", 404), ("researcher", 404), ("with_account", 404),
])
def test_nobody_else_issues_letters(client, db, world, who, status):
    login(client, world[who])
    assert client.get(page_url(world["child"])).status_code == status
    token = csrf_token(client, "/")
    response = client.post(f"{page_url(world['child'])}/letters",
                           data={"claimant": str(world["mother"].uuid), "language": "en", "csrf_token": token})
    assert response.status_code == status
    assert letters(db) == []


def test_a_counselor_of_another_school_gets_404_for_that_schools_student(client, db, world):
    login(client, world["counselor"])
    assert client.get(page_url(world["elsewhere"])).status_code == 404
    token = csrf_token(client, "/")
    response = client.post(f"{page_url(world['elsewhere'])}/letters",
                           data={"claimant": str(world["stranger_parent"].uuid), "csrf_token": token})
    assert response.status_code == 404 and letters(db) == []


def test_signed_out_visitors_are_sent_to_sign_in(client, db, world):
    response = client.get(page_url(world["child"]))
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_no_letter_for_a_guardian_without_rights_with_an_account_or_forged(client, db, world):
    login(client, world["counselor"])
    assert issue(client, world["child"], str(world["no_rights"].uuid)).status_code == 404
    assert issue(client, world["child"], str(world["stranger_parent"].uuid)).status_code == 404
    assert issue(client, world["child"], "not-a-uuid\x00" + "x" * 10_000).status_code == 404
    refused = issue(client, world["child"], str(world["father"].uuid))
    assert refused.status_code == 400 and "already has an account" in refused.get_data(as_text=True)
    odd_language = issue(client, world["child"], str(world["mother"].uuid), "fr\x00" + "x" * 10_000)
    assert odd_language.status_code == 400
    assert letters(db) == []


def test_issuing_needs_the_csrf_token(client, db, world):
    login(client, world["counselor"])
    response = client.post(f"{page_url(world['child'])}/letters", data={"claimant": str(world["mother"].uuid)})
    assert response.status_code == 400 and letters(db) == []


def test_reissuing_voids_the_earlier_letter(client, db, world):
    first = issue_as_counselor(client, world)
    second = issue_as_counselor(client, world)
    assert first != second
    old, new = letters(db)
    assert old.revoked_at is not None and new.revoked_at is None
    response = claim_step_one(client, first, BIRTH)
    assert response.status_code == 400 and NO_MATCH in response.get_data(as_text=True)
    assert claim_step_one(client, second, BIRTH).status_code == 302


# --- claiming ---------------------------------------------------------------------------


def test_a_parent_claims_an_account_with_the_letter(client, db, world):
    code = issue_as_counselor(client, world)
    assert client.get("/claim").status_code == 200
    response = claim_step_one(client, code.lower().replace("-", " "), BIRTH)  # as typed from paper
    assert response.status_code == 302 and response.headers["Location"] == "/claim/account"
    page = client.get("/claim/account").get_data(as_text=True)
    assert "Rosa Ortega" in page and "Lucia Ortega" in page
    response = claim_step_two(client, "Rosa.Ortega@Example.org")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    user = db.session.scalar(sa.select(User).where(User.email == "rosa.ortega@example.org"))
    assert user.role == "parent" and user.organization_id == world["district"].id and user.locale == "es"
    assert user.full_name == "Rosa Ortega" and user.student_id is None and user.password_hash
    assert guardian_user_id(db, world["mother"]) == user.id
    [letter] = letters(db)
    assert letter.used_at is not None and letter.user_id == user.id
    event = db.session.scalar(sa.select(AccountEvent).where(AccountEvent.action == "account_claimed"))
    assert event.user_id == user.id and event.actor_id == user.id
    home = client.get("/")
    assert home.status_code == 200 and "Lucia Ortega" in home.get_data(as_text=True)
    # and signs in again later with the password chosen
    logout(client)
    assert login(client, user, STRONG).status_code == 302


def test_an_eligible_student_claims_their_own_account(client, db, world):
    code = issue_as_counselor(client, world, claimant="student", student="adult")
    assert claim_step_one(client, code, ADULT_BIRTH).status_code == 302
    assert claim_step_two(client, "marco@example.org").status_code == 302
    user = db.session.scalar(sa.select(User).where(User.email == "marco@example.org"))
    assert user.role == "student" and user.student_id == world["adult"].id and user.locale == "en"
    assert user.organization_id == world["district"].id
    assert "Marco" in client.get("/").get_data(as_text=True)


def test_a_wrong_birth_date_gets_the_same_answer_as_a_wrong_code(client, db, world):
    code = issue_as_counselor(client, world)
    wrong_date = claim_step_one(client, code, BIRTH + timedelta(days=1))
    wrong_code = claim_step_one(client, "ABCD-EFGH-JKMN", BIRTH)
    garbled_date = claim_step_one(client, code, "not a date")
    assert wrong_date.status_code == wrong_code.status_code == garbled_date.status_code == 400

    def message(response):
        return re.search(r'role="alert".*?</div>', response.get_data(as_text=True), re.S).group(0)

    assert message(wrong_date) == message(wrong_code) == message(garbled_date)
    assert NO_MATCH in message(wrong_code)
    assert letters(db)[0].failed_attempts == 1
    assert client.get("/claim/account").status_code == 302  # nothing proved


def test_five_wrong_birth_dates_void_the_letter(app, client, db, world):
    from casemgr import throttle

    code = issue_as_counselor(client, world)
    for days in range(1, 6):
        assert claim_step_one(client, code, BIRTH - timedelta(days=days)).status_code == 400
    [letter] = letters(db)
    assert letter.failed_attempts == 5 and letter.revoked_at is not None
    throttle.reset(app)  # the pause of tests/test_throttle.py ends; the letter stays void
    response = claim_step_one(client, code, BIRTH)
    assert response.status_code == 400 and NO_MATCH in response.get_data(as_text=True)


def test_an_expired_letter_is_refused(client, db, world):
    code = issue_as_counselor(client, world)
    letters(db)[0].expires_at = datetime.now(UTC) - timedelta(minutes=1)
    db.session.flush()
    response = claim_step_one(client, code, BIRTH)
    assert response.status_code == 400 and NO_MATCH in response.get_data(as_text=True)


def test_a_used_letter_is_refused(client, db, world):
    code = issue_as_counselor(client, world)
    claim_step_one(client, code, BIRTH)
    assert claim_step_two(client, "rosa@example.org").status_code == 302
    logout(client)
    response = claim_step_one(client, code, BIRTH)
    assert response.status_code == 400 and NO_MATCH in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.role == "parent")) == 2


def test_a_proof_is_for_one_account_only(client, db, world, app):
    """Two browsers proved the same letter; the first to choose an email gets the
    account, the second is told the letter is spent (the letter's row is locked)."""
    code = issue_as_counselor(client, world)
    other = app.test_client()
    claim_step_one(client, code, BIRTH)
    claim_step_one(other, code, BIRTH)
    assert claim_step_two(client, "rosa@example.org").status_code == 302
    response = other.post("/claim/account", data={"email": "someone@example.org", "password": STRONG,
                                                  "confirm": STRONG, "csrf_token": csrf_token(other, "/claim")})
    assert response.status_code == 302 and response.headers["Location"] == "/claim"
    assert db.session.scalar(sa.select(User).where(User.email == "someone@example.org")) is None
    with app.test_request_context(), pytest.raises(family_accounts.ClaimError):
        family_accounts.claim_account(letters(db)[0].id, "third@example.org", STRONG)


def test_a_letter_whose_guardian_got_an_account_meanwhile_is_refused(client, db, world):
    code = issue_as_counselor(client, world)
    world["mother"].user_id = create_user(Role.PARENT, world["district"]).id
    db.session.flush()
    response = claim_step_one(client, code, BIRTH)
    assert response.status_code == 400 and "can no longer be used" in response.get_data(as_text=True)


def test_step_two_needs_step_one(client, db, world):
    response = client.get("/claim/account")
    assert response.status_code == 302 and response.headers["Location"] == "/claim"
    response = client.post("/claim/account", data={"email": "x@example.org", "password": STRONG, "confirm": STRONG,
                                                   "csrf_token": csrf_token(client, "/claim")})
    assert response.status_code == 302 and db.session.scalar(sa.select(User).where(User.email == "x@example.org")) is None


@pytest.mark.parametrize("email, password, confirm, words", [
    ("taken@example.org", STRONG, STRONG, "already has an account"),
    ("rosa@example.org", "short", "short", "at least 12 characters"),
    ("rosa@example.org", "password1234", "password1234", "easy to guess"),
    ("rosa@example.org", "rosa ortega lucia ortega", "rosa ortega lucia ortega", "your name or email"),
    ("rosa@example.org", STRONG, STRONG + "x", "not the same"),
    ("not an email", STRONG, STRONG, "Enter your email address"),
    ("rosa\x00@example.org", STRONG, STRONG, "Enter your email address"),
    ("rosa@example.org", STRONG + "\x00", STRONG + "\x00", "cannot be typed"),
    ("r" * 10_000 + "@example.org", STRONG, STRONG, "Enter your email address"),
    ("rosa@example.org", "x" * 10_000, "x" * 10_000, "at most 1024 characters"),
])
def test_step_two_refuses_bad_input_and_changes_nothing(client, db, world, email, password, confirm, words):
    create_user(Role.TEACHER, world["high"], email="taken@example.org")
    code = issue_as_counselor(client, world)
    claim_step_one(client, code, BIRTH)
    users = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    response = claim_step_two(client, email, password, confirm)
    assert response.status_code == 400 and words in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == users
    assert letters(db)[0].used_at is None and guardian_user_id(db, world["mother"]) is None
    assert claim_step_two(client, "rosa@example.org").status_code == 302  # the proof still holds


@pytest.mark.parametrize("code, birth", [
    ("x" * 10_000, BIRTH.isoformat()),
    ("ABCD\x00EFGH\x00JKMN", BIRTH.isoformat()),
    ("ABCD-EFGH-JKMN", "\x00" * 3),
    ("ABCD-EFGH-JKMN", "9" * 10_000),
    ("", ""),
])
def test_step_one_refuses_bad_input_with_the_same_answer(client, db, world, code, birth):
    issue_as_counselor(client, world)
    response = claim_step_one(client, code, birth)
    assert response.status_code == 400 and NO_MATCH in response.get_data(as_text=True)
    assert letters(db)[0].failed_attempts == 0


def test_claiming_needs_the_csrf_token(client, db, world):
    code = issue_as_counselor(client, world)
    response = client.post("/claim", data={"code": code, "birth_date": BIRTH.isoformat()})
    assert response.status_code == 400 and "This form has expired" in response.get_data(as_text=True)
    assert client.get("/claim/account").status_code == 302
    claim_step_one(client, code, BIRTH)
    response = client.post("/claim/account", data={"email": "rosa@example.org", "password": STRONG, "confirm": STRONG})
    assert response.status_code == 400 and letters(db)[0].used_at is None


def test_a_signed_in_person_is_sent_home(client, db, world):
    login(client, world["with_account"])
    assert client.get("/claim").headers["Location"] == "/"
    assert client.get("/claim/account").headers["Location"] == "/"


def test_the_claim_pages_are_in_spanish(client, db, world):
    from tests.test_translations import untranslated, visible_texts

    assert not untranslated(client, "/claim")
    code = issue_as_counselor(client, world)
    english = claim_step_one(client, "ABCD-EFGH-JKMN", BIRTH, **{"Accept-Language": "en"})
    spanish = claim_step_one(client, "ABCD-EFGH-JKMN", BIRTH, **{"Accept-Language": "es"})
    assert not visible_texts(spanish.get_data(as_text=True)) & visible_texts(english.get_data(as_text=True))
    claim_step_one(client, code, BIRTH)
    assert not untranslated(client, "/claim/account")
    english = claim_step_two(client, "rosa@example.org", "short", **{"Accept-Language": "en"})
    spanish = claim_step_two(client, "rosa@example.org", "short", **{"Accept-Language": "es"})
    assert not visible_texts(spanish.get_data(as_text=True)) & visible_texts(english.get_data(as_text=True))


def test_the_letter_is_wholly_in_spanish(client, db, world):
    from tests.test_translations import visible_texts

    login(client, world["counselor"])
    spanish = issue(client, world["child"], str(world["mother"].uuid), "es").get_data(as_text=True)
    english = issue(client, world["child"], str(world["mother"].uuid), "en").get_data(as_text=True)

    def letter(html):
        return re.search(r'<article class="release-form claim-letter".*?</article>', html, re.S).group(0)

    assert not visible_texts(letter(spanish)) & visible_texts(letter(english))


def test_one_account_serves_a_guardian_with_two_children(client, db, world):
    brother = create_student(world["high"], first_name="Pablo", last_name="Ortega", birth_date=BIRTH - timedelta(days=800))
    db.session.add(GuardianLink(guardian_id=world["mother"].id, student_id=brother.id, relation="mother"))
    db.session.flush()
    first = issue_as_counselor(client, world)
    login(client, world["counselor"])
    second = issued_code(issue(client, brother, str(world["mother"].uuid)))
    logout(client)
    assert [letter.revoked_at is not None for letter in letters(db)] == [True, False]  # one person, one live letter
    claim_step_one(client, second, brother.birth_date)
    assert claim_step_two(client, "rosa@example.org").status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "Lucia Ortega" in home and "Pablo Ortega" in home
    logout(client)
    assert claim_step_one(client, first, BIRTH).status_code == 400


def test_a_letter_for_a_parent_is_refused_once_the_student_is_eligible(client, db, world):
    code = issue_as_counselor(client, world)
    world["child"].postsecondary = True
    db.session.flush()
    response = claim_step_one(client, code, BIRTH)
    assert response.status_code == 400 and "can no longer be used" in response.get_data(as_text=True)


@pytest.fixture()
def own_database(pg_server_url):
    """A database of its own, committed to for real: two sessions must see each other's
    locks, which the rolled-back transaction of the other tests cannot show."""
    from flask_migrate import upgrade

    from tests.conftest import create_database, drop_database, make_app

    name = f"casemgr_claims_{uuid.uuid4().hex[:8]}"
    url = create_database(pg_server_url, name)
    own_app = make_app(url)
    try:
        with own_app.app_context():
            upgrade(directory=own_app.extensions["migrate"].directory)
        yield own_app
    finally:
        with own_app.app_context():
            db_extension.engine.dispose()
        drop_database(pg_server_url, name)


def test_two_claims_at_the_same_moment_make_one_account(own_database):
    app = own_database
    with app.test_request_context():
        high = create_school()
        child = create_student(high, birth_date=BIRTH)
        guardian = create_guardian(child)
        counselor = create_user(Role.COUNSELOR, high)
        [claimant] = family_accounts.claimants(child)
        letter, _ = family_accounts.issue_letter(claimant, "en", counselor)
        letter_id, guardian_id = letter.id, guardian.id
        db_extension.session.commit()

    start, results = threading.Barrier(2), []

    def claim(email: str) -> None:
        with app.test_request_context():
            # as the view does: the letter is in the session before the claim locks it
            assert family_accounts.is_live(db_extension.session.get(ClaimCode, letter_id))
            start.wait()
            try:
                family_accounts.claim_account(letter_id, email, STRONG)
                db_extension.session.commit()
                results.append("claimed")
            except family_accounts.ClaimError:
                db_extension.session.rollback()
                results.append("refused")

    threads = [threading.Thread(target=claim, args=(f"parent{n}@example.org",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == ["claimed", "refused"]
    with app.app_context():
        parents = db_extension.session.scalars(sa.select(User).where(User.role == "parent")).all()
        assert len(parents) == 1
        assert db_extension.session.get(Guardian, guardian_id).user_id == parents[0].id
        assert db_extension.session.get(ClaimCode, letter_id).user_id == parents[0].id


# --- invitations by email, for guardians whose address the district gave ----------------


def invite(client, world, claimant="mother", student="child"):
    data = {"claimant": str(world[claimant].uuid), "csrf_token": csrf_token(client, page_url(world[student]))}
    return client.post(f"{page_url(world[student])}/invitations", data=data)


def test_a_guardian_with_an_email_is_invited_in_their_language_and_signs_in(client, db, world, mailbox):
    from urllib.parse import urlsplit

    from tests.conftest import first_link, message_text

    world["mother"].email = "Rosa.Ortega@example.org"
    db.session.flush()
    login(client, world["counselor"])
    page = client.get(page_url(world["child"])).get_data(as_text=True)
    assert "Email an invitation to" in page and "Rosa.Ortega@example.org" in page
    response = invite(client, world)
    assert response.status_code == 302
    assert "invitation was emailed to rosa.ortega@example.org" in client.get(page_url(world["child"])).get_data(as_text=True)
    [message] = mailbox.messages
    assert message["To"] == "rosa.ortega@example.org"
    text = message_text(message)
    assert "Riverside Schools" in text and "casemgr" in text
    assert "Hola" in text  # the family's language
    account = db.session.scalar(sa.select(User).where(User.email == "rosa.ortega@example.org"))
    assert account.role == "parent" and account.organization_id == world["district"].id
    assert account.password_hash is None and account.locale == "es"
    assert guardian_user_id(db, world["mother"]) == account.id
    assert not family_accounts.find_claimant(world["child"], str(world["mother"].uuid)).letter
    logout(client)

    link = urlsplit(first_link(message)).path
    token = csrf_token(client, link)
    accepted = client.post(link, data={"password": STRONG, "confirm": STRONG, "csrf_token": token})
    assert accepted.status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "Lucia" in home  # the parent's child, through the guardian link


def test_a_pending_invitation_is_sent_again_and_the_old_link_stops_working(client, db, world, mailbox):
    from urllib.parse import urlsplit

    from tests.conftest import first_link

    world["mother"].email = "rosa@example.org"
    db.session.flush()
    login(client, world["counselor"])
    assert invite(client, world).status_code == 302
    page = client.get(page_url(world["child"])).get_data(as_text=True)
    assert "has not been accepted yet" in page and "Send the invitation again" in page
    assert invite(client, world).status_code == 302
    first, second = mailbox.messages
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.email == "rosa@example.org")) == 1
    logout(client)
    old = urlsplit(first_link(first)).path
    assert client.get(old).status_code == 400  # replaced: it says so and offers a new one
    assert client.get(urlsplit(first_link(second)).path).status_code == 200


@pytest.mark.parametrize("email, message", [
    (None, "There is no email address on record for Rosa Ortega"),
    ("taken@example.org", "already belongs to another account"),
])
def test_an_invitation_that_cannot_go_says_why_and_changes_nothing(client, db, world, mailbox, email, message):
    world["mother"].email = email
    create_user(Role.TEACHER, email="taken@example.org")
    db.session.flush()
    users = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    login(client, world["counselor"])
    response = invite(client, world)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == users
    assert guardian_user_id(db, world["mother"]) is None
    assert not mailbox.messages


@pytest.mark.parametrize("who, claimant, student", [
    ("other_counselor", "mother", "child"), ("teacher", "mother", "child"), ("admin", "mother", "child"),
    ("counselor", "stranger_parent", "elsewhere"), ("counselor", "no_rights", "child"),
])
def test_nobody_else_invites_and_nobody_is_invited_without_rights(client, db, world, mailbox, who, claimant, student):
    for guardian in ("mother", "stranger_parent", "no_rights"):
        world[guardian].email = f"{guardian}@example.org"
    db.session.flush()
    login(client, world[who])
    data = {"claimant": str(world[claimant].uuid), "csrf_token": csrf_token(client, "/")}
    assert client.post(f"{page_url(world[student])}/invitations", data=data).status_code == 404
    assert not mailbox.messages
    assert guardian_user_id(db, world[claimant]) is None
