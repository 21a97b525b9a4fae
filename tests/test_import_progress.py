"""Progress of long imports (issue 12 item 5) and imports that do not finish (item 4):
the upload page answers at once with the batch's page, whose status fragment shows the
import advancing, then its result; the command line draws a progress bar; a killed
import leaves its batch, shown and then recorded as interrupted.

An import is held at a known step by a lock another connection keeps on the table it
writes, so what the page shows mid-way does not depend on timing. The tests that need an
import thread or a process of its own use a database of their own (the import commits)."""
from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from casemgr.extensions import db as _db
from casemgr.importers.progress import BatchProgress
from casemgr.models import ImportBatch, Organization, Student, User
from tests.conftest import RequestIsolatedClient, create_database, drop_database, make_app
from tests.factories import create_school, create_user
from tests.helpers import csrf_token, import_result, login, logout
from tests.test_import_cli_web import good_file, invoke
from tests.test_import_kinds import _recorded_recompute, world  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
STUDENTS_HEADER = "state_id,local_id,school_code,first_name,last_name,birth_date,grade"
ROWS = 5


def students_file(school_code: str, first: int = 0) -> bytes:
    rows = [f"PRG{n:06d},L{n},{school_code},Ana,Rivera{n},2010-0{1 + n % 9}-15,9" for n in range(first, first + ROWS)]
    return ("\n".join([STUDENTS_HEADER, *rows]) + "\n").encode()


def wait_until(fetch, holds, what: str, timeout: float = 120):
    """Fetch again until what is fetched holds (the timeout only guards against a hang)."""
    deadline = time.monotonic() + timeout
    while not holds(found := fetch()):
        assert time.monotonic() < deadline, f"waited in vain for {what}"
        time.sleep(0.1)
    return found


# --- the callback and the command line's bar -----------------------------------------------

def test_progress_figures_are_told_as_reported_and_never_past_the_file():
    told = []
    progress = BatchProgress(engine=None, batch_id=0, bytes_total=100, listener=lambda s: told.append(
        (s.bytes_done, s.rows_done, s.phase)))
    progress.report(bytes_done=60, rows_done=10, phase="reading")
    progress.report(bytes_done=30, rows_done=4)  # a COPY read again from its start
    progress.report(bytes_done=500, phase="checking")
    progress.report(rows_done=12)
    assert told == [(60, 10, "reading"), (30, 4, "reading"), (100, 4, "checking"), (100, 12, "checking")]


def test_the_command_line_draws_its_bar_with_rows_per_second_when_asked(app, world, tmp_path):
    path = tmp_path / "attendance.csv"
    path.write_bytes(good_file(world))
    result = invoke(app, "attendance", str(path), "--district", world.district.code, "--progress")
    assert result.exit_code == 0, result.output
    bar = [line for line in result.stderr.split("\r") if line.strip()]
    assert bar, result.stderr
    assert bar[-1].startswith("attendance.csv [" + "#" * 30 + "] 100%  3 rows  ") and "rows/s" in bar[-1]
    assert result.stderr.endswith("\n") and "3 rows read, 3 inserted" in result.stdout


def test_a_bundle_tells_its_rows_as_it_goes_and_the_whole_file_at_the_end(app, world, tmp_path):
    from tests.test_import_oneroster_bundles import files, zipped

    path = tmp_path / "roster.zip"
    path.write_bytes(zipped(files(world)))
    result = invoke(app, "oneroster", str(path), "--district", world.district.code, "--progress")
    assert result.exit_code == 0, result.output
    bar = [line.strip() for line in result.stderr.split("\r") if line.strip()]
    read = int(result.stdout.split(": ", 1)[1].split(" rows read")[0].replace(",", ""))
    assert bar[0].startswith("roster.zip [" + "-" * 30 + "]   0%")  # a member's bytes are not the .zip's
    assert bar[-1].startswith(f"roster.zip [{'#' * 30}] 100%  {read:,} rows  ") and read > 0


def test_the_command_line_draws_no_bar_when_stderr_is_not_a_terminal(app, world, tmp_path):
    path = tmp_path / "attendance.csv"
    path.write_bytes(good_file(world))
    result = invoke(app, "attendance", str(path), "--district", world.district.code)
    assert result.exit_code == 0 and result.stderr == "" and "3 rows read, 3 inserted" in result.stdout
    result = invoke(app, "attendance", str(path), "--district", world.district.code, "--no-progress")
    assert result.exit_code == 0 and result.stderr == ""


# --- the upload page, spooled to disk -------------------------------------------------------

def test_every_upload_is_spooled_to_the_folder_and_removed_whatever_the_outcome(app, client, world, tmp_path,
                                                                                 monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_SPOOL_DIR", str(tmp_path))
    login(client, create_user("district_admin", world.district))
    seen = []
    from casemgr.importers import attendance, source

    def read_csv(path):  # where the importer found the file (the spool folder), then nothing else
        seen.append((path.parent, sorted(p.name for p in tmp_path.iterdir())))
        return source.read_csv(path)

    monkeypatch.setattr(attendance, "read_csv", read_csv)
    page = import_result(client, client.post("/admin/imports/", data={
        "csrf_token": csrf_token(client, "/admin/imports/"), "kind": "attendance",
        "file": (io.BytesIO(good_file(world)), "attendance.csv")}, content_type="multipart/form-data"))
    assert "Imported." in page.get_data(as_text=True)
    batch = _db.session.scalars(sa.select(ImportBatch).order_by(ImportBatch.id.desc())).first()
    assert seen == [(tmp_path, [f"casemgr-import-{batch.uuid}.part"])]  # named after its batch once taken over
    assert list(tmp_path.iterdir()) == []
    refused = client.post("/admin/imports/", data={  # no kind chosen: the form is refused
        "csrf_token": csrf_token(client, "/admin/imports/"), "kind": "",
        "file": (io.BytesIO(good_file(world)), "attendance.csv")}, content_type="multipart/form-data")
    assert refused.status_code == 400 and list(tmp_path.iterdir()) == []
    expired = client.post("/admin/imports/", data={"csrf_token": "no", "kind": "attendance",
                                                   "file": (io.BytesIO(good_file(world)), "a.csv")},
                          content_type="multipart/form-data")
    assert expired.status_code == 400 and list(tmp_path.iterdir()) == []


# --- a database of their own: an import thread, a process killed ----------------------------

@dataclass
class Served:
    app: object
    url: sa.URL
    district_code: str
    school_code: str
    admin_id: int


@pytest.fixture(scope="module")
def served(pg_server_url, smtp_server):
    """The app with imports in the background on a database of its own, with a district, a
    school and a district admin; a running import counts as interrupted after 2 s of silence."""
    from flask_migrate import upgrade

    name = f"casemgr_progress_{uuid.uuid4().hex[:8]}"
    url = create_database(pg_server_url, name)
    app = make_app(url, MAIL_URL=smtp_server.url, IMPORT_STALE_AFTER=timedelta(seconds=2), IMPORT_WORKERS=1)
    app.test_client_class = RequestIsolatedClient
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        school = create_school()
        district = _db.session.get(Organization, school.district_id)
        admin = create_user("district_admin", district)
        served = Served(app, url, district.code, school.code, admin.id)
        _db.session.commit()
    yield served
    for thread in threading.enumerate():  # an import a failed test left running
        if thread.name.startswith("casemgr-import-"):
            thread.join(timeout=120)
    with app.app_context():
        _db.engine.dispose()
    drop_database(pg_server_url, name)


@contextmanager
def students_locked(url: sa.URL):
    """Another connection holds the students table: an import of students reads and checks
    its file, then waits to write until the block ends."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("LOCK TABLE students IN EXCLUSIVE MODE"))
            yield
            conn.rollback()
    finally:
        engine.dispose()


def batch_row(served: Served, **where):
    with served.app.app_context():
        return _db.session.execute(sa.select(ImportBatch).filter_by(**where).order_by(ImportBatch.id.desc())
                                   ).scalars().first()


def signed_in(served: Served):
    """A client signed in as the district admin (its authenticator's last code forgotten
    first, as if half a minute had passed: the sign-in itself writes that row)."""
    client = served.app.test_client()
    with served.app.app_context():
        _db.session.execute(sa.update(User).where(User.id == served.admin_id).values(totp_last_counter=None))
        _db.session.commit()
        login(client, _db.session.get(User, served.admin_id))
    return client


def post(client, raw: bytes, filename: str):
    return client.post("/admin/imports/", data={"csrf_token": csrf_token(client, "/admin/imports/"),
                                                "kind": "students", "file": (io.BytesIO(raw), filename)},
                       content_type="multipart/form-data")


def fragment(client, page: str) -> str:
    return client.get(f"{page}/status", headers={"HX-Request": "true"}).get_data(as_text=True)


def test_the_upload_answers_at_once_and_its_page_follows_the_import_to_its_result(served, tmp_path):
    served.app.config["IMPORT_SPOOL_DIR"] = str(tmp_path)
    client = signed_in(served)
    raw = students_file(served.school_code)
    with students_locked(served.url):
        answer = post(client, raw, "students.csv")
        assert answer.status_code == 303
        page = answer.headers["Location"]
        html = client.get(page).get_data(as_text=True)
        assert "Import of students.csv" in html and f'hx-get="{page}/status"' in html
        assert 'hx-trigger="load delay:1s"' in html and '<noscript><meta http-equiv="refresh"' in html
        running = wait_until(lambda: fragment(client, page), lambda f: "Saving the changes" in f,
                             "the import to reach its merge")
        assert f"{ROWS} rows read so far." in running and 'hx-trigger="load delay:1s"' in running
        assert "Imported." not in running and "<html" not in running
        assert [p.name for p in tmp_path.iterdir()] == [f"casemgr-import-{page.rsplit('/', 1)[1]}.part"]
        history = client.get("/admin/imports/").get_data(as_text=True)
        assert "(1 running)" in history and "Running" in history
        busy = post(client, students_file(served.school_code, first=100), "second.csv")
        assert busy.status_code == 503 and "As many imports as casemgr runs at once (1) are running" in busy.get_data(as_text=True)
        assert batch_row(served, filename="second.csv") is None and len(list(tmp_path.iterdir())) == 1
    done = wait_until(lambda: fragment(client, page), lambda f: "hx-trigger" not in f, "the result")
    assert "Imported." in done and f"{ROWS} inserted" in done
    html = client.get(page).get_data(as_text=True)
    assert "Imported." in html and "noscript" not in html and "hx-trigger" not in html
    batch = batch_row(served, filename="students.csv")
    assert (batch.status, batch.rows_read, batch.rows_inserted) == ("succeeded", ROWS, ROWS)
    assert (batch.bytes_total, batch.bytes_done, batch.rows_done) == (len(raw), len(raw), ROWS)
    assert batch.heartbeat_at is not None and list(tmp_path.iterdir()) == []
    history = client.get("/admin/imports/").get_data(as_text=True)
    assert "running" not in history.lower() and "Succeeded" in history


def casemgr_process(served: Served, tmp_path: Path, *args: str, **popen) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MIGRATE_DATABASE_URL", "SECRET_KEY", "CASEMGR_ENV", "MAIL_URL")}
    env.update(DATABASE_URL=served.url.render_as_string(hide_password=False), PYTHONPATH=str(ROOT),
               CASEMGR_DATA_DIR=str(tmp_path / "data"), CASEMGR_IMPORT_STALE_AFTER="1")
    return subprocess.Popen([sys.executable, "-c", "from casemgr.cli import main; main()", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, **popen)


def test_an_import_killed_mid_way_leaves_its_batch_shown_then_recorded_as_interrupted(served, tmp_path):
    path = tmp_path / "killed.csv"
    path.write_bytes(students_file(served.school_code, first=200))
    with students_locked(served.url):
        process = casemgr_process(served, tmp_path, "import", "students", str(path), "--district",
                                  served.district_code)
        try:
            wait_until(lambda: batch_row(served, filename="killed.csv"), lambda b: b and b.phase == "merging",
                       "the import to reach its merge")
        finally:
            process.send_signal(signal.SIGKILL)
            process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    batch = batch_row(served, filename="killed.csv")
    assert batch.status == "running" and batch.rows_done == ROWS  # left behind, as it was

    client = signed_in(served)
    page = f"/admin/imports/{batch.uuid}"
    shown = wait_until(lambda: fragment(client, page), lambda f: "interrupted" in f,
                       "the page to show the import interrupted")
    assert "The import was interrupted: nothing was changed" in shown and "hx-trigger" not in shown
    assert "(1 interrupted)" in client.get("/admin/imports/").get_data(as_text=True)

    again = casemgr_process(served, tmp_path, "import", "students", str(path), "--district", served.district_code,
                            "--dry-run")
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, out + err
    assert "1 earlier import(s) no longer running are now recorded as interrupted." in err
    batch = batch_row(served, filename="killed.csv", dry_run=False)
    assert batch.status == "interrupted" and batch.error_count == 1 and batch.finished_at == batch.heartbeat_at
    assert "the process running it ended" in batch.errors[0]["message"]
    with served.app.app_context():
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(Student).where(
            Student.state_id.like("PRG0002%"))) == 0
    history = client.get("/admin/imports/").get_data(as_text=True)
    assert "(1 interrupted)" in history and "Interrupted" in history


def test_a_batch_and_its_status_are_for_its_own_district_only(client, world):
    login(client, create_user("district_admin", world.district))
    page = import_result(client, client.post("/admin/imports/", data={
        "csrf_token": csrf_token(client, "/admin/imports/"), "kind": "attendance",
        "file": (io.BytesIO(good_file(world)), "attendance.csv")}, content_type="multipart/form-data"))
    assert page.status_code == 200
    batch = _db.session.scalars(sa.select(ImportBatch).order_by(ImportBatch.id.desc())).first()
    assert fragment(client, f"/admin/imports/{batch.uuid}").count("3 inserted") == 1
    logout(client)
    login(client, create_user("district_admin"))  # another district's
    assert client.get(f"/admin/imports/{batch.uuid}").status_code == 404
    assert client.get(f"/admin/imports/{batch.uuid}/status").status_code == 404


def test_the_next_upload_records_a_web_import_whose_worker_died_and_removes_its_file(served, tmp_path):
    """A batch left running an hour ago by a web worker that was killed, with its upload
    still in the spool folder: the next upload records it as interrupted and removes it."""
    served.app.config["IMPORT_SPOOL_DIR"] = str(tmp_path)
    with served.app.app_context():
        district = _db.session.scalar(sa.select(Organization.id).where(Organization.code == served.district_code))
        orphan = _db.session.execute(sa.text(
            "INSERT INTO import_batches (kind, filename, district_id, status, started_at, heartbeat_at, phase)"
            " VALUES ('students', 'orphan.csv', :district, 'running', now() - interval '1 hour',"
            " now() - interval '59 minutes', 'merging') RETURNING uuid"), {"district": district}).scalar_one()
        _db.session.commit()
    left = tmp_path / f"casemgr-import-{orphan}.part"
    left.write_bytes(students_file(served.school_code, first=300))
    client = signed_in(served)
    page = import_result(client, post(client, students_file(served.school_code, first=400), "next.csv"))
    assert "Imported." in page.get_data(as_text=True)
    orphaned = batch_row(served, filename="orphan.csv")
    assert orphaned.status == "interrupted" and orphaned.finished_at == orphaned.heartbeat_at
    assert list(tmp_path.iterdir()) == []
