"""Hostile OneRoster .zip bundles: each is refused in one line, from the command line
(exit 1) and the upload page (400), nothing is written, and the import is recorded as
rejected; a zip bomb is stopped early, in bounded memory."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from casemgr.extensions import db as _db
from casemgr.importers import archive
from casemgr.models import ImportBatch
from tests.factories import create_user
from tests.helpers import login
from tests.test_import_cli_web import invoke, upload
from tests.test_import_kinds import _recorded_recompute, world  # noqa: F401
from tests.test_import_oneroster_bundles import EXAMPLE, files, snapshot

ROOT = Path(__file__).resolve().parents[1]
BOMB_BYTES = 256 * 1024 * 1024


@dataclass
class Measured:
    returncode: int
    stdout: str
    stderr: str
    peak_mb: float  # the process's own peak resident memory


# a small process that runs the command and prints its peak memory: measured from
# pytest's own process, a child's peak would count pytest's memory (the pages a child
# shares with its parent before it execs are counted as its own)
_MEASURE = ("import os, subprocess, sys\n"
            "process = subprocess.Popen(sys.argv[1:])\n"
            "_, status, usage = os.wait4(process.pid, 0)\n"
            "sys.stderr.write(f'\\npeak-kb={usage.ru_maxrss}\\n')\n"
            "sys.exit(os.waitstatus_to_exitcode(status))\n")


def run_measured(args: list[str], env: dict[str, str], timeout: float = 300) -> Measured:
    """Run a process and measure its own peak memory."""
    done = subprocess.run([sys.executable, "-c", _MEASURE, *args], capture_output=True, text=True, env=env,
                          timeout=timeout)
    stderr, _, peak = done.stderr.rpartition("\npeak-kb=")
    return Measured(done.returncode, done.stdout, stderr, int(peak) / 1024)


def write_bomb(path: Path, bundle: dict[str, str]) -> None:
    """A bundle whose users.csv is a header then 256 MB of '0', deflated as it is written."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, text in bundle.items():
            if name != "users.csv":
                out.writestr(name, text)
        with out.open("users.csv", "w", force_zip64=True) as member:
            member.write(bundle["users.csv"].splitlines()[0].encode() + b"\n")
            piece = b"0" * (1024 * 1024)
            for _ in range(BOMB_BYTES // len(piece)):
                member.write(piece)


def with_member(bundle: dict[str, str], name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for member, text in bundle.items():
            out.writestr(member, data if member == name else text)
    return buffer.getvalue()


def renamed(bundle: dict[str, str], old: str, new: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for name, text in bundle.items():
            out.writestr(zipfile.ZipInfo(new if name == old else name), text)
    return buffer.getvalue()


def damaged(bundle: dict[str, str]) -> bytes:
    """The bundle deflated, with bytes in the middle of users.csv's compressed data flipped."""
    raw = bytearray(with_member(bundle, "users.csv", bundle["users.csv"].encode() * 20))
    info = zipfile.ZipFile(io.BytesIO(bytes(raw))).getinfo("users.csv")
    name_length = int.from_bytes(raw[info.header_offset + 26:info.header_offset + 28], "little")
    extra_length = int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_length + extra_length
    for offset in range(start + info.compress_size // 3, start + info.compress_size // 3 + 16):
        raw[offset] ^= 0x5A
    return bytes(raw)


HOSTILE = {
    "traversal": (lambda b: renamed(b, "users.csv", "../users.csv"), "unsafe file names", "'../users.csv'"),
    "nested traversal": (lambda b: renamed(b, "users.csv", "roster/../../users.csv"), "unsafe file names",
                         "'roster/../../users.csv'"),
    "backslash traversal": (lambda b: renamed(b, "users.csv", "..\\users.csv"), "unsafe file names", "users.csv"),
    "absolute": (lambda b: renamed(b, "users.csv", "/etc/users.csv"), "unsafe file names", "'/etc/users.csv'"),
    "drive letter": (lambda b: renamed(b, "users.csv", "C:\\users.csv"), "unsafe file names", "'C:\\users.csv'"),
    "damaged member": (damaged, "users.csv is damaged and cannot be read", "make the .zip again"),
    "not a zip": (lambda b: b["users.csv"].encode(), "a OneRoster bundle must be a .zip file", "not a .zip"),
    "empty file": (lambda b: b"", "a OneRoster bundle must be a .zip file", "not a .zip"),
    "utf-16": (lambda b: with_member(b, "users.csv", b["users.csv"].encode("utf-16")), "users.csv is UTF-16 text",
               "CSV UTF-8"),
    "nul bytes": (lambda b: with_member(b, "users.csv", b["users.csv"].encode().replace(b",", b"\0,", 3)),
                  "the file holds NUL bytes", "users.csv"),
}


def batches(filename: str) -> list[ImportBatch]:
    return list(_db.session.scalars(sa.select(ImportBatch).where(ImportBatch.filename == filename)))


@pytest.mark.parametrize("case", list(HOSTILE))
def test_refused_in_one_line_on_the_command_line(app, world, tmp_path, case):
    build, *messages = HOSTILE[case]
    path = tmp_path / "roster.zip"
    path.write_bytes(build(files(world)))
    before = snapshot()
    result = invoke(app, "oneroster", str(path), "--district", world.district.code)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "Error" not in result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == "roster.zip: rejected, nothing was changed. 1 error(s):", result.output
    assert len(lines) == 2 and all(m in lines[1] for m in messages), result.output
    assert snapshot() == before
    assert [b.status for b in batches("roster.zip")] == ["rejected"]


@pytest.mark.parametrize("case", list(HOSTILE))
def test_refused_with_400_on_the_upload_page(client, world, case):
    build, *messages = HOSTILE[case]
    login(client, create_user("district_admin", world.district))
    before = snapshot()
    response = upload(client, build(files(world)), "oneroster", filename="hostile.zip")
    html = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 200 and "nothing was changed" in html
    assert all(m in html for m in messages) and "Traceback" not in html
    assert snapshot() == before
    assert [b.status for b in batches("hostile.zip")] == ["rejected"]


def test_a_zip_bomb_is_stopped_early_everywhere(app, client, world, tmp_path):
    path = tmp_path / "bomb.zip"
    write_bomb(path, files(world))
    assert path.stat().st_size < 2 * 1024 * 1024
    login(client, create_user("district_admin", world.district))
    before = snapshot()
    result = invoke(app, "oneroster", str(path), "--district", world.district.code)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "users.csv decompresses to more than 200 times its compressed size" in result.output
    assert len(result.output.strip().splitlines()) == 2
    response = upload(client, path.read_bytes(), "oneroster", filename="bomb.zip")
    assert response.status_code == 200 and "refused as a possible zip bomb" in response.get_data(as_text=True)
    assert snapshot() == before
    assert [b.status for b in batches("bomb.zip")] == ["rejected", "rejected"]


def test_a_zip_bomb_is_read_in_bounded_memory(tmp_path):
    """The bundle reader in a process of its own: it stops at the ratio cap, far from the
    member's 256 MB (the process's own peak, Python and casemgr imported, is ~100 MB)."""
    path = tmp_path / "bomb.zip"
    write_bomb(path, {p.name: p.read_text() for p in sorted(EXAMPLE.glob("*.csv"))})
    script = ("import sys\nfrom casemgr.importers.base import Rejected\n"
              "from pathlib import Path\n"
              "from casemgr.importers.oneroster_bundle import read_bundle\n"
              "try:\n    read_bundle(Path(sys.argv[1]))\n"
              "except Rejected as r:\n    print(r.errors[0].describe())\n")
    done = run_measured([sys.executable, "-c", script, str(path)], {**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0 and not done.stderr, done.stderr
    assert "refused as a possible zip bomb" in done.stdout
    assert done.peak_mb < 400, f"peak memory {done.peak_mb:.0f} MB"


def test_the_size_cap_is_a_setting(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_ZIP_MEMBER_MAX_BYTES", 1000)
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED) as out:
        out.writestr("users.csv", "x" * 1001)
    with app.app_context():
        with pytest.raises(archive.Unreadable) as refused:
            archive.read_member(zipfile.ZipFile(raw), "users.csv")
    assert refused.value.errors[0].message == (
        "users.csv decompresses to more than 1,000 bytes (the limit for one file of a .zip)")
    assert app.config["IMPORT_ZIP_MEMBER_MAX_BYTES"] == 1000 and archive.MEMBER_MAX_BYTES == 2 * 1024 ** 3


@pytest.mark.parametrize("name", ["users.csv", "roster/users.csv", "a..b.csv", "roster/x..csv"])
def test_ordinary_names_are_safe(name):
    assert archive.safe_name(name)


@pytest.mark.parametrize("name", ["../x.csv", "a/../../x.csv", "..\\x.csv", "/etc/x", "\\x", "C:\\x", "c:x.csv", "",
                                  "a\x01.csv"])
def test_unsafe_names(name):
    assert not archive.safe_name(name)


@pytest.fixture()
def own_process(pg_server_url, tmp_path):
    """`casemgr` run as a process of its own, on a database of its own (an import
    commits its batch row), with one district HOST: (run, engine)."""
    from tests.conftest import create_database, drop_database

    name = f"casemgr_hostile_{os.getpid()}"
    url = create_database(pg_server_url, name)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MIGRATE_DATABASE_URL", "SECRET_KEY", "CASEMGR_ENV", "MAIL_URL")}
    env.update(DATABASE_URL=url.render_as_string(hide_password=False), PYTHONPATH=str(ROOT),
               CASEMGR_DATA_DIR=str(tmp_path / "data"))

    def casemgr(*args: str) -> Measured:
        return run_measured([sys.executable, "-c", "from casemgr.cli import main; main()", *args], env)

    engine = sa.create_engine(url)
    try:
        assert casemgr("db", "upgrade").returncode == 0
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO organizations (kind, code, name) VALUES ('district', 'HOST', 'Hostile')"))
        yield casemgr, engine
    finally:
        engine.dispose()
        drop_database(pg_server_url, name)


def refused_in_one_line(done: Measured, engine: sa.Engine, message: str) -> None:
    """Exit 1, the file's line and one error line, no traceback, nothing but the
    rejected batch written, and the process's peak memory bounded."""
    peak_mb = done.peak_mb
    assert done.returncode == 1, done.stdout + done.stderr
    output = (done.stdout + done.stderr).strip().splitlines()
    assert "Traceback" not in done.stderr and len(output) == 2, output
    assert message in output[1], output
    assert peak_mb < 400, f"peak memory {peak_mb:.0f} MB"
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM students")).scalar() == 0
        assert conn.execute(sa.text("SELECT status FROM import_batches")).scalars().all() == ["rejected"]


def test_the_command_line_refuses_a_zip_bomb_in_bounded_memory(own_process, tmp_path):
    casemgr, engine = own_process
    path = tmp_path / "bomb.zip"
    write_bomb(path, {p.name: p.read_text() for p in sorted(EXAMPLE.glob("*.csv"))})
    refused_in_one_line(casemgr("import", "oneroster", str(path), "--district", "HOST"), engine,
                        "users.csv decompresses to more than 200 times its compressed size")


def test_a_gigabyte_of_one_field_is_refused_in_bounded_memory(own_process, tmp_path):
    """A CSV file whose second row is one value of a gigabyte (a damaged export): the
    check reads it as a stream and stops at the first row longer than a megabyte."""
    casemgr, engine = own_process
    path = tmp_path / "students.csv"
    with path.open("wb") as out:
        out.write(b"state_id,local_id,school_code,first_name,last_name,birth_date,grade\r\n")
        piece = b"7" * (1024 * 1024)
        for _ in range(1024):
            out.write(piece)
        out.write(b",L1,S1,Ana,Ruiz,2010-01-01,9\r\n")
    refused_in_one_line(casemgr("import", "students", str(path), "--district", "HOST"), engine,
                        "row 2: row 2 is longer than 1 MB")


def test_a_large_file_is_checked_and_read_for_copy_in_bounded_memory(tmp_path):
    """read_csv and the pieces COPY is given, in a process of their own, over 300 MB of
    Windows lines with a BOM: the peak memory does not grow with the file."""
    path = tmp_path / "attendance.csv"
    row = b"S0000123,HS1,2025-09-02,present\r\n"
    with path.open("wb") as out:
        out.write(b"\xef\xbb\xbfstate_id,school_code,date,status\r\n")
        block = row * (1024 * 1024 // len(row))
        for _ in range(300):
            out.write(block)
    script = ("import sys\nfrom pathlib import Path\nfrom casemgr.importers.source import read_csv\n"
              "f = read_csv(Path(sys.argv[1]))\n"
              "print(f.header, f.copy_takes_as_is(), sum(p.count(b'\\n') for p in f.chunks(plain=True)))\n")
    done = run_measured([sys.executable, "-c", script, str(path)], {**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0 and not done.stderr, done.stderr
    rows = 300 * (1024 * 1024 // len(row))
    assert done.stdout.split() == ["['state_id',", "'school_code',", "'date',", "'status']", "True", str(rows + 1)]
    assert done.peak_mb < 150, f"peak memory {done.peak_mb:.0f} MB"
