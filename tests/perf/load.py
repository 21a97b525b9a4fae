"""Load test: casemgr under gunicorn in production mode, driven by Locust (headless).

    python -m tests.perf.load                          # 10, 50, 200 users, 60 s each, and the burst
    python -m tests.perf.load --duration 20            # a short smoke run
    python -m tests.perf.load --users 50 --no-burst    # one step
    python -m tests.perf.load --workers 4 --worker-class sync --threads 1   # another server shape

Needs the `perf` extra (pip install '.[perf]': Locust and psutil).

What it does, in order:

1. Seeds (once) a district of --students students (tests/perf/load_setup.py, in a
   process of its own): into the embedded PostgreSQL of CASEMGR_DATA_DIR, or into
   DATABASE_URL (the application role) / MIGRATE_DATABASE_URL (the owner) when set.
2. Starts gunicorn with casemgr/gunicorn_conf.py (flags given here win) in production
   mode (CASEMGR_ENV=production, a SECRET_KEY, a MAIL_URL that is never used, the
   application role's DATABASE_URL) on tests/perf/serve.py, which also mounts the bare
   comparison page (tests/perf/bare.py) under /bare.
3. Caseload against bare: one user, no think time, alternating the counselor's caseload
   and the bare page reading the same 50 rows, through the same server.
4. For each --users step: that many users sign in (as seeded accounts; the sign-ins
   are reported apart), then the mix runs for --duration seconds: counselors on the
   caseload and student pages, youth workers on their home roster, student pages and
   notes (reading the form, sometimes writing one), parents on their home, child and
   disclosure-log pages, district admins searching the disclosure log. Steps below
   --think-from users have no think time; from it on, each user waits 2-5 s between
   pages. Reported: throughput, p50/p95/p99, 5xx and other failures, and CPU per request
   of the gunicorn processes and of the PostgreSQL server's processes (when it runs
   on this machine and its data folder is known: the embedded one).
5. The sign-in burst (--burst-users, default 200, within 10 s) while --background users
   load pages (0.5-1 s think): the sign-in median and p95, and the pages' p50/p95 while
   it lasts.

Times are measured by the load generator, which shares the machine with the server:
compare figures within one run, and run on a quiet machine for absolute ones.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
TOPIC = re.compile(r'<option value="([a-z_]+)"')
SIGN_IN = "sign-in (POST /login)"
SIGN_IN_PAGE = "sign-in page (GET /login)"
SECOND_FACTOR_PAGE, SECOND_FACTOR = "sign-in second factor page", "sign-in code (POST /login/two-factor)"
SIGN_IN_NAMES = {SIGN_IN, SIGN_IN_PAGE, SECOND_FACTOR_PAGE, SECOND_FACTOR}
TARGETS = "targets on 2 cores: >= 150 req/s at 50 users without think time; p95 < 150 ms at 200 users, 2-5 s think; no 5xx"


# --- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(setup: dict, args, log_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(os.environ)
    env.update(
        CASEMGR_ENV="production",
        DATABASE_URL=setup["database_url"],
        BARE_DATABASE_URL=setup["database_url"],
        SECRET_KEY=secrets.token_urlsafe(48),
        MAIL_URL="smtp://127.0.0.1:25",  # required in production; the mix sends no mail
        PYTHONPATH=os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[2]), env.get("PYTHONPATH")])),
    )
    env.pop("MIGRATE_DATABASE_URL", None)
    command = [sys.executable, "-m", "gunicorn", "-c", "python:casemgr.gunicorn_conf", "--bind", f"127.0.0.1:{port}"]
    for flag, value in (("--workers", args.workers), ("--threads", args.threads), ("--worker-class", args.worker_class)):
        if value is not None:
            command += [flag, str(value)]
    command.append("tests.perf.serve:app")
    log = open(log_path, "w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped at start (exit {server.returncode}); its log: {log_path}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return server, url
        except OSError:
            pass
        time.sleep(0.3)
    stop_server(server)
    raise SystemExit(f"gunicorn did not answer /healthz within 60 s; its log: {log_path}")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()


# --- CPU ------------------------------------------------------------------------------------------


class CpuMeter:
    """CPU seconds (user + system) spent by a process's descendants, between two readings;
    processes that started in between count from zero."""

    def __init__(self, root_pid: int | None):
        import psutil

        self.psutil = psutil
        self.root = psutil.Process(root_pid) if root_pid else None

    def reading(self) -> dict[tuple[int, float], float]:
        if self.root is None:
            return {}
        found = {}
        for process in self.root.children(recursive=True):
            try:
                times = process.cpu_times()
                found[(process.pid, process.create_time())] = times.user + times.system
            except self.psutil.Error:
                pass
        return found

    @staticmethod
    def spent(before: dict, after: dict) -> float:
        return sum(seconds - before.get(key, 0.0) for key, seconds in after.items())


def postmaster_pid(pgdata: str | None) -> int | None:
    if not pgdata:
        return None
    try:
        return int(Path(pgdata, "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


# --- the users ------------------------------------------------------------------------------------


class PlainHttpCookies(DefaultCookiePolicy):
    """Sends Secure cookies over plain HTTP: the server is on this machine, and
    production mode (SESSION_COOKIE_SECURE) is what is measured."""

    def return_ok_secure(self, cookie, request) -> bool:
        return True


@dataclass
class Shared:
    """What every simulated user reads: the accounts, the phase, the sign-in times."""

    accounts: dict
    password: str
    think: tuple[float, float] = (0.0, 0.0)
    signed_in: int = 0
    sign_in_ms: list[float] = field(default_factory=list)
    sign_in_failed: int = 0
    next_account: Counter = field(default_factory=Counter)
    totp_steps: dict = field(default_factory=dict)


def user_classes(shared: Shared):
    from locust import FastHttpUser, task

    class SignedIn(FastHttpUser):
        abstract = True
        role = ""
        connection_timeout = 60.0
        network_timeout = 120.0

        def wait_time(self) -> float:
            low, high = self.think
            return random.uniform(low, high) if high else 0.0

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            # production marks the session cookie Secure; the load test speaks plain HTTP
            self.client.cookiejar.set_policy(PlainHttpCookies())

        def on_start(self) -> None:
            self.think = shared.think  # the phase it was started in
            people = shared.accounts[self.role]
            self.person = people[shared.next_account[self.role] % len(people)]
            shared.next_account[self.role] += 1
            self.students = self.person["students"]
            self.sign_in()

        def sign_in(self) -> None:
            page = self.client.get("/login", name=SIGN_IN_PAGE)
            token = CSRF.search(page.text or "")
            started = time.perf_counter()
            with self.client.post("/login", name=SIGN_IN, allow_redirects=False, catch_response=True,
                                  data={"email": self.person["email"], "password": shared.password,
                                        "csrf_token": token.group(1) if token else ""}) as answer:
                if answer.status_code == 302 and self.person.get("totp_secret"):
                    answer = self.second_factor(answer)
                if answer.status_code == 302 and "/login" not in answer.headers.get("Location", "/login"):
                    shared.sign_in_ms.append((time.perf_counter() - started) * 1000)
                    shared.signed_in += 1
                else:
                    shared.sign_in_failed += 1
                    answer.failure(f"sign-in answered {answer.status_code}")

        def second_factor(self, answer):
            """The code step of a sign-in, with the code an authenticator app shows: each
            code is taken once, so sign-ins to one account share the 30-second steps."""
            import pyotp

            email = self.person["email"]
            for _ in range(4):  # a code an earlier run took is refused: the next step's then
                form = self.client.get("/login/two-factor", name=SECOND_FACTOR_PAGE)
                token = CSRF.search(form.text or "")
                step = max(shared.totp_steps.get(email, 0) + 1, int(time.time() // 30) - 1)
                shared.totp_steps[email] = step
                while step > int(time.time() // 30) + 1:
                    self.gevent_sleep(1)
                code = pyotp.TOTP(self.person["totp_secret"]).generate_otp(step)
                answer = self.client.post("/login/two-factor", name=SECOND_FACTOR, allow_redirects=False,
                                          data={"code": code, "csrf_token": token.group(1) if token else ""})
                if answer.status_code != 401:
                    break
            return answer

        @staticmethod
        def gevent_sleep(seconds: float) -> None:
            import gevent

            gevent.sleep(seconds)

        def page(self, path: str, name: str, headers: dict | None = None) -> str:
            with self.client.get(path, name=name, headers=headers, allow_redirects=False,
                                 catch_response=True) as answer:
                if answer.status_code != 200:
                    answer.failure(f"{answer.status_code}")
                return answer.text or ""

        def student(self) -> str:
            return random.choice(self.students)

    class Counselor(SignedIn):
        weight = 5
        role = "counselor"
        QUERIES = ("?sort=attendance&dir=asc", "?tier=3", "?sort=name&page=2", "?indicator=chronic", "?q=mar")

        @task(4)
        def caseload(self):
            self.page("/caseload", "caseload")

        @task(1)
        def caseload_filtered(self):
            self.page(f"/caseload{random.choice(self.QUERIES)}", "caseload (sorted, filtered, searched)")

        @task(4)
        def student_page(self):
            self.page(f"/students/{self.student()}", "student page (counselor)")

    class YouthWorker(SignedIn):
        weight = 3
        role = "youth_worker"

        @task(3)
        def home(self):
            self.page("/", "home with roster (youth worker)")

        @task(4)
        def student_page(self):
            self.page(f"/students/{self.student()}", "student page (youth worker)")

        @task(2)
        def note(self):
            if not self.person.get("writable"):
                return
            student = random.choice(self.person["writable"])
            form = self.page(f"/students/{student}/notes/new", "new-note form")
            token, topic = CSRF.search(form), TOPIC.search(form)
            if token and topic and random.random() < 0.5:
                with self.client.post(f"/students/{student}/notes/new", name="note written (POST)",
                                      allow_redirects=False, catch_response=True,
                                      data={"csrf_token": token.group(1), "audience": "shared",
                                            "topic": topic.group(1), "body": "Checked in after school; doing well."}
                                      ) as answer:
                    if answer.status_code != 302:
                        answer.failure(f"{answer.status_code}")

    class Parent(SignedIn):
        weight = 1
        role = "parent"

        @task(2)
        def home(self):
            self.page("/", "home (parent)")

        @task(2)
        def child(self):
            self.page(f"/family/children/{self.student()}", "child page (parent)")

        @task(1)
        def log(self):
            self.page(f"/family/children/{self.student()}/log", "child's disclosure log (parent)")

    class DistrictAdmin(SignedIn):
        fixed_count = 1  # one district admin at a time (signing in with a second factor)
        role = "district_admin"
        HTMX = {"HX-Request": "true"}

        @task(3)
        def by_student(self):
            self.page(f"/admin/disclosures?student={self.student()}", "log search by student (admin, htmx)", self.HTMX)

        @task(1)
        def by_user(self):
            email = random.choice(shared.accounts["counselor"])["email"]
            self.page(f"/admin/disclosures?user={email}", "log search by user (admin, htmx)", self.HTMX)

    class Comparer(SignedIn):
        """Alternates the counselor's caseload and the bare page of the same rows."""
        role = "counselor"
        bare_path = ""

        def on_start(self) -> None:
            self.think = (0.0, 0.0)
            self.person = {"email": "counselor@example.org", "students": []}
            self.students = []
            self.sign_in()

        @task
        def both(self):
            self.page("/caseload", "caseload")
            self.page(self.bare_path, "bare page (same 50 rows)")

    return [Counselor, YouthWorker, Parent, DistrictAdmin], Comparer


# --- running and reporting ---------------------------------------------------------------------


@dataclass
class Measured:
    title: str
    seconds: float
    stats: list[dict]
    total: dict
    server_5xx: Counter
    worker_cpu: float
    database_cpu: float | None
    generator_cpu: float
    sign_ins: dict
    pages: dict
    log_rows: int = 0
    log_bytes: int = 0


def entry_figures(entry) -> dict:
    return {
        "name": entry.name, "requests": entry.num_requests, "failures": entry.num_failures,
        "p50": entry.get_response_time_percentile(0.5), "p95": entry.get_response_time_percentile(0.95),
        "p99": entry.get_response_time_percentile(0.99), "max": entry.max_response_time or 0,
    }


class LogMeter:
    """The disclosure-log rows written during a step, and their bytes (the rows
    themselves, without their indexes: tests/perf/log_bytes.py measures those)."""

    def __init__(self, database_url: str):
        import sqlalchemy as sa

        self.conninfo = sa.make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)

    def _one(self, sql: str, *params):
        import psycopg

        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            return conn.execute(sql, params).fetchone()

    def last_id(self) -> int:
        return self._one("SELECT coalesce(max(id), 0) FROM disclosure_log")[0]

    def since(self, last_id: int) -> tuple[int, int]:
        rows, size = self._one("SELECT count(*), coalesce(sum(pg_column_size(l.*)), 0) FROM disclosure_log l "
                               "WHERE id > %s", last_id)
        return rows, int(size)


class Driver:
    def __init__(self, url: str, setup: dict, server_pid: int):
        import gevent
        from locust.env import Environment

        self.gevent = gevent
        self.shared = Shared(accounts=setup["accounts"], password=setup["password"])
        self.mix, self.comparer = user_classes(self.shared)
        bare = setup["bare"]
        self.comparer.bare_path = f"/bare/caseload?school={bare['school_id']}&year={bare['year']}"
        self.url = url
        self.Environment = Environment
        self.workers = CpuMeter(server_pid)
        database_pid = postmaster_pid(setup.get("pgdata"))
        self.database = CpuMeter(database_pid) if database_pid else None
        self.log = LogMeter(setup["database_url"])

    def environment(self, classes):
        env = self.Environment(user_classes=classes, host=self.url)
        env.server_5xx = Counter()
        env.page_ms = []

        def count_5xx(name, response_time=0, response=None, **_):
            if response is not None and getattr(response, "status_code", 0) >= 500:
                env.server_5xx[name] += 1
            if name not in SIGN_IN_NAMES:
                env.page_ms.append(response_time)

        env.events.request.add_listener(count_5xx)
        return env

    def wait_signed_in(self, expected: int, limit: float) -> None:
        deadline = time.monotonic() + limit
        while self.shared.signed_in + self.shared.sign_in_failed < expected and time.monotonic() < deadline:
            self.gevent.sleep(0.1)

    def run(self, title: str, classes, users: int, seconds: float, think: tuple[float, float],
            spawn_rate: float) -> Measured:
        import psutil

        env = self.environment(classes)
        runner = env.create_local_runner()
        self.shared.think = think
        self.shared.signed_in = self.shared.sign_in_failed = 0
        self.shared.sign_in_ms = []
        runner.start(users, spawn_rate=spawn_rate)
        self.wait_signed_in(users, users / spawn_rate + 120)
        sign_ins = sign_in_figures(self.shared, env)
        env.stats.reset_all()
        env.server_5xx.clear()
        env.page_ms.clear()
        measured = self.measure(env, title, seconds, psutil, sign_ins)
        runner.quit()
        return measured

    def measure(self, env, title: str, seconds: float, psutil, sign_ins: dict,
                until=None) -> Measured:
        me = psutil.Process()
        workers_before, database_before = self.workers.reading(), self.database.reading() if self.database else {}
        generator_before = sum(me.cpu_times()[:2])
        log_before = self.log.last_id()
        started = time.perf_counter()
        if until is None:
            self.gevent.sleep(seconds)
        else:
            until()
        elapsed = time.perf_counter() - started
        workers_after, database_after = self.workers.reading(), self.database.reading() if self.database else {}
        log_rows, log_bytes = self.log.since(log_before)
        stats = [entry_figures(e) for e in sorted(env.stats.entries.values(), key=lambda e: -e.num_requests)]
        return Measured(
            title=title, seconds=elapsed, stats=stats, total=entry_figures(env.stats.total),
            server_5xx=Counter(env.server_5xx),
            worker_cpu=CpuMeter.spent(workers_before, workers_after),
            database_cpu=CpuMeter.spent(database_before, database_after) if self.database else None,
            generator_cpu=sum(me.cpu_times()[:2]) - generator_before, sign_ins=sign_ins,
            pages=percentiles(env.page_ms), log_rows=log_rows, log_bytes=log_bytes,
        )

    def burst(self, background: int, burst: int, burst_seconds: float) -> Measured:
        """`background` users load pages (0.5-1 s think); then `burst` more sign in within
        `burst_seconds` and go on with 2-5 s think. Measured from the burst's start to the
        last of its sign-ins."""
        import psutil

        env = self.environment(self.mix)
        runner = env.create_local_runner()
        self.shared.think = (0.5, 1.0)
        self.shared.signed_in = self.shared.sign_in_failed = 0
        runner.start(background, spawn_rate=max(background / 5, 1))
        self.wait_signed_in(background, 120)
        self.gevent.sleep(5)
        env.stats.reset_all()
        env.server_5xx.clear()
        env.page_ms.clear()
        self.shared.think = (2.0, 5.0)
        self.shared.signed_in = self.shared.sign_in_failed = 0
        self.shared.sign_in_ms = []
        runner.start(background + burst, spawn_rate=burst / burst_seconds)
        measured = self.measure(env, f"burst: {burst} sign-ins within {burst_seconds:g} s, {background} users "
                                     "loading pages", 0, psutil, {},
                                until=lambda: self.wait_signed_in(burst, burst_seconds + 300))
        measured.sign_ins = sign_in_figures(self.shared, env)
        runner.quit()
        return measured


def percentiles(values: list[float]) -> dict:
    times = sorted(values)
    if not times:
        return {"count": 0}

    def at(q: float) -> float:
        return times[min(int(q * len(times)), len(times) - 1)]

    return {"count": len(times), "p50": at(0.5), "p95": at(0.95), "p99": at(0.99), "max": times[-1]}


def sign_in_figures(shared: Shared, env) -> dict:
    return {**percentiles(shared.sign_in_ms), "failed": shared.sign_in_failed}


def print_measured(m: Measured, detail: bool = True) -> None:
    total = m.total
    rate = total["requests"] / m.seconds if m.seconds else 0
    per_request = lambda seconds: f"{seconds * 1000 / total['requests']:.1f} ms" if total["requests"] else "-"  # noqa: E731
    print(f"\n== {m.title} ({m.seconds:.0f} s)")
    print(f"   throughput {rate:.1f} req/s; p50 {total['p50']:.0f} ms, p95 {total['p95']:.0f} ms, "
          f"p99 {total['p99']:.0f} ms, max {total['max']:.0f} ms; {total['requests']:,} requests, "
          f"{sum(m.server_5xx.values())} 5xx, {total['failures']} failures")
    print(f"   CPU per request: gunicorn {per_request(m.worker_cpu)}"
          + (f", PostgreSQL {per_request(m.database_cpu)}" if m.database_cpu is not None else ", PostgreSQL not measured")
          + f", load generator {per_request(m.generator_cpu)}")
    if total["requests"]:
        print(f"   disclosure log: {m.log_rows:,} rows written, {m.log_rows / total['requests']:.2f} a request, "
              f"{m.log_bytes / total['requests']:,.0f} bytes a request (rows without their indexes)")
    if m.sign_ins.get("count"):
        s = m.sign_ins
        print(f"   sign-ins: {s['count']} (failed {s['failed']}), median {s['p50']:.0f} ms, p95 {s['p95']:.0f} ms, "
              f"max {s['max']:.0f} ms")
    if m.server_5xx:
        print("   5xx: " + ", ".join(f"{name} x{count}" for name, count in m.server_5xx.items()))
    if detail:
        width = max(len(e["name"]) for e in m.stats) if m.stats else 10
        print(f"   {'page':<{width}}  {'requests':>8}  {'fail':>5}  {'p50':>6}  {'p95':>6}  {'p99':>6}")
        for e in m.stats:
            if not e["requests"]:
                continue
            print(f"   {e['name']:<{width}}  {e['requests']:>8}  {e['failures']:>5}  {e['p50']:>4.0f}ms  "
                  f"{e['p95']:>4.0f}ms  {e['p99']:>4.0f}ms")


def summary_row(m: Measured, users: int, think: tuple[float, float]) -> str:
    t = m.total
    rate = t["requests"] / m.seconds if m.seconds else 0
    cpu = f"{m.worker_cpu * 1000 / t['requests']:.1f}" if t["requests"] else "-"
    db_cpu = f"{m.database_cpu * 1000 / t['requests']:.1f}" if t["requests"] and m.database_cpu is not None else "-"
    think_text = f"{think[0]:g}-{think[1]:g} s" if think[1] else "none"
    return (f"{users:>6}  {think_text:>8}  {rate:>7.1f}  {t['p50']:>6.0f}  {t['p95']:>6.0f}  {t['p99']:>6.0f}  "
            f"{sum(m.server_5xx.values()):>4}  {t['failures']:>5}  {cpu:>7}  {db_cpu:>7}  "
            f"{m.log_rows / t['requests'] if t['requests'] else 0:>7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--users", default="10,50,200", help="comma-separated user counts, one step each")
    parser.add_argument("--duration", type=float, default=60, help="seconds measured per step (default 60)")
    parser.add_argument("--think-from", type=int, default=100,
                        help="steps with at least this many users wait 2-5 s between pages (default 100)")
    parser.add_argument("--compare-seconds", type=float, default=None,
                        help="seconds of caseload against bare (default: a third of --duration, at least 10)")
    parser.add_argument("--burst-users", type=int, default=200)
    parser.add_argument("--burst-seconds", type=float, default=10)
    parser.add_argument("--background", type=int, default=20, help="users loading pages during the burst")
    parser.add_argument("--no-burst", action="store_true")
    parser.add_argument("--workers", type=int, help="gunicorn processes (default: casemgr/gunicorn_conf.py)")
    parser.add_argument("--threads", type=int, help="threads per process (default: casemgr/gunicorn_conf.py)")
    parser.add_argument("--worker-class", help="gunicorn worker class (default: casemgr/gunicorn_conf.py)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    steps = [int(n) for n in args.users.split(",") if n.strip()]
    compare_seconds = args.compare_seconds if args.compare_seconds is not None else max(args.duration / 3, 10)

    print(f"preparing a seeded database of {args.students:,} students (seeded once) ...", flush=True)
    prepared = subprocess.run([sys.executable, "-m", "tests.perf.load_setup", "--students", str(args.students)],
                              stdout=subprocess.PIPE, text=True, check=False)
    if prepared.returncode != 0:
        raise SystemExit("the set-up failed (see above)")
    setup = json.loads(prepared.stdout.strip().splitlines()[-1])

    from gevent import monkey

    monkey.patch_all()
    log_path = Path(tempfile.gettempdir()) / f"casemgr-load-{os.getpid()}.log"
    server, url = start_server(setup, args, log_path)
    shape = " ".join(f"{k}={v}" for k, v in (("workers", args.workers), ("threads", args.threads),
                                              ("worker-class", args.worker_class)) if v is not None)
    print(f"gunicorn (casemgr/gunicorn_conf.py{'; ' + shape if shape else ''}) at {url}, "
          f"pid {server.pid}; its log: {log_path}", flush=True)
    results: list[tuple[Measured, int, tuple]] = []
    try:
        driver = Driver(url, setup, server.pid)
        compared = driver.run("caseload against bare, 1 user, no think time", [driver.comparer], 1,
                              compare_seconds, (0, 0), 1)
        print_measured(compared)
        for users in steps:
            think = (2.0, 5.0) if users >= args.think_from else (0.0, 0.0)
            measured = driver.run(f"{users} users, think {'2-5 s' if think[1] else 'none'}", driver.mix, users,
                                  args.duration, think, spawn_rate=min(max(users / 10, 1), 20))
            print_measured(measured)
            results.append((measured, users, think))
        burst = None
        if not args.no_burst:
            burst = driver.burst(args.background, args.burst_users, args.burst_seconds)
            print_measured(burst)
    finally:
        stop_server(server)

    print("\n" + "=" * 100)
    print("caseload against bare (same server, same run):")
    by_name = {e["name"]: e for e in compared.stats}
    caseload, bare = by_name.get("caseload"), by_name.get("bare page (same 50 rows)")
    if caseload and bare and bare["p50"]:
        print(f"  caseload p50 {caseload['p50']:.1f} ms, bare p50 {bare['p50']:.1f} ms: "
              f"{caseload['p50'] / bare['p50']:.1f}x (target <= 2x)")
    print(f"\n{'users':>6}  {'think':>8}  {'req/s':>7}  {'p50':>6}  {'p95':>6}  {'p99':>6}  {'5xx':>4}  "
          f"{'fail':>5}  {'cpu/req':>7}  {'db/req':>7}  {'log/req':>7}   (ms; CPU in ms per request; log rows per request)")
    for measured, users, think in results:
        print(summary_row(measured, users, think))
    if burst is not None:
        pages = burst.pages
        print(f"\nburst: {burst.sign_ins.get('count', 0)} sign-ins in {burst.seconds:.1f} s "
              f"(failed {burst.sign_ins.get('failed', 0)}), sign-in median {burst.sign_ins.get('p50', 0):.0f} ms, "
              f"p95 {burst.sign_ins.get('p95', 0):.0f} ms; {pages.get('count', 0)} page requests during it: "
              f"p50 {pages.get('p50', 0):.0f} ms, p95 {pages.get('p95', 0):.0f} ms, max {pages.get('max', 0):.0f} ms; "
              f"{sum(burst.server_5xx.values())} 5xx")
    print(TARGETS)
    if args.json:
        args.json.write_text(json.dumps({
            "compare": compared.stats, "burst": burst.__dict__ if burst else None,
            "steps": [{"users": u, "think": t, **m.__dict__} for m, u, t in results]}, default=str, indent=1))


if __name__ == "__main__":
    main()
