"""`casemgr demo` on a fresh data folder: embedded database, schema, seed, and a
working sign-in page; then it stops cleanly and leaves no server behind."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_demo_starts_from_nothing_and_serves_the_sign_in_page(stop):
    folder = Path(tempfile.mkdtemp(prefix="casemgr-demo-test-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MIGRATE_DATABASE_URL", "SECRET_KEY", "CASEMGR_ENV")}
    env["CASEMGR_DATA_DIR"] = str(folder)
    env["PYTHONUNBUFFERED"] = "1"
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from casemgr.cli import main; main()", "demo", "--port", str(port), "--students", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    try:
        page = None
        while time.monotonic() - started < 120 and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as response:
                    page = response.read().decode()
                    break
            except OSError:
                time.sleep(0.5)
        assert page is not None, "the demo did not serve the sign-in page within 2 minutes"
        assert "Sign in" in page
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/css/casemgr.css", timeout=5) as response:
            assert response.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            assert json.loads(response.read()) == {"status": "ok", "database": "ok", "migrations": "current"}
    finally:
        proc.send_signal(stop)
        output, _ = proc.communicate(timeout=60)
    assert "counselor@example.org" in output and "casemgr-demo" in output, output
    assert "Traceback" not in output, output
    # a quiet console: no migration notes, no colour codes, no line per static file, one
    # line per page
    assert "Running upgrade" not in output and "\x1b[" not in output and "/static/" not in output, output
    assert "request method=GET route=/login status=200" in output, output
    assert "request method=GET route=/healthz status=200" in output, output
    deadline = time.monotonic() + 20
    while (folder / "embedded" / "pgdata" / "postmaster.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not (folder / "embedded" / "pgdata" / "postmaster.pid").exists(), "the embedded server outlived the demo"
    assert (folder / "secret_key").exists()
    shutil.rmtree(folder, ignore_errors=True)
