"""The district admin uploads a file: the page that answers shows the import advancing,
then its result, without reloading (htmx polls the status fragment).

The import is held at its merge by a lock another connection keeps on the students
table, so the progress is seen whatever the machine's speed."""
from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import expect

from casemgr.extensions import db
from casemgr.models import Organization
from tests.browser.conftest import assert_accessible, sign_in
from tests.test_import_progress import STUDENTS_HEADER


def students_file(live_server, tmp_path, prefix: str, first: str, last: str, day: str, count: int):
    """A students file of `count` new students at the seeded district's first school,
    and the database's address (to hold the import with a lock)."""
    with live_server.app.app_context():
        school = db.session.scalars(sa.select(Organization.code).where(Organization.kind == "school")
                                    .order_by(Organization.code)).first()
        url = db.engine.url
    rows = [f"{prefix}{n:06d},{prefix[0]}{n},{school},{first},{last}{n},{day}{n},9" for n in range(count)]
    path = tmp_path / "students.csv"
    path.write_text("\n".join([STUDENTS_HEADER, *rows]) + "\n")
    return path, url


def upload_held(page, conn, path) -> None:
    """Upload the students file while `conn` locks the students table: the import then
    waits at its merge until the lock is let go."""
    conn.execute(sa.text("LOCK TABLE students IN EXCLUSIVE MODE"))
    page.get_by_label("What the file holds").select_option("students")
    page.get_by_label("CSV file").set_input_files(str(path))
    page.get_by_role("button", name="Import").click()


def test_the_admin_uploads_students_and_sees_the_import_advance_then_its_result(page, live_server, tmp_path):
    path, url = students_file(live_server, tmp_path, "BRW", "Lena", "Okafor", "2011-03-1", 4)
    path = path.rename(tmp_path / "new-students.csv")

    sign_in(page, "admin@example.org")
    page.goto("/admin/imports/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Imports")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            upload_held(page, conn, path)
            expect(page.get_by_role("heading", level=1)).to_have_text("Import of new-students.csv")
            expect(page.get_by_text("Saving the changes…")).to_be_visible(timeout=60_000)
            expect(page.get_by_text("4 rows read so far.")).to_be_visible()
            assert_accessible(page)
            address = page.url
            conn.rollback()
    finally:
        engine.dispose()
    expect(page.get_by_text("Imported.")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("4 rows read: 4 inserted, 0 updated, 0 unchanged.")).to_be_visible()
    assert page.url == address  # the same page, brought up to date in place
    assert_accessible(page)
    page.get_by_role("link", name="Back to imports").click()
    expect(page.get_by_role("row", name="new-students.csv")).to_contain_text("Succeeded")


def test_without_javascript_the_batch_page_refreshes_itself_until_the_result(browser, live_server, tmp_path):
    path, url = students_file(live_server, tmp_path, "NJS", "Ines", "Duarte", "2011-04-1", 3)
    path = path.rename(tmp_path / "plain-students.csv")
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    engine = sa.create_engine(url)
    try:
        sign_in(page, "admin@example.org")
        page.goto("/admin/imports/")
        with engine.connect() as conn:
            upload_held(page, conn, path)
            expect(page.get_by_role("heading", level=1)).to_have_text("Import of plain-students.csv")
            expect(page.get_by_role("link", name="Refresh")).to_be_visible()
            conn.rollback()
        expect(page.get_by_text("3 rows read: 3 inserted, 0 updated, 0 unchanged.")).to_be_visible(timeout=60_000)
    finally:
        engine.dispose()
        context.close()
