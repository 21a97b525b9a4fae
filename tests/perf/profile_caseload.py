"""Where a caseload request's time goes, through the Flask test client, signed in as
the counselor, on the load test's seeded district (tests/perf/load_setup.py):

    python -m tests.perf.profile_caseload [--students 50000] [--runs 200] [--path /caseload]
    python -m tests.perf.profile_caseload --mix [--runs 100] [--page student]

Prints the median time of the request, each SQL statement of one request with its
time, and cProfile's costliest functions over --runs requests (cumulative time),
after a warm-up. With --mix, the pages of the load test's mix (tests/perf/load.py),
each as a seeded user of its kind: CPU per request of this process (the app) and of
the database server, and SQL statements per request; --page NAME profiles one of
them instead. CPU time rather than wall time, so that a busy machine disturbs the
figures less. Run by hand.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import re
import time

import sqlalchemy as sa

from casemgr.extensions import db
from tests.perf.bench_policy import signed_in_client
from tests.perf.common import median_ms


def statements_of_one_request(app, client, path: str) -> list[tuple[float, str]]:
    timings: list[tuple[float, str]] = []
    started: dict = {}

    def before(conn, cursor, statement, parameters, context, executemany):
        started[id(cursor)] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        elapsed = (time.perf_counter() - started.pop(id(cursor), time.perf_counter())) * 1000
        timings.append((elapsed, " ".join(statement.split())[:150]))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        assert client.get(path).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
        sa.event.remove(engine, "after_cursor_execute", after)
    return timings


def sign_in_with_second_factor(app, email: str):
    """A district admin's client: the password, then the authenticator's code (each
    code is taken once: a refused one is followed by the next step's)."""
    import pyotp

    from casemgr.models import User
    from tests.perf.bench_policy import CSRF

    with app.app_context():
        secret = db.session.scalar(sa.select(User.totp_secret).where(User.email == email))
    client = app.test_client()
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    answer = client.post("/login", data={"email": email, "password": "casemgr-demo", "csrf_token": token})
    assert answer.status_code == 302, f"cannot sign in as {email}"
    step = int(time.time() // 30)
    for _ in range(4):
        form = client.get("/login/two-factor").get_data(as_text=True)
        token = CSRF.search(form).group(1)
        answer = client.post("/login/two-factor", data={"code": pyotp.TOTP(secret).generate_otp(step), "csrf_token": token})
        if answer.status_code == 302:
            return client
        step += 1
        while step > int(time.time() // 30) + 1:
            time.sleep(1)
    raise SystemExit(f"cannot pass the second factor as {email}")


def mix_pages(app) -> list[tuple[str, str, str]]:
    """(name, email, path) of each kind of page in the load test's mix, with a student
    the seeded account may open."""
    with app.app_context():
        one = lambda sql, **params: db.session.execute(sa.text(sql), params).first()  # noqa: E731
        counselor = one("SELECT s.uuid FROM users u JOIN students s ON s.school_id = u.organization_id "
                        "WHERE u.email = 'counselor@example.org' ORDER BY s.id LIMIT 1")
        worker = one("SELECT u.email, s.uuid FROM users u JOIN roster_entries r ON r.organization_id = u.organization_id "
                     "AND r.removed_on IS NULL JOIN students s ON s.id = r.student_id "
                     "WHERE u.role = 'youth_worker' AND u.active ORDER BY u.demo_login DESC, u.id, r.id LIMIT 1")
        parent = one("SELECT u.email, s.uuid FROM users u JOIN guardians g ON g.user_id = u.id "
                     "JOIN guardian_links l ON l.guardian_id = g.id JOIN students s ON s.id = l.student_id "
                     "WHERE u.role = 'parent' AND u.active ORDER BY u.demo_login DESC, u.id LIMIT 1")
        admin = one("SELECT email FROM users WHERE role = 'district_admin' AND active AND totp_secret IS NOT NULL "
                    "ORDER BY demo_login DESC, id LIMIT 1")
        state_id = one("SELECT state_id FROM students WHERE uuid = :uuid", uuid=counselor.uuid).state_id
    pages = [
        ("caseload", "counselor@example.org", "/caseload"),
        ("caseload sorted", "counselor@example.org", "/caseload?sort=attendance&dir=asc"),
        ("student (counselor)", "counselor@example.org", f"/students/{counselor.uuid}"),
        ("home (counselor)", "counselor@example.org", "/"),
        ("home roster (worker)", worker.email, "/"),
        ("student (worker)", worker.email, f"/students/{worker.uuid}"),
        ("new-note form (worker)", worker.email, f"/students/{worker.uuid}/notes/new"),
        ("home (parent)", parent.email, "/"),
        ("child (parent)", parent.email, f"/family/children/{parent.uuid}"),
        ("child's log (parent)", parent.email, f"/family/children/{parent.uuid}/log"),
    ]
    if admin:
        pages += [("log by student (admin)", admin.email, f"/admin/disclosures?student={state_id}"),
                  ("log by user (admin)", admin.email, "/admin/disclosures?user=counselor@example.org")]
    return pages


def database_server():
    """The database server's processes (psutil), when it runs on this machine."""
    import psutil

    with db.engine.connect() as conn:
        pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
    try:
        return psutil.Process(psutil.Process(pid).ppid())
    except psutil.Error:
        return None


def database_cpu(server) -> float:
    if server is None:
        return 0.0
    total = 0.0
    for child in server.children():
        try:
            times = child.cpu_times()
            total += times.user + times.system
        except Exception:  # a backend that ended meanwhile
            pass
    return total


def profile_mix(app, runs: int, only: str | None, top: int, sort: str) -> None:
    pages = mix_pages(app)
    clients: dict = {}
    with app.app_context():
        server = database_server()
    rows = []
    for name, email, path in pages:
        if only and only not in name:
            continue
        if email not in clients:
            clients[email] = (sign_in_with_second_factor if "admin" in name else signed_in_client)(app, email)
        client = clients[email]
        headers = {"HX-Request": "true"} if "/admin/" in path else None
        for _ in range(10):
            assert client.get(path, headers=headers).status_code == 200, f"{name}: {path}"
        statements = statements_of_one_request(app, client, path)
        cpu, db_cpu = time.process_time(), database_cpu(server)
        for _ in range(runs):
            client.get(path, headers=headers)
        cpu, db_cpu = time.process_time() - cpu, database_cpu(server) - db_cpu
        rows.append((name, cpu * 1000 / runs, db_cpu * 1000 / runs, len(statements)))
        if only:
            print(f"{name} ({path}) as {email}")
            print(f"\n{len(statements)} SQL statements, {sum(t for t, _ in statements):.2f} ms in the database driver:")
            for elapsed, text in statements:
                print(f"  {elapsed:6.2f} ms  {text}")
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(runs):
                client.get(path, headers=headers)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(sort).print_stats(top)
            print(re.sub(r"/\S*/site-packages/", "", out.getvalue()))
    print(f"\nCPU per request over {runs} requests (ms): app = this process, db = the database server")
    print(f"{'page':<26} {'app':>7} {'db':>7} {'total':>7} {'SQL':>4}")
    for name, app_ms, db_ms, count in rows:
        print(f"{name:<26} {app_ms:7.2f} {db_ms:7.2f} {app_ms + db_ms:7.2f} {count:4d}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--path", default="/caseload")
    parser.add_argument("--email", default="counselor@example.org")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--sort", default="cumulative", help="cProfile's order: cumulative or tottime")
    parser.add_argument("--mix", action="store_true", help="the pages of the load test's mix")
    parser.add_argument("--page", help="with --mix: profile the page whose name contains this")
    args = parser.parse_args()
    from tests.perf.load_setup import database_urls

    app_url, _, _ = database_urls(args.students)
    from casemgr import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": app_url, "REQUEST_LOG": True})
    import logging

    logging.getLogger("casemgr.requests").setLevel(logging.WARNING)  # timed, not printed
    if args.mix:
        profile_mix(app, args.runs, args.page, args.top, args.sort)
        return
    client = signed_in_client(app, args.email)
    print(f"{args.path} as {args.email}: median {median_ms(lambda: client.get(args.path), args.runs, 20):.2f} ms "
          f"over {args.runs} requests")
    statements = statements_of_one_request(app, client, args.path)
    print(f"\n{len(statements)} SQL statements, {sum(t for t, _ in statements):.2f} ms in the database driver:")
    for elapsed, text in statements:
        print(f"  {elapsed:6.2f} ms  {text}")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.runs):
        client.get(args.path)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
    print(out.getvalue())


if __name__ == "__main__":
    main()
