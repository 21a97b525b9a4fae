"""Browser tests: the app served from a thread, driven by Playwright in the system's
Chromium. They skip with a clear message when Chromium is missing, unless
CASEMGR_REQUIRE_BROWSER=1 (as in CI), which turns the skip into a failure.

The served app has its own database, seeded once per run with a small mock district
(the demo logins included), because a server thread cannot share a test's transaction.
"""
from __future__ import annotations

import os
import re
import shutil
import threading
import uuid
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from casemgr.clock import today
from tests.conftest import create_database, drop_database, make_app

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SEED_AS_OF = today()  # the served app runs on the district's today, so the data must too
SEED_STUDENTS = 120
DEMO_PASSWORD = "casemgr-demo"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def chromium_path() -> str | None:
    configured = os.environ.get("CASEMGR_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path = chromium_path()
    if path is None:
        message = "Chromium not found (install Debian's chromium, or set CASEMGR_CHROMIUM)"
        if os.environ.get("CASEMGR_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{message}; browser tests are required (CASEMGR_REQUIRE_BROWSER=1)")
        pytest.skip(message)
    return path


class LiveServer:
    def __init__(self, app, url: str):
        self.app = app
        self.url = url


@pytest.fixture(scope="session")
def live_server(pg_server_url, smtp_server):
    """The seeded app, served on a free port of 127.0.0.1 for the whole run; `.app`
    lets a test look up what it needs in the database."""
    from flask_migrate import upgrade

    from casemgr.seed import generator

    name = f"casemgr_browser_{uuid.uuid4().hex[:8]}"
    url = create_database(pg_server_url, name)
    app = make_app(url, MAIL_URL=smtp_server.url)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        generator.generate(students=SEED_STUDENTS, seed=7, as_of=SEED_AS_OF)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            from casemgr.extensions import db

            db.engine.dispose()
        drop_database(pg_server_url, name)


@pytest.fixture(autouse=True)
def fresh_throttle_counts(request):
    """Each browser test starts with no failed sign-in counted: they all come from
    127.0.0.1, to one app that lives for the whole run."""
    if "live_server" in request.fixturenames:
        from casemgr import throttle

        throttle.reset(request.getfixturevalue("live_server").app)


@pytest.fixture(scope="session")
def browser(chromium_executable):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_executable, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture()
def page(request, browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        page.screenshot(path=str(ARTIFACTS / f"{safe}.png"), full_page=True)
    context.close()


@pytest.fixture()
def second_page(browser, live_server):
    """Another person at another computer: a separate browser context."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture()
def phone_page(request, browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    yield page
    context.close()


def sign_in(page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def assert_accessible(page) -> None:
    """axe-core finds no serious or critical WCAG violation on the page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not bad, "\n".join(f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)" for v in bad)
