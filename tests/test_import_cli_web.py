"""`casemgr import` on the command line, and the upload page for district admins."""
from __future__ import annotations

import io

import sqlalchemy as sa

from casemgr.cli import cli
from casemgr.attendance import attendance_days
from casemgr.models import ImportBatch
from tests.factories import create_user
from tests.helpers import csrf_token, import_result, login
from tests.test_import_kinds import _recorded_recompute, count, csv_bytes, world  # noqa: F401

HEADER = "state_id,school_code,date,status"


def invoke(app, *args):
    return app.test_cli_runner().invoke(cli, ["import", *args])


def good_file(world) -> bytes:
    return csv_bytes(HEADER, *(f"{s.state_id},{world.school.code},{world.days[0]},present" for s in world.students))


def test_cli_imports_then_changes_nothing(app, world, tmp_path):
    path = tmp_path / "attendance.csv"
    path.write_bytes(good_file(world))
    result = invoke(app, "attendance", str(path), "--district", world.district.code)
    assert result.exit_code == 0, result.output
    assert "3 rows read, 3 inserted, 0 updated, 0 unchanged" in result.output
    result = invoke(app, "attendance", str(path), "--district", world.district.code)
    assert "3 rows read, 0 inserted, 0 updated, 3 unchanged" in result.output


def test_cli_dry_run(app, world, tmp_path):
    path = tmp_path / "attendance.csv"
    path.write_bytes(good_file(world))
    result = invoke(app, "attendance", str(path), "--dry-run", "--district", world.district.code)
    assert result.exit_code == 0 and "3 would insert" in result.output and "dry run" in result.output
    assert count(attendance_days) == 0


def test_cli_rejection_lists_rows_and_exits_non_zero(app, world, tmp_path):
    path = tmp_path / "attendance.csv"
    path.write_bytes(csv_bytes(HEADER, f"NOBODY,{world.school.code},{world.days[0]},present"))
    result = invoke(app, "attendance", str(path), "--district", world.district.code)
    assert result.exit_code == 1
    assert "rejected, nothing was changed" in result.output
    assert "row 2, state_id: unknown student 'NOBODY'" in result.output
    assert "Traceback" not in result.output


def test_cli_unknown_district_or_path(app, world, tmp_path):
    result = invoke(app, "attendance", str(tmp_path / "missing.csv"), "--district", world.district.code)
    assert result.exit_code != 0 and "does not exist" in result.output
    path = tmp_path / "a.csv"
    path.write_bytes(good_file(world))
    result = invoke(app, "attendance", str(path), "--district", "NO-SUCH")
    assert result.exit_code != 0 and "no district has the code 'NO-SUCH'" in result.output


def post_upload(client, raw: bytes, kind: str = "attendance", dry_run: bool = False, filename: str = "attendance.csv"):
    token = csrf_token(client, "/admin/imports/")
    data = {"csrf_token": token, "kind": kind, "file": (io.BytesIO(raw), filename)}
    if dry_run:
        data["dry_run"] = "y"
    return client.post("/admin/imports/", data=data, content_type="multipart/form-data")


def upload(client, raw: bytes, kind: str = "attendance", dry_run: bool = False, filename: str = "attendance.csv"):
    """The batch page of the upload, once its import has ended."""
    return import_result(client, post_upload(client, raw, kind, dry_run, filename))


def last_batch() -> ImportBatch:
    from casemgr.extensions import db

    return db.session.scalars(sa.select(ImportBatch).order_by(ImportBatch.id.desc()).limit(1)).one()


def test_upload_page_happy_path_and_history(client, world):
    admin = create_user("district_admin", world.district)
    login(client, admin)
    page = client.get("/admin/imports/")
    assert page.status_code == 200 and "Import a file" in page.get_data(as_text=True)
    response = upload(client, good_file(world))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Imported." in html and "3 inserted" in html
    assert count(attendance_days) == 3
    history = client.get("/admin/imports/").get_data(as_text=True)
    assert "attendance.csv" in history and admin.full_name in history and "Succeeded" in history


def test_upload_of_a_bad_file_shows_row_numbered_errors(client, world):
    login(client, create_user("district_admin", world.district))
    raw = csv_bytes(HEADER, f"{world.students[0].state_id},{world.school.code},{world.days[0]},here")
    response = upload(client, raw)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and last_batch().status == "rejected" and "nothing was changed" in html
    assert "&#39;here&#39; is not one of" in html and "<td class=\"num\">2</td>" in html
    assert count(attendance_days) == 0
    batch = count(ImportBatch)
    assert batch >= 1


def test_upload_dry_run_and_missing_file(client, world):
    login(client, create_user("district_admin", world.district))
    response = upload(client, good_file(world), dry_run=True)
    assert "Dry run: the file is valid" in response.get_data(as_text=True) and count(attendance_days) == 0
    token = csrf_token(client, "/admin/imports/")
    response = client.post("/admin/imports/", data={"csrf_token": token, "kind": "attendance"},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "Choose a file to import." in response.get_data(as_text=True)


def test_upload_is_for_district_admins_only(client, world):
    login(client, create_user("counselor", world.school))
    assert client.get("/admin/imports/").status_code == 403
    token = csrf_token(client, "/")
    response = client.post("/admin/imports/", data={"csrf_token": token, "kind": "attendance",
                                                   "file": (io.BytesIO(good_file(world)), "a.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 403 and count(attendance_days) == 0 and count(ImportBatch) == 0


def test_upload_larger_than_the_limit_gets_the_friendly_413(app, client, world):
    login(client, create_user("district_admin", world.district))
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 1000
    try:
        response = post_upload(client, good_file(world) + b"x" * 2000)
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert response.status_code == 413 and "Too large" in response.get_data(as_text=True)
